// Operator layer of the station page: sign-in, audio tones, audio pause, alarm off and limits.
// Loaded after station.js; hooks into window.wardwatch (store, sock, grid) and adds
// window.wardwatch.{session, audio, controls}. See docs/dashboard.md ("Operators").

import { AlarmAudio } from "./audio.js";
import { BedDialog, ControlsModel, TileControls } from "./controls.js";
import { setAuthHandler } from "./api.js";
import { Session, SessionView } from "./session.js";

export async function startOperator(ww, doc = document) {
  const $ = (sel) => doc.querySelector(sel);
  const session = new Session();
  const sessionView = new SessionView(session, { area: $("#user-area"), dialog: $("#signin-dialog") });
  // An action by someone not signed in (e.g. Acknowledge) asks for the sign-in, then goes through.
  setAuthHandler(async () => Boolean(await sessionView.open("Sign in to do that: every action records who.")));
  const model = new ControlsModel();
  const audio = new AlarmAudio();
  const bedDialog = new BedDialog($("#bed-dialog"), { sessionView, session });
  const tiles = new TileControls({
    grid: ww.grid, model, sessionView, now: () => ww.store.now(), onSettings: (bed) => bedDialog.open(bed),
  });
  const audioBtn = $("#audio-state");

  const renderAudio = () => {
    audio.update([...ww.store.alarms.values()], model.pauses, ww.store.now());
    const state = audio.blocked ? "blocked" : audio.level ?? "quiet";
    audioBtn.dataset.state = state;
    audioBtn.dataset.level = audio.level ?? "none";
    audioBtn.textContent = audio.blocked ? "Audio off: click to enable" : audio.level ? `Audio: ${audio.level.toUpperCase()}` : "Audio on";
  };
  audioBtn.addEventListener("click", () => {
    audio.unlock();
    renderAudio();
  });
  // Browsers allow sound only after a gesture: any click on the page enables it.
  doc.addEventListener("click", () => { if (audio.blocked) audio.unlock(); }, { capture: true });

  ww.sock.addEventListener("frame", (ev) => {
    const msg = ev.detail.msg;
    if (msg?.type === "snapshot") model.apply(msg.controls);
    else if (msg?.type === "controls") model.apply(msg);
  });
  model.addEventListener("change", () => { tiles.render(); renderAudio(); });
  ww.store.addEventListener("change", () => { tiles.render(); renderAudio(); });
  setInterval(() => { tiles.render(); renderAudio(); }, 1000);

  session.addEventListener("change", (ev) => {
    doc.documentElement.dataset.signedIn = ev.detail.user ? "true" : "false";
  });
  try {
    const me = await session.refresh();
    if (!me.user && !me.open_viewing) {
      const user = await sessionView.open("Sign in to view the station.");
      if (user) {
        ww.sock.stop(); // reconnect now, with the session cookie
        ww.sock.start();
      }
    }
  } catch (err) {
    console.warn("could not ask who is signed in", err);
  }
  tiles.render();
  renderAudio();
  Object.assign(ww, { session, sessionView, audio, controls: model, bedDialog });
  return ww;
}

startOperator(window.wardwatch);
