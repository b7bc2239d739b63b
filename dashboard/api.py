"""JSON API: health, beds, alarms, acknowledge, metrics (see docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from alarms.manager import UnknownAlarm
from alarms.state import AlarmState, IllegalTransition
from dashboard.deps import StationDep
from dashboard.security import Clinician, Viewer

__all__ = ["router"]

router = APIRouter()

_STATES = {s.value for s in AlarmState} | {"open", "all"}


class AckRequest(BaseModel):
    """Kept for old clients: ``user`` is ignored, the acknowledging user is the signed-in one."""

    user: str | None = Field(None, max_length=64)


@router.get("/api/health")
async def health(station: StationDep) -> dict[str, Any]:
    return station.health()


@router.get("/api/beds")
async def beds(station: StationDep, viewer: Viewer) -> list[dict[str, Any]]:
    return station.ward.beds_view(station.clock())


@router.get("/api/beds/{bed}")
async def bed(bed: str, station: StationDep, viewer: Viewer) -> dict[str, Any]:
    if bed not in station.ward.beds:
        raise HTTPException(404, f"no bed {bed[:40]!r}")
    return station.ward.bed_view(bed, station.clock())


@router.get("/api/alarms")
async def alarms(
    station: StationDep,
    viewer: Viewer,
    state: Annotated[
        str, Query(description="comma-separated: active, acknowledged, latched, cleared, open, all")
    ] = "open",
    bed: Annotated[str | None, Query(max_length=32)] = None,
) -> list[dict[str, Any]]:
    wanted = {s.strip() for s in state.split(",") if s.strip()}
    unknown = wanted - _STATES
    if unknown or not wanted:
        raise HTTPException(422, f"state must be one of {', '.join(sorted(_STATES))} (got {state[:40]!r})")
    if "all" in wanted:
        wanted = {s.value for s in AlarmState}
    if "open" in wanted:
        wanted |= {s.value for s in AlarmState if s.is_open}
    chosen = [a for a in station.ward.alarms.all_alarms() if a.state.value in wanted and (bed is None or a.bed == bed)]
    chosen.sort(key=lambda a: a.raised_at, reverse=True)
    return [a.to_json() for a in chosen]


@router.post("/api/alarms/{alarm_id}/ack")
async def acknowledge(
    alarm_id: str, station: StationDep, actor: Clinician, body: AckRequest | None = None
) -> dict[str, Any]:
    try:
        return station.acknowledge(alarm_id, actor.label)
    except UnknownAlarm as exc:
        raise HTTPException(404, str(exc)) from exc
    except IllegalTransition as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(station: StationDep) -> PlainTextResponse:
    return PlainTextResponse(station.metrics.render(), media_type="text/plain; version=0.0.4")
