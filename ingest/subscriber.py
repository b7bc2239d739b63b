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

from ingest.broker import BrokerUrl

__all__ = ["Subscriber", "MessageHandler"]

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool, float], None]


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
                async with aiomqtt.Client(
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
