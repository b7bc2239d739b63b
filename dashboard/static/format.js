// Pure formatting helpers: times (station clock, shown in the browser's local time zone), durations,
// numbers and labels. No DOM, no state.

const timeFmt = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

/** Unix seconds -> "14:02:11" (local clock). */
export function clockTime(t) {
  if (t == null || !Number.isFinite(t)) return "--:--:--";
  return timeFmt.format(new Date(t * 1000));
}

/** Unix seconds -> "25/11/2026, 14:02:11" style (local conventions), for tooltips. */
export function clockDateTime(t) {
  if (t == null || !Number.isFinite(t)) return "";
  return dateTimeFmt.format(new Date(t * 1000));
}

/** Seconds -> "45 s", "3 min 05 s", "1 h 02 min". */
export function duration(s) {
  if (s == null || !Number.isFinite(s)) return "";
  s = Math.max(0, Math.floor(s));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, "0")} min`;
}

/** A numeric vital, rounded; null/NaN -> "--". */
export function vital(v) {
  return v == null || !Number.isFinite(v) ? "--" : String(Math.round(v));
}

const SOURCE_LABEL = { ecg: "ECG", device: "device", pleth: "pleth" };
export function hrSource(src) {
  return src == null ? "" : SOURCE_LABEL[src] ?? String(src);
}

/** "sinus_tachycardia" -> "Sinus tachycardia"; null -> "". */
export function rhythm(r) {
  if (!r) return "";
  const s = String(r).replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Natural sort for bed ids ("bed-2" before "bed-10"). */
export function compareBedIds(a, b) {
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
}
