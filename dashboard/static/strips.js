// Live waveform strips (ECG, pleth) on canvas, drawn like a bedside monitor: a sweep that writes left to
// right over a fixed window (~6 s) with an erase bar ahead of it.
//
// Each strip keeps a fixed-size ring buffer indexed by sample number (from the stream's t0 and fs), so
// memory is bounded whatever arrives. Gaps (a t0 later than the next expected sample) are stored as NaN
// and drawn as breaks. A small playout delay absorbs the ~4 Hz delivery of `wave` frames; when a stream
// stops, the sweep keeps moving over blank space (the strip's host gets data-flow="none").
// One requestAnimationFrame loop draws every strip incrementally (only the pixels the sweep passed since
// the last frame), with a full redraw only after a resize, a rescale or a jump.

const ERASE_S = 0.3; // blank bar ahead of the sweep
const SPARE_S = 4; // ring buffer holds the window plus this much
const MAX_DT_S = 0.25; // a long pause (hidden tab) is not replayed, the sweep jumps
const STALE_MIN_MS = 1500;
const MIN_STEP_PX = 1; // draw when the sweep moved at least this many device pixels
const MAX_FS = 5000; // the contract allows 100-1000 Hz; anything beyond this is ignored

const mod = (i, n) => ((i % n) + n) % n;
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

export class Strip {
  /** host: the element holding the <canvas>; minSpan: smallest vertical range (signal units). */
  constructor(host, { windowS = 6, minSpan = 0 } = {}) {
    this.host = host;
    this.canvas = host.querySelector("canvas");
    this.ctx = this.canvas.getContext("2d", { alpha: true });
    this.windowS = windowS;
    this.minSpan = minSpan;
    this.W = 0;
    this.H = 0;
    this.fs = 0;
    this.buf = null;
    this.flowing = null;
    this.stats = { chunks: 0, gaps: 0, resets: 0, jumps: 0, waits: 0 }; // for diagnostics
    this._setFlow(false);
  }

  _init(t0, fs) {
    this.fs = fs;
    this.N = Math.max(2, Math.round(this.windowS * fs)); // samples across the width
    this.Nb = this.N + Math.round(SPARE_S * fs); // ring capacity
    this.buf = new Float32Array(this.Nb).fill(NaN);
    this.anchor = t0; // time of sample index 0
    this.end = 0; // next index to be written (exclusive end of data)
    this.env = []; // recent chunk envelopes {end, lo, hi} for the vertical scale
    this.lo = null;
    this.hi = null;
    this.chunkS = 0.25;
    this.lastChunkS = 0.25;
    this.lastArrivalMs = -Infinity;
    this.head = 0;
    this.drawnTo = 0;
    this.needsFull = true;
    this._headSet = false;
  }

