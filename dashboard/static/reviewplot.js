// Canvas drawing for the review page: trends over the whole session, and calibrated strips (25 mm/s, 10 mm/mV).
// Pure drawing: data in, pixels out. CSS pixels are 1/96 inch, so 1 mm = 96 / 25.4 CSS px.

export const PX_PER_MM = 96 / 25.4;
export const MM_PER_S = 25;
export const MM_PER_MV = 10;
export const PX_PER_S = PX_PER_MM * MM_PER_S;
export const MARGIN = { left: 60, right: 10 };
export const COLOURS = { high: "#d62728", medium: "#e6b800", low: "#17becf" };
export const LANE_OF = {
  tachycardia: "hr", bradycardia: "hr", extreme_tachycardia: "hr", extreme_bradycardia: "hr", asystole: "hr",
  ventricular_tachycardia: "hr", ventricular_fibrillation: "hr", atrial_fibrillation: "hr", pause: "hr",
  spo2_low: "spo2", desaturation: "spo2",
};
const LANES = [
  { key: "hr", label: "HR", unit: "bpm", lo: 30, hi: 200, colour: "#1f77b4" },
  { key: "spo2", label: "SpO2", unit: "%", lo: 70, hi: 100, colour: "#2ca02c" },
  { key: "pr", label: "PR", unit: "bpm", lo: 30, hi: 200, colour: "#9467bd" },
];

/** Size a canvas for the device pixel ratio; returns its 2D context in CSS pixels. */
export function fit(canvas, cssWidth, cssHeight) {
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** x (CSS px, within the plotted width) <-> station time. */
export function timeScale(start, end, width) {
  const w = Math.max(1, width - MARGIN.left - MARGIN.right);
  const span = Math.max(1e-3, end - start);
  return {
    x: (t) => MARGIN.left + ((t - start) / span) * w,
    t: (x) => start + ((x - MARGIN.left) / w) * span,
    frac: (t) => (t - start) / span,
  };
}

/** HR, SpO2 and PR lanes with alarm bands and the cursor. */
export function drawTrends(canvas, { trends, alarms, start, end, cursor }) {
  const width = canvas.parentElement.clientWidth;
  const height = 300;
  const ctx = fit(canvas, width, height);
  const sc = timeScale(start, end, width);
  const laneH = (height - 20) / LANES.length;
  ctx.clearRect(0, 0, width, height);
  ctx.font = "12px sans-serif";
  LANES.forEach((lane, i) => {
    const top = i * laneH + 4;
    const vals = (trends[lane.key] || []).filter((v) => v != null);
    const lo = Math.min(lane.lo, ...vals.map((v) => v - 5));
    const hi = Math.max(lane.hi, ...vals.map((v) => v + 5));
    const y = (v) => top + laneH - 6 - ((v - lo) / (hi - lo)) * (laneH - 12);
    ctx.fillStyle = "#fafbfc";
    ctx.fillRect(MARGIN.left, top, width - MARGIN.left - MARGIN.right, laneH - 4);
    for (const a of alarms) {
      if ((LANE_OF[a.type] || "events") !== lane.key && !(lane.key === "hr" && a.type === "pr")) continue;
      const x0 = sc.x(a.raised_at);
      const x1 = sc.x(a.ended_at ?? end);
      ctx.fillStyle = COLOURS[a.priority] || "#999";
      ctx.globalAlpha = 0.3;
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), laneH - 4);
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = "#e1e5ea";
    ctx.fillStyle = "#5c6670";
    ctx.textAlign = "right";
    for (const v of ticks(lo, hi)) {
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y(v));
      ctx.lineTo(width - MARGIN.right, y(v));
      ctx.stroke();
      ctx.fillText(String(v), MARGIN.left - 4, y(v) + 4);
    }
    ctx.textAlign = "left";
    ctx.fillStyle = "#15191d";
    ctx.fillText(`${lane.label} (${lane.unit})${vals.length ? "" : ": no data"}`, MARGIN.left + 6, top + 14);
    ctx.strokeStyle = lane.colour;
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    let pen = false;
    const ts = trends.t || [];
    const xs = trends[lane.key] || [];
    for (let k = 0; k < ts.length; k++) {
      const v = xs[k];
      const gap = k > 0 && ts[k] - ts[k - 1] > 5 * (trends.step_s || 1);
      if (v == null || gap) { pen = false; if (v == null) continue; }
      const px = sc.x(ts[k]);
      if (pen) ctx.lineTo(px, y(v)); else ctx.moveTo(px, y(v));
      pen = true;
    }
    ctx.stroke();
    ctx.lineWidth = 1;
  });
  if (cursor != null) {
    ctx.strokeStyle = "#0b57d0";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(sc.x(cursor), 0);
    ctx.lineTo(sc.x(cursor), height);
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  return sc;
}

