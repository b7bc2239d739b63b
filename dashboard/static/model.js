// Pure station logic: alarm priorities and ordering, which numeric an alarm is about, how a bed tile
// should look (colour, flashing, greyed). No DOM, no clock: callers pass the time in.

export const PRIORITY_RANK = Object.freeze({ high: 3, medium: 2, low: 1 });
/** Text cues, so colour is never the only cue (IEC 60601-1-8 uses !!!, !!, ! as well). */
export const PRIORITY_TEXT = Object.freeze({ high: "HIGH", medium: "MEDIUM", low: "LOW" });
export const PRIORITY_MARK = Object.freeze({ high: "!!!", medium: "!!", low: "!" });
export const STATE_TEXT = Object.freeze({
  active: "ACTIVE", acknowledged: "ACKNOWLEDGED", latched: "LATCHED", cleared: "CLEARED",
});

const OPEN_STATES = new Set(["active", "acknowledged", "latched"]);
const HR_TYPES = new Set([
  "asystole", "ventricular_fibrillation", "ventricular_tachycardia", "extreme_tachycardia",
  "extreme_bradycardia", "tachycardia", "bradycardia", "atrial_fibrillation", "pause",
]);
const SPO2_TYPES = new Set(["desaturation", "spo2_low"]);
/** Technical alarms after which a bed's values are not current. */
const NO_DATA_TYPES = new Set(["bed_silent", "device_offline"]);
/** Station-wide alarms (bed "*"). */
export const STATION_BED = "*";

export function priorityRank(p) {
  return PRIORITY_RANK[p] ?? 0;
}
export function isOpen(alarm) {
  return OPEN_STATES.has(alarm.state);
}
/** Active and latched alarms still need someone to acknowledge them (they flash). */
export function needsAck(alarm) {
  return alarm.state === "active" || alarm.state === "latched";
}
/** "hr", "spo2" or null: the numeric a physiological alarm is about (highlighted on the tile). */
export function parameterOf(type) {
  if (HR_TYPES.has(type)) return "hr";
  if (SPO2_TYPES.has(type)) return "spo2";
  return null;
}

/** Alarm list order: priority (high first), then onset (newest first), then id (stable). */
export function compareAlarms(a, b) {
  return (
    priorityRank(b.priority) - priorityRank(a.priority) ||
    (b.onset ?? 0) - (a.onset ?? 0) ||
    String(a.id).localeCompare(String(b.id))
  );
}

/** Highest priority of the alarms and whether any alarm of that priority still needs acknowledging. */
function topOf(alarms) {
  let rank = 0;
  let priority = null;
  let flash = false;
  for (const a of alarms) {
    const r = priorityRank(a.priority);
    if (r > rank) {
      rank = r;
      priority = a.priority;
      flash = needsAck(a);
    } else if (r === rank && needsAck(a)) {
      flash = true;
    }
  }
  return priority ? { priority, flash } : null;
}

/**
 * What a bed tile shows, from its open alarms.
 * Returns {top, hr, spo2, physiological, technical, leadsOff, probeOff, ecgPoor, plethPoor, noData}.
 * `top`, `hr`, `spo2` are {priority, flash} or null.
 */
export function bedAlarmView(alarms) {
  const open = alarms.filter(isOpen).sort(compareAlarms);
  const physiological = open.filter((a) => a.kind !== "technical");
  const technical = open.filter((a) => a.kind === "technical");
  const has = (type) => open.some((a) => a.type === type);
  return {
    top: topOf(open),
    hr: topOf(physiological.filter((a) => parameterOf(a.type) === "hr")),
    spo2: topOf(physiological.filter((a) => parameterOf(a.type) === "spo2")),
    physiological,
    technical,
    leadsOff: has("leads_off"),
    probeOff: has("probe_off"),
    ecgPoor: has("ecg_signal_poor"),
    plethPoor: has("pleth_signal_poor"),
    noData: open.find((a) => NO_DATA_TYPES.has(a.type)) ?? null,
  };
}

/**
 * Whether a bed's values are current. `ctx`: {now (station s), serverUp, brokerUp, maxAgeS}.
 * Returns null when current, else a short reason shown on the tile.
 */
export function staleReason(bed, alarmView, ctx) {
  if (!ctx.serverUp) return "NO SERVER CONNECTION";
  if (!ctx.brokerUp) return "NO MONITOR NETWORK";
  if (bed.online === false) return "OFFLINE";
  if (alarmView.noData) return alarmView.noData.type === "device_offline" ? "OFFLINE" : "NO DATA";
  if (bed.last_seen == null) return "NO DATA";
  if (ctx.now - bed.last_seen > ctx.maxAgeS) return "NO DATA";
  return null;
}
