"""Who is asking: signed-in operators (session cookie) and integrations (API token), and what each role may do.

| role | may |
|------|-----|
| ``nurse`` | view; acknowledge; pause audio; edit a bed's limits |
| ``charge_nurse`` | the above; switch an alarm off; manage limit profiles |
| ``reviewer`` | view; read the audit trail and pages |
| ``admin`` | everything, including users and API tokens |

Viewing (``GET`` of the station's state, the websocket) is open to anyone only when ``open_viewing`` is set;
every action needs a signed-in user or a token. Cookies are ``HttpOnly; SameSite=Strict``; a cookie-authenticated
request that changes something must not come from another origin.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from monitor.service import Station

__all__ = [
    "Actor",
    "SESSION_COOKIE",
    "CLINICAL",
    "SENIOR",
    "ADMIN",
    "ANY_ROLE",
    "actor_of",
    "require",
    "Viewer",
    "Clinician",
    "Senior",
    "Admin",
    "Anyone",
    "SignInLimiter",
]

SESSION_COOKIE = "wardwatch_session"
CLINICAL = frozenset({"nurse", "charge_nurse", "admin"})
SENIOR = frozenset({"charge_nurse", "admin"})
ADMIN = frozenset({"admin"})
ANY_ROLE = frozenset({"nurse", "charge_nurse", "reviewer", "admin"})
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str
    via: str  # "session" or "token"

    @property
    def label(self) -> str:
        """How the actor appears in the audit trail and on acknowledged alarms."""
        return f"token:{self.name}" if self.via == "token" else self.name

    def to_json(self) -> dict[str, Any]:
        return {"username": self.name, "role": self.role, "via": self.via}


def _station(conn: HTTPConnection) -> Station:
    return conn.app.state.station  # type: ignore[no-any-return]


async def actor_of(conn: HTTPConnection) -> Actor | None:
    """The signed-in user or token of this request or websocket, or None."""
    cached = getattr(conn.state, "actor", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    station = _station(conn)
    accounts = station.desk.accounts
    actor: Actor | None = None
    auth = conn.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        token = await asyncio.to_thread(accounts.token, auth[7:].strip())
        if token is None:
            raise HTTPException(401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"})
        actor = Actor(token.name, token.role, "token")
    else:
        cookie = conn.cookies.get(SESSION_COOKIE)
        if cookie:
            user = await asyncio.to_thread(accounts.session_user, cookie, now=station.clock())
            if user is not None:
                actor = Actor(user.username, user.role, "session")
    conn.state.actor = actor
    return actor


def _check_origin(request: Request, actor: Actor) -> None:
    if actor.via != "session" or request.method not in _UNSAFE:
        return
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "cross-origin request refused")


def require(roles: frozenset[str]) -> Callable[[Request], Awaitable[Actor]]:
    async def dependency(request: Request) -> Actor:
        actor = await actor_of(request)
        if actor is None:
            raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
        if actor.role not in roles:
            raise HTTPException(403, f"a {actor.role.replace('_', ' ')} may not do this")
        _check_origin(request, actor)
        return actor

    return dependency


async def _viewer(request: Request) -> Actor | None:
    actor = await actor_of(request)
    if actor is None and not _station(request).settings.open_viewing:
        raise HTTPException(401, "sign in to view the station", headers={"WWW-Authenticate": "Bearer"})
    return actor


Viewer = Annotated[Actor | None, Depends(_viewer)]
Clinician = Annotated[Actor, Depends(require(CLINICAL))]
Senior = Annotated[Actor, Depends(require(SENIOR))]
Admin = Annotated[Actor, Depends(require(ADMIN))]
Anyone = Annotated[Actor, Depends(require(ANY_ROLE))]


class SignInLimiter:
    """After ``burst`` failed sign-ins for a name within ``window`` s, refuse that name for ``lock_s``."""

    def __init__(self, burst: int = 5, window: float = 300.0, lock_s: float = 30.0) -> None:
        self.burst = burst
        self.window = window
        self.lock_s = lock_s
        self._fails: dict[str, list[float]] = {}

    def locked(self, name: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        fails = [t for t in self._fails.get(name, []) if now - t < self.window]
        self._fails[name] = fails
        if len(fails) >= self.burst and now - fails[-1] < self.lock_s:
            return self.lock_s - (now - fails[-1])
        return 0.0

    def failed(self, name: str, now: float | None = None) -> None:
        self._fails.setdefault(name, []).append(time.monotonic() if now is None else now)
        if len(self._fails) > 10_000:
            self._fails.clear()

    def succeeded(self, name: str) -> None:
        self._fails.pop(name, None)
