"""Operator actions and alarm records over HTTP: audio pause, alarm off, limits, profiles, pages, the pager
acknowledge callback and the audit trail (docs/api.md)."""

from __future__ import annotations

import asyncio
import html
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from alarms.catalog import CATALOG
from alarms.controls import PAUSE_MAX_S, PAUSE_MIN_S, ControlError
from alarms.manager import UnknownAlarm
from alarms.paging.tokens import TokenError, verify
from alarms.state import IllegalTransition
from dashboard.deps import StationDep
from dashboard.security import Anyone, Clinician, Senior, Viewer
from monitor.errors import ConfigError
from monitor.limits import Limits
from store.audit import KINDS

__all__ = ["router"]

router = APIRouter()

Bed = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="bed id (docs/mqtt.md)")]
ProfileName = Annotated[str, Path(min_length=1, max_length=40)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PauseRequest(_Body):
    duration_s: float | None = Field(None, ge=PAUSE_MIN_S, le=PAUSE_MAX_S, description="default 120 s")


class ConditionSwitch(_Body):
    enabled: bool
    reason: str = Field("", max_length=200, description="required (3..200 characters) to switch an alarm off")


class LimitsRequest(_Body):
    profile: str | None = Field(None, max_length=40, description="profile name; default: keep the bed's")
    overrides: dict[str, float | int] | None = Field(
        None, description='dotted keys, e.g. {"hr.high": 130, "spo2.low_delay_s": 20}; replaces the previous ones'
    )


class PagerAck(_Body):
    token: str = Field(min_length=10, max_length=1000)


# -- audio pause ------------------------------------------------------------------------------------------
@router.post("/api/beds/{bed}/pause")
async def pause_audio(
    bed: Bed, actor: Clinician, station: StationDep, body: PauseRequest | None = None
) -> dict[str, Any]:
    """Pause all audio of one bed (default 2 min); it comes back by itself. Alarms are still shown."""
    try:
        return station.desk.pause(bed, actor.label, body.duration_s if body else None)
    except ControlError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.delete("/api/beds/{bed}/pause")
async def resume_audio(bed: Bed, actor: Clinician, station: StationDep) -> dict[str, Any]:
    ended = station.desk.resume(bed, actor.label)
    if ended is None:
        raise HTTPException(404, f"the audio of {bed} is not paused")
    return {"bed": bed, "paused": False, "was": ended}


# -- alarm off --------------------------------------------------------------------------------------------
@router.get("/api/beds/{bed}/conditions")
async def conditions(bed: Bed, viewer: Viewer, station: StationDep) -> list[dict[str, Any]]:
    """Every alarm condition of a bed, with whether it is switched off (and by whom, why)."""
    off = station.desk.controls.off
    out = []
    for spec in CATALOG.values():
        if spec.type in ("broker_lost", "paging_failed"):
            continue
        entry = off.get((bed, spec.type))
        out.append(
            {
                "type": spec.type,
                "label": spec.label,
                "priority": spec.priority.value,
                "kind": spec.kind.value,
                "enabled": entry is None,
                "switchable": spec.type not in ("bed_silent", "device_offline"),
                "off": entry.to_json() if entry else None,
            }
        )
    return out


@router.put("/api/beds/{bed}/conditions/{alarm_type}")
async def switch_condition(
    bed: Bed, alarm_type: Annotated[str, Path(max_length=40)], body: ConditionSwitch, actor: Senior, station: StationDep
) -> dict[str, Any]:
    """Switch one alarm condition of one bed off (with a reason) or back on."""
    try:
        return station.desk.switch(bed, alarm_type, body.enabled, actor.label, body.reason)
    except ControlError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/controls")
async def controls(viewer: Viewer, station: StationDep) -> dict[str, Any]:
    """Audio pauses and alarms off, station-wide (also pushed as ``controls`` websocket frames)."""
    return {"t": station.clock(), **station.desk.controls_json()}


# -- limits and profiles ----------------------------------------------------------------------------------
@router.get("/api/beds/{bed}/limits")
async def bed_limits(bed: Bed, viewer: Viewer, station: StationDep) -> dict[str, Any]:
    return station.desk.limits.setting(bed).to_json()


@router.put("/api/beds/{bed}/limits")
async def set_bed_limits(bed: Bed, body: LimitsRequest, actor: Clinician, station: StationDep) -> dict[str, Any]:
    """Set a bed's profile and overrides; validated (422 says which field and why); audited."""
    try:
        return station.desk.set_bed_limits(bed, body.profile, body.overrides, actor.label).to_json()
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/limits/schema")
async def limits_schema(viewer: Viewer) -> dict[str, Any]:
    """JSON schema of the limits (every field with its range and description)."""
    return Limits.model_json_schema()


@router.get("/api/profiles")
async def profiles(viewer: Viewer, station: StationDep) -> list[dict[str, Any]]:
    return station.desk.limits.profiles()


@router.put("/api/profiles/{name}")
async def save_profile(name: ProfileName, body: dict[str, Any], actor: Senior, station: StationDep) -> dict[str, Any]:
    """Create or replace a site profile: the full nested limits (missing fields take the adult defaults)."""
    try:
        limits = station.desk.save_profile(name, body, actor.label)
    except ConfigError as exc:
        status = 409 if "built in" in str(exc) else 422
        raise HTTPException(status, str(exc)) from exc
    return {"name": name, "builtin": False, "limits": limits.model_dump()}


@router.delete("/api/profiles/{name}")
async def delete_profile(name: ProfileName, actor: Senior, station: StationDep) -> dict[str, Any]:
    try:
        station.desk.delete_profile(name, actor.label)
    except ConfigError as exc:
        status = 404 if str(exc).startswith("unknown") else 409
        raise HTTPException(status, str(exc)) from exc
    return {"name": name, "deleted": True}


# -- pages and paging -------------------------------------------------------------------------------------
@router.get("/api/pages")
async def pages(
    actor: Anyone,
    station: StationDep,
    alarm_id: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[float | None, Query(ge=0, le=1e11)] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> list[dict[str, Any]]:
    """Pages, newest first, each with its delivery status per channel."""
    return await asyncio.to_thread(station.desk.store.list_pages, alarm_id=alarm_id, since=since, limit=limit)


@router.get("/api/paging")
async def paging(actor: Anyone, station: StationDep) -> dict[str, Any]:
    """The paging configuration (no secrets) and each channel's health."""
    return station.desk.paging_summary()


@router.get("/api/pager/ack", response_class=HTMLResponse, include_in_schema=False)
async def pager_ack_page(
    token: Annotated[str, Query(min_length=10, max_length=1000)], station: StationDep
) -> HTMLResponse:
    """The link in a page: a confirmation page (a GET never acknowledges: link scanners follow links)."""
    try:
        claim = verify(station.desk.secret, token, station.clock())
    except TokenError as exc:
        return HTMLResponse(_page("Cannot acknowledge", html.escape(str(exc))), status_code=403)
    try:
        alarm = station.ward.alarms.get(claim.alarm_id).to_json()
        what = f"{alarm['label']} — {'Station' if alarm['bed'] == '*' else alarm['bed']} ({alarm['state']})"
    except UnknownAlarm:
        what = "this alarm"
    body = (
        f"<p>{html.escape(what)}</p><form method='post' action='/api/pager/ack'>"
        f"<input type='hidden' name='token' value='{html.escape(token, quote=True)}'>"
        "<button type='submit' style='font-size:1.4em;padding:.4em 1.2em'>Acknowledge</button></form>"
    )
    return HTMLResponse(_page("Acknowledge alarm", body))


@router.post("/api/pager/ack")
async def pager_ack(request: Request, station: StationDep) -> Any:
    """Acknowledge from the pager side: ``{"token": ...}`` (JSON) or a form field ``token``; the token is the
    signed, expiring one of the page. Recorded as acknowledged by ``pager:<tier>``."""
    form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    token = await _token_of(request, form)
    try:
        claim = verify(station.desk.secret, token, station.clock())
    except TokenError as exc:
        if form:
            return HTMLResponse(_page("Cannot acknowledge", html.escape(str(exc))), status_code=403)
        raise HTTPException(403, str(exc)) from exc
    try:
        alarm = station.acknowledge(claim.alarm_id, f"pager:{claim.tier}")
    except UnknownAlarm as exc:
        raise HTTPException(404, str(exc)) from exc
    except IllegalTransition as exc:
        if form:
            return HTMLResponse(_page("Already over", "The alarm has already ended."), status_code=409)
        raise HTTPException(409, str(exc)) from exc
    if form:
        return HTMLResponse(_page("Acknowledged", f"{html.escape(alarm['label'])} is acknowledged at the station."))
    return alarm


async def _token_of(request: Request, form: bool) -> str:
    try:
        if form:
            data = await request.form()
            token = data.get("token")
        else:
            token = (await request.json()).get("token")
    except Exception as exc:
        raise HTTPException(422, 'send {"token": "..."} (JSON) or a form field token') from exc
    if not isinstance(token, str) or not 10 <= len(token) <= 1000:
        raise HTTPException(422, "token: a string of 10..1000 characters")
    return token


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width,initial-scale=1'><title>WardWatch — {html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;margin:2em'><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


# -- audit trail ------------------------------------------------------------------------------------------
@router.get("/api/audit")
async def audit(
    actor: Anyone,
    station: StationDep,
    bed: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[float | None, Query(ge=0, le=1e11)] = None,
    until: Annotated[float | None, Query(ge=0, le=1e11)] = None,
    kind: Annotated[str | None, Query(max_length=400, description="comma-separated kinds")] = None,
    alarm_id: Annotated[str | None, Query(max_length=40)] = None,
    after_id: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """The audit trail in time order (``since`` inclusive, ``until`` exclusive; ``after_id`` pages on)."""
    kinds = [k.strip() for k in kind.split(",") if k.strip()] if kind else []
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise HTTPException(422, f"unknown kind {unknown[0][:40]!r}; kinds: {', '.join(KINDS)}")
    if since is not None and until is not None and until < since:
        raise HTTPException(422, "until must not be before since")
    await asyncio.to_thread(station.desk.writer.flush, 2.0)  # what was just done is in the answer
    entries = await asyncio.to_thread(
        station.desk.audit.query,
        bed=bed,
        since=since,
        until=until,
        kinds=kinds,
        alarm_id=alarm_id,
        after_id=after_id,
        limit=limit,
    )
    return [e.to_json() for e in entries]
