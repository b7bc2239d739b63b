"""Shared fixtures: a real MQTT broker, a running station on a free port, a websocket recorder.

Brokers: a private Mosquitto per test session when Mosquitto is installed; otherwise the one on
127.0.0.1:1883 when it answers; otherwise (not in CI) an embedded amqtt broker. Each test gets its own topic
root, so tests sharing a broker never see each other's beds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_asyncio

from ingest.broker import BrokerUrl, EmbeddedBroker
from monitor.service import Station
from monitor.settings import Settings
from tests.brokers import mosquitto_path, private_mosquitto

IN_CI = os.environ.get("CI") == "true"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop, fail in CI (where every tool must be present)."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    if mosquitto_path() is not None:
        # as deployed (deploy/mosquitto/mosquitto.conf): the default queue of 1000 QoS 1 messages per client
        # drops a ward's burst when the station falls behind for a moment
        with private_mosquitto(extra_config="max_queued_messages 10000") as broker:
            yield broker.url
        return
    if _answers("127.0.0.1", 1883):
        yield "mqtt://127.0.0.1:1883"
        return
    if IN_CI:
        pytest.fail("no MQTT broker: install mosquitto (scripts/bootstrap.sh --test does)")
    embedded = EmbeddedBroker()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(embedded.start())
    import threading

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield embedded.url
    loop.call_soon_threadsafe(loop.stop)


@pytest.fixture
def topic_root() -> str:
    return f"t{uuid.uuid4().hex[:10]}/vitals"


@pytest.fixture
def station_settings(topic_root: str, tmp_path: Path) -> Settings:
    return Settings(
        topic_root=topic_root,
        port=0,
        tick_s=0.1,
        client_id=f"wardwatch-test-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path / "var",
        open_viewing=True,  # these tests watch the station without signing in (actions still need a user)
    )


@pytest_asyncio.fixture
async def station(broker_url: str, station_settings: Settings) -> AsyncIterator[Station]:
    """A running station (ingest, ticker, HTTP on a free port) against the test broker."""
    st = Station(station_settings)
    task = await st.start(BrokerUrl.parse(broker_url))
    deadline = time.monotonic() + 10
    while not st.broker_connected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert st.broker_connected, "station did not connect to the test broker"
    try:
        yield st
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def base_url(st: Station) -> str:
    return f"http://127.0.0.1:{st.http_port}"


@dataclass
class WsRecorder:
    """Collects every websocket frame with its arrival time (time.time())."""

    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, frame: dict[str, Any]) -> None:
        self.frames.append((time.time(), frame))
        self._new.set()

    def of_type(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, f) for t, f in self.frames if f.get("type") == kind]

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float
    ) -> tuple[float, dict[str, Any]]:
        """The first frame (already received or arriving within ``timeout`` s) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for t, frame in self.frames[checked:]:
                if predicate(frame):
                    return t, frame
            checked = len(self.frames)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching websocket frame within {timeout} s")
            self._new.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new.wait(), remaining)


@contextlib.asynccontextmanager
async def ws_recorder(st: Station) -> AsyncIterator[WsRecorder]:
    import websockets

    recorder = WsRecorder()
    async with websockets.connect(f"ws://127.0.0.1:{st.http_port}/ws", max_size=None) as ws:

        async def pump() -> None:
            async for raw in ws:
                recorder.add(orjson.loads(raw))

        task = asyncio.create_task(pump())
        try:
            await recorder.wait_for(lambda f: f.get("type") == "snapshot", 5)
            yield recorder
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def alarm_frame(bed: str, alarm_type: str, event: str = "raised") -> Callable[[dict[str, Any]], bool]:
    def match(frame: dict[str, Any]) -> bool:
        alarm = frame.get("alarm") or {}
        return (
            frame.get("type") == "alarm"
            and frame.get("event") == event
            and alarm.get("bed") == bed
            and alarm.get("type") == alarm_type
        )

    return match
