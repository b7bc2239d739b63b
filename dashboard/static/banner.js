// Ward header (clock, beds, open alarms, connection state) and the connection-loss banner.

import { setAttr, setText } from "./dom.js";
import * as fmt from "./format.js";
import { PRIORITY_TEXT } from "./model.js";

/**
 * Banner lines, from the store and the socket state. Pure: returns [{kind, text, detail}].
 * sock: {state, attempt, retryAt}; nowMs: Date.now(). `text` is stable while the condition lasts (it is what
 * screen readers announce); `detail` changes every second (durations, next retry) and is not announced.
 */
export function bannerLines(store, sock, nowMs) {
  const lines = [];
  const now = store.now();
  if (!store.serverUp) {
    const since = store.serverChangedAt;
    const retry = sock.retryAt != null ? Math.max(0, Math.ceil((sock.retryAt - nowMs) / 1000)) : null;
    const retryText = sock.state === "connecting" ? "Connecting…" : retry != null ? `Next try in ${retry} s.` : "";
    if (!store.everConnected) {
      lines.push(sock.attempt === 0
        ? { kind: "server", text: "Connecting to the WardWatch server…", detail: "" }
        : { kind: "server", text: `Cannot reach the WardWatch server (trying since ${fmt.clockTime(since)}). ` +
            "No patient data is shown.", detail: retryText });
    } else {
      lines.push({ kind: "server",
        text: `CONNECTION TO THE WARDWATCH SERVER LOST since ${fmt.clockTime(since)}. ` +
          "Values and alarms on this screen are NOT current.",
        detail: `Lost for ${fmt.duration(now - since)}. Reconnecting: attempt ${sock.attempt}. ${retryText}` });
    }
  }
  const alarm = store.brokerAlarm();
  if (!store.brokerUp || alarm) {
    const since = alarm?.onset ?? store.brokerChangedAt;
    const exact = alarm != null || store.brokerChangedExact;
    const sinceText = since != null ? ` ${exact ? "since" : "at least since"} ${fmt.clockTime(since)}` : "";
    lines.push({ kind: "broker",
      text: `The server has LOST THE MONITOR NETWORK (MQTT broker)${sinceText}: no data is arriving from any bed ` +
        "and bed alarms cannot be raised. Watch patients directly.",
      detail: since != null ? `Lost for ${fmt.duration(now - since)}.` : "" });
  }
  return lines;
}

export class Banner {
  constructor(el) {
    this.el = el;
    this._kinds = "";
  }

  render(lines) {
    const kinds = lines.map((l) => l.kind).join(",");
    if (kinds !== this._kinds) {
      this._kinds = kinds;
      this.el.replaceChildren(...lines.map((l) => {
        const p = document.createElement("p");
        p.className = "banner-line";
        p.dataset.kind = l.kind;
        const detail = document.createElement("span");
        detail.className = "banner-detail";
        detail.setAttribute("aria-hidden", "true");
        p.append(document.createElement("span"), " ", detail);
        return p;
      }));
      setAttr(this.el, "data-kinds", kinds || null);
    }
    lines.forEach((l, i) => {
      const p = this.el.children[i];
      setText(p.children[0], l.text);
      setText(p.children[1], l.detail);
    });
    this.el.hidden = lines.length === 0;
  }
}

export class WardHeader {
  /** els: {clock, beds, alarms, server, broker} */
  constructor(els) {
    this.els = els;
  }

  render(store, sockState) {
    const e = this.els;
    setText(e.clock, fmt.clockTime(store.now()));
    setAttr(e.clock, "title", `Station time ${fmt.clockDateTime(store.now())}`);
    setText(e.beds, String(store.beds.size));

    const counts = { high: 0, medium: 0, low: 0 };
    for (const a of store.alarms.values()) if (a.priority in counts) counts[a.priority] += 1;
    const total = counts.high + counts.medium + counts.low;
    const parts = Object.entries(counts).filter(([, n]) => n).map(([p, n]) => `${n} ${PRIORITY_TEXT[p].toLowerCase()}`);
    setText(e.alarms, total ? `${total} (${parts.join(", ")})` : "0");
    setAttr(e.alarms.closest("[data-top]") ?? e.alarms, "data-top",
      counts.high ? "high" : counts.medium ? "medium" : counts.low ? "low" : "none");

    const server = store.serverUp ? "ok" : sockState === "connecting" ? "connecting" : "lost";
    setText(e.server, { ok: "connected", connecting: "connecting…", lost: "LOST" }[server]);
    setAttr(e.server.parentElement, "data-state", server);
    const broker = !store.serverUp ? "unknown" : store.brokerUp ? "ok" : "lost";
    setText(e.broker, { ok: "connected", lost: "LOST", unknown: "unknown" }[broker]);
    setAttr(e.broker.parentElement, "data-state", broker);
  }
}
