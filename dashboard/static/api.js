// HTTP API calls (docs/api.md). Errors carry the server's `detail` message.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

let userProvider = () => null;
/** Later sign-in work plugs in here: a function returning the signed-in user name, or null. */
export function setUserProvider(fn) {
  userProvider = fn;
}

let authHandler = null;
/** The operator layer plugs in here: called when an action needs a sign-in (401); resolves true once the
 * user has signed in, and the action is then retried once. */
export function setAuthHandler(fn) {
  authHandler = fn;
}

async function request(method, path, body, retried = false) {
  const init = { method, headers: { Accept: "application/json" } };
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
    /* empty or not JSON */
  }
  if (res.status === 401 && method !== "GET" && authHandler && !retried) {
    if (await authHandler(data?.detail)) return request(method, path, body, true);
  }
  if (!res.ok) {
    const d = data?.detail;
    const detail = typeof d === "string" ? d : d ? JSON.stringify(d) : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, detail);
  }
  return data;
}

/** POST /api/alarms/{id}/ack -> the Alarm. Throws ApiError (404 unknown, 409 already cleared). */
export function acknowledgeAlarm(id) {
  const user = userProvider();
  return request("POST", `/api/alarms/${encodeURIComponent(id)}/ack`, user ? { user } : undefined);
}

export const getHealth = () => request("GET", "/api/health");
export const getBeds = () => request("GET", "/api/beds");
export const getAlarms = (state = "open") => request("GET", `/api/alarms?state=${encodeURIComponent(state)}`);
