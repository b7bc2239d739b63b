"""The MQTT connection of one simulated bedside monitor (aiomqtt).

Connects with the last will ``{"online": false}`` (retained, QoS 1, on ``<root>/<bed>/status``), publishes
``{"online": true, ...}`` retained on every (re)connect, sends queued messages in order, notices a lost
connection at once (by watching aiomqtt's message stream) and reconnects with exponential backoff
(0.5 s to 10 s, jittered). Messages produced while the link is down are dropped and counted, as a real
monitor would lose them.

:meth:`BedLink.drop` is the ``dropout`` scenario: the TCP connection is shut down underneath aiomqtt without
an MQTT DISCONNECT, so the broker publishes the will (this works with MQTT 3.1.1 brokers such as amqtt, unlike
MQTT 5's "disconnect with will message"). :meth:`BedLink.close` and cancellation publish
``{"online": false, "ts": ...}`` retained, then disconnect cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import socket
import uuid
from collections.abc import Callable, Sequence

import aiomqtt

from ingest.broker import BrokerUrl
from simulators.bed import BedStream
from simulators.messages import Message
from simulators.stats import WardStats

__all__ = ["BedLink"]

logger = logging.getLogger(__name__)
mqtt_logger = logging.getLogger(f"{__name__}.mqtt")  # aiomqtt/paho chatter; quiet by default
mqtt_logger.setLevel(logging.WARNING)

_BACKOFF_MIN_S = 0.5
_BACKOFF_MAX_S = 10.0
_MAX_BACKLOG = 64  # queued messages per bed before new ones are dropped (~7 s of data at 250 ms chunks)
_CLOSE_TIMEOUT_S = 2.0
_PUBLISH_TIMEOUT_S = 5.0


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_DROP = _Sentinel("DROP")
_CLOSE = _Sentinel("CLOSE")


class _Dropped(Exception):
    """Raised inside the client context to leave it after shutting down the socket."""


class BedLink:
    """One bed's MQTT connection: will, online announcement, ordered sending, reconnect with backoff.

    ``now`` gives the bed's scenario time (for the ``ts`` of status messages). Run :meth:`run` as a task;
    the tick loop calls :meth:`send`, :meth:`drop`, :meth:`resume` and finally :meth:`close`.
    """

    def __init__(
        self, address: BrokerUrl, bed: BedStream, now: Callable[[], float], stats: WardStats, seed: int
    ) -> None:
        self._address, self._bed, self._now, self._stats = address, bed, now, stats
        self._queue: asyncio.Queue[Message | _Sentinel] = asyncio.Queue()
        self._wanted = asyncio.Event()
        self._wanted.set()
        self._closing = False
        self._closed = asyncio.Event()
        self._random = random.Random(seed)
        self.connected = False
        self.name = bed.config.bed

    # -- called by the tick loop --------------------------------------------------------------------

    @property
    def wanted(self) -> bool:
        return self._wanted.is_set()

    def send(self, messages: Sequence[Message]) -> None:
        if not self.connected or self._queue.qsize() + len(messages) > _MAX_BACKLOG:
            self._stats.dropped += len(messages)
            return
        for message in messages:
            self._queue.put_nowait(message)

    def drop(self) -> None:
        """Go offline ungracefully (no DISCONNECT: the broker publishes the will)."""
        self._wanted.clear()
        self._discard_queue()
        self._queue.put_nowait(_DROP)

    def resume(self) -> None:
        self._wanted.set()

    def close(self) -> None:
        """Stop: publish offline status, disconnect cleanly."""
        self._closing = True
        self._closed.set()
        self._wanted.set()
        self._queue.put_nowait(_CLOSE)

    # -- the link task ------------------------------------------------------------------------------

    async def run(self) -> None:
        backoff = _BACKOFF_MIN_S
        while not self._closing:
            await self._wanted.wait()
            if self._closing:
                return
            try:
                async with self._client() as client:
                    if not self._wanted.is_set():
                        _shutdown_socket(client)
                        raise _Dropped
                    for message in self._bed.connect_messages(max(self._now(), 0.0)):
                        await self._publish(client, message)
                    self._discard_queue()  # anything queued before this connection is stale
                    if self._closing:
                        await self._say_offline(client)
                        return
                    self.connected = True
                    self._stats.connects += 1
                    backoff = _BACKOFF_MIN_S
                    logger.info("%s: connected to %s", self.name, self._address)
                    await self._pump_until_lost(client)
                return  # closed gracefully
            except _Dropped:
                logger.info("%s: dropped the connection (ungraceful, will published)", self.name)
            except aiomqtt.MqttError as exc:
                if not self._wanted.is_set():
                    continue  # the failure came from our own drop
                self._stats.connect_failures += 1
                delay = backoff * self._random.uniform(0.8, 1.2)
                logger.warning("%s: MQTT error (%s); reconnecting in %.1f s", self.name, exc, delay)
                self.connected = False
                self._discard_queue()
                with contextlib.suppress(TimeoutError):  # back off, unless asked to stop meanwhile
                    await asyncio.wait_for(self._closed.wait(), delay)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)
            finally:
                self.connected = False

    async def _pump_until_lost(self, client: aiomqtt.Client) -> None:
        """Send until closed or dropped; raise ``MqttError`` as soon as the connection is lost (a pending
        publish would otherwise only notice at its timeout)."""
        pump = asyncio.create_task(self._pump(client), name=f"send:{self.name}")
        watch = asyncio.create_task(_until_disconnected(client), name=f"watch:{self.name}")
        try:
            await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
            if pump.done() and not pump.cancelled() and isinstance(pump.exception(), _Dropped):
                await asyncio.wait({watch}, timeout=_CLOSE_TIMEOUT_S)  # let aiomqtt see the socket close
        finally:
            for task in (pump, watch):
                task.cancel()
            results = await asyncio.gather(pump, watch, return_exceptions=True)
        if pump.done() and not pump.cancelled() and pump.exception() is None:
            return
        errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
        dropped = [e for e in errors if isinstance(e, _Dropped)]
        raise (dropped or errors or [aiomqtt.MqttError("connection lost")])[0]

    async def _pump(self, client: aiomqtt.Client) -> None:
        try:
            while True:
                item = await self._queue.get()
                if item is _DROP:
                    self._stats.drops += 1
                    self.connected = False
                    _shutdown_socket(client)
                    raise _Dropped
                if item is _CLOSE:
                    await self._say_offline(client)
                    return
                assert isinstance(item, Message)
                await self._publish(client, item)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self._say_offline(client)
            raise

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        self.connected = False
        message = self._bed.offline_message(max(self._now(), 0.0))
        async with asyncio.timeout(_CLOSE_TIMEOUT_S):
            await self._publish(client, message)

    async def _publish(self, client: aiomqtt.Client, message: Message) -> None:
        # asyncio.timeout is cheaper than aiomqtt's own timeout (asyncio.wait_for makes a task per call)
        try:
            async with asyncio.timeout(_PUBLISH_TIMEOUT_S):
                await client.publish(
                    message.topic, message.payload, qos=message.qos, retain=message.retain, timeout=math.inf
                )
        except TimeoutError:
            raise aiomqtt.MqttError(f"publish not confirmed within {_PUBLISH_TIMEOUT_S} s") from None
        self._stats.published += 1
        self._stats.bytes += len(message.payload)

    def _client(self) -> aiomqtt.Client:
        will = self._bed.will()
        address = self._address
        return aiomqtt.Client(
            address.host,
            address.port,
            username=address.username,
            password=address.password,
            identifier=f"wardwatch-sim-{self.name}-{uuid.uuid4().hex[:8]}",
            will=aiomqtt.Will(will.topic, will.payload, will.qos, will.retain),
            keepalive=30,
            timeout=5.0,
            max_inflight_messages=20,
            logger=mqtt_logger,
        )

    def _discard_queue(self) -> None:
        """Forget queued messages (and a pending drop); a pending close stays."""
        closing = False
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, Message):
                self._stats.dropped += 1
            closing = closing or item is _CLOSE
        if closing:
            self._queue.put_nowait(_CLOSE)


async def _until_disconnected(client: aiomqtt.Client) -> None:
    """Wait until the connection is lost, then raise ``MqttError`` (we subscribe to nothing, so no messages)."""
    async for _ in client.messages:
        pass
    raise aiomqtt.MqttError("message stream ended")


def _shutdown_socket(client: aiomqtt.Client) -> None:
    """Cut the TCP connection under aiomqtt without sending DISCONNECT (aiomqtt has no public API for it)."""
    sock = client._client.socket()  # noqa: SLF001
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
