"""The MQTT subscriber loop: connect, subscribe, hand every message over, reconnect with jittered backoff.

The handler gets raw (topic, payload, retained, arrival time). Nothing a message contains can end this loop:
the handler is wrapped, and broker errors lead to a reconnect, never to an exit.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

import aiomqtt
import paho.mqtt.client as paho

from ingest.broker import BrokerUrl

__all__ = ["Subscriber", "MessageHandler"]

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool, float], None]

#: Packets read per "socket readable" event (bounded so one busy broker cannot starve the event loop).
MAX_PACKETS_PER_READ = 512


class _BatchReadingClient(aiomqtt.Client):
    """aiomqtt reads one MQTT packet per "socket readable" event, so a ward's burst of hundreds of waveform
    chunks takes as many event-loop iterations to come in, each shared with the websocket senders: under a
    full ward that queued messages for seconds in the kernel (benchmarks/capacity.py). This client reads
    every packet already received, up to ``MAX_PACKETS_PER_READ``, per event.

    It replaces aiomqtt's reader callback and calls paho's ``_packet_read``: both private, so the major versions
    are bounded in pyproject.toml, a paho without ``_packet_read`` keeps aiomqtt's own reader, and
    tests/ingest/test_subscriber.py checks the behaviour (a burst arrives whole and in order).
    """

    def _on_socket_open(self, client: paho.Client, userdata: object, sock: object) -> None:
        super()._on_socket_open(client, userdata, sock)  # type: ignore[arg-type]
        if not hasattr(client, "_packet_read"):  # pragma: no cover - another paho: aiomqtt's reader stays
            return

        def read_all() -> None:
            try:
                for _ in range(MAX_PACKETS_PER_READ):
                    if client._sock is None:  # noqa: SLF001
                        return
                    rc = client._packet_read()  # noqa: SLF001
                    if rc == paho.MQTT_ERR_AGAIN:
                        return
                    if rc > 0:
                        client._loop_rc_handle(rc)  # noqa: SLF001
                        return
            except Exception as exc:  # a broken socket: aiomqtt's own reader does the same
                if not self._disconnected.done():
                    self._disconnected.set_exception(exc)

        fileno = sock.fileno()  # type: ignore[attr-defined]
        self._loop.call_soon_threadsafe(self._loop.add_reader, fileno, read_all)


class Subscriber:
    def __init__(
        self,
        broker: BrokerUrl,
        topic_root: str,
        on_message: MessageHandler,
        on_connection: Callable[[bool], None],
        *,
        client_id: str = "wardwatch-station",
        keepalive: int = 5,
        backoff_min: float = 0.2,
        backoff_max: float = 5.0,
    ) -> None:
        self.broker = broker
        self.topic_root = topic_root
        self._on_message = on_message
        self._on_connection = on_connection
        self.client_id = client_id
        self.keepalive = keepalive
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.connected: bool | None = None  # unknown until the first attempt ends
        self.handler_errors = 0

    async def run(self) -> None:
        delay = self.backoff_min
        while True:
            try:
                async with _BatchReadingClient(
                    self.broker.host,
                    self.broker.port,
                    username=self.broker.username,
                    password=self.broker.password,
                    identifier=self.client_id,
                    keepalive=self.keepalive,
                    timeout=5,
                    max_queued_incoming_messages=100_000,
                ) as client:
                    await client.subscribe(f"{self.topic_root}/#", qos=1)
                    self._set_connected(True)
                    delay = self.backoff_min
                    async for message in client.messages:
                        self._dispatch(message)
            except aiomqtt.MqttError as exc:
                self._set_connected(False)
                wait = random.uniform(self.backoff_min, delay)
                log.warning("broker %s: %s; reconnecting in %.1f s", self.broker, exc, wait)
                await asyncio.sleep(wait)
                delay = min(self.backoff_max, delay * 2)

    def _dispatch(self, message: aiomqtt.Message) -> None:
        payload = message.payload
        if isinstance(payload, str):
            payload = payload.encode()
        elif not isinstance(payload, (bytes, bytearray)):
            payload = b"" if payload is None else str(payload).encode()
        try:
            self._on_message(str(message.topic), bytes(payload), bool(message.retain), time.time())
        except Exception:  # one bad message must never take the loop down
            self.handler_errors += 1
            log.exception("handler failed on topic %s", message.topic)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            log.info("broker %s %s", self.broker, "connected" if connected else "lost")
            try:
                self._on_connection(connected)
            except Exception:
                log.exception("connection handler failed")
