"""Loss of communication raises technical alarms in time (real broker): a bed that goes silent (configurable
time), a monitor whose connection dies (MQTT last will), the station losing the broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from pathlib import Path

import aiomqtt

from ingest.broker import BrokerUrl
from monitor.service import Station
from monitor.settings import Settings
from tests.brokers import private_mosquitto, require_mosquitto
from tests.conftest import alarm_frame, ws_recorder


async def publish(broker_url: str, topic: str, payload: dict) -> None:
    url = BrokerUrl.parse(broker_url)
    async with aiomqtt.Client(url.host, url.port) as client:
        await client.publish(topic, json.dumps(payload), qos=1)


async def test_a_silent_bed_raises_bed_silent_within_its_configured_time(
    station: Station, broker_url: str, topic_root: str
) -> None:
    station.desk.set_bed_limits("bed-s", None, {"technical.silence_s": 2}, "test")
    url = BrokerUrl.parse(broker_url)
    async with ws_recorder(station) as ws:
        async with aiomqtt.Client(url.host, url.port) as client:
            for _ in range(3):
                await client.publish(f"{topic_root}/bed-s/numerics", json.dumps({"ts": time.time(), "hr": 70}), qos=1)
                last = time.time()
                await asyncio.sleep(0.2)
        arrived, frame = await ws.wait_for(alarm_frame("bed-s", "bed_silent"), 6)
    alarm = frame["alarm"]
    last_seen = station.ward.beds["bed-s"].last_seen
    assert alarm["raised_at"] == last_seen + 2.0 and alarm["kind"] == "technical"
    delay = arrived - last
    print(
        f"bed_silent: websocket frame {delay:.2f} s after the last message "
        f"(limit 2 s + tick {station.settings.tick_s} s)"
    )
    assert 1.9 <= delay <= 2.0 + station.settings.tick_s + 0.4


def mqtt_connect_with_will(host: str, port: int, client_id: str, topic: str, message: bytes) -> socket.socket:
    """A bare MQTT 3.1.1 client with a retained QoS 1 last will (so the test can kill it without DISCONNECT)."""

    def text(b: bytes) -> bytes:
        return struct.pack("!H", len(b)) + b

    variable = text(b"MQTT") + bytes([4, 0x02 | 0x04 | 0x08 | 0x20]) + struct.pack("!H", 30)
    payload = text(client_id.encode()) + text(topic.encode()) + text(message)
    body = variable + payload
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(bytes([0x10, len(body)]) + body)
    connack = sock.recv(4)
    assert connack[:2] == b"\x20\x02" and connack[3] == 0, connack
    return sock


async def test_a_monitor_that_dies_raises_device_offline_at_once(
    station: Station, broker_url: str, topic_root: str
) -> None:
    url = BrokerUrl.parse(broker_url)
    await publish(broker_url, f"{topic_root}/bed-w/numerics", {"ts": time.time(), "hr": 70, "spo2": 97})
    sock = mqtt_connect_with_will(
        url.host, url.port, f"mon-{time.time_ns()}", f"{topic_root}/bed-w/status", b'{"online": false}'
    )
    async with ws_recorder(station) as ws:
        await asyncio.sleep(0.3)
        killed = time.time()
        sock.shutdown(socket.SHUT_RDWR)  # no DISCONNECT: the broker publishes the will
        sock.close()
        arrived, frame = await ws.wait_for(alarm_frame("bed-w", "device_offline"), 5)
    print(f"device_offline: websocket frame {arrived - killed:.3f} s after the monitor's connection died")
    assert arrived - killed < 1.0
    assert frame["alarm"]["kind"] == "technical"


async def test_losing_the_broker_raises_a_station_wide_alarm(topic_root: str, tmp_path: Path) -> None:
    require_mosquitto()
    with private_mosquitto() as broker:
        settings = Settings(topic_root=topic_root, port=0, tick_s=0.1, data_dir=tmp_path / "var", open_viewing=True)
        station = Station(settings)
        task = await station.start(BrokerUrl.parse(broker.url))
        try:
            for _ in range(200):
                if station.broker_connected:
                    break
                await asyncio.sleep(0.02)
            async with ws_recorder(station) as ws:
                lost = time.time()
                await asyncio.to_thread(broker.stop)
                arrived, frame = await ws.wait_for(alarm_frame("*", "broker_lost"), 10)
                print(f"broker_lost: websocket frame {arrived - lost:.3f} s after the broker stopped")
                assert arrived - lost < 2.0
                assert frame["alarm"]["priority"] == "high" and frame["alarm"]["bed"] == "*"
                await asyncio.to_thread(broker.start)
                await ws.wait_for(alarm_frame("*", "broker_lost", "cleared"), 15)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
