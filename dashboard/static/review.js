// The review pages: /review (sessions list) and /review/<session> (trends, alarms, annotations, full-disclosure
// strips, playback 1x-60x). Data from /api/sessions/... (docs/api.md). Exposes window.review for tests.

import { clockDateTime, clockTime, duration } from "./format.js";
import { h, setText } from "./dom.js";
import { PX_PER_S, drawStrip, drawTrends, timeScale } from "./reviewplot.js";

const $ = (sel) => document.querySelector(sel);
const FETCH_S = 120;

async function call(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (res.status === 401) {
    await signIn();
    return call(method, path, body);
  }
  if (!res.ok) throw new Error(data?.detail ? String(data.detail) : `${res.status} ${res.statusText}`);
  return data;
}

function signIn() {
  const dialog = $("#rv-signin");
  const form = dialog.querySelector("form");
  const err = dialog.querySelector(".form-error");
  return new Promise((resolve) => {
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const body = { username: form.username.value, password: form.password.value };
      const res = await fetch("/api/auth/login", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (res.ok) { dialog.close(); resolve(); } else setText(err, "Wrong user or password");
    };
    if (!dialog.open) dialog.showModal();
  });
}

// ---------------------------------------------------------------------------------------------- list
async function showList() {
  $("#list-view").hidden = false;
  const tbody = $("[data-testid=session-table] tbody");
  const load = async () => {
    const bed = $("#bed-filter").value.trim();
    try {
      const rows = await call("GET", `/api/sessions${bed ? `?bed=${encodeURIComponent(bed)}` : ""}`);
      tbody.replaceChildren(...rows.map((s) => {
        const a = s.alarms || {};
        const tr = h("tr", { "data-session": s.id, "data-testid": "session-row" },
          h("td", { text: s.bed }), h("td", { text: s.label || "" }),
          h("td", { text: clockDateTime(s.opened_at) }), h("td", { text: s.open ? "open" : duration(s.duration_s) }),
          h("td", { text: `${a.high || 0} / ${a.medium || 0} / ${a.low || 0}` }),
          h("td", { text: s.open ? "recording" : s.close_reason || "closed" }),
          h("td", {}, h("a", { href: `/review/${encodeURIComponent(s.id)}`, text: s.id })));
        tr.addEventListener("click", () => { location.href = `/review/${encodeURIComponent(s.id)}`; });
        return tr;
      }));
      window.review.sessions = rows;
    } catch (err) {
      setText($("[data-testid=list-error]"), err.message);
    }
  };
  $("#bed-filter").addEventListener("change", load);
  await load();
}

// ---------------------------------------------------------------------------------------------- session
class SessionReview {
  constructor(id) {
    this.id = id;
    this.base = `/api/sessions/${encodeURIComponent(id)}`;
    this.cache = null; // {t0, t1, tracks}
    this.loading = null;
    this.cursor = null;
    this.playing = false;
    this.speed = 1;
    this.drawn = {};
  }

  async load() {
    const [session, trends, events] = await Promise.all([
      call("GET", this.base), call("GET", `${this.base}/trends`), call("GET", `${this.base}/events`)]);
    Object.assign(this, { session, trends, events });
    this.start = session.opened_at;
    this.end = session.closed_at ?? session.data_to ?? Date.now() / 1000;
    setText($("[data-testid=session-title]"), `Bed ${session.bed}${session.label ? ` · ${session.label}` : ""}`);
    setText($("[data-testid=session-meta]"), `${session.id} · ${clockDateTime(this.start)} → ${
      session.closed_at ? clockDateTime(session.closed_at) : "recording"} · ${duration(this.end - this.start)} · ${
      session.open_reason}${session.opened_by ? ` by ${session.opened_by}` : ""}`);
    for (const [tid, path] of [["report-png", "report.png"], ["report-pdf", "report.pdf"],
      ["export-wfdb", "export.wfdb.zip"], ["export-csv", "export.csv.zip"]]) {
      $(`[data-testid=${tid}]`).href = `${this.base}/${path}`;
    }
    this.renderTimeline();
    this.renderTables();
    const firstAlarm = events.alarms[0];
    await this.seek(firstAlarm ? firstAlarm.raised_at : this.start + 5);
  }