  /** Append one chunk. nowMs: performance.now() at arrival. */
  push(t0, fs, samples, nowMs) {
    if (!Number.isFinite(t0) || !(fs > 0 && fs <= MAX_FS) || !Array.isArray(samples) || !samples.length) return;
    if (!this.buf || fs !== this.fs) this._init(t0, fs);
    // t0 is station time and jitters by up to ~0.1 s from chunk to chunk: a chunk that starts within a
    // tolerance of where the previous one ended continues it (and re-anchors); later than that is a gap.
    const offS = t0 - (this.anchor + this.end / fs);
    const gapS = clamp(0.6 * this.lastChunkS, 0.15, 0.3);
    let i0;
    if (offS > gapS) i0 = this.end + Math.round(offS * fs);
    else if (offS >= -0.5) i0 = this.end;
    else i0 = Math.round((t0 - this.anchor) * fs); // a re-sent older chunk: overwrite in place
    if (i0 < this.end - this.Nb || offS > 600) {
      this.stats.resets++;
      this._init(t0, fs); // clock jump or a restarted stream: start afresh
      i0 = 0;
    }
    if (i0 >= this.end) this.anchor = t0 - i0 / fs;
    this.lastChunkS = samples.length / fs;
    this.stats.chunks++;
    if (i0 > this.end) {
      if (this.end > 0) this.stats.gaps++;
      for (let i = this.end, stop = Math.min(i0, this.end + this.Nb); i < stop; i++) this.buf[mod(i, this.Nb)] = NaN;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < samples.length; k++) {
      const v = samples[k];
      const ok = typeof v === "number" && Number.isFinite(v);
      this.buf[mod(i0 + k, this.Nb)] = ok ? v : NaN;
      if (ok) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const end = i0 + samples.length;
    this.end = Math.max(this.end, end);
    const sinceS = (nowMs - this.lastArrivalMs) / 1000;
    const span = Math.max(samples.length / fs, sinceS < 3 ? sinceS : 0);
    this.chunkS = Math.max(span, this.chunkS * 0.97);
    this.lastArrivalMs = nowMs;
    if (!this._headSet) {
      this.head = this.drawnTo = this.end - this._targetS() * fs;
      this._headSet = true;
    }
    if (lo <= hi) this._rescale(end, lo, hi);
  }

  _targetS() {
    return clamp(1.5 * this.chunkS, 0.3, 2.0);
  }

  _rescale(end, lo, hi) {
    this.env.push({ end, lo, hi });
    const keepFrom = this.end - this.N;
    while (this.env.length && this.env[0].end < keepFrom) this.env.shift();
    let a = Infinity;
    let b = -Infinity;
    for (const e of this.env) {
      if (e.lo < a) a = e.lo;
      if (e.hi > b) b = e.hi;
    }
    let span = b - a;
    const mid = (a + b) / 2;
    if (span < this.minSpan) span = this.minSpan;
    if (!(span > 1e-9)) span = Math.max(Math.abs(mid) * 0.1, 1e-6);
    const cur = this.lo == null ? 0 : this.hi - this.lo;
    if (this.lo == null || a < this.lo || b > this.hi || span < 0.45 * cur) {
      this.lo = mid - 0.6 * span;
      this.hi = mid + 0.6 * span;
      this.needsFull = true;
    }
  }

  resize(cssW, cssH, dpr) {
    const W = Math.max(1, Math.round(cssW * dpr));
    const H = Math.max(1, Math.round(cssH * dpr));
    if (W === this.W && H === this.H) return;
    this.canvas.width = this.W = W;
    this.canvas.height = this.H = H;
    const ctx = this.ctx;
    ctx.strokeStyle = getComputedStyle(this.host).getPropertyValue("--trace").trim() || "#3f3";
    ctx.lineWidth = Math.max(1, 1.6 * dpr);
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    this.needsFull = true;
  }

  fresh(nowMs) {
    return this.buf != null && nowMs - this.lastArrivalMs < Math.max(STALE_MIN_MS, 3000 * this.chunkS);
  }

  _setFlow(on) {
    if (on === this.flowing) return;
    this.flowing = on;
    this.host.dataset.flow = on ? "live" : "none";
  }

  /** Advance the sweep by dtS seconds and draw. */
  frame(dtS, nowMs) {
    const fresh = this.fresh(nowMs);
    this._setFlow(fresh);
    if (!this.buf || !this.W) return;
    const fs = this.fs;
    let head = this.head;
    if (fresh) {
      const target = this._targetS() * fs;
      const lag = this.end - head;
      const rate = 1 + clamp((lag - target) / (2 * fs), -0.15, 0.15); // steer towards the playout delay
      head += dtS * fs * rate;
      if (head > this.end) {
        head = this.end; // wait for data
        this.stats.waits++;
      }
      if (this.end - head > target + 1.5 * fs) {
        head = this.end - target; // fell behind: jump
        this.stats.jumps++;
      }
    } else {
      head += dtS * fs; // no data: keep sweeping over blank space
    }
    this.head = head;
    this._draw(head);
  }

  _x(i) {
    return (mod(i, this.N) * this.W) / this.N;
  }

  _y(v) {
    const m = 0.06 * this.H;
    const y = this.H - m - ((v - this.lo) / (this.hi - this.lo)) * (this.H - 2 * m);
    return clamp(y, 1, this.H - 1);
  }

  _draw(head) {
    const eraseN = ERASE_S * this.fs;
    if (this.needsFull || head < this.drawnTo - 0.5 || head - this.drawnTo > this.N / 2) {
      this._full(head, eraseN);
      return;
    }
    if (((head - this.drawnTo) * this.W) / this.N < MIN_STEP_PX) return; // wait for a visible step
    this._clear(this.drawnTo + eraseN, head + eraseN);
    this._stroke(Math.floor(this.drawnTo), Math.floor(head));
    this.drawnTo = head;
  }

  _full(head, eraseN) {
    this.ctx.clearRect(0, 0, this.W, this.H);
    this.needsFull = false;
    this.drawnTo = head;
    if (this.lo == null) return;
    this._stroke(Math.floor(head - this.N + eraseN) + 1, Math.floor(head));
  }

  _clear(a, b) {
    if (b - a >= this.N) {
      this.ctx.clearRect(0, 0, this.W, this.H);
      return;
    }
    const x1 = Math.floor(this._x(a));
    const x2 = Math.ceil(this._x(b));
    if (x2 >= x1) this.ctx.clearRect(x1, 0, x2 - x1 + 1, this.H);
    else {
      this.ctx.clearRect(x1, 0, this.W - x1, this.H);
      this.ctx.clearRect(0, 0, x2 + 1, this.H);
    }
  }

  /** Draw samples a..b (inclusive) that are in the buffer; NaN and the right edge break the line. */
  _stroke(a, b) {
    if (this.lo == null) return;
    a = Math.max(a, this.end - this.Nb);
    b = Math.min(b, this.end - 1);
    if (b <= a) return;
    const ctx = this.ctx;
    ctx.beginPath();
    let pen = false;
    let prevX = -1;
    for (let i = a; i <= b; i++) {
      const v = this.buf[mod(i, this.Nb)];
      if (v !== v) {
        pen = false;
        continue;
      }
      const x = this._x(i);
      const y = this._y(v);
      if (pen && x >= prevX) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      pen = true;
      prevX = x;
    }
    ctx.stroke();
  }
}

/** All strips of the station, fed from `wave` frames and drawn by one animation loop. */
export class StripBank {
  /** windowS: strip width in seconds; fps: drawing rate cap (all strips are drawn together). */
  constructor({ windowS = 6, fps = 30 } = {}) {
    this.windowS = windowS;
    this.frameMs = 1000 / fps;
    this.beds = new Map(); // bed -> {ecg: Strip, pleth: Strip, lead, leadMs}
    this._byCanvas = new Map();
    this._raf = 0;
    this._last = 0;
    this._ro = new ResizeObserver((entries) => {
      const dpr = window.devicePixelRatio || 1;
      for (const e of entries) {
        const s = this._byCanvas.get(e.target);
        if (s) s.resize(e.contentRect.width, e.contentRect.height, dpr);
      }
    });
  }

