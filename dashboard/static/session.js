// Operators: who is signed in (session cookie), sign-in dialog, user badge, sign-out (docs/dashboard.md).
// Roles mirror dashboard/security.py: nurses acknowledge, pause audio and edit limits; charge nurses also
// switch alarms off and manage profiles; reviewers only view.

import { ApiError, setUserProvider } from "./api.js";
import { h, setText } from "./dom.js";

const ROLE_TEXT = { nurse: "Nurse", charge_nurse: "Charge nurse", reviewer: "Reviewer", admin: "Admin" };
const CAN = {
  acknowledge: ["nurse", "charge_nurse", "admin"],
  pause: ["nurse", "charge_nurse", "admin"],
  limits: ["nurse", "charge_nurse", "admin"],
  alarmOff: ["charge_nurse", "admin"],
};

/** fetch + JSON with the server's `detail` as the error message (cookies are sent: same origin). */
export async function call(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "Cannot reach the WardWatch server");
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    /* no JSON */
  }
  if (!res.ok) {
    const d = data?.detail;
    throw new ApiError(res.status, typeof d === "string" ? d : d ? JSON.stringify(d) : `${res.status} ${res.statusText}`);
  }
  return data;
}

export class Session extends EventTarget {
  constructor() {
    super();
    this.user = null; // {username, role, via}
    this.openViewing = false;
    setUserProvider(() => this.user?.username ?? null);
  }

  can(action) {
    return Boolean(this.user && (CAN[action] ?? []).includes(this.user.role));
  }

  async refresh() {
    const me = await call("GET", "/api/auth/me");
    this.openViewing = Boolean(me.open_viewing);
    this._set(me.user);
    return me;
  }

  async signIn(username, password) {
    const res = await call("POST", "/api/auth/login", { username, password });
    this._set(res.user);
    return res.user;
  }

  async signOut() {
    try {
      await call("POST", "/api/auth/logout");
    } finally {
      this._set(null);
    }
  }

  _set(user) {
    this.user = user ?? null;
    this.dispatchEvent(new CustomEvent("change", { detail: { user: this.user } }));
  }
}

/** Header user area (badge + sign out, or Sign in) and the sign-in dialog. */
export class SessionView {
  constructor(session, { area, dialog }) {
    this.session = session;
    this.area = area;
    this.dialog = dialog;
    this._waiters = [];
    this.form = dialog.querySelector("form");
    this.error = dialog.querySelector("[data-testid=signin-error]");
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._submit();
    });
    dialog.querySelector("[data-testid=signin-cancel]").addEventListener("click", () => this.close());
    session.addEventListener("change", () => this.render());
    this.render();
  }

  render() {
    const u = this.session.user;
    if (u) {
      this.area.replaceChildren(
        h("span", { class: "user-badge", "data-testid": "user-badge", "data-role": u.role,
          title: `Signed in as ${u.username} (${ROLE_TEXT[u.role] ?? u.role})` },
          h("span", { class: "user-name", text: u.username }), " ",
          h("span", { class: "user-role", text: ROLE_TEXT[u.role] ?? u.role })),
        h("button", { type: "button", class: "btn-quiet", "data-testid": "signout", text: "Sign out",
          onclick: () => this._signOut() }));
    } else {
      this.area.replaceChildren(h("button", { type: "button", class: "btn", "data-testid": "signin-open",
        text: "Sign in", onclick: () => this.open() }));
    }
  }

  /** Open the dialog; resolves with the user once signed in (or null if cancelled). */
  open(reason = "") {
    setText(this.error, reason);
    if (!this.dialog.open) this.dialog.showModal();
    this.form.querySelector("[name=username]").focus();
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  close(user = null) {
    if (this.dialog.open) this.dialog.close();
    this.form.reset();
    for (const w of this._waiters.splice(0)) w(user);
  }

  async _submit() {
    const data = new FormData(this.form);
    const submit = this.form.querySelector("[type=submit]");
    submit.disabled = true;
    setText(this.error, "");
    try {
      const user = await this.session.signIn(String(data.get("username") ?? "").trim(), String(data.get("password") ?? ""));
      this.close(user);
    } catch (err) {
      setText(this.error, err instanceof ApiError ? err.detail : String(err));
    } finally {
      submit.disabled = false;
    }
  }

  async _signOut() {
    await this.session.signOut();
    if (!this.session.openViewing) window.location.reload();
  }

  /** Resolves with a user allowed to do `action`, asking to sign in if needed; null if not possible. */
  async ensure(action) {
    if (this.session.can(action)) return this.session.user;
    if (this.session.user) return null;
    await this.open("Sign in to do this.");
    return this.session.can(action) ? this.session.user : null;
  }
}
