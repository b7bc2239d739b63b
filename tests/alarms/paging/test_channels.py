"""Each notifier channel against a real receiver started by the test: HTTP server, aiosmtpd, MLLP listener
(parses the ORU^R40, answers an ACK), a real MQTT broker; and each one's failures."""

from __future__ import annotations

import asyncio
import json
import time

import aiomqtt
import pytest

from alarms import hl7
from alarms.escalation import Escalator
from alarms.model import AlarmEvent
from alarms.paging.channel import DeliveryError, OutgoingPage
from alarms.paging.config import MllpConfig, MqttConfig, SmtpConfig, WebhookConfig
from alarms.paging.mllp import MllpChannel
from alarms.paging.mqtt import MqttChannel
from alarms.paging.smtp import SmtpChannel
from alarms.paging.webhook import WebhookChannel, signature
from ingest.broker import BrokerUrl
from tests.receivers import HttpReceiver, MllpReceiver, SmtpReceiver, closed_port

ALARM = {
    "id": "a1b2c3",
    "bed": "bed-03",
    "type": "desaturation",
    "label": "Desat",
    "priority": "high",
    "kind": "physiological",
    "state": "active",
    "onset": 1000.0,
    "raised_at": 1000.0,
    "value": 82.0,
    "limit": 85.0,
    "message": "SpO2 82 < 85 %",
    "acknowledged_at": None,
}


def outgoing() -> OutgoingPage:
    (page,) = Escalator().on_event(AlarmEvent("raised", 1000.0, dict(ALARM)))
    return OutgoingPage(page, station="Test ward", ack_url="http://station/api/pager/ack?token=t.s", ack_token="t.s")


async def test_webhook_posts_signed_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", "s" * 32)
    with HttpReceiver() as hook:
        channel = WebhookChannel("hook", WebhookConfig(type="webhook", url=hook.url, secret_env="HOOK_SECRET"))
        assert await channel.send(outgoing()) == "HTTP 200"
        await channel.aclose()
        (got,) = hook.received
    body, headers = got.body, got.meta["headers"]
    assert body["page_id"] == "a1b2c3-000" and body["phase"] == "start" and body["tier"] == "primary"
    assert body["priority"] == "high" and body["bed"] == "bed-03" and body["ack_url"].endswith("token=t.s")
    assert headers["Idempotency-Key"] == "a1b2c3-000"
    assert headers["X-WardWatch-Signature"] == signature(b"s" * 32, got.meta["raw"])


async def test_webhook_failures() -> None:
    with HttpReceiver(status=503) as bad:
        channel = WebhookChannel("bad", WebhookConfig(type="webhook", url=bad.url))
        with pytest.raises(DeliveryError, match="HTTP 503"):
            await channel.send(outgoing())
        await channel.aclose()
    with HttpReceiver(delay=1.0) as slow:
        channel = WebhookChannel("slow", WebhookConfig(type="webhook", url=slow.url, timeout_s=0.2))
        with pytest.raises(DeliveryError, match="timed out"):
            await channel.send(outgoing())
        await channel.aclose()
    channel = WebhookChannel("gone", WebhookConfig(type="webhook", url=f"http://127.0.0.1:{closed_port()}/"))
    with pytest.raises(DeliveryError):
        await channel.send(outgoing())
    await channel.aclose()


async def test_smtp_email_reaches_aiosmtpd() -> None:
    with SmtpReceiver() as smtp:
        config = SmtpConfig(
            type="smtp", host=smtp.host, port=smtp.port, sender="ww@pacu.local", to=["charge@pacu.local"]
        )
        assert "accepted" in await SmtpChannel("mail", config).send(outgoing())
        (got,) = smtp.received
    msg = got.body
    assert got.meta["to"] == ["charge@pacu.local"]
    assert msg["Subject"] == "[Test ward] HIGH bed-03: Desat"
    assert msg["Message-ID"] == "<a1b2c3-000@pacu.local>" and msg["X-Priority"] == "1"
    text = msg.get_payload()
    assert "SpO2 82 < 85 %" in text and "Acknowledge: http://station/api/pager/ack?token=t.s" in text


async def test_smtp_unreachable() -> None:
    config = SmtpConfig(type="smtp", host="127.0.0.1", port=closed_port(), sender="a@b.c", to=["d@e.f"], timeout_s=1)
    with pytest.raises(DeliveryError, match="SMTP"):
        await SmtpChannel("mail", config).send(outgoing())


async def test_mllp_sends_oru_r40_and_waits_for_the_ack() -> None:
    with MllpReceiver() as am:
        channel = MllpChannel("am", MllpConfig(type="hl7-mllp", host=am.host, port=am.port))
        assert await channel.send(outgoing()) == "HL7 ACK AA"
        (got,) = am.received
    msg = got.body
    assert msg.field("MSH", 9) == "ORU^R40^ORU_R40" and msg.field("MSH", 10) == "a1b2c3-000.am"
    assert msg.obx("196616")[8] == "PH~SP"
    assert msg.obx("68481")[5] == "start"
    assert msg.obx("150456")[5] == "82"


@pytest.mark.parametrize("receiver", [{"ack_code": "AE"}, {"silent": True}])
async def test_mllp_refused_or_no_ack_is_a_failure(receiver: dict) -> None:
    with MllpReceiver(**receiver) as am:
        channel = MllpChannel("am", MllpConfig(type="hl7-mllp", host=am.host, port=am.port, timeout_s=0.5))
        with pytest.raises(DeliveryError, match="refused|no HL7 ACK"):
            await channel.send(outgoing())
    channel = MllpChannel("am", MllpConfig(type="hl7-mllp", host="127.0.0.1", port=closed_port()))
    with pytest.raises(DeliveryError, match="MLLP"):
        await channel.send(outgoing())


async def test_mqtt_pager_topic(broker_url: str, topic_root: str) -> None:
    topic = f"{topic_root}/pager/primary"
    url = BrokerUrl.parse(broker_url)
    async with aiomqtt.Client(url.host, url.port) as sub:
        await sub.subscribe(topic, qos=1)
        channel = MqttChannel("pager", MqttConfig(type="mqtt", topic=topic), default_broker=broker_url)
        assert "published" in await channel.send(outgoing())
        message = await asyncio.wait_for(anext(aiter(sub.messages)), 5)
        await channel.aclose()
    body = json.loads(message.payload)
    assert body["page_id"] == "a1b2c3-000" and body["text"].startswith("HIGH bed-03: Desat")
    assert not message.retain


async def test_mqtt_broker_down_is_a_failure() -> None:
    config = MqttConfig(type="mqtt", topic="pager/x", broker=f"mqtt://127.0.0.1:{closed_port()}", timeout_s=1)
    channel = MqttChannel("pager", config)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="MQTT"):
        await channel.send(outgoing())
    assert time.monotonic() - started < 5
    await channel.aclose()


def test_hl7_message_of_the_channel_is_parseable() -> None:
    control, raw = MllpChannel("am", MllpConfig(type="hl7-mllp", host="h", port=1)).message(outgoing(), now=0)
    assert hl7.parse_message(raw).field("MSH", 10) == control
