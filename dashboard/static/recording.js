// Sessions at the station (docs/review.md): the bed dialog (⚙ on a tile) gets a "Session" section to admit the
// bed (optional pseudonymous label), discharge it, add a nurse annotation ("midazolam 1 mg") and open its review;
// the header gets a link to the sessions list. Loaded after operator.js; adds window.wardwatch.recording.

import { call } from "./session.js";
import { h, setText } from "./dom.js";
import { clockTime } from "./format.js";

async function waitFor(fn, ms = 100) {
  for (;;) {
    const value = fn();
    if (value) return value;
    await new Promise((r) => setTimeout(r, ms));
  }
}

export class SessionPanel {
  constructor(ww) {
    this.ww = ww;
    this.bed = null;
    this.session = null;
    this.status = h("p", { class: "rec-status", "data-testid": "rec-status" });
    this.label = h("input", { maxlength: "64", placeholder: "label (optional, no names)", "data-testid": "rec-label",
      "aria-label": "Session label" });
    this.admitBtn = h("button", { type: "button", class: "btn", text: "Admit", "data-testid": "rec-admit",
      onclick: () => this.admit() });
    this.dischargeBtn = h("button", { type: "button", class: "btn-quiet", text: "Discharge",
      "data-testid": "rec-discharge", onclick: () => this.discharge() });
    this.reviewLink = h("a", { text: "Review ↗", target: "_blank", "data-testid": "rec-review" });
    this.note = h("input", { maxlength: "500", placeholder: "annotation, e.g. midazolam 1 mg", "data-testid": "rec-note",
      "aria-label": "Annotation" });
    this.noteBtn = h("button", { type: "button", class: "btn-quiet", text: "Add note", "data-testid": "rec-note-add",
      onclick: () => this.annotate() });
    this.error = h("p", { class: "form-error", role: "alert", "data-testid": "rec-error" });
    this.admitRow = h("div", { class: "rec-row" }, this.label, this.admitBtn);
    this.openRow = h("div", { class: "rec-row" }, this.dischargeBtn, this.reviewLink);
    this.noteRow = h("div", { class: "rec-row" }, this.note, this.noteBtn);
    this.el = h("section", { class: "rec-section", "data-testid": "rec-section" }, h("h3", { text: "Session" }),
      this.status, this.admitRow, this.openRow, this.noteRow, this.error);
    this.note.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); this.annotate(); } });
  }

  async show(bed) {
    this.bed = bed;
    setText(this.error, "");
    try {
      const open = await call("GET", `/api/sessions?open=true&bed=${encodeURIComponent(bed)}`);
      this.session = open[0] ?? null;
    } catch (err) {
      this.session = null;
      setText(this.error, err.detail ?? String(err));
    }
    this.render();
  }

  render() {
    const s = this.session;
    if (s) {
      const how = s.open_reason === "admit" ? `admitted${s.opened_by ? ` by ${s.opened_by}` : ""}` : "opened when the bed started sending";
      setText(this.status, `Recording since ${clockTime(s.opened_at)}${s.label ? ` · ${s.label}` : ""} (${how}).`);
      this.reviewLink.href = `/review/${encodeURIComponent(s.id)}`;
    } else {
      setText(this.status, "No session: admit the bed to start one (it also starts when a silent bed sends).");
    }
    this.admitRow.hidden = Boolean(s && s.open_reason === "admit");
    this.admitBtn.textContent = s ? "Label / admit" : "Admit";
    this.openRow.hidden = !s;
    this.noteRow.hidden = !s;
  }

  async _do(what, fn) {
    if (!(await this.ww.sessionView.ensure("acknowledge"))) return;
    setText(this.error, "");
    try {
      await fn();
      await this.show(this.bed);
    } catch (err) {
      setText(this.error, `${what}: ${err.detail ?? String(err)}`);
    }
  }

  admit() {
    return this._do("Not admitted", () => call("POST", "/api/sessions", { bed: this.bed, label: this.label.value.trim() || null }));
  }

  discharge() {
    if (!this.session) return null;
    return this._do("Not discharged", () => call("POST", `/api/sessions/${encodeURIComponent(this.session.id)}/discharge`));
  }

  annotate() {
    const text = this.note.value.trim();
    if (!text || !this.session) return null;
    return this._do("Annotation not saved", async () => {
      await call("POST", `/api/sessions/${encodeURIComponent(this.session.id)}/annotations`, { text });
      this.note.value = "";
      setText(this.status, `${this.status.textContent} Note saved.`);
    });
  }
}

export async function startRecording(ww, doc = document) {
  const header = doc.querySelector(".ward-header");
  const clock = doc.querySelector("#clock");
  if (header && clock && !doc.querySelector("[data-testid=review-link]")) {
    header.insertBefore(h("a", { href: "/review", class: "review-link", text: "Review", "data-testid": "review-link" }),
      clock);
  }
  const dialog = await waitFor(() => ww.bedDialog);
  const panel = new SessionPanel(ww);
  const buttons = dialog.dialog.querySelector("[data-testid=bed-dialog-close]")?.parentElement;
  dialog.dialog.insertBefore(panel.el, buttons ?? null);
  const open = dialog.open.bind(dialog);
  dialog.open = (bed) => {
    const done = open(bed);
    panel.show(bed);
    return done;
  };
  ww.recording = panel;
  return panel;
}

startRecording(window.wardwatch);
