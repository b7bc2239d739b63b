// The bed tiles: one per bed, in a grid sized to fit 4-32 beds on the station screen (scrolls when the
// window is too small). A tile shows the bed's numerics, rhythm, status and open alarms, and hosts its
// ECG and pleth strips (drawn by strips.js).

import { h, setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";
import { PRIORITY_MARK, PRIORITY_TEXT, compareAlarms, needsAck } from "./model.js";

const GAP = 6;
const MIN_W = 280;
const MIN_H = 118;
const ASPECT = 2.6; // preferred tile width / height
const MAX_BADGES = 3;

/** "signal noisy" / "flat signal" / "signal poor" (alarm) or "" when good or not yet known. */
function qualityNote(quality, poorAlarm) {
  if (quality === "noisy") return "signal noisy";
  if (quality === "flat") return "flat signal";
  if (quality && quality !== "good" && quality !== "unknown") return `signal ${quality}`;
  return poorAlarm ? "signal poor" : "";
}

function buildStrip(kind, bed, name) {
  return h("div", { class: `strip strip-${kind}` },
    h("span", { class: "strip-label" },
      h("span", { class: "strip-name", text: name }), " ",
      h("span", { class: "strip-lead" }), " ",
      h("span", { class: "strip-note" })),
    h("canvas", { "data-testid": `${kind}-${bed}`, role: "img", "aria-label": `${name} strip, ${bed}` }),
    h("span", { class: "strip-msg" }));
}

function buildNum(kind, label, unit) {
  return h("div", { class: `num num-${kind}` },
    h("span", { class: "num-label" }, h("span", { text: label }), " ", h("span", { class: "num-src" })),
    h("span", { class: "num-value", text: "--" }),
    h("span", { class: "num-unit", text: unit }));
}

class Tile {
  constructor(bed) {
    this.bed = bed;
    this.ecg = buildStrip("ecg", bed, "ECG");
    this.pleth = buildStrip("pleth", bed, "Pleth");
    this.hr = buildNum("hr", "HR", "bpm");
    this.spo2 = buildNum("spo2", "SpO₂", "%");
    this.pr = buildNum("pr", "PR", "bpm");
    this.badges = h("div", { class: "tile-alarms" });
    this.status = h("div", { class: "bed-status" });
    // Operator controls (audio pause, alarm off, settings): filled by controls.js.
    this.controls = h("div", { class: "tile-controls", "data-testid": `controls-${bed}` });
    this.staleMsg = h("div", { class: "stale-msg" });
    this.el = h("article", { class: "tile", "data-testid": `bed-${bed}`, dataset: { bed, alarm: "none" },
      "aria-label": `Bed ${bed}` },
      h("header", { class: "tile-head" }, h("h2", { class: "bed-id", text: bed }), this.controls, this.badges,
        this.status),
      h("div", { class: "tile-body" },
        h("div", { class: "strips" }, this.ecg, this.pleth),
        h("div", { class: "numerics" }, this.staleMsg, this.hr, this.spo2, this.pr)));
    this._badgeKey = "";
    this._statusKey = "";
  }

  /** bed: {online, last_seen, vitals}; view: model.bedAlarmView(); stale: reason or null. */
  render(bed, view, stale, now) {
    const v = bed.vitals ?? {};
    const el = this.el;
    setAttr(el, "data-alarm", view.top?.priority ?? "none");
    setAttr(el, "data-flash", view.top?.flash ? "true" : null);
    setAttr(el, "data-stale", stale ? "true" : null);

    setText(this.hr.querySelector(".num-value"), fmt.vital(v.hr));
    setText(this.hr.querySelector(".num-src"), fmt.hrSource(v.hr_source));
    setText(this.spo2.querySelector(".num-value"), fmt.vital(v.spo2));
    setText(this.pr.querySelector(".num-value"), fmt.vital(v.pr));
    for (const [num, a] of [[this.hr, view.hr], [this.spo2, view.spo2]]) {
      setAttr(num, "data-alarm", a?.priority ?? null);
      setAttr(num, "data-flash", a?.flash ? "true" : null);
    }

    // Strip notes: rhythm on the ECG strip, signal quality (good | noisy | flat | unknown) on both.
    const ecgNote = qualityNote(v.ecg_quality, view.ecgPoor);
    setText(this.ecg.querySelector(".strip-note"), [fmt.rhythm(v.rhythm), ecgNote].filter(Boolean).join(" · "));
    setText(this.pleth.querySelector(".strip-note"), qualityNote(v.pleth_quality, view.plethPoor));
    setText(this.ecg.querySelector(".strip-msg"), view.leadsOff || v.leads_off ? "LEADS OFF" : "");
    setText(this.pleth.querySelector(".strip-msg"), view.probeOff || v.probe_off ? "PROBE OFF" : "");

    // Status: online, or why the values are not current and since when.
    const seen = bed.last_seen;
    const key = stale ? `${stale}|${seen}` : "online";
    if (key !== this._statusKey) {
      this._statusKey = key;
      if (stale) {
        this.status.replaceChildren(h("span", { class: "why", text: stale }), ...(seen != null
          ? [h("span", { class: "last", text: " · last " }), h("time", { text: fmt.clockTime(seen) }),
            h("span", { class: "ago" })]
          : []));
      } else {
        this.status.replaceChildren("● online");
      }
    }
    const ago = this.status.querySelector(".ago");
    if (ago) setText(ago, ` (${fmt.duration(now - seen)} ago)`);
    setText(this.staleMsg, stale ? "NOT CURRENT" : "");
    setAttr(this.status, "title", bed.last_seen != null ? `last seen ${fmt.clockDateTime(bed.last_seen)}` : null);
    // When the status says OFFLINE / NO DATA because of a technical alarm, it stands for that alarm's badge.
    const statusIsAlarm = Boolean(view.noData && (stale === "OFFLINE" || stale === "NO DATA"));
    setAttr(this.status, "data-prio", statusIsAlarm ? view.noData.priority : null);
    this._renderBadges(view, statusIsAlarm);
  }

  _renderBadges(view, statusIsAlarm) {
    const tech = statusIsAlarm
      ? view.technical.filter((a) => a.type !== "bed_silent" && a.type !== "device_offline")
      : view.technical;
    const all = [...view.physiological, ...tech].sort(compareAlarms);
    const key = all.map((a) => `${a.id}:${a.state}:${a.priority}`).join("|");
    if (key === this._badgeKey) return;
    this._badgeKey = key;
    const shown = all.slice(0, MAX_BADGES).map((a) => {
      const tech = a.kind === "technical";
      return h("span", {
        class: `badge ${tech ? "badge-tech" : "badge-phys"}`,
        dataset: { prio: a.priority, flash: needsAck(a) ? "true" : "false", state: a.state },
        title: `${PRIORITY_TEXT[a.priority] ?? a.priority} priority · ${a.state}${a.message ? ` · ${a.message}` : ""}`,
      },
      h("span", { class: "badge-mark", text: PRIORITY_MARK[a.priority] ?? "" }),
      tech ? h("span", { class: "badge-kind", text: "TECH" }) : null,
      h("span", { text: a.label || a.type }),
      a.state === "latched" ? h("span", { class: "badge-state", text: "latched" }) : null);
    });
    const more = all.length > MAX_BADGES ? h("span", { class: "badge badge-more", text: `+${all.length - MAX_BADGES}` }) : null;
    this.badges.replaceChildren(...shown, ...(more ? [more] : []));
  }
}

/** Column count that gives the largest tiles of roughly ASPECT for n beds in w x h. */
export function gridShape(n, w, hgt) {
  let best = { cols: 1, rows: Math.max(1, n), score: -1 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const tw = (w - GAP * (cols - 1)) / cols;
    const th = (hgt - GAP * (rows - 1)) / rows;
    if (tw < MIN_W && cols > 1) break;
    const score = Math.min(tw, Math.max(th, MIN_H) * ASPECT) - (th < MIN_H ? (MIN_H - th) * 4 : 0);
    if (score > best.score) best = { cols, rows, score };
  }
  const rowH = Math.max(MIN_H, Math.floor((hgt - GAP * (best.rows - 1)) / best.rows));
  return { cols: best.cols, rows: best.rows, rowH: Math.min(rowH, 420) };
}

export class TileGrid {
  /** container: the grid element; strips: StripBank. */
  constructor(container, strips) {
    this.el = container;
    this.strips = strips;
    this.tiles = new Map();
    this.empty = h("p", { class: "grid-empty", text: "No beds are sending data yet." });
    this.el.append(this.empty);
    new ResizeObserver(() => this.layout()).observe(this.el);
  }

  /** Make the tiles match these bed ids (sorted naturally). */
  sync(bedIds) {
    const ids = [...bedIds].sort(fmt.compareBedIds);
    const want = new Set(ids);
    for (const [id, t] of this.tiles) {
      if (!want.has(id)) {
        this.strips.detach(id);
        t.el.remove();
        this.tiles.delete(id);
      }
    }
    let prev = null;
    for (const id of ids) {
      let t = this.tiles.get(id);
      if (!t) {
        t = new Tile(id);
        this.tiles.set(id, t);
        this.strips.attach(id, t.ecg, t.pleth);
      }
      const expected = prev ? prev.nextElementSibling : this.el.firstElementChild;
      if (expected !== t.el) {
        if (prev) prev.after(t.el);
        else this.el.prepend(t.el);
      }
      prev = t.el;
    }
    this.empty.hidden = ids.length > 0;
    this.layout();
  }

  layout() {
    const n = this.tiles.size;
    if (!n) return;
    const { cols, rowH } = gridShape(n, this.el.clientWidth, this.el.clientHeight);
    this.el.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
    this.el.style.gridAutoRows = `${rowH}px`;
  }

  render(bedId, bed, view, stale, now) {
    this.tiles.get(bedId)?.render(bed, view, stale, now);
  }

  focusBed(bedId) {
    const t = this.tiles.get(bedId);
    if (!t) return;
    t.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
    t.el.classList.remove("pulse");
    void t.el.offsetWidth;
    t.el.classList.add("pulse");
  }
}
