"""Restart: raise alarms, acknowledge one, pause a bed, switch an alarm off, change limits, stop the station,
start it again (same database; SQLite and PostgreSQL): the same alarms in the same states, the same pause,
alarm off and limits, the audit trail continued, no page sent twice and no page lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

from alarms.model import Observation
from ingest.broker import BrokerUrl
from monitor.service import Station
from monitor.settings import Settings
from monitor.ward import Output
from tests.conftest import base_url
from tests.receivers import HttpReceiver
from tests.store.conftest import db_url  # noqa: F401  (fixture: sqlite and postgresql)

PASSWORD = "restart-test-pw1"


def settings(data: Path, topic_root: str, broker_url: str, database: str) -> Settings:
    return Settings(
        topic_root=topic_root,
        port=0,
        tick_s=0.1,
        data_dir=data,
        broker=broker_url,
        database=database,
        open_viewing=True,
        client_id=f"restart-{time.time_ns()}",
    )


async def start(s: Settings, broker_url: str) -> tuple[Station, asyncio.Task[None]]:
    station = Station(s)
    task = await station.start(BrokerUrl.parse(broker_url))
    for _ in range(200):
        if station.broker_connected:
            break
        await asyncio.sleep(0.02)
    return station, task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def publish(broker_url: str, topic: str, payload: dict[str, Any]) -> None:
    url = BrokerUrl.parse(broker_url)
    async with aiomqtt.Client(url.host, url.port) as client:
        await client.publish(topic, json.dumps(payload), qos=1)


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def state_of(station: Station) -> dict[str, Any]:
    return {
        "alarms": sorted((a.to_json() for a in station.ward.alarms.open_alarms()), key=lambda a: a["id"]),
        "controls": station.desk.controls_json(),
        "limits": {b: s.to_json() for b, s in station.desk.limits.beds.items()},
    }


async def test_restart_keeps_alarms_acks_pauses_and_audit_and_pages_once(
    broker_url: str,
    topic_root: str,
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    data = tmp_path / "var"
    data.mkdir()
    with HttpReceiver() as hook:
        (data / "paging.toml").write_text(
            f'[tiers]\nprimary = ["hook"]\ncharge = ["hook"]\n'
            '[rules.high]\nsteps = [{ tier = "primary", after_s = 0 }, { tier = "charge", after_s = 4 }]\n'
            f'[channels.hook]\ntype = "webhook"\nurl = "{hook.url}"\n'
        )
        s = settings(data, topic_root, broker_url, db_url)
        station, task = await start(s, broker_url)
        station.desk.accounts.create_user("nina", "charge_nurse", PASSWORD, by="test", now=time.time())
        try:
            now = time.time()
            for bed in ("bed-1", "bed-2"):
                await publish(broker_url, f"{topic_root}/{bed}/numerics", {"ts": now, "hr": 80, "spo2": 80, "pr": 80})
            await wait_for(lambda: len(station.ward.alarms.open_alarms()) == 2)
            # a latched asystole on bed-3 (as the signal core reports it), then its condition ends
            t = time.time()
            station.publish(
                Output(alarms=station.ward._observe([Observation("bed-3", "asystole", True, t, onset=t - 4)]))
            )
            station.publish(Output(alarms=station.ward._observe([Observation("bed-3", "asystole", False, t + 0.1)])))
            async with httpx.AsyncClient(base_url=base_url(station)) as http:
                assert (
                    await http.post("/api/auth/login", json={"username": "nina", "password": PASSWORD})
                ).status_code == 200
                bed1 = station.ward.alarms.open_alarms("bed-1")[0]
                assert (await http.post(f"/api/alarms/{bed1.id}/ack")).status_code == 200
                assert (await http.post("/api/beds/bed-2/pause", json={"duration_s": 300})).status_code == 200
                r = await http.put(
                    "/api/beds/bed-3/conditions/tachycardia", json={"enabled": False, "reason": "beta blocker trial"}
                )
                assert r.status_code == 200
                assert (
                    await http.put("/api/beds/bed-2/limits", json={"overrides": {"spo2.low": 88}})
                ).status_code == 200
            await asyncio.to_thread(hook.wait, 3, 5)  # start pages: bed-1, bed-2, bed-3
            assert await station.desk.dispatcher.wait_idle(5)  # type: ignore[union-attr]
            before = state_of(station)
            assert {a["state"] for a in before["alarms"]} == {"acknowledged", "active", "latched"}
            pages_before = [r.body["page_id"] for r in hook.received]
            await asyncio.to_thread(station.desk.writer.flush)
            audit_before = [e.to_json() for e in station.desk.audit.query(limit=10_000)]
        finally:
            await stop(task)
        stopped_at = time.time()

        station2, task2 = await start(settings(data, topic_root, broker_url, db_url), broker_url)
        try:
            after = state_of(station2)
            assert after == before, "the restarted station does not show the same alarms, pause, alarm off and limits"
            assert station2.desk.controls.paused("bed-2", time.time())
            assert station2.ward._trackers[("bed-3", "tachycardia")].enabled is False
            await asyncio.to_thread(station2.desk.writer.flush)
            audit = station2.desk.audit.query(limit=10_000)
            kinds = [e.kind for e in audit]
            assert kinds.count("station_started") == 2
            assert [e.to_json() for e in audit[: len(audit_before)]] == audit_before, "the audit trail changed"
            for kind in (
                "alarm_raised",
                "alarm_acknowledged",
                "alarm_latched",
                "audio_paused",
                "condition_off",
                "limits_changed",
                "sign_in",
                "page_delivered",
            ):
                assert kind in kinds, kind
            last_start = max(e.id for e in audit if e.kind == "station_started")
            assert all(e.t <= stopped_at for e in audit if e.id < last_start)
            # no page again for events already paged; the unacknowledged high alarms still escalate on time
            await asyncio.sleep(5.0)
            assert await station2.desk.dispatcher.wait_idle(5)  # type: ignore[union-attr]
            after_pages = [r.body for r in hook.received[len(pages_before) :]]
            assert not set(pages_before) & {p["page_id"] for p in after_pages}, "a page was sent twice"
            escalated = {p["alarm"]["bed"] for p in after_pages if p["phase"] == "escalate"}
            assert escalated == {"bed-2", "bed-3"}, after_pages  # bed-1 was acknowledged
            # the restored acknowledged alarm still ends with its condition
            for _ in range(4):
                await publish(
                    broker_url, f"{topic_root}/bed-1/numerics", {"ts": time.time(), "hr": 80, "spo2": 97, "pr": 80}
                )
                await asyncio.sleep(0.8)
            assert not station2.ward.alarms.open_alarms("bed-1")
            print(
                "RESTART",
                json.dumps(
                    {
                        "alarms_before": [(a["bed"], a["type"], a["state"]) for a in before["alarms"]],
                        "alarms_after": [(a["bed"], a["type"], a["state"]) for a in after["alarms"]],
                        "pauses_after": after["controls"]["pauses"],
                        "off_after": [(o["bed"], o["type"], o["reason"]) for o in after["controls"]["off"]],
                        "pages_before": len(pages_before),
                        "pages_after_restart": [(p["alarm"]["bed"], p["phase"]) for p in after_pages],
                        "audit_entries": len(audit),
                    }
                ),
            )
        finally:
            await stop(task2)
