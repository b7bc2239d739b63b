"""HTTP webhook channel: POST the page as JSON; any 2xx answer is a delivery.

Headers: ``Idempotency-Key`` (the page id: the same page re-sent after a restart has the same key),
``X-WardWatch-Page`` (same), and with ``secret_env`` set ``X-WardWatch-Signature: sha256=<hex HMAC of the body>``.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import httpx
import orjson

from alarms.paging.channel import DeliveryError, OutgoingPage
from alarms.paging.config import WebhookConfig

__all__ = ["WebhookChannel", "signature"]


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookChannel:
    def __init__(self, name: str, config: WebhookConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.name = name
        self.config = config
        self._secret = os.environ.get(config.secret_env, "").encode() if config.secret_env else b""
        self._client = httpx.AsyncClient(
            timeout=config.timeout_s,
            transport=transport,
            limits=httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency),
        )

    async def send(self, page: OutgoingPage) -> str:
        body = orjson.dumps(page.to_json())
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": page.id,
            "X-WardWatch-Page": page.id,
            **self.config.headers,
        }
        if self._secret:
            headers["X-WardWatch-Signature"] = signature(self._secret, body)
        try:
            response = await self._client.post(self.config.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"timed out after {self.config.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{exc.__class__.__name__}: {exc}"[:300]) from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code} {response.text[:120]!r}")
        return f"HTTP {response.status_code}"

    async def aclose(self) -> None:
        await self._client.aclose()
