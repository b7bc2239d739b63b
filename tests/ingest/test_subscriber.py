"""The subscriber on a real broker: a burst of QoS 1 messages from many beds arrives whole and in order per
topic (the batched packet reader of ingest/subscriber.py relies on aiomqtt's and paho's internals)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import defaultdict

import paho.mqtt.client as paho

from ingest.broker import BrokerUrl
from ingest.subscriber import Subscriber

BEDS = 40
PER_BED = 100


def _publish_burst(url: BrokerUrl, root: str) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"burst-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(1000)
    client.connect(url.host, url.port)
    client.loop_start()
    infos = []
    for i in range(PER_BED):  # interleaved, as a ward's monitors publish
        for bed in range(BEDS):
            infos.append(client.publish(f"{root}/bed-{bed:02d}/ecg", str(i).encode(), qos=1))
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.disconnect()
    client.loop_stop()


async def test_burst_arrives_whole_and_in_order(broker_url: str) -> None:
    assert hasattr(paho.Client, "_packet_read"), "paho changed: ingest/subscriber.py's batched reader needs a look"
    url = BrokerUrl.parse(broker_url)
    root = f"t{uuid.uuid4().hex[:10]}/vitals"
    got: dict[str, list[int]] = defaultdict(list)
    connected = asyncio.Event()

    def on_message(topic: str, payload: bytes, retained: bool, arrival: float) -> None:
        got[topic].append(int(payload))

    def on_connection(up: bool) -> None:
        if up:
            connected.set()

    sub = Subscriber(url, root, on_message, on_connection, client_id=f"sub-{uuid.uuid4().hex[:8]}")
    task = asyncio.create_task(sub.run())
    try:
        await asyncio.wait_for(connected.wait(), 10)
        await asyncio.sleep(0.2)  # the subscription is in place
        t0 = time.monotonic()
        publisher = threading.Thread(target=_publish_burst, args=(url, root))
        publisher.start()
        while sum(map(len, got.values())) < BEDS * PER_BED and time.monotonic() - t0 < 30:
            await asyncio.sleep(0.02)
        await asyncio.to_thread(publisher.join)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(got) == BEDS
    for topic, values in got.items():
        assert values == list(range(PER_BED)), topic
    assert sub.handler_errors == 0
