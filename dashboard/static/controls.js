// Operator controls on the bed tiles and the bed settings dialog:
//   tile: "Pause audio" (2 min, with a countdown and "Resume"), "Settings", and a permanent OFF chip per
//   alarm condition that is switched off (who, when, why in its tooltip);
//   dialog: limits editor (profile + fields, validated by the server) and alarm conditions on/off (with reason).
// State comes from the server: `controls` in the snapshot and `controls` websocket frames (docs/api.md).

import { ApiError } from "./api.js";
import { h, setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";
import { call } from "./session.js";

/** Limit fields shown in the editor: [dotted key, label, unit]. Ranges come from /api/limits/schema. */
export const LIMIT_FIELDS = [
  ["hr.high", "Tachycardia above", "bpm"],
  ["hr.high_delay_s", "Tachycardia delay", "s"],
  ["hr.extreme_high", "Extreme tachycardia above", "bpm"],
  ["hr.low", "Bradycardia below", "bpm"],
  ["hr.low_delay_s", "Bradycardia delay", "s"],
  ["hr.extreme_low", "Extreme bradycardia below", "bpm"],
  ["spo2.low", "SpO₂ low below", "%"],
  ["spo2.low_delay_s", "SpO₂ low delay", "s"],
  ["spo2.desat", "Desaturation below", "%"],
  ["arrhythmia.asystole_s", "Asystole: no QRS for", "s"],
  ["arrhythmia.af_delay_s", "AFib for at least", "s"],
  ["technical.silence_s", "No data from bed after", "s"],
];

const get = (limits, key) => {
  const [g, f] = key.split(".");
  return limits?.[g]?.[f];
};

export class ControlsModel extends EventTarget {
  constructor() {
    super();
    this.pauses = new Map(); // bed -> {bed, started_at, ends_at, by}
    this.off = new Map(); // "bed|type" -> {bed, type, label, since, by, reason}
  }

  apply(controls) {
    if (!controls) return;
    this.pauses = new Map((controls.pauses ?? []).map((p) => [p.bed, p]));
    this.off = new Map((controls.off ?? []).map((o) => [`${o.bed}|${o.type}`, o]));
    this.dispatchEvent(new CustomEvent("change"));
  }

  /** The bed's pause if it is still running at station time `now`. */
  pauseOf(bed, now) {
    const p = this.pauses.get(bed);
    return p && now < p.ends_at ? p : null;
  }

  offOf(bed) {
    return [...this.off.values()].filter((o) => o.bed === bed);
  }
}

export class TileControls {
  constructor({ grid, model, sessionView, now, onSettings }) {
    this.grid = grid;
    this.model = model;
    this.sessionView = sessionView;
    this.now = now;
    this.onSettings = onSettings;
    this._keys = new Map();
  }

  render() {
    const now = this.now();
    for (const [bed, tile] of this.grid.tiles) {
      const slot = tile.controls;
      if (!slot) continue;
      const pause = this.model.pauseOf(bed, now);
      const off = this.model.offOf(bed);
      const key = `${pause ? pause.ends_at : ""}|${off.map((o) => o.type).join(",")}|${slot.childElementCount}`;
      if (this._keys.get(bed) !== key || !slot.firstChild) {
        this._keys.set(bed, key);
        slot.replaceChildren(...this._build(bed, pause, off));
      }
      const cd = slot.querySelector(".pause-left");
      // the page's station clock trails the station by the network delay: never show more than the pause's length
      if (cd && pause) setText(cd, countdown(Math.min(pause.ends_at - now, pause.ends_at - pause.started_at)));
      setAttr(tile.el, "data-audio-paused", pause ? "true" : null);
    }
  }

  _build(bed, pause, off) {
    const parts = [];
    if (pause) {
      parts.push(h("span", { class: "chip chip-paused", "data-testid": `paused-${bed}`,
        title: `Audio paused by ${pause.by} until ${fmt.clockTime(pause.ends_at)}` },
        "AUDIO PAUSED ", h("span", { class: "pause-left" })));
      parts.push(h("button", { type: "button", class: "tbtn", "data-testid": `resume-${bed}`, text: "Resume",
        "aria-label": `Resume audio of ${bed}`, onclick: () => this._resume(bed) }));
    } else {
      parts.push(h("button", { type: "button", class: "tbtn", "data-testid": `pause-${bed}`, text: "Pause audio",
        title: "Pause this bed's alarm audio for 2 minutes", "aria-label": `Pause audio of ${bed} for 2 minutes`,
        onclick: () => this._pause(bed) }));
    }
    parts.push(h("button", { type: "button", class: "tbtn", "data-testid": `settings-${bed}`, text: "⚙",
      title: "Limits and alarms of this bed", "aria-label": `Limits and alarms of ${bed}`,
      onclick: () => this.onSettings(bed) }));
    for (const o of off) {
      parts.push(h("span", { class: "chip chip-off", "data-testid": `off-${bed}-${o.type}`,
        title: `${o.label} alarm OFF since ${fmt.clockTime(o.since)} by ${o.by}: ${o.reason}` },
        `OFF ${o.label}`));
    }
    return parts;
  }

  async _pause(bed) {
    if (!(await this.sessionView.ensure("pause"))) return;
    try {
      const p = await call("POST", `/api/beds/${encodeURIComponent(bed)}/pause`, {});
      this.model.pauses.set(bed, p);
      this.render();
    } catch (err) {
      alertError(`Audio of ${bed} not paused`, err);
    }
  }

  async _resume(bed) {
    if (!(await this.sessionView.ensure("pause"))) return;
    try {
      await call("DELETE", `/api/beds/${encodeURIComponent(bed)}/pause`);
      this.model.pauses.delete(bed);
      this.render();
    } catch (err) {
      alertError(`Audio of ${bed} not resumed`, err);
    }
  }
}

/** "1:59": minutes and seconds left (rounded up, so it reads 2:00 at the start and 0:01 at the end). */
export function countdown(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function alertError(what, err) {
  const detail = err instanceof ApiError ? err.detail : String(err);
  window.alert(`${what}: ${detail}`);
}

/** The bed settings dialog: limits editor and alarm conditions. */
export class BedDialog {
  constructor(dialog, { sessionView, session }) {
    this.dialog = dialog;
    this.sessionView = sessionView;
    this.session = session;
    this.bed = null;
    this.profiles = [];
    this.schema = null;
    this.title = dialog.querySelector("[data-testid=bed-dialog-title]");
    this.profile = dialog.querySelector("[data-testid=profile-select]");
    this.fields = dialog.querySelector(".limit-fields");
    this.error = dialog.querySelector("[data-testid=limits-error]");
    this.status = dialog.querySelector("[data-testid=limits-status]");
    this.conditions = dialog.querySelector(".condition-list");
    this.inputs = new Map();
    for (const [key, label, unit] of LIMIT_FIELDS) {
      const input = h("input", { type: "number", step: "any", name: key, "data-testid": `limit-${key}`,
        "aria-label": `${label} (${unit})` });
      this.inputs.set(key, input);
      this.fields.append(h("label", { class: "limit" }, h("span", { class: "limit-label", text: label }), input,
        h("span", { class: "limit-unit", text: unit })));
    }
    this.profile.addEventListener("change", () => this._fillFromProfile());
    dialog.querySelector("form.limits-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._save();
    });
    dialog.querySelector("[data-testid=bed-dialog-close]").addEventListener("click", () => dialog.close());
  }

  async open(bed) {
    this.bed = bed;
    setText(this.title, `Bed ${bed}: limits and alarms`);
    setText(this.error, "");
    setText(this.status, "");
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const [profiles, setting, conditions, schema] = await Promise.all([
        call("GET", "/api/profiles"),
        call("GET", `/api/beds/${encodeURIComponent(bed)}/limits`),
        call("GET", `/api/beds/${encodeURIComponent(bed)}/conditions`),
        this.schema ? Promise.resolve(this.schema) : call("GET", "/api/limits/schema"),
      ]);
      this.schema = schema;
      this.profiles = profiles;
      this.setting = setting;
      this.profile.replaceChildren(...profiles.map((p) => h("option", { value: p.name,
        text: p.builtin ? p.name : `${p.name} (site)` })));
      this.profile.value = setting.profile;
      this._applyRanges();
      this._fill(setting.limits);
      this._renderConditions(conditions);
    } catch (err) {
      setText(this.error, err instanceof ApiError ? err.detail : String(err));
    }
    const editable = this.session.can("limits");
    for (const input of this.inputs.values()) input.disabled = !editable;
    this.profile.disabled = !editable;
    this.dialog.querySelector("[data-testid=limits-save]").disabled = !editable;
  }

  _applyRanges() {
    const defs = this.schema?.$defs ?? {};
    const groupRef = { hr: "HeartRateLimits", spo2: "Spo2Limits", arrhythmia: "ArrhythmiaLimits", technical: "TechnicalLimits" };
    for (const [key, input] of this.inputs) {
      const [g, f] = key.split(".");
      const prop = defs[groupRef[g]]?.properties?.[f];
      if (!prop) continue;
      setAttr(input, "min", prop.minimum ?? null);
      setAttr(input, "max", prop.maximum ?? null);
      setAttr(input, "title", prop.description ?? null);
    }
  }

  _fill(limits) {
    for (const [key, input] of this.inputs) input.value = get(limits, key) ?? "";
  }

  _fillFromProfile() {
    const p = this.profiles.find((x) => x.name === this.profile.value);
    if (p) this._fill(p.limits);
  }

  async _save() {
    if (!(await this.sessionView.ensure("limits"))) return;
    setText(this.error, "");
    setText(this.status, "Saving…");
    const base = this.profiles.find((x) => x.name === this.profile.value)?.limits;
    const overrides = {};
    for (const [key, input] of this.inputs) {
      if (input.value === "") continue;
      const v = Number(input.value);
      if (!Number.isFinite(v)) {
        setText(this.status, "");
        setText(this.error, `${key}: not a number`);
        return;
      }
      if (v !== get(base, key)) overrides[key] = v;
    }
    try {
      const res = await call("PUT", `/api/beds/${encodeURIComponent(this.bed)}/limits`,
        { profile: this.profile.value, overrides });
      this.setting = res;
      this._fill(res.limits);
      setText(this.status, `Saved ${fmt.clockTime(res.updated_at)} by ${res.updated_by}`);
    } catch (err) {
      setText(this.status, "");
      setText(this.error, `Not saved: ${err instanceof ApiError ? err.detail : String(err)}`);
    }
  }

  _renderConditions(list) {
    const rows = list.filter((c) => c.switchable).map((c) => {
      const reason = h("input", { type: "text", maxlength: "200", placeholder: "Reason (required)",
        "data-testid": `off-reason-${c.type}`, "aria-label": `Reason to switch ${c.label} off`, hidden: true });
      const confirm = h("button", { type: "button", class: "btn btn-danger", text: "Confirm off",
        "data-testid": `off-confirm-${c.type}`, hidden: true,
        onclick: () => this._switch(c, false, reason.value) });
      const toggle = c.enabled
        ? h("button", { type: "button", class: "btn-quiet", text: "Switch off…", "data-testid": `condition-off-${c.type}`,
          onclick: () => { reason.hidden = false; confirm.hidden = false; reason.focus(); } })
        : h("button", { type: "button", class: "btn", text: "Switch on", "data-testid": `condition-on-${c.type}`,
          onclick: () => this._switch(c, true, "") });
      const state = c.enabled ? "on" : `OFF since ${fmt.clockTime(c.off.since)} by ${c.off.by}: ${c.off.reason}`;
      return h("li", { class: "condition", "data-type": c.type, "data-enabled": String(c.enabled) },
        h("span", { class: "cond-label", text: c.label }),
        h("span", { class: `cond-prio prio-${c.priority}`, text: c.priority }),
        h("span", { class: "cond-state", text: state }), toggle, reason, confirm);
    });
    this.conditions.replaceChildren(...rows);
  }

  async _switch(c, enabled, reason) {
    if (!(await this.sessionView.ensure("alarmOff"))) {
      setText(this.error, "Switching alarms off or on needs a charge nurse or an admin.");
      return;
    }
    setText(this.error, "");
    try {
      await call("PUT", `/api/beds/${encodeURIComponent(this.bed)}/conditions/${encodeURIComponent(c.type)}`,
        { enabled, reason });
      this._renderConditions(await call("GET", `/api/beds/${encodeURIComponent(this.bed)}/conditions`));
    } catch (err) {
      setText(this.error, `${c.label}: ${err instanceof ApiError ? err.detail : String(err)}`);
    }
  }
}
