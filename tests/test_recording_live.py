"""Full disclosure end to end, in real time through a real broker: a simulated monitor is recorded by the running
station, admitted, annotated, acknowledged and discharged over HTTP; replaying the recording gives exactly the
alarms raised live; the review API serves its trends, events, waveforms, report and exports."""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from monitor.alarm_diff import event_key
from monitor.replay import ReplaySettings, replay
from monitor.service import Station
from monitor.settings import Settings
from monitor.sources import SessionSource
from simulators.publisher import run_ward
from tests.conftest import alarm_frame, base_url, ws_recorder

pytestmark = pytest.mark.slow

PASSWORD = "live-recording-password"


@pytest.fixture
def station_settings(topic_root: str, tmp_path: Path) -> Settings:
    return Settings(topic_root=topic_root, port=0, tick_s=0.1, client_id=f"wardwatch-test-{uuid.uuid4().hex[:8]}",
                    data_dir=tmp_path / "var", admin_password=PASSWORD, open_viewing=True)


@contextlib.asynccontextmanager
async def simulated(broker_url: str, root: str, scenario: str, **timing: float) -> AsyncIterator[None]:
    task = asyncio.create_task(run_ward(broker_url, 1, scenario, topic_root=root, bed_prefix="rec-",
                                        scenario_params=timing))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_recorded_live_session_replays_exactly_and_is_reviewable(
    station: Station, broker_url: str, topic_root: str
) -> None:
    bed = "rec-01"
    recorder = station.recorder
    assert recorder is not None
    while not recorder.ready:
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=base_url(station), timeout=30) as http:
        assert (await http.post("/api/sessions", json={"bed": bed, "label": "x"})).status_code == 401
        r = await http.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        assert r.status_code == 200, r.text
        r = await http.post("/api/sessions", json={"bed": bed, "label": "visit 7"})
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        assert (await http.post("/api/sessions", json={"bed": bed})).status_code == 409
        async with ws_recorder(station) as ws, simulated(broker_url, topic_root, "ketamine-tachycardia",
                                                         onset_s=2, ramp_s=15, hold_s=60):
            _, frame = await ws.wait_for(alarm_frame(bed, "tachycardia"), timeout=60)
            r = await http.post(f"/api/alarms/{frame['alarm']['id']}/ack", json={})
            assert r.status_code == 200, r.text
            r = await http.post(f"/api/sessions/{sid}/annotations", json={"text": "midazolam 1 mg"})
            assert r.status_code == 201, r.text
            r = await http.post("/api/annotations", json={"bed": bed, "text": "patient agitated"})
            assert r.status_code == 201, r.text
            await asyncio.sleep(3)
            r = await http.post(f"/api/sessions/{sid}/discharge")
            assert r.status_code == 200 and r.json()["close_reason"] == "discharge"
        await asyncio.to_thread(recorder.flush)

        listed = (await http.get("/api/sessions", params={"bed": bed})).json()
        assert [s["id"] for s in listed] == [sid] and listed[0]["alarms"].get("medium", 0) >= 1
        trends = (await http.get(f"/api/sessions/{sid}/trends")).json()
        assert len(trends["t"]) >= 15 and any(v is not None and v > 120 for v in trends["hr"])
        events = (await http.get(f"/api/sessions/{sid}/events")).json()
        tachy = [a for a in events["alarms"] if a["type"] == "tachycardia"]
        assert tachy and tachy[0]["acknowledged_at"] is not None
        assert [n["text"] for n in events["annotations"]] == ["midazolam 1 mg", "patient agitated"]
        t = tachy[0]["raised_at"]
        waves = (await http.get(f"/api/sessions/{sid}/waves", params={"t0": t - 5, "t1": t + 5})).json()
        streams = {tr["stream"]: tr for tr in waves["tracks"]}
        assert set(streams) == {"ecg", "pleth"} and streams["ecg"]["fs"] == 250
        assert len(streams["ecg"]["samples"]) >= 7 * 250  # 5 s before the alarm, >= 2 s after (discharged)
        assert (await http.get(f"/api/sessions/{sid}/waves", params={"t0": t, "t1": t + 500})).status_code == 422
        png = await http.get(f"/api/sessions/{sid}/report.png")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
        z = await http.get(f"/api/sessions/{sid}/export.wfdb.zip")
        assert z.status_code == 200
        names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
        assert any(n.endswith("ecg.hea") for n in names) and any(n.endswith("pleth.hea") for n in names)
        assert (await http.get("/api/sessions/nope")).status_code == 404

    store = recorder.store
    assert store is not None
    src = SessionSource(store, sid, markers=True)
    first = next(iter(store.entries(sid)))[0]
    live = [e for e in store.events(sid, "alarm") if e["alarm"]["bed"] == bed and e["t"] >= first]
    assert {e["name"] for e in live} >= {"raised", "acknowledged"}
    replayed = replay(src.entries(), ReplaySettings.of_session(src.session.settings), bed=bed, end=src.end).events
    assert sorted(map(event_key, replayed)) == sorted(map(event_key, live))
