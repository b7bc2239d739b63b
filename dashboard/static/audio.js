// Alarm tones (WebAudio) by priority, after IEC 60601-1-8's patterns: high = fast repeating bursts of 5
// pulses, medium = 3 slower pulses repeated less often, low = one tone once per new alarm. An alarm sounds
// while it is active or latched; acknowledging it or pausing its bed's audio silences it (it stays shown).
// The rule mirrors alarms/controls.py audio_signal().

export const PATTERNS = Object.freeze({
  high: { notes: [523, 440, 349, 440, 349], pulseS: 0.1, gapS: 0.06, repeatS: 2.5, gain: 0.35 },
  medium: { notes: [523, 440, 349], pulseS: 0.18, gapS: 0.12, repeatS: 8, gain: 0.25 },
  low: { notes: [440], pulseS: 0.25, gapS: 0, repeatS: null, gain: 0.18 },
});
const RANK = { high: 3, medium: 2, low: 1 };

/** "sounding" | "paused" | "silenced" | "none" for one alarm. pauses: Map bed -> {ends_at}. now: station s. */
export function audioSignal(alarm, pauses, now) {
  if (alarm.state === "active" || alarm.state === "latched") {
    const p = pauses.get(alarm.bed);
    return p && now < p.ends_at ? "paused" : "sounding";
  }
  return alarm.state === "acknowledged" ? "silenced" : "none";
}

/** Highest priority among sounding alarms, or null. */
export function soundLevel(alarms, pauses, now) {
  let best = null;
  for (const a of alarms) {
    if (audioSignal(a, pauses, now) !== "sounding") continue;
    if (!best || (RANK[a.priority] ?? 0) > (RANK[best] ?? 0)) best = a.priority;
  }
  return best;
}

export class AlarmAudio {
  constructor() {
    this.ctx = null;
    this.level = null; // what should sound now
    this.muted = false; // by the browser until a user gesture (autoplay policy)
    this.plays = { high: 0, medium: 0, low: 0 };
    this.lastPlayed = null;
    this._nextAt = 0;
    this._lowHeard = new Set();
    this._timer = setInterval(() => this._tick(), 200);
  }

  /** Call from a user gesture (click): browsers only allow sound after one. */
  unlock() {
    try {
      this.ctx ??= new (window.AudioContext || window.webkitAudioContext)();
      if (this.ctx.state === "suspended") this.ctx.resume();
    } catch (err) {
      console.warn("no WebAudio", err);
    }
    this._tick();
  }

  get blocked() {
    return !this.ctx || this.ctx.state !== "running";
  }

  /** alarms: open alarms; pauses: Map bed -> pause; now: station time. */
  update(alarms, pauses, now) {
    const level = soundLevel(alarms, pauses, now);
    if (level !== this.level) {
      this.level = level;
      this._nextAt = 0; // a new or higher level sounds at once
    }
    for (const a of alarms) {
      if (a.priority === "low" && audioSignal(a, pauses, now) === "sounding" && !this._lowHeard.has(a.id)) {
        this._lowHeard.add(a.id);
        if (!this.level || this.level === "low") this._play("low");
      }
    }
  }

  _tick() {
    const lvl = this.level;
    if (!lvl || lvl === "low") return;
    const now = performance.now() / 1000;
    if (now < this._nextAt) return;
    this._play(lvl);
    this._nextAt = now + PATTERNS[lvl].repeatS;
  }

  _play(priority) {
    this.plays[priority] += 1;
    this.lastPlayed = { priority, at: Date.now() };
    const ctx = this.ctx;
    if (!ctx || ctx.state !== "running" || this.muted) return;
    const p = PATTERNS[priority];
    let t = ctx.currentTime + 0.02;
    for (const freq of p.notes) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "triangle";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0, t);
      gain.gain.linearRampToValueAtTime(p.gain, t + 0.015);
      gain.gain.setValueAtTime(p.gain, t + p.pulseS - 0.02);
      gain.gain.linearRampToValueAtTime(0, t + p.pulseS);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + p.pulseS + 0.01);
      t += p.pulseS + p.gapS;
    }
  }
}