  renderTimeline() {
    const lane = $("[data-testid=timeline]");
    const sc = (t) => `${Math.min(100, Math.max(0, ((t - this.start) / Math.max(1e-3, this.end - this.start)) * 100))}%`;
    const marks = [];
    for (const a of this.events.alarms) {
      const left = sc(a.raised_at);
      const width = `calc(${sc(a.ended_at ?? this.end)} - ${left})`;
      marks.push(h("div", { class: "alarm-marker", title: `${a.type} (${a.priority}) ${clockTime(a.raised_at)} ${a.message}`,
        style: `left:${left};width:${width}`, dataset: { type: a.type, priority: a.priority, t: a.raised_at },
        "data-testid": "alarm-marker" }));
      if (a.acknowledged_at != null) {
        marks.push(h("div", { class: "ack-marker", style: `left:${sc(a.acknowledged_at)}`, title: "acknowledged",
          "data-testid": "ack-marker" }));
      }
    }
    for (const n of this.events.annotations) {
      marks.push(h("div", { class: "note-marker", style: `left:${sc(n.t)}`, title: `${n.user || ""}: ${n.text}`,
        text: "✎", "data-testid": "note-marker" }));
    }
    this.cursorMark = h("div", { class: "cursor-marker", "data-testid": "cursor-marker" });
    lane.replaceChildren(...marks, this.cursorMark);
    lane.onclick = (ev) => {
      const r = lane.getBoundingClientRect();
      this.seek(this.start + ((ev.clientX - r.left) / r.width) * (this.end - this.start));
    };
    const canvas = $("#trends");
    canvas.onclick = (ev) => {
      const r = canvas.getBoundingClientRect();
      this.seek(timeScale(this.start, this.end, r.width).t(ev.clientX - r.left));
    };
  }

  renderTables() {
    const tbody = $("[data-testid=alarm-table] tbody");
    tbody.replaceChildren(...this.events.alarms.map((a) => {
      const tr = h("tr", { "data-testid": "alarm-row", dataset: { type: a.type } },
        h("td", { text: clockTime(a.raised_at) }),
        h("td", {}, h("span", { class: "prio", dataset: { priority: a.priority }, text: a.priority })),
        h("td", { text: a.type.replace(/_/g, " ") }),
        h("td", { text: a.ended_at == null ? "open" : duration(a.ended_at - a.raised_at) }),
        h("td", { text: a.acknowledged_at == null ? "" : clockTime(a.acknowledged_at) }),
        h("td", { text: a.message || "" }));
      tr.addEventListener("click", () => this.seek(a.raised_at));
      return tr;
    }));
    const items = [];
    for (const e of this.events.events) {
      if (e.kind === "alarm" && !["acknowledged", "latched", "reactivated"].includes(e.name)) continue;
      const what = e.kind === "alarm" ? `${e.alarm.type.replace(/_/g, " ")} ${e.name}` :
        `session ${e.name}${e.label ? `: ${e.label}` : ""}`;
      const kind = e.kind === "alarm" ? (e.name === "acknowledged" ? "ack" : "alarm") : "session";
      items.push({ t: e.t, kind, text: what, user: e.user });
    }
    for (const n of this.events.annotations) items.push({ t: n.t, kind: "annotation", text: n.text, user: n.user });
    for (const a of this.events.actions) {
      items.push({ t: a.t, kind: "action", text: a.kind.replace(/_/g, " ") +
        (a.payload?.type ? `: ${a.payload.type}` : ""), user: a.actor });
    }
    items.sort((a, b) => a.t - b.t);
    $("[data-testid=event-list]").replaceChildren(...items.map((it) => {
      const li = h("li", { dataset: { kind: it.kind }, "data-testid": "event-item" },
        h("time", { text: clockTime(it.t) }), h("span", { class: "kind", text: it.kind }),
        h("span", { text: it.text }), h("span", { class: "muted", text: it.user ? `(${it.user})` : "" }));
      li.addEventListener("click", () => this.seek(it.t));
      return li;
    }));
  }

  windowSeconds() {
    return $("[data-testid=strips]").clientWidth / PX_PER_S;
  }

