"""Websocket fan-out with priorities: alarm frames first and never dropped; vitals coalesce; waveforms degrade.

Each client gets its own bounded buffers and its own sender task, so a slow client only ever slows itself
and never the alarm evaluation. Alarm and waveform frames are encoded once per broadcast, not once per client.
Vitals are kept per bed until the client's sender takes them: a client that falls behind gets one frame with
the latest vitals of every bed that changed, never a stale value and never a bed left out.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from monitor.metrics import Metrics

__all__ = ["Hub", "Client"]

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]
#: A client with this many alarm frames unsent is too slow to be trusted: disconnect it (it reconnects).
MAX_PENDING_ALARMS = 1000


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame, option=orjson.OPT_SERIALIZE_NUMPY).decode()


@dataclass(eq=False)
class Client:
    send: Send
    queue_size: int
    urgent: deque[str] = field(default_factory=deque)
    vitals: dict[str, dict[str, Any]] = field(default_factory=dict)  # bed -> its latest vitals entry, unsent
    vitals_t: float = 0.0
    vitals_due: bool = False  # a vitals frame is owed (an empty one is the heartbeat)
    waves: deque[str] = field(init=False)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    closed: bool = False

    def __post_init__(self) -> None:
        self.waves = deque(maxlen=self.queue_size)

    def next_frame(self) -> str | None:
        if self.urgent:
            return self.urgent.popleft()
        if self.vitals_due:
            beds, self.vitals, self.vitals_due = list(self.vitals.values()), {}, False
            return encode({"type": "vitals", "t": self.vitals_t, "beds": beds})
        if self.waves:
            return self.waves.popleft()
        return None


class Hub:
    def __init__(self, metrics: Metrics, queue_size: int = 256) -> None:
        self.metrics = metrics
        self.queue_size = queue_size
        self.clients: set[Client] = set()

    # -- producers (synchronous: called from the ingest path) --------------------------------------------
    def urgent(self, frame: dict[str, Any]) -> None:
        """Alarm and connection frames: queued ahead of everything, never dropped."""
        data = encode(frame)
        for client in list(self.clients):
            client.urgent.append(data)
            if len(client.urgent) > MAX_PENDING_ALARMS:
                log.warning("websocket client too slow for alarm frames; disconnecting it")
                client.closed = True
            client.wake.set()

    def vitals(self, frame: dict[str, Any]) -> None:
        """A ``{"type": "vitals", "t", "beds": [...]}`` frame: merged into each client's unsent vitals per bed."""
        for client in self.clients:
            pending = client.vitals
            superseded = 0
            for entry in frame["beds"]:
                superseded += entry["bed"] in pending
                pending[entry["bed"]] = entry
            if superseded:
                self.metrics.ws_vitals_superseded.inc(superseded)
            client.vitals_t = frame["t"]
            client.vitals_due = True
            client.wake.set()

    def waves(self, frame: dict[str, Any]) -> None:
        if not self.clients:
            return
        data = encode(frame)
        for client in self.clients:
            q = client.waves
            if len(q) == q.maxlen:
                client.dropped += 1
                self.metrics.ws_dropped.inc(kind="waves")
            q.append(data)
            client.wake.set()

    # -- consumers ------------------------------------------------------------------------------------
    async def serve(self, send: Send, snapshot: Callable[[], dict[str, Any]]) -> None:
        """Send frames to one client until it goes away; the snapshot is taken and sent first."""
        client = Client(send=send, queue_size=self.queue_size)
        client.urgent.append(encode(snapshot()))
        self.clients.add(client)
        self.metrics.ws_clients.set(len(self.clients))
        try:
            while not client.closed:
                frame = client.next_frame()
                if frame is None:
                    client.wake.clear()
                    await client.wake.wait()
                    continue
                await send(frame)
        finally:
            self.clients.discard(client)
            self.metrics.ws_clients.set(len(self.clients))
