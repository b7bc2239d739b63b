"""Sessions over HTTP: admit, discharge, annotate; the review pages' data (trends, events, waveforms), exports and
reports; and the review pages themselves (``/review``, ``/review/<session>``). See docs/api.md ("Sessions").

Reads run in worker threads (the store is synchronous); writes go through the recorder (``monitor.recorder``).
"""

from __future__ import annotations

import asyncio
import io
import math
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from dashboard.deps import StationDep
from dashboard.security import Anyone, Clinician, Viewer
from monitor.alarm_diff import episodes
from monitor.errors import RecordError

if TYPE_CHECKING:
    from monitor.recorder import Recorder
    from monitor.service import Station
    from store.recording import SessionStore

__all__ = ["router", "MAX_WAVE_WINDOW_S"]

router = APIRouter()

STATIC_DIR = Path(__file__).parent / "static"
MAX_WAVE_WINDOW_S = 120.0
SessionId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.-]{1,80}$", description="session id")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdmitRequest(_Body):
    bed: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="bed id")
    label: str | None = Field(None, max_length=64, description="pseudonymous label (never a patient name)")


class AnnotationRequest(_Body):
    text: str = Field(min_length=1, max_length=500)
    t: float | None = Field(None, ge=0, le=1e11, description="station time; default now")


class BedAnnotationRequest(AnnotationRequest):
    bed: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")


def _recorder(station: Station) -> Recorder:
    recorder = station.recorder
    if recorder is None or recorder.store is None:
        raise HTTPException(503, "recording is off on this station")
    return recorder


def _store(station: Station) -> SessionStore:
    store = _recorder(station).store
    assert store is not None
    return store


async def _session(store: SessionStore, session_id: str) -> Any:
    try:
        return await asyncio.to_thread(store.session, session_id)
    except RecordError as exc:
        raise HTTPException(404, str(exc)) from exc


def _who(actor: Any) -> str | None:
    return actor.label if actor is not None else None


# -- pages ------------------------------------------------------------------------------------------------
@router.get("/review", include_in_schema=False)
@router.get("/review/{session_id}", include_in_schema=False)
async def review_page(session_id: str | None = None) -> FileResponse:
    return FileResponse(STATIC_DIR / "review.html", headers={"Cache-Control": "no-cache"})


