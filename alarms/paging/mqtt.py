"""MQTT pager channel: publish the page JSON to a pager topic; the broker's PUBACK (QoS 1) is the delivery.

One long-lived client per channel, reconnected on demand. Not retained: a pager that connects later must not
get old pages. (Pager gateways subscribe with QoS 1 and a persistent session to receive pages queued while
they were briefly away.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid

import aiomqtt
import orjson

from alarms.paging.channel import DeliveryError, OutgoingPage
from alarms.paging.config import MqttConfig
from ingest.broker import BrokerUrl

__all__ = ["MqttChannel"]


class MqttChannel:
    def __init__(self, name: str, config: MqttConfig, *, default_broker: str | None = None) -> None:
        self.name = name
        self.config = config
        url = config.broker or default_broker
        if not url:
            raise DeliveryError(f'paging channel {name!r}: no broker (set broker = "mqtt://host:port")')
        self.broker = BrokerUrl.parse(url)
        self._password = os.environ.get(config.password_env, "") if config.password_env else self.broker.password
        self._username = config.username or self.broker.username
        self._client: aiomqtt.Client | None = None
        self._lock = asyncio.Lock()

    async def _connected(self) -> aiomqtt.Client:
        async with self._lock:
            if self._client is None:
                client = aiomqtt.Client(
                    self.broker.host,
                    self.broker.port,
                    username=self._username,
                    password=self._password,
                    identifier=f"wardwatch-pager-{uuid.uuid4().hex[:8]}",
                    timeout=self.config.timeout_s,
                    keepalive=10,
                )
                await client.__aenter__()
                self._client = client
            return self._client

    async def _drop(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.__aexit__(None, None, None)

    async def send(self, page: OutgoingPage) -> str:
        body = orjson.dumps(page.to_json())
        try:
            client = await asyncio.wait_for(self._connected(), self.config.timeout_s)
            await asyncio.wait_for(
                client.publish(self.config.topic, body, qos=self.config.qos, retain=False), self.config.timeout_s
            )
        except (aiomqtt.MqttError, TimeoutError, OSError) as exc:
            await self._drop()
            raise DeliveryError(f"MQTT {self.broker}: {exc.__class__.__name__} {exc}"[:300]) from exc
        return f"published to {self.config.topic}"

    async def aclose(self) -> None:
        await self._drop()
