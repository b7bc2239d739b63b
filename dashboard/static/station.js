// WardWatch nurse station: wires the websocket, the state store and the views together.
// Modules: store.js (state from frames), socket.js (/ws with reconnect), api.js (HTTP), strips.js
// (waveforms), tiles.js (bed tiles), alarms.js (alarm list), banner.js (header + banner), blink.js.
// Later additions (sign-in, audio tones, audio pause, limits...) hook in through the objects exposed on
// `window.wardwatch` and the store's "alarm" / "change" / "snapshot" events.

import { AlarmList } from "./alarms.js";
import { acknowledgeAlarm } from "./api.js";
import { Banner, WardHeader, bannerLines } from "./banner.js";
import { startBlinking } from "./blink.js";
import { bedAlarmView, staleReason } from "./model.js";
import { StationSocket, defaultWsUrl } from "./socket.js";
import { StationStore } from "./store.js";
import { StripBank } from "./strips.js";
import { TileGrid } from "./tiles.js";

export const CONFIG = Object.freeze({
  stripWindowS: 6, // width of the ECG/pleth strips
  maxDataAgeS: 10, // a bed whose last data is older than this is shown as not current
});

export function startStation(doc = document) {
  const $ = (sel) => doc.querySelector(sel);
  const store = new StationStore();
  const strips = new StripBank({ windowS: CONFIG.stripWindowS });
  const grid = new TileGrid($("#grid"), strips);
  const sock = new StationSocket(defaultWsUrl());
  const alarmList = new AlarmList($("#alarm-list"), {
    onAck: async (alarm) => store.applyAckResponse(await acknowledgeAlarm(alarm.id)),
    onBed: (bed) => grid.focusBed(bed),
    now: () => store.now(),
  });
  const banner = new Banner($("[data-testid=banner]"));
  const header = new WardHeader({
    clock: $("#clock"), beds: $("#bed-count"), alarms: $("#alarm-count"),
    server: $("#conn-server"), broker: $("#conn-broker"),
  });
  const panelCount = $("#alarm-panel-count");
  const panel = $(".alarm-panel");

  function renderTiles() {
    const ctx = { now: store.now(), serverUp: store.serverUp, brokerUp: store.brokerUp, maxAgeS: CONFIG.maxDataAgeS };
    for (const [id, bed] of store.beds) {
      const view = bedAlarmView(store.alarmsOfBed(id));
      grid.render(id, bed, view, staleReason(bed, view, ctx), ctx.now);
    }
  }
  function renderStatus() {
    header.render(store, sock.state);
    panel.toggleAttribute("data-stale", !store.serverUp);
    banner.render(bannerLines(store, sock, Date.now()));
  }
  function renderAlarms() {
    alarmList.render(store.alarms.values());
    panelCount.textContent = store.alarms.size ? `(${store.alarms.size})` : "";
  }

  store.addEventListener("change", (ev) => {
    const c = ev.detail;
    if (c.beds) grid.sync(store.beds.keys());
    renderTiles();
    if (c.alarms) renderAlarms();
    renderStatus();
  });

  sock.addEventListener("frame", (ev) => {
    const msg = ev.detail.msg;
    if (msg?.type === "wave") {
      for (const f of msg.frames ?? []) {
        if (!f?.bed) continue;
        if (!strips.push(f)) {
          store.ensureBed(f.bed);
          strips.push(f);
        }
      }
      return;
    }
    try {
      store.applyFrame(msg);
    } catch (err) {
      console.error("could not apply frame", msg?.type, err);
    }
  });
  sock.addEventListener("state", (ev) => {
    store.setServerUp(ev.detail.state === "open");
    renderStatus();
  });

  // Once a second, on the second: clock, durations, "last seen" ages, staleness.
  const tick = () => {
    renderTiles();
    renderAlarms();
    renderStatus();
    setTimeout(tick, 1000 - ((Date.now() + store.offset * 1000) % 1000) + 5);
  };

  grid.sync([]);
  renderAlarms();
  renderStatus();
  startBlinking();
  strips.start();
  sock.start();
  tick();
  return { store, strips, sock, grid, alarmList, config: CONFIG };
}

window.wardwatch = startStation();
