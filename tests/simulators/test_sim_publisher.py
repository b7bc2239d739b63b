"""The publisher against a real (private) Mosquitto: rates, status, last will, reconnects, clean stops."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiomqtt
import numpy as np
import pytest

from ingest.broker import BrokerUrl
from simulators.publisher import run_ward
from simulators.stats import WardStats
from tests.brokers import MosquittoBroker
from tests.simulators.sim_contract import check


@dataclass
class Received:
    at: float  # time.monotonic() at arrival
    bed: str
    stream: str
    body: dict  # type: ignore[type-arg]
    retain: bool


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)

    def of(self, bed: str, stream: str) -> list[Received]:
        return [m for m in self.messages if m.bed == bed and m.stream == stream]


@contextlib.asynccontextmanager
async def subscriber(url: str, topic: str = "vitals/#") -> AsyncIterator[Recorder]:
    address = BrokerUrl.parse(url)
    recorder = Recorder()
    async with aiomqtt.Client(address.host, address.port) as client:
        await client.subscribe(topic, qos=1)

        async def read() -> None:
            async for m in client.messages:
                payload = bytes(m.payload)  # type: ignore[arg-type]
                assert check(str(m.topic), payload) == [], (m.topic, payload[:200])
                _, bed, stream = str(m.topic).split("/")
                recorder.messages.append(Received(time.monotonic(), bed, stream, json.loads(payload), m.retain))

        task = asyncio.create_task(read())
        try:
            yield recorder
        finally:
            await asyncio.sleep(0.3)  # let the last messages in
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def retained_status(url: str, bed: str) -> dict:  # type: ignore[type-arg]
    address = BrokerUrl.parse(url)
    async with aiomqtt.Client(address.host, address.port) as client:
        await client.subscribe(f"vitals/{bed}/status", qos=1)
        async with asyncio.timeout(3):
            async for m in client.messages:
                assert m.retain
                return json.loads(bytes(m.payload))  # type: ignore[arg-type]
    raise AssertionError("no retained status")


async def test_two_beds_publish_every_stream_at_the_right_rate(mosquitto: MosquittoBroker) -> None:
    async with subscriber(mosquitto.url) as rec:
        stats = await run_ward(mosquitto.url, 2, "stable", duration=5.0, seed=1)
    assert stats.connects == 2 and stats.dropped == 0 and stats.skipped_ticks == 0
    for bed in ("bed-01", "bed-02"):
        ecg, pleth, numerics = rec.of(bed, "ecg"), rec.of(bed, "pleth"), rec.of(bed, "numerics")
        assert len(ecg) == 20 and len(pleth) == 20 and len(numerics) == 5
        assert sum(len(m.body["samples"]) for m in ecg) == 5 * 250
        assert sum(len(m.body["samples"]) for m in pleth) == 5 * 125
        assert [m.body["seq"] for m in ecg] == list(range(20))
        assert ecg[0].body["ts"] == pytest.approx(stats.bed_start_ts[bed], abs=1e-3)  # scenario t=0
        gaps = np.diff([m.at for m in ecg])
        assert 0.2 < float(np.median(gaps)) < 0.3  # paced in real time, one chunk per 250 ms
        assert 4.25 < ecg[-1].at - ecg[0].at < 5.5
        assert [n.body["ts"] - ecg[0].body["ts"] for n in numerics] == pytest.approx([1, 2, 3, 4, 5], abs=1e-3)
        status = [m.body for m in rec.of(bed, "status")]
        assert status[0] == {
            "online": True,
            "ts": pytest.approx(ecg[0].body["ts"], abs=0.1),
            "leads_off": False,
            "probe_off": False,
        }
        assert status[-1]["online"] is False and "ts" in status[-1]  # graceful stop, not the will
        assert (await retained_status(mosquitto.url, bed))["online"] is False


async def test_dropout_publishes_the_last_will_then_comes_back(mosquitto: MosquittoBroker) -> None:
    params = {"onset_s": 1.5, "hold_s": 2.0}
    async with subscriber(mosquitto.url) as rec:
        ward = asyncio.create_task(run_ward(mosquitto.url, 1, "dropout", duration=6.0, scenario_params=params))
        await asyncio.sleep(2.8)  # the device is offline now
        during = await retained_status(mosquitto.url, "bed-01")
        stats = await ward
    assert during == {"online": False}  # the will, retained by the broker
    status = [m.body for m in rec.of("bed-01", "status")]
    assert status[0]["online"] is True
    assert status[1] == {"online": False}  # will: no ts, published by the broker
    assert status[2]["online"] is True and status[2]["ts"] > status[0]["ts"]
    assert status[3]["online"] is False and "ts" in status[3]
    will = next(m for m in rec.of("bed-01", "status") if m.body == {"online": False})
    last_before = max(m.at for m in rec.of("bed-01", "ecg") if m.at < will.at)
    assert will.at - last_before < 1.0  # the will follows the last chunk promptly
    ecg = rec.of("bed-01", "ecg")
    t0 = ecg[0].body["ts"]
    offline = [m for m in ecg if 1.5 <= m.body["ts"] - t0 < 3.5]
    assert not offline
    assert any(m.body["ts"] - t0 >= 3.5 for m in ecg)  # data again after reconnecting
    assert stats.drops == 1 and stats.connects == 2


async def test_reconnects_after_the_broker_restarts(mosquitto: MosquittoBroker) -> None:
    stats = WardStats()
    ward = asyncio.create_task(run_ward(mosquitto.url, 2, "stable", duration=9.0, stats=stats))
    await asyncio.sleep(2.0)
    await asyncio.to_thread(mosquitto.stop)
    await asyncio.sleep(1.5)
    await asyncio.to_thread(mosquitto.start)
    async with subscriber(mosquitto.url) as rec:
        await asyncio.sleep(4.0)
    await ward
    assert stats.connect_failures >= 2 and stats.connects >= 4
    for bed in ("bed-01", "bed-02"):
        assert len(rec.of(bed, "ecg")) >= 8, f"{bed} did not resume after the broker came back"
        status = rec.of(bed, "status")
        assert status and status[0].body["online"] is True


async def test_cancellation_stops_cleanly(mosquitto: MosquittoBroker) -> None:
    ward = asyncio.create_task(run_ward(mosquitto.url, 3, "stable"))
    await asyncio.sleep(1.5)
    ward.cancel()
    with pytest.raises(asyncio.CancelledError):
        await ward
    status = await retained_status(mosquitto.url, "bed-03")
    assert status["online"] is False and "ts" in status  # said goodbye, not the will


async def test_unreachable_broker_keeps_retrying_without_crashing() -> None:
    from tests.brokers import free_port

    stats = WardStats()
    await run_ward(f"mqtt://127.0.0.1:{free_port()}", 1, "stable", duration=1.5, stats=stats)
    assert stats.connects == 0 and stats.connect_failures >= 1 and stats.published == 0
