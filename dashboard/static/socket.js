// The /ws connection: parses frames, reconnects with exponential backoff (with jitter), and treats a
// connection that stops delivering frames as lost (watchdog). The server sends; we never send.
//
// Events: "frame" {msg}; "state" {state: "connecting" | "open" | "closed", attempt, retryAt (ms) | null}

const WATCHDOG_MS = 6000; // vitals come every second; six silent seconds = the server is gone

export function defaultWsUrl(loc = window.location) {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws`;
}

export class StationSocket extends EventTarget {
  constructor(url, { minDelayMs = 500, maxDelayMs = 10000 } = {}) {
    super();
    this.url = url;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.state = "closed";
    this.attempt = 0; // failed attempts since the last good connection
    this.retryAt = null;
    this._ws = null;
    this._timer = null;
    this._watchdog = null;
    this._lastFrame = 0;
    this._armed = false; // watchdog armed once periodic frames flow
    this._stopped = true;
  }

  start() {
    this._stopped = false;
    this._connect();
    this._watchdog = setInterval(() => this._checkWatchdog(), 1000);
  }

  stop() {
    this._stopped = true;
    clearTimeout(this._timer);
    clearInterval(this._watchdog);
    this._drop();
    this._setState("closed");
  }

  _setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", {
      detail: { state, attempt: this.attempt, retryAt: this.retryAt },
    }));
  }

  _connect() {
    this.retryAt = null;
    this._setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.error("websocket", err);
      this._lost();
      return;
    }
    this._ws = ws;
    this._armed = false;
    ws.onopen = () => {
      this._lastFrame = Date.now();
      this._setState("open");
    };
    ws.onmessage = (ev) => this._onMessage(ev);
    ws.onclose = () => this._lost();
    ws.onerror = () => {}; // a close event follows
  }

  _onMessage(ev) {
    this._lastFrame = Date.now();
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      console.warn("ignoring a websocket frame that is not JSON:", String(ev.data).slice(0, 200));
      return;
    }
    if (msg?.type === "snapshot") this.attempt = 0;
    if (msg?.type === "vitals") this._armed = true;
    this.dispatchEvent(new CustomEvent("frame", { detail: { msg } }));
  }

  _checkWatchdog() {
    if (this.state === "open" && this._armed && Date.now() - this._lastFrame > WATCHDOG_MS) {
      console.warn(`no frame from the server for ${WATCHDOG_MS / 1000} s: reconnecting`);
      this._lost();
    }
  }

  _drop() {
    const ws = this._ws;
    this._ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch {
      /* already closed */
    }
  }

  _lost() {
    this._drop();
    if (this._stopped) return;
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this._setState("closed");
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._connect(), delay);
  }
}