# -- sessions ---------------------------------------------------------------------------------------------
@router.get("/api/sessions")
async def sessions(
    viewer: Viewer,
    station: StationDep,
    bed: Annotated[str | None, Query(max_length=32)] = None,
    open: Annotated[bool, Query(description="only open sessions")] = False,  # noqa: A002
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """Sessions, newest first, with their alarm counts by priority."""
    store = _store(station)
    found = await asyncio.to_thread(store.sessions, bed=bed, open_only=open, limit=limit)
    counts = await asyncio.to_thread(store.alarm_counts, [s.id for s in found])
    live = {lv.session.id: lv for lv in _recorder(station).live.values()}
    out = []
    for s in found:
        data = s.to_json()
        lv = live.get(s.id)
        if lv is not None:  # the recorder knows more than the database about an open session
            data.update(lv.session.to_json())
            data["recording"] = lv.started
        data["alarms"] = counts.get(s.id, {})
        out.append(data)
    return out


@router.post("/api/sessions", status_code=201)
async def admit(body: AdmitRequest, actor: Clinician, station: StationDep) -> dict[str, Any]:
    """Admit: open a session on a bed (or label the one that opened when the bed started sending)."""
    from monitor.recorder import SessionConflict

    recorder = _recorder(station)
    try:
        session = recorder.admit(body.bed, body.label, _who(actor))
    except SessionConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    await asyncio.to_thread(recorder.flush, 5.0)  # listed from now on
    return session.to_json()


@router.get("/api/sessions/{session_id}")
async def session(session_id: SessionId, viewer: Viewer, station: StationDep) -> dict[str, Any]:
    store = _store(station)
    s = await _session(store, session_id)
    data = s.to_json()
    live = next((lv for lv in _recorder(station).live.values() if lv.session.id == s.id), None)
    if live is not None:
        data.update(live.session.to_json())
        data["recording"] = live.started
    data["size"] = await asyncio.to_thread(store.size, s.id)
    data["alarms"] = (await asyncio.to_thread(store.alarm_counts, [s.id]))[s.id]
    row = await asyncio.to_thread(store.db.query_one, "SELECT MIN(t0), MAX(t1) FROM rec_blocks WHERE session_id = ?",
                                  (s.id,))
    data["data_from"], data["data_to"] = (row or (None, None))
    return data


@router.post("/api/sessions/{session_id}/discharge")
async def discharge(session_id: SessionId, actor: Clinician, station: StationDep) -> dict[str, Any]:
    from monitor.recorder import NoSession

    recorder = _recorder(station)
    live = next((lv for lv in recorder.live.values() if lv.session.id == session_id), None)
    if live is None:
        await _session(_store(station), session_id)
        raise HTTPException(409, "the session is already closed")
    try:
        closed = recorder.discharge(live.session.bed, _who(actor))
    except NoSession as exc:
        raise HTTPException(409, str(exc)) from exc
    await asyncio.to_thread(recorder.flush, 5.0)
    return closed.to_json()


@router.post("/api/sessions/{session_id}/annotations", status_code=201)
async def annotate(
    session_id: SessionId, body: AnnotationRequest, actor: Anyone, station: StationDep
) -> dict[str, Any]:
    return await _annotate(station, session_id, None, body, actor)


@router.post("/api/annotations", status_code=201)
async def annotate_bed(body: BedAnnotationRequest, actor: Anyone, station: StationDep) -> dict[str, Any]:
    """An annotation on the open session of a bed (the station's "note" button)."""
    return await _annotate(station, None, body.bed, body, actor)


async def _annotate(station: Station, session_id: str | None, bed: str | None, body: AnnotationRequest,
                    actor: Any) -> dict[str, Any]:
    from monitor.recorder import NoSession, SessionConflict

    recorder = _recorder(station)
    try:
        note = await asyncio.to_thread(recorder.annotate, session_id, bed, body.text, _who(actor), body.t)
    except NoSession as exc:
        raise HTTPException(404, str(exc)) from exc
    except RecordError as exc:
        raise HTTPException(404, str(exc)) from exc
    except SessionConflict as exc:
        raise HTTPException(422, str(exc)) from exc
    await asyncio.to_thread(recorder.flush, 5.0)
    return note


# -- review data --------------------------------------------------------------------------------------------
@router.get("/api/sessions/{session_id}/trends")
async def trends(
    session_id: SessionId,
    viewer: Viewer,
    station: StationDep,
    max_points: Annotated[int, Query(ge=10, le=100_000)] = 20_000,
) -> dict[str, Any]:
    """The 1 Hz derived values over the whole session (averaged into at most ``max_points`` buckets)."""
    store = _store(station)
    s = await _session(store, session_id)
    rows = await asyncio.to_thread(store.vitals, s.id)
    step = max(1, math.ceil(len(rows) / max_points))
    out: dict[str, list[Any]] = {k: [] for k in ("t", "hr", "spo2", "pr", "hr_source", "rhythm")}
    for i in range(0, len(rows), step):
        group = rows[i : i + step]
        out["t"].append(round(group[0]["t"], 3))
        for key in ("hr", "spo2", "pr"):
            vals = [r[key] for r in group if r.get(key) is not None]
            out[key].append(round(sum(vals) / len(vals), 1) if vals else None)
        out["hr_source"].append(group[0].get("hr_source"))
        out["rhythm"].append(group[0].get("rhythm"))
    return {"session": s.id, "step_s": step, **out}


@router.get("/api/sessions/{session_id}/events")
async def events(session_id: SessionId, viewer: Viewer, station: StationDep) -> dict[str, Any]:
    """Alarms (one per alarm, with its acknowledgement), the alarm and session events, annotations and the
    operator actions of the audit trail (limits, alarm off/on, audio pauses) on this bed during the session."""
    store = _store(station)
    s = await _session(store, session_id)
    rec = await asyncio.to_thread(store.events, s.id)
    notes = await asyncio.to_thread(store.annotations, s.id)
    alarms = [e for e in rec if e["kind"] == "alarm"]
    actions = await asyncio.to_thread(_actions, station, s)
    return {
        "session": s.to_json(),
        "alarms": [e.to_json() for e in episodes(alarms)],
        "events": rec,
        "annotations": notes,
        "actions": actions,
    }


def _actions(station: Station, s: Any) -> list[dict[str, Any]]:
    kinds = ["audio_paused", "audio_resumed", "audio_pause_ended", "condition_off", "condition_on", "limits_changed"]
    try:
        entries = station.desk.audit.query(bed=s.bed, since=s.opened_at, until=(s.closed_at or 1e11) + 0.001,
                                           kinds=kinds, limit=10_000)
    except Exception:  # no audit trail in this store (e.g. an imported one)
        return []
    return [e.to_json() for e in entries]


@router.get("/api/sessions/{session_id}/waves")
async def waves(
    session_id: SessionId,
    viewer: Viewer,
    station: StationDep,
    t0: Annotated[float, Query(ge=0, le=1e11, description="station time, s")],
    t1: Annotated[float, Query(ge=0, le=1e11)],
) -> dict[str, Any]:
    """Full disclosure: every ECG lead and the pleth between ``t0`` and ``t1`` (at most 120 s)."""
    from monitor.export import tracks

    if not 0 < t1 - t0 <= MAX_WAVE_WINDOW_S:
        raise HTTPException(422, f"need 0 < t1 - t0 <= {MAX_WAVE_WINDOW_S:g} s")
    store = _store(station)
    s = await _session(store, session_id)
    found = await asyncio.to_thread(tracks, store, s.id, t0, t1)
    return {
        "session": s.id,
        "t0": t0,
        "t1": t1,
        "tracks": [
            {"stream": tr.stream, "lead": tr.lead if tr.stream == "ecg" else None, "fs": tr.fs, "t0": round(tr.t0, 4),
             "unit": "mV" if tr.stream == "ecg" else "NU",
             "samples": [None if not math.isfinite(x) else round(float(x), 4) for x in tr.samples]}
            for tr in found
        ],
    }


@router.get("/api/sessions/{session_id}/report.{fmt}")
async def report(session_id: SessionId, fmt: str, viewer: Viewer, station: StationDep) -> Response:
    from monitor.report import write_report

    if fmt not in ("png", "pdf"):
        raise HTTPException(404, "report.png or report.pdf")
    store = _store(station)
    s = await _session(store, session_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"report.{fmt}"
        await asyncio.to_thread(write_report, store, s.id, path)
        data = path.read_bytes()
    media = "application/pdf" if fmt == "pdf" else "image/png"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'inline; filename="{s.id}.{fmt}"'})


@router.get("/api/sessions/{session_id}/export.{fmt}.zip")
async def export(session_id: SessionId, fmt: str, viewer: Viewer, station: StationDep) -> Response:
    from monitor.export import export_csv, export_wfdb

    if fmt not in ("wfdb", "csv"):
        raise HTTPException(404, "export.wfdb.zip or export.csv.zip")
    store = _store(station)
    s = await _session(store, session_id)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / s.id
        fn = export_wfdb if fmt == "wfdb" else export_csv
        try:
            await asyncio.to_thread(fn, store, s.id, out)
        except RecordError as exc:
            raise HTTPException(422, str(exc)) from exc
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(out.iterdir()):
                zf.write(f, f"{s.id}/{f.name}")
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{s.id}-{fmt}.zip"'})