  async ensure(t0, t1) {
    if (this.cache && this.cache.t0 <= t0 && this.cache.t1 >= t1) return;
    if (this.loading) await this.loading;
    if (this.cache && this.cache.t0 <= t0 && this.cache.t1 >= t1) return;
    const a = Math.max(this.start - 5, t0 - 2);
    const b = Math.max(t1, a + FETCH_S - 1);
    this.loading = call("GET", `${this.base}/waves?t0=${a.toFixed(3)}&t1=${b.toFixed(3)}`).then((data) => {
      this.cache = data;
    }).finally(() => { this.loading = null; });
    await this.loading;
  }

  async seek(t) {
    this.cursor = Math.min(Math.max(t, this.start), this.end);
    const w = this.windowSeconds();
    await this.ensure(this.cursor - w / 2, this.cursor + w / 2);
    this.draw();
  }

  draw() {
    const w = this.windowSeconds();
    const w0 = this.cursor - w / 2;
    drawTrends($("#trends"), { trends: this.trends, alarms: this.events.alarms, start: this.start, end: this.end,
      cursor: this.cursor });
    const frac = (this.cursor - this.start) / Math.max(1e-3, this.end - this.start);
    this.cursorMark.style.left = `${Math.min(100, Math.max(0, frac * 100))}%`;
    setText($("[data-testid=cursor-time]"), clockTime(this.cursor));
    const box = $("[data-testid=strips]");
    const tracks = this.cache ? this.cache.tracks : [];
    while (box.children.length > tracks.length) box.lastChild.remove();
    while (box.children.length < tracks.length) box.append(h("canvas", { "data-testid": "strip" }));
    this.drawn = {};
    tracks.forEach((tr, i) => {
      const canvas = box.children[i];
      const name = tr.stream === "ecg" ? `ecg:${tr.lead}` : "pleth";
      canvas.dataset.track = name;
      const n = drawStrip(canvas, tr, w0, box.clientWidth);
      canvas.dataset.samples = String(n);
      canvas.dataset.windowStart = w0.toFixed(3);
      this.drawn[name] = n;
    });
    window.review.cursor = this.cursor;
  }

  play() {
    this.playing = !this.playing;
    setText($("[data-testid=play]"), this.playing ? "Pause" : "Play");
    let last = performance.now();
    const step = async (now) => {
      if (!this.playing) return;
      const dt = (now - last) / 1000;
      last = now;
      this.cursor = Math.min(this.end, this.cursor + dt * this.speed);
      const w = this.windowSeconds();
      if (!this.cache || this.cache.t1 < this.cursor + w) this.ensure(this.cursor - w / 2, this.cursor + w + 30);
      this.draw();
      if (this.cursor >= this.end) { this.playing = false; setText($("[data-testid=play]"), "Play"); return; }
      requestAnimationFrame(step);
    };
    if (this.playing) requestAnimationFrame(step);
  }

  async addNote(text) {
    const note = await call("POST", `${this.base}/annotations`, { text, t: this.cursor });
    this.events = await call("GET", `${this.base}/events`);
    this.renderTimeline();
    this.renderTables();
    this.draw();
    return note;
  }
}

async function showSession(id) {
  $("#session-view").hidden = false;
  const review = new SessionReview(id);
  window.review.session = review;
  $("[data-testid=play]").addEventListener("click", () => review.play());
  $("[data-testid=speed]").addEventListener("change", (ev) => { review.speed = Number(ev.target.value); });
  $("[data-testid=back]").addEventListener("click", () => review.seek(review.cursor - 10));
  $("[data-testid=forward]").addEventListener("click", () => review.seek(review.cursor + 10));
  $("[data-testid=note-form]").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("[data-testid=note-text]");
    try {
      await review.addNote(input.value.trim());
      input.value = "";
      setText($("[data-testid=note-error]"), "");
    } catch (err) {
      setText($("[data-testid=note-error]"), `Not saved: ${err.message}`);
    }
  });
  window.addEventListener("resize", () => review.cursor != null && review.draw());
  await review.load();
  window.review.ready = true;
}

window.review = { ready: false };
const match = location.pathname.match(/^\/review\/([^/]+)$/);
(async () => {
  try {
    const me = await fetch("/api/auth/me", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null));
    if (me?.user) setText($("[data-testid=rv-user]"), `${me.user.username} (${me.user.role})`);
  } catch { /* older station */ }
  if (match) await showSession(decodeURIComponent(match[1]));
  else await showList();
  window.review.ready = true;
})();
