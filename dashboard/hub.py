"""Websocket fan-out with priorities: alarm frames first and never dropped; vitals and waveforms degrade.

Each client gets its own bounded buffers and its own sender task, so a slow client only ever slows itself
and never the alarm evaluation. Frames are encoded once per broadcast, not once per client.
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
    vitals: deque[str] = field(default_factory=lambda: deque(maxlen=4))
    waves: deque[str] = field(init=False)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    closed: bool = False

    def __post_init__(self) -> None:
        self.waves = deque(maxlen=self.queue_size)

    def next_frame(self) -> str | None:
        for q in (self.urgent, self.vitals, self.waves):
            if q:
                return q.popleft()
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
        self._droppable(frame, "vitals")

    def waves(self, frame: dict[str, Any]) -> None:
        self._droppable(frame, "waves")

    def _droppable(self, frame: dict[str, Any], kind: str) -> None:
        if not self.clients:
            return
        data = encode(frame)
        for client in self.clients:
            q: deque[str] = getattr(client, kind)
            if q.maxlen is not None and len(q) == q.maxlen:
                client.dropped += 1
                self.metrics.ws_dropped.inc(kind=kind)
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
