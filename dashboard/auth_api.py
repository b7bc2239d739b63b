"""Sign-in, sign-out, users and API tokens (docs/api.md, "Operators")."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from dashboard.deps import StationDep
from dashboard.security import SESSION_COOKIE, Actor, Admin, Anyone, SignInLimiter, actor_of
from store.accounts import ROLES, AccountError

__all__ = ["router"]

router = APIRouter()
limiter = SignInLimiter()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class NewUser(_Body):
    username: str = Field(min_length=2, max_length=32)
    role: str = Field(description=f"one of {', '.join(ROLES)}")
    password: str = Field(min_length=1, max_length=256)


class UserChange(_Body):
    role: str | None = None
    password: str | None = Field(None, min_length=1, max_length=256)
    disabled: bool | None = None


class PasswordChange(_Body):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class NewToken(_Body):
    name: str = Field(min_length=2, max_length=64)
    role: str


Username = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/api/auth/me")
async def me(request: Request, station: StationDep) -> dict[str, Any]:
    """Who is signed in (``user`` null if nobody) and whether viewing needs a sign-in."""
    actor = await actor_of(request)
    return {"user": actor.to_json() if actor else None, "open_viewing": station.settings.open_viewing}


@router.post("/api/auth/login")
async def login(body: SignIn, request: Request, response: Response, station: StationDep) -> dict[str, Any]:
    desk = station.desk
    wait = limiter.locked(body.username)
    if wait:
        raise HTTPException(429, f"too many failed sign-ins for {body.username[:32]!r}; try again in {wait:.0f} s")
    user = await asyncio.to_thread(desk.accounts.authenticate, body.username, body.password)
    now = station.clock()
    if user is None:
        limiter.failed(body.username)
        desk.audit.append(now, "sign_in_failed", actor=body.username[:64], payload={"client": _client(request)})
        raise HTTPException(401, "wrong username or password")
    limiter.succeeded(body.username)
    token, expires = await asyncio.to_thread(
        desk.accounts.create_session, user.username, now=now, ttl_s=station.settings.session_ttl_s
    )
    desk.audit.append(now, "sign_in", actor=user.username, payload={"role": user.role, "client": _client(request)})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(station.settings.session_ttl_s),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return {"user": Actor(user.username, user.role, "session").to_json(), "expires_at": expires}


@router.post("/api/auth/logout")
async def logout(request: Request, response: Response, station: StationDep) -> dict[str, Any]:
    cookie = request.cookies.get(SESSION_COOKIE)
    actor = await actor_of(request)
    if cookie:
        await asyncio.to_thread(station.desk.accounts.end_session, cookie)
    if actor is not None and actor.via == "session":
        station.desk.audit.append(station.clock(), "sign_out", actor=actor.name)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"user": None}


@router.post("/api/auth/password")
async def change_password(body: PasswordChange, actor: Anyone, station: StationDep) -> dict[str, Any]:
    if actor.via != "session":
        raise HTTPException(403, "API tokens have no password")
    accounts = station.desk.accounts
    if await asyncio.to_thread(accounts.authenticate, actor.name, body.old_password) is None:
        raise HTTPException(403, "the old password is wrong")
    user = await _account(accounts.update, actor.name, password=body.new_password)
    station.desk.audit.append(
        station.clock(), "user_changed", actor=actor.label, payload={"username": actor.name, "password": "changed"}
    )
    return user.to_json()


@router.get("/api/users")
async def users(actor: Admin, station: StationDep) -> list[dict[str, Any]]:
    return [u.to_json() for u in await asyncio.to_thread(station.desk.accounts.all_users)]


@router.post("/api/users", status_code=201)
async def create_user(body: NewUser, actor: Admin, station: StationDep) -> dict[str, Any]:
    now = station.clock()
    user = await _account(
        station.desk.accounts.create_user, body.username, body.role, body.password, by=actor.label, now=now
    )
    station.desk.audit.append(
        now, "user_created", actor=actor.label, payload={"username": user.username, "role": user.role}
    )
    return user.to_json()


@router.patch("/api/users/{username}")
async def change_user(username: Username, body: UserChange, actor: Admin, station: StationDep) -> dict[str, Any]:
    if username == actor.name and (body.disabled or (body.role is not None and body.role != "admin")):
        raise HTTPException(409, "you cannot disable yourself or give up your own admin role")
    user = await _account(
        station.desk.accounts.update, username, role=body.role, password=body.password, disabled=body.disabled
    )
    changes = {k: v for k, v in body.model_dump(exclude_none=True).items() if k != "password"}
    if body.password is not None:
        changes["password"] = "changed"
    station.desk.audit.append(
        station.clock(), "user_changed", actor=actor.label, payload={"username": username, **changes}
    )
    return user.to_json()


@router.get("/api/tokens")
async def tokens(actor: Admin, station: StationDep) -> list[dict[str, Any]]:
    return [t.to_json() for t in await asyncio.to_thread(station.desk.accounts.tokens)]


@router.post("/api/tokens", status_code=201)
async def create_token(body: NewToken, actor: Admin, station: StationDep) -> dict[str, Any]:
    """The token secret is in the answer once (``token``); only its hash is kept."""
    now = station.clock()
    token, secret = await _account(station.desk.accounts.create_token, body.name, body.role, by=actor.label, now=now)
    station.desk.audit.append(now, "token_created", actor=actor.label, payload=token.to_json())
    return {**token.to_json(), "token": secret}


@router.delete("/api/tokens/{token_id}")
async def revoke_token(
    token_id: Annotated[str, Path(max_length=40)], actor: Admin, station: StationDep
) -> dict[str, Any]:
    now = station.clock()
    try:
        token = await asyncio.to_thread(station.desk.accounts.revoke_token, token_id, now=now)
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from exc
    station.desk.audit.append(now, "token_revoked", actor=actor.label, payload=token.to_json())
    return token.to_json()


async def _account(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except AccountError as exc:
        status = 409 if "exists already" in str(exc) else 404 if str(exc).startswith("no user") else 422
        raise HTTPException(status, str(exc)) from exc


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None
