// The active-alarm list: every open alarm (active, acknowledged, latched), sorted by priority then onset
// (newest first), with an Acknowledge button per alarm. Rows are keyed by alarm id and updated in place,
// so a button keeps focus while the list changes around it.

import { ApiError } from "./api.js";
import { h, setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";
import { PRIORITY_MARK, PRIORITY_TEXT, STATE_TEXT, STATION_BED, compareAlarms, needsAck } from "./model.js";

class AlarmRow {
  constructor(alarm, { onAck, onBed }) {
    this.id = alarm.id;
    this.pending = false;
    this.onAck = onAck;
    this.mark = h("span", { class: "a-mark" });
    this.prio = h("span", { class: "a-prio-text" });
    this.bed = h("button", { class: "a-bed", type: "button", onclick: () => onBed(this.alarm.bed) });
    this.label = h("span", { class: "a-label" });
    this.kind = h("span", { class: "a-kind", text: "TECH" });
    this.msg = h("span", { class: "a-msg" });
    this.state = h("span", { class: "a-state" });
    this.onset = h("time", { class: "a-onset" });
    this.dur = h("span", { class: "a-dur" });
    this.error = h("div", { class: "a-error", role: "alert" });
    this.ack = h("button", { class: "ack", type: "button", "data-testid": `ack-${alarm.id}`,
      onclick: () => this._ack() });
    this.el = h("li", { class: "alarm-row", "data-testid": `alarm-${alarm.id}` },
      h("div", { class: "a-prio" }, this.mark, this.prio),
      h("div", { class: "a-main" },
        h("div", { class: "a-line" }, this.bed, this.label, this.kind),
        h("div", { class: "a-line a-sub" }, this.msg),
        h("div", { class: "a-line a-sub" }, this.state, " · onset ", this.onset, " · ", this.dur),
        this.error),
      this.ack);
    this.update(alarm, 0);
  }

  update(a, now) {
    this.alarm = a;
    const el = this.el;
    setAttr(el, "data-type", a.type);
    setAttr(el, "data-state", a.state);
    setAttr(el, "data-priority", a.priority);
    setAttr(el, "data-kind", a.kind);
    setAttr(el, "data-flash", needsAck(a) ? "true" : "false");
    setText(this.mark, PRIORITY_MARK[a.priority] ?? "");
    setText(this.prio, PRIORITY_TEXT[a.priority] ?? a.priority);
    setText(this.bed, a.bed === STATION_BED ? "Station" : a.bed);
    setAttr(this.bed, "aria-label", a.bed === STATION_BED ? "Station-wide alarm" : `Show bed ${a.bed}`);
    setText(this.label, a.label || a.type);
    this.kind.hidden = a.kind !== "technical";
    setText(this.msg, a.message || "");

    let state = STATE_TEXT[a.state] ?? a.state;
    if (a.state === "acknowledged" && a.acknowledged_at != null) {
      state += ` ${fmt.clockTime(a.acknowledged_at)}${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ""}`;
    }
    setText(this.state, state);
    setText(this.onset, fmt.clockTime(a.onset));
    setAttr(this.onset, "datetime", a.onset != null ? new Date(a.onset * 1000).toISOString() : null);
    setAttr(this.onset, "title", fmt.clockDateTime(a.onset));
    const endT = a.ended_at ?? now;
    let dur = "";
    if (a.onset != null && a.ended_at != null) dur = `lasted ${fmt.duration(endT - a.onset)}, ended ${fmt.clockTime(a.ended_at)}`;
    else if (a.onset != null && now) dur = fmt.duration(endT - a.onset);
    setText(this.dur, dur);

    const acked = a.state === "acknowledged";
    this.ack.disabled = this.pending || acked;
    setText(this.ack, this.pending ? "Sending…" : acked ? "Acknowledged" : "Acknowledge");
    setAttr(this.ack, "aria-label",
      `${acked ? "Acknowledged" : "Acknowledge"}: ${a.label || a.type}, ${a.bed === STATION_BED ? "station" : a.bed}`);
  }

  async _ack() {
    if (this.pending) return;
    this.pending = true;
    setText(this.error, "");
    this.update(this.alarm, this._now?.() ?? 0);
    try {
      await this.onAck(this.alarm);
    } catch (err) {
      const detail = err instanceof ApiError ? err.detail : String(err);
      setText(this.error, `Not acknowledged: ${detail}`);
    } finally {
      this.pending = false;
      this.update(this.alarm, this._now?.() ?? 0);
    }
  }
}

export class AlarmList {
  /** list: an <ol>; onAck(alarm) -> Promise; onBed(bedId); now() -> station time. */
  constructor(list, { onAck, onBed, now }) {
    this.list = list;
    this.handlers = { onAck, onBed };
    this.now = now;
    this.rows = new Map();
    this.empty = h("li", { class: "alarm-empty", text: "No active alarms" });
    list.append(this.empty);
  }

  render(alarms) {
    const now = this.now();
    const sorted = [...alarms].sort(compareAlarms);
    const keep = new Set(sorted.map((a) => a.id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    let prev = null;
    for (const a of sorted) {
      let row = this.rows.get(a.id);
      if (!row) {
        row = new AlarmRow(a, this.handlers);
        row._now = this.now;
        this.rows.set(a.id, row);
      }
      row.update(a, now);
      const expected = prev ? prev.nextElementSibling : this.list.firstElementChild;
      if (expected !== row.el) {
        if (prev) prev.after(row.el);
        else this.list.prepend(row.el);
      }
      prev = row.el;
    }
    this.empty.hidden = sorted.length > 0;
  }
}