function ticks(lo, hi) {
  const step = hi - lo > 120 ? 50 : hi - lo > 40 ? 10 : 5;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
  return out;
}

function grid(ctx, width, height) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  for (let mm = 0, x = 0; x <= width; mm++, x = mm * PX_PER_MM) {
    ctx.strokeStyle = mm % 5 === 0 ? "#e58f8f" : "#f8d8d8";
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, height);
    ctx.stroke();
  }
  for (let mm = 0, y = 0; y <= height; mm++, y = mm * PX_PER_MM) {
    ctx.strokeStyle = mm % 5 === 0 ? "#e58f8f" : "#f8d8d8";
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(width, y);
    ctx.stroke();
  }
}

/**
 * One calibrated strip: `track` = {stream, lead, fs, t0, samples}, window [w0, w0 + width / PX_PER_S].
 * ECG at 10 mm/mV around the window's median; pleth scaled to fit. Returns how many samples were drawn.
 */
export function drawStrip(canvas, track, w0, width) {
  const ecg = track.stream === "ecg";
  const height = Math.round((ecg ? 30 : 20) * PX_PER_MM);
  const ctx = fit(canvas, width, height);
  grid(ctx, width, height);
  const seconds = width / PX_PER_S;
  const i0 = Math.max(0, Math.floor((w0 - track.t0) * track.fs));
  const i1 = Math.min(track.samples.length, Math.ceil((w0 + seconds - track.t0) * track.fs) + 1);
  const vis = [];
  for (let i = i0; i < i1; i++) if (track.samples[i] != null) vis.push(track.samples[i]);
  let y;
  if (ecg) {
    const mid = median(vis);
    const pxPerMv = MM_PER_MV * PX_PER_MM;
    y = (v) => height / 2 - (v - mid) * pxPerMv;
  } else {
    const lo = Math.min(...vis, 0);
    const hi = Math.max(...vis, 1e-6);
    y = (v) => height - 4 - ((v - lo) / (hi - lo || 1)) * (height - 8);
  }
  ctx.strokeStyle = ecg ? "#111" : "#1f4fbf";
  ctx.lineWidth = 1.2;
  ctx.beginPath();
  let pen = false;
  let drawn = 0;
  for (let i = i0; i < i1; i++) {
    const v = track.samples[i];
    if (v == null) { pen = false; continue; }
    const x = (track.t0 + i / track.fs - w0) * PX_PER_S;
    if (pen) ctx.lineTo(x, y(v)); else ctx.moveTo(x, y(v));
    pen = true;
    drawn++;
  }
  ctx.stroke();
  ctx.fillStyle = "#15191d";
  ctx.font = "12px sans-serif";
  ctx.fillText(ecg ? `ECG ${track.lead}` : "Pleth", 6, 14);
  if (ecg) {  // 1 mV calibration pulse
    ctx.strokeStyle = "#111";
    ctx.beginPath();
    const base = height / 2 + 5 * PX_PER_MM;
    ctx.moveTo(6, base);
    ctx.lineTo(6, base - 10 * PX_PER_MM);
    ctx.lineTo(6 + 5 * PX_PER_MM, base - 10 * PX_PER_MM);
    ctx.lineTo(6 + 5 * PX_PER_MM, base);
    ctx.stroke();
  }
  return drawn;
}

function median(xs) {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
