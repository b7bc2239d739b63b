// Station state: beds, open alarms, connection status and the station clock offset, updated from the
// websocket frames (docs/api.md). Views listen to its events; it knows nothing about the DOM.
//
// Events (CustomEvent, detail in brackets):
//   "change"  {beds, vitals, alarms, connection}  booleans: what changed (views re-render those parts)
//   "alarm"   {event, alarm}  each alarm frame as received (for later additions: audio tones, pager view)
//   "snapshot" {}            a snapshot was applied (after every (re)connect)

import { isOpen } from "./model.js";

const TOMBSTONE_MS = 10 * 60 * 1000;
const TOMBSTONE_MAX = 5000;
const OFFSET_SAMPLES = 20;

export class StationStore extends EventTarget {
  constructor() {
    super();
    /** bed id -> {bed, online, last_seen, vitals} */
    this.beds = new Map();
    /** alarm id -> Alarm (open alarms only) */
    this.alarms = new Map();
    /** ids of alarms seen cleared -> local ms; a late update never brings them back */
    this.cleared = new Map();
    this.serverUp = false;
    this.everConnected = false;
    this.serverChangedAt = Date.now() / 1000; // station-ish time of the last server up/down change
    this.brokerUp = true;
    this.brokerChangedAt = null; // station time the broker state was first seen as it is now
    this.brokerChangedExact = false; // false when only known from a snapshot ("at least since")
    this.offset = 0; // station clock - browser clock, seconds
    this._offsets = [];
  }

  /** Current station time (Unix s), estimated from the browser clock. */
  now() {
    return Date.now() / 1000 + this.offset;
  }

  _clockSample(stationT) {
    if (!Number.isFinite(stationT)) return;
    // Frames arrive late, never early: the largest recent (station - local) is the best estimate.
    this._offsets.push(stationT - Date.now() / 1000);
    if (this._offsets.length > OFFSET_SAMPLES) this._offsets.shift();
    this.offset = Math.max(...this._offsets);
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _changed(what) {
    this._emit("change", { beds: false, vitals: false, alarms: false, connection: false, ...what });
  }

  /** Apply one parsed websocket frame. Unknown types are ignored (forward compatible). */
  applyFrame(msg) {
    switch (msg?.type) {
      case "snapshot": return this.applySnapshot(msg);
      case "alarm": return this.applyAlarm(msg);
      case "vitals": return this.applyVitals(msg);
      case "connection": return this.applyConnection(msg);
      default: return undefined;
    }
  }

  applySnapshot(msg) {
    this._offsets = [];
    this._clockSample(msg.server_time);
    this.beds = new Map();
    for (const b of msg.beds ?? []) {
      this.beds.set(b.bed, { bed: b.bed, online: b.online, last_seen: b.last_seen, vitals: b.vitals ?? {} });
    }
    this.alarms = new Map();
    const all = [...(msg.alarms ?? []), ...(msg.beds ?? []).flatMap((b) => b.alarms ?? [])];
    for (const a of all) if (a?.id != null && isOpen(a)) this.alarms.set(a.id, a);
    this._setBroker(msg.broker_connected !== false, false);
    this._emit("snapshot", {});
    this._changed({ beds: true, vitals: true, alarms: true, connection: true });
  }

  applyAlarm(msg) {
    const a = msg.alarm;
    if (!a || a.id == null) return;
    if (isOpen(a)) {
      if (this.cleared.has(a.id)) return;
      this.alarms.set(a.id, a);
    } else {
      this.alarms.delete(a.id);
      this.cleared.set(a.id, Date.now());
    }
    this._pruneCleared();
    this._emit("alarm", { event: msg.event, alarm: a });
    this._changed({ alarms: true });
  }

  /** The Alarm returned by POST /ack. Used only if the websocket has not already told us more. */
  applyAckResponse(a) {
    if (!a || a.id == null || this.cleared.has(a.id)) return;
    const mine = this.alarms.get(a.id);
    if (!mine || mine.acknowledged_at != null) return;
    this.applyAlarm({ event: a.state === "cleared" ? "cleared" : "acknowledged", alarm: a });
  }

  applyVitals(msg) {
    this._clockSample(msg.t);
    let added = false;
    for (const b of msg.beds ?? []) {
      if (!b?.bed) continue;
      if (!this.beds.has(b.bed)) added = true;
      this.beds.set(b.bed, { bed: b.bed, online: b.online, last_seen: b.last_seen, vitals: b.vitals ?? {} });
    }
    this._changed({ beds: added, vitals: true });
  }

  /** A waveform for a bed we do not know yet (before its first vitals frame). */
  ensureBed(id) {
    if (this.beds.has(id)) return;
    this.beds.set(id, { bed: id, online: true, last_seen: null, vitals: {} });
    this._changed({ beds: true });
  }

  applyConnection(msg) {
    this._setBroker(msg.broker_connected !== false, true);
    this._changed({ connection: true });
  }

  _setBroker(up, exact) {
    if (up === this.brokerUp && this.brokerChangedAt != null) return;
    this.brokerUp = up;
    this.brokerChangedAt = this.now();
    this.brokerChangedExact = exact;
  }

  /** The websocket opened (true) or closed (false). */
  setServerUp(up) {
    if (up === this.serverUp) return;
    this.serverUp = up;
    this.serverChangedAt = this.now();
    if (up) this.everConnected = true;
    this._changed({ connection: true, vitals: true });
  }

  /** The open broker_lost alarm, if any. */
  brokerAlarm() {
    for (const a of this.alarms.values()) if (a.type === "broker_lost") return a;
    return null;
  }

  alarmsOfBed(bed) {
    const out = [];
    for (const a of this.alarms.values()) if (a.bed === bed) out.push(a);
    return out;
  }

  _pruneCleared() {
    const cutoff = Date.now() - TOMBSTONE_MS;
    for (const [id, t] of this.cleared) {
      if (t >= cutoff && this.cleared.size <= TOMBSTONE_MAX) break; // insertion order = time order
      this.cleared.delete(id);
    }
  }
}
