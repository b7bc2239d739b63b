"""Republish a recording to MQTT in real time as a virtual bed (``wardwatch replay ... --to-broker URL --bed NAME``).

Messages go out at their recorded arrival times (scaled by ``speed``), re-stamped so the virtual bed looks live:
device times are shifted by the same offset as the arrivals, the bed id is ``bed``, and the payloads follow the
contract (``simulators.messages``), with the usual last will ``{"online": false}``. Markers (the recording
station's own actions) are not published: the receiving station acts for itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from monitor.messages import Message, Numerics, Status, WaveChunk
from store.codec import Marker

__all__ = ["republish", "to_payload"]

log = logging.getLogger(__name__)


def to_payload(msg: Message, root: str, bed: str, shift: float) -> tuple[str, bytes, int, bool]:
    """(topic, payload, qos, retain) of a message for ``bed``, device time shifted by ``shift`` seconds."""
    from simulators.messages import numerics_message, status_message, waveform_message

    if isinstance(msg, WaveChunk):
        m = waveform_message(root, bed, msg.stream, ts=msg.ts + shift, fs=msg.fs, samples=msg.samples,  # type: ignore[arg-type]
                             seq=msg.seq or 0, lead=msg.lead if msg.stream == "ecg" else None)
    elif isinstance(msg, Numerics):
        m = numerics_message(root, bed, ts=msg.ts + shift, hr=msg.hr, spo2=msg.spo2, pr=msg.pr)
    else:
        assert isinstance(msg, Status)
        m = status_message(root, bed, online=msg.online, ts=None if msg.ts is None else msg.ts + shift,
                           leads_off=msg.leads_off, probe_off=msg.probe_off)
    return m.topic, m.payload, m.qos, m.retain


def republish(entries: Iterable[tuple[float, object]], broker_url: str, bed: str, *, topic_root: str = "vitals",
              speed: float = 1.0) -> int:
    """Publish until the recording ends; returns the number of messages sent."""
    return asyncio.run(_republish(entries, broker_url, bed, topic_root, speed))


async def _republish(entries: Iterable[tuple[float, object]], broker_url: str, bed: str, root: str,
                     speed: float) -> int:
    import aiomqtt

    from ingest.broker import BrokerUrl
    from simulators.messages import status_message, will_message

    url = BrokerUrl.parse(broker_url)
    will = will_message(root, bed)
    sent = 0
    async with aiomqtt.Client(
        url.host, url.port, username=url.username, password=url.password, identifier=f"wardwatch-replay-{bed}",
        will=aiomqtt.Will(will.topic, will.payload, will.qos, will.retain), max_queued_outgoing_messages=10_000,
    ) as client:
        online = status_message(root, bed, online=True, ts=time.time())
        await client.publish(online.topic, online.payload, qos=1, retain=True)
        first: float | None = None
        wall0 = time.time()
        for arrival, item in entries:
            if isinstance(item, Marker):
                continue
            assert isinstance(item, WaveChunk | Numerics | Status)
            if first is None:
                first = arrival
            due = wall0 + (arrival - first) / speed
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            shift = wall0 - first  # device times move with the arrivals
            topic, payload, qos, retain = to_payload(item, root, bed, shift)
            await client.publish(topic, payload, qos=qos, retain=retain)
            sent += 1
        goodbye = status_message(root, bed, online=False, ts=time.time())
        await client.publish(goodbye.topic, goodbye.payload, qos=1, retain=True)
    log.info("republished %d messages as bed %s", sent, bed)
    return sent