  /** ecgHost, plethHost: elements holding a <canvas> (and optionally a .strip-lead label). */
  attach(bed, ecgHost, plethHost) {
    this.detach(bed);
    const ecg = new Strip(ecgHost, { windowS: this.windowS, minSpan: 1.0 });
    const pleth = new Strip(plethHost, { windowS: this.windowS, minSpan: 0 });
    this.beds.set(bed, { ecg, pleth, lead: null, leadMs: 0 });
    for (const s of [ecg, pleth]) {
      this._byCanvas.set(s.canvas, s);
      this._ro.observe(s.canvas);
    }
  }

  detach(bed) {
    const b = this.beds.get(bed);
    if (!b) return;
    for (const s of [b.ecg, b.pleth]) {
      this._ro.unobserve(s.canvas);
      this._byCanvas.delete(s.canvas);
    }
    this.beds.delete(bed);
  }

  /** Returns false when the bed has no strips yet (the caller may create its tile). */
  push(frame) {
    const b = this.beds.get(frame.bed);
    if (!b) return false;
    const now = performance.now();
    if (frame.stream === "ecg") {
      // One lead per strip: keep the current lead; switch to II, or to any lead if the current one stopped.
      const lead = frame.lead || "II";
      if (b.lead !== lead) {
        if (b.lead != null && lead !== "II" && now - b.leadMs < 3000) return true;
        b.lead = lead;
        b.ecg.buf = null;
        const label = b.ecg.host.querySelector(".strip-lead");
        if (label) label.textContent = lead;
      }
      b.leadMs = now;
      b.ecg.push(frame.t0, frame.fs, frame.samples, now);
    } else if (frame.stream === "pleth") {
      b.pleth.push(frame.t0, frame.fs, frame.samples, now);
    }
    return true;
  }

  start() {
    const loop = (ts) => {
      this._raf = requestAnimationFrame(loop);
      if (this._last && ts - this._last < this.frameMs - 4) return;
      const dt = this._last ? Math.min(MAX_DT_S, (ts - this._last) / 1000) : 0;
      this._last = ts;
      const now = performance.now();
      for (const b of this.beds.values()) {
        b.ecg.frame(dt, now);
        b.pleth.frame(dt, now);
      }
    };
    this._raf = requestAnimationFrame(loop);
  }

  stop() {
    cancelAnimationFrame(this._raf);
    this._last = 0;
  }
}
