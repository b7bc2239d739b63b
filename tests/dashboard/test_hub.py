"""Websocket fan-out under overload: a slow dashboard loses waveform frames, never an alarm frame, and never
slows the producer or the other clients."""

from __future__ import annotations

import asyncio
import json
import time

from dashboard.hub import Hub
from monitor.metrics import Metrics


async def test_slow_client_loses_waves_first_and_alarms_never() -> None:
    metrics = Metrics()
    hub = Hub(metrics, queue_size=64)
    slow_got: list[dict] = []
    fast_got: list[dict] = []

    async def slow_send(text: str) -> None:
        await asyncio.sleep(0.005)  # a dashboard on a bad link: 200 frames/s at most
        slow_got.append(json.loads(text))

    async def fast_send(text: str) -> None:
        fast_got.append(json.loads(text))

    tasks = [asyncio.create_task(hub.serve(send, lambda: {"type": "snapshot"})) for send in (slow_send, fast_send)]
    while len(hub.clients) < 2:
        await asyncio.sleep(0)
    produce_s = []
    for i in range(2000):  # 2000 waveform frames and 20 alarm frames, as fast as the ingest path can make them
        t0 = time.perf_counter()
        hub.waves({"type": "waves", "i": i})
        if i % 100 == 50:
            hub.urgent({"type": "alarm", "i": i})
        produce_s.append(time.perf_counter() - t0)
        if i % 50 == 0:
            await asyncio.sleep(0)  # the ingest loop yields between MQTT messages
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and sum(f["type"] == "alarm" for f in slow_got) < 20:
        await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    alarms_slow = [f["i"] for f in slow_got if f["type"] == "alarm"]
    alarms_fast = [f["i"] for f in fast_got if f["type"] == "alarm"]
    expected = list(range(50, 2000, 100))
    assert alarms_slow == expected  # every alarm, in order
    assert alarms_fast == expected
    waves_slow = sum(f["type"] == "waves" for f in slow_got)
    assert waves_slow < 2000  # the slow client lost waveform frames ...
    assert sum(f["type"] == "waves" for f in fast_got) == 2000  # ... the fast one none
    assert metrics.ws_dropped.get(kind="waves") >= 2000 - waves_slow - 64  # lost = not sent and not queued
    assert metrics.ws_dropped.get(kind="alarm") == 0
    # an alarm frame jumps the waveform queue: it is sent at most one frame after it was raised
    first_alarm_at = next(k for k, f in enumerate(slow_got) if f["type"] == "alarm")
    assert sum(f["type"] == "waves" for f in slow_got[:first_alarm_at]) <= 64 + 1
    assert max(produce_s) < 0.05  # the producer never waits for a client


async def test_vitals_coalesce_per_bed_for_a_slow_client() -> None:
    metrics = Metrics()
    hub = Hub(metrics)
    got: list[dict] = []
    gate = asyncio.Event()

    async def send(text: str) -> None:
        await gate.wait()  # stuck until released
        got.append(json.loads(text))

    task = asyncio.create_task(hub.serve(send, lambda: {"type": "snapshot"}))
    while not hub.clients:
        await asyncio.sleep(0)
    for t in range(50):  # 5 s of vitals pushes while the client is stuck on its snapshot
        beds = [{"bed": f"b{i}", "vitals": {"pr": t}} for i in range(t % 3, 10, 3)]
        hub.vitals({"type": "vitals", "t": float(t), "beds": beds})
    hub.vitals({"type": "vitals", "t": 50.0, "beds": []})  # the heartbeat
    gate.set()
    while len(got) < 2:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [f["type"] for f in got] == ["snapshot", "vitals"]
    frame = got[1]
    assert frame["t"] == 50.0
    latest = {e["bed"]: e["vitals"]["pr"] for e in frame["beds"]}
    assert latest == {f"b{i}": max(t for t in range(50) if i in range(t % 3, 10, 3)) for i in range(10)}
    assert metrics.ws_vitals_superseded.total() > 0
    assert metrics.ws_dropped.total() == 0


async def test_heartbeat_vitals_frame_is_sent_when_no_bed_changed() -> None:
    hub = Hub(Metrics())
    got: list[dict] = []

    async def send(text: str) -> None:
        got.append(json.loads(text))

    task = asyncio.create_task(hub.serve(send, lambda: {"type": "snapshot"}))
    while not hub.clients:
        await asyncio.sleep(0)
    hub.vitals({"type": "vitals", "t": 1.0, "beds": []})
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert got[-1] == {"type": "vitals", "t": 1.0, "beds": []}
