"""End to end through a real broker: simulated monitor -> MQTT -> station -> websocket alarm frames.

Time-to-alarm is measured from the moment the simulated patient crossed the limit (the scenario's own
timeline) to the websocket frame; the bar is the condition's delay + 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import httpx
import pytest

from ingest.broker import BrokerUrl
from monitor.service import Station
from simulators.publisher import run_ward
from simulators.scenarios import Scenario
from simulators.stats import WardStats
from simulators.ward import plan_ward
from tests.conftest import alarm_frame, base_url, ws_recorder

pytestmark = pytest.mark.slow

PHYSIOLOGICAL = {
    "tachycardia",
    "extreme_tachycardia",
    "bradycardia",
    "extreme_bradycardia",
    "spo2_low",
    "desaturation",
    "asystole",
    "ventricular_tachycardia",
    "ventricular_fibrillation",
    "atrial_fibrillation",
    "pause",
}


@contextlib.asynccontextmanager
async def simulated_bed(
    broker_url: str, root: str, bed: str, scenario: str, **timing: float
) -> AsyncIterator[tuple[Scenario, float]]:
    """Run one simulated monitor named ``bed``; yields its scenario and the wall time of scenario time 0."""
    prefix, number = bed.rsplit("-", 1)
    assert number == "01", "run_ward names the first bed <prefix>01"
    (plan,) = plan_ward(1, scenario, bed_prefix=prefix + "-", scenario_params=timing)
    stats = WardStats()
    task = asyncio.create_task(
        run_ward(broker_url, 1, scenario, topic_root=root, bed_prefix=prefix + "-", scenario_params=timing, stats=stats)
    )
    while bed not in stats.bed_start_ts:
        await asyncio.sleep(0.01)
    try:
        yield plan.scenario, stats.bed_start_ts[bed]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_tachycardia_reaches_the_websocket_within_its_delay_plus_2s(
    station: Station, broker_url: str, topic_root: str
) -> None:
    delay = station.ward.default_limits.hr.high_delay_s
    async with ws_recorder(station) as ws:
        async with simulated_bed(
            broker_url, topic_root, "tachy-01", "ketamine-tachycardia", onset_s=2, ramp_s=20, hold_s=60
        ) as (scenario, t0):
            crossing = t0 + scenario.first_time_hr_above(station.ward.default_limits.hr.high)
            arrived, frame = await ws.wait_for(alarm_frame("tachy-01", "tachycardia"), timeout=60)
    time_to_alarm = arrived - crossing
    print(f"tachycardia: true HR crossed 120 at +{crossing - t0:.1f} s; alarm on websocket {time_to_alarm:.2f} s later")
    assert frame["alarm"]["priority"] == "medium" and frame["alarm"]["state"] == "active"
    assert 0 < time_to_alarm <= delay + 2.0


@contextlib.asynccontextmanager
async def first_numerics_below(
    broker_url: str, topic: str, limits: dict[str, float]
) -> AsyncIterator[dict[str, float]]:
    """Watches a bed's numerics on the broker: when each limit was first undercut by a published SpO2.

    Monitors publish SpO2 as an integer about once a second, so the data show a desaturation up to a second
    or two after the patient's true SpO2 crossed the limit; the station cannot know earlier than that.
    """
    url = BrokerUrl.parse(broker_url)
    seen: dict[str, float] = {}

    async def watch() -> None:
        async with aiomqtt.Client(url.host, url.port) as client:
            await client.subscribe(topic, qos=1)
            async for message in client.messages:
                spo2 = json.loads(bytes(message.payload)).get("spo2")  # type: ignore[arg-type]
                for name, limit in limits.items():
                    if spo2 is not None and spo2 < limit and name not in seen:
                        seen[name] = time.time()

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.3)
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_desaturation_reaches_the_websocket_within_its_delay_plus_2s(
    station: Station, broker_url: str, topic_root: str
) -> None:
    limits = station.ward.default_limits.spo2
    watch = {"low": limits.low, "desat": limits.desat}
    async with (
        ws_recorder(station) as ws,
        first_numerics_below(broker_url, f"{topic_root}/desat-01/numerics", watch) as published,
        simulated_bed(
            broker_url, topic_root, "desat-01", "midazolam-desaturation", onset_s=2, ramp_s=25, hold_s=60
        ) as (scenario, t0),
    ):
        true_low = t0 + scenario.first_time(lambda t: scenario.spo2(t) < limits.low)
        true_desat = t0 + scenario.first_time(lambda t: scenario.spo2(t) < limits.desat)
        low_at, low = await ws.wait_for(alarm_frame("desat-01", "spo2_low"), timeout=60)
        desat_at, desat = await ws.wait_for(alarm_frame("desat-01", "desaturation"), timeout=60)
    print(
        f"SpO2 low: alarm {low_at - published['low']:.2f} s after the first published SpO2 < {limits.low:g} "
        f"(delay {limits.low_delay_s:g} s; {low_at - true_low:.2f} s after the true crossing); "
        f"desaturation: {desat_at - published['desat']:.2f} s after the first published SpO2 < {limits.desat:g} "
        f"({desat_at - true_desat:.2f} s after the true crossing)"
    )
    assert desat["alarm"]["priority"] == "high" and low["alarm"]["priority"] == "medium"
    assert 0 < desat_at - published["desat"] <= limits.desat_delay_s + 2.0
    assert 0 < low_at - published["low"] <= limits.low_delay_s + 2.0


async def test_motion_artifact_raises_no_physiological_alarm(
    station: Station, broker_url: str, topic_root: str
) -> None:
    async with ws_recorder(station) as ws:
        async with simulated_bed(broker_url, topic_root, "motion-01", "artifact", onset_s=2, hold_s=40):
            await asyncio.sleep(45)
        raised = [f["alarm"] for _, f in ws.of_type("alarm") if f["event"] == "raised"]
    physiological = [a for a in raised if a["type"] in PHYSIOLOGICAL]
    print("artifact scenario raised:", [(a["type"], a["message"]) for a in raised])
    assert physiological == []
    beds = {b["bed"]: b for b in station.ward.beds_view(time.time())}
    assert "motion-01" in beds


async def publish_raw(broker_url: str, messages: list[tuple[str, bytes]]) -> None:
    url = BrokerUrl.parse(broker_url)
    async with aiomqtt.Client(url.host, url.port, max_queued_outgoing_messages=0) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


def bad_messages(root: str, bed: str) -> dict[str, tuple[str, bytes]]:
    """One message per rejection reason of the contract."""
    ok_wave = {"ts": time.time(), "fs": 250, "samples": [0.1] * 25}
    return {
        "bad_topic": (f"{root}/{bed}/ecg/extra", b"{}"),
        "bad_bed_id": (f"{root}/bed!7/numerics", b'{"ts": 1, "hr": 80}'),
        "unknown_stream": (f"{root}/{bed}/temperature", b'{"ts": 1}'),
        "oversized": (f"{root}/{bed}/ecg", b'{"pad": "' + b"x" * 70_000 + b'"}'),
        "bad_json": (f"{root}/{bed}/numerics", b"{not json"),
        "missing_field": (f"{root}/{bed}/numerics", b'{"hr": 80}'),
        "wrong_type": (f"{root}/{bed}/numerics", b'{"ts": 1, "hr": "fast"}'),
        "non_finite": (f"{root}/{bed}/numerics", b'{"ts": 1, "hr": NaN}'),
        "out_of_range": (f"{root}/{bed}/numerics", b'{"ts": 1, "hr": 900}'),
        "bad_unit": (f"{root}/{bed}/ecg", json.dumps({**ok_wave, "unit": "uV"}).encode()),
    }


async def test_each_rejection_reason_is_counted_and_logged(
    station: Station, broker_url: str, topic_root: str, caplog: pytest.LogCaptureFixture
) -> None:
    cases = bad_messages(topic_root, "garbage-1")
    await publish_raw(broker_url, list(cases.values()) + [(f"{topic_root}/ok-1/numerics", b'{"ts": 1, "hr": 70}')])
    deadline = time.monotonic() + 5
    while station.metrics.messages.total() < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for reason in cases:
        assert station.metrics.invalid.get(reason=reason) == 1, reason
        assert any(reason in r.getMessage() for r in caplog.records), f"no log line for {reason}"
    async with httpx.AsyncClient(base_url=base_url(station)) as http:
        text = (await http.get("/metrics")).text
        beds = (await http.get("/api/beds")).json()
    assert 'wardwatch_messages_invalid_total{reason="out_of_range"} 1' in text
    assert [b["bed"] for b in beds] == ["ok-1"]  # garbage created no bed; the valid message did


async def test_garbage_burst_on_one_bed_does_not_delay_another_beds_alarm(
    station: Station, broker_url: str, topic_root: str
) -> None:
    limits = station.ward.default_limits.spo2
    garbage = list(bad_messages(topic_root, "noisy-1").values())
    garbage += [(f"{topic_root}/noisy-1/numerics", b'{"ts": 1, "spo2": 130}')] * 50
    async with ws_recorder(station) as ws:
        async with (
            first_numerics_below(broker_url, f"{topic_root}/desatb-01/numerics", {"desat": limits.desat}) as seen,
            simulated_bed(
                broker_url, topic_root, "desatb-01", "midazolam-desaturation", onset_s=2, ramp_s=20, hold_s=60
            ),
        ):
            flooding = True

            async def flood() -> None:
                while flooding:
                    await publish_raw(broker_url, garbage * 4)

            flooder = asyncio.create_task(flood())
            try:
                arrived, _ = await ws.wait_for(alarm_frame("desatb-01", "desaturation"), timeout=60)
            finally:
                flooding = False
                await flooder
    rejected = station.metrics.invalid.total()
    latency = arrived - seen["desat"]
    print(f"desaturation on desatb-01 {latency:.2f} s after the first SpO2 < 85 while {rejected:.0f} bad messages")
    assert rejected > 500
    assert 0 < latency <= limits.desat_delay_s + 2.0


async def test_broker_restart_is_shown_and_data_flows_again(topic_root: str, station_settings: Any) -> None:
    from tests.brokers import private_mosquitto, require_mosquitto

    require_mosquitto()
    with private_mosquitto() as broker:
        station = Station(station_settings)
        task = await station.start(BrokerUrl.parse(broker.url))
        try:
            async with ws_recorder(station) as ws, simulated_bed(broker.url, topic_root, "bedr-01", "stable"):
                await ws.wait_for(
                    lambda f: f.get("type") == "vitals" and any(b["bed"] == "bedr-01" for b in f["beds"]), 10
                )
                broker.stop()
                await ws.wait_for(lambda f: f.get("type") == "connection" and not f["broker_connected"], 10)
                await ws.wait_for(alarm_frame("*", "broker_lost"), 5)
                async with httpx.AsyncClient(base_url=base_url(station)) as http:
                    health = (await http.get("/api/health")).json()
                assert health["broker_connected"] is False
                lost_at = time.time()
                broker.start()
                await ws.wait_for(lambda f: f.get("type") == "connection" and f["broker_connected"], 15)
                await ws.wait_for(alarm_frame("*", "broker_lost", "cleared"), 5)
                seen_before = station.ward.beds["bedr-01"].last_seen or 0.0
                deadline = time.monotonic() + 15
                while (station.ward.beds["bedr-01"].last_seen or 0.0) <= max(seen_before, lost_at):
                    assert time.monotonic() < deadline, "no data from the bed after the broker came back"
                    await asyncio.sleep(0.1)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
