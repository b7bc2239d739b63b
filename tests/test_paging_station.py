"""End to end: an alarm in a running station pages every channel (webhook, HL7 MLLP, MQTT pager, SMTP) with
real receivers; a failing channel raises "paging failed" at the station and the page goes to the next tier;
the pager acknowledges through its signed link; the all-clear follows the end of the alarm."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest_asyncio

from ingest.broker import BrokerUrl
from monitor.service import Station
from monitor.settings import Settings
from tests.conftest import alarm_frame, base_url, ws_recorder
from tests.receivers import HttpReceiver, MllpReceiver, SmtpReceiver


def paging_toml(hook: HttpReceiver, bad: HttpReceiver, am: MllpReceiver, smtp: SmtpReceiver, topic: str) -> str:
    return f"""
station = "Test PACU"
[tiers]
primary = ["nurse-hook", "alert-manager", "nurse-pager", "broken-gateway"]
charge = ["charge-email"]
[rules.high]
steps = [{{ tier = "primary", after_s = 0 }}, {{ tier = "charge", after_s = 60 }}]
[channels.nurse-hook]
type = "webhook"
url = "{hook.url}"
[channels.broken-gateway]
type = "webhook"
url = "{bad.url}"
retries = 2
backoff_s = 0.1
[channels.alert-manager]
type = "hl7-mllp"
host = "127.0.0.1"
port = {am.port}
[channels.nurse-pager]
type = "mqtt"
topic = "{topic}"
[channels.charge-email]
type = "smtp"
host = "127.0.0.1"
port = {smtp.port}
sender = "wardwatch@pacu.test"
to = ["charge@pacu.test"]
"""


@pytest_asyncio.fixture
async def receivers() -> AsyncIterator[dict[str, Any]]:
    with HttpReceiver() as hook, HttpReceiver(status=503) as bad, MllpReceiver() as am, SmtpReceiver() as smtp:
        yield {"hook": hook, "bad": bad, "am": am, "smtp": smtp}


async def publish(broker_url: str, topic: str, payload: dict[str, Any]) -> None:
    url = BrokerUrl.parse(broker_url)
    async with aiomqtt.Client(url.host, url.port) as client:
        await client.publish(topic, json.dumps(payload), qos=1)


async def test_a_page_travels_to_every_channel_and_a_failure_escalates(
    broker_url: str, topic_root: str, tmp_path: Path, receivers: dict[str, Any]
) -> None:
    data = tmp_path / "var"
    data.mkdir()
    pager_topic = f"{topic_root}-pager/primary"
    (data / "paging.toml").write_text(paging_toml(**receivers, topic=pager_topic))
    settings = Settings(topic_root=topic_root, port=0, tick_s=0.1, data_dir=data, broker=broker_url, open_viewing=True)
    station = Station(settings)
    task = await station.start(BrokerUrl.parse(broker_url))
    url = BrokerUrl.parse(broker_url)
    evidence: list[str] = []
    try:
        async with ws_recorder(station) as ws, aiomqtt.Client(url.host, url.port) as pager:
            await pager.subscribe(pager_topic, qos=1)
            t0 = time.time()
            await publish(broker_url, f"{topic_root}/bed-9/numerics", {"ts": t0, "hr": 88, "spo2": 81, "pr": 88})
            _, raised = await ws.wait_for(alarm_frame("bed-9", "desaturation"), 5)
            alarm = raised["alarm"]

            # primary tier: webhook, HL7 ORU^R40 over MLLP (ACKed), MQTT pager topic
            (hook,) = await asyncio.to_thread(receivers["hook"].wait, 1, 5)
            assert hook.body["phase"] == "start" and hook.body["alarm"]["id"] == alarm["id"]
            evidence.append(
                f"webhook   {hook.t - alarm['raised_at']:.3f}s  {hook.body['page_id']} "
                f"{hook.body['text'].splitlines()[0]}"
            )
            (hl7msg,) = await asyncio.to_thread(receivers["am"].wait, 1, 5)
            oru = hl7msg.body
            assert oru.field("MSH", 9) == "ORU^R40^ORU_R40" and oru.obx("196616")[8] == "PH~SP"
            assert oru.obx("68481")[5] == "start"
            evidence.append(
                f"hl7-mllp  {hl7msg.t - alarm['raised_at']:.3f}s  MSH-10={oru.field('MSH', 10)} "
                f"OBX-8={oru.obx('196616')[8]} ACK AA"
            )
            message = await asyncio.wait_for(anext(aiter(pager.messages)), 5)
            paged = json.loads(message.payload)
            assert paged["page_id"] == hook.body["page_id"]
            evidence.append(f"mqtt      topic {message.topic} {paged['page_id']} {paged['phase']}")

            # the broken gateway fails after its retries: "paging failed" at the station, the page goes to charge
            _, failed = await ws.wait_for(alarm_frame("*", "paging_failed"), 10)
            assert failed["alarm"]["priority"] == "medium" and "broken-gateway" in failed["alarm"]["message"]
            assert len(receivers["bad"].received) == 3  # 1 + 2 retries
            evidence.append(
                f"failing   broken-gateway: 3 attempts, HTTP 503 -> station alarm paging_failed: "
                f"{failed['alarm']['message']!r}"
            )
            (mail,) = await asyncio.to_thread(receivers["smtp"].wait, 1, 10)
            assert mail.body["Subject"].startswith("[Test PACU] ESCALATED HIGH bed-9: Desat")
            assert "paging failed on tier primary" in mail.body.get_payload()
            evidence.append(
                f"smtp      {mail.body['Subject']!r} to {mail.meta['to']} (escalated at once, not after 60 s)"
            )

            # the pager acknowledges with the signed link of its page
            async with httpx.AsyncClient(base_url=base_url(station)) as http:
                confirm = await http.get("/api/pager/ack", params={"token": hook.body["ack_token"]})
                assert confirm.status_code == 200 and "<form" in confirm.text  # a GET never acknowledges
                assert station.ward.alarms.get(alarm["id"]).state.value == "active"
                forged = await http.post("/api/pager/ack", json={"token": hook.body["ack_token"][:-3] + "AAA"})
                assert forged.status_code == 403
                acked = await http.post("/api/pager/ack", json={"token": hook.body["ack_token"]})
                assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "pager:primary"
            evidence.append("pager ack POST /api/pager/ack -> acknowledged_by pager:primary")

            # the condition ends: all-clear (phase end) to every tier paged
            n_hook = len(receivers["hook"].received)
            for _ in range(4):
                await publish(
                    broker_url, f"{topic_root}/bed-9/numerics", {"ts": time.time(), "hr": 88, "spo2": 97, "pr": 88}
                )
                await asyncio.sleep(0.8)
            await ws.wait_for(alarm_frame("bed-9", "desaturation", "cleared"), 5)
            hooks = await asyncio.to_thread(receivers["hook"].wait, n_hook + 1, 5)
            assert hooks[-1].body["phase"] == "end" and hooks[-1].body["ack_url"] is None
            mails = await asyncio.to_thread(receivers["smtp"].wait, 2, 10)
            assert mails[-1].body["Subject"].startswith("[Test PACU] ALL CLEAR")
            evidence.append(f"all-clear webhook phase=end, email {mails[-1].body['Subject']!r}")

        assert await station.desk.dispatcher.wait_idle(10)  # type: ignore[union-attr]
        async with httpx.AsyncClient(base_url=base_url(station)) as http:
            _, secret = station.desk.accounts.create_token("reader", "reviewer", by="test", now=time.time())
            pages = (
                await http.get(
                    "/api/pages", params={"alarm_id": alarm["id"]}, headers={"Authorization": f"Bearer {secret}"}
                )
            ).json()
        status = {(p["phase"], p["tier"], d["channel"]): d["status"] for p in pages for d in p["deliveries"]}
        assert status[("start", "primary", "nurse-hook")] == "delivered"
        assert status[("start", "primary", "broken-gateway")] == "failed"
        assert status[("escalate", "charge", "charge-email")] == "delivered"
        for line in evidence:
            print("PAGE EVIDENCE", line)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
