"""The station page in headless Chromium: sign in, acknowledge, pause a bed's audio, edit a limit, switch an
alarm off; audio follows acks and pauses; a closed station asks for a sign-in before it shows anything."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import time
from typing import Any

import aiomqtt
import pytest

from ingest.broker import BrokerUrl
from monitor.service import Station
from monitor.settings import Settings
from tests.conftest import IN_CI, base_url
from tests.dashboard.browser import CHROMIUM, browser_page
from tests.dashboard.browser import sign_in as browser_sign_in

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-pass-1"


async def publish_numerics(broker: str, root: str, values: dict[str, dict[str, float]], stop: asyncio.Event) -> None:
    url = BrokerUrl.parse(broker)
    async with aiomqtt.Client(url.host, url.port) as client:
        while not stop.is_set():
            for bed, v in values.items():
                await client.publish(f"{root}/{bed}/numerics", json.dumps({"ts": time.time(), **v}), qos=1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


async def sign_in(page: Any, user: str) -> None:
    await browser_sign_in(page, user, PASSWORD)


async def test_sign_in_acknowledge_pause_and_edit_a_limit(station: Station, broker_url: str, topic_root: str) -> None:
    now = time.time()
    station.desk.accounts.create_user("carol", "charge_nurse", PASSWORD, by="test", now=now)
    # only the desaturations should sound here: SpO2 low (the same 80 %, medium) waits its longest delay, so a
    # slow run (CI, Chromium starting) does not add a third, unacknowledged alarm before the audio checks
    for bed in ("bed-1", "bed-2"):
        station.desk.set_bed_limits(bed, None, {"spo2.low_delay_s": 120}, by="test")
    stop = asyncio.Event()
    feeder = asyncio.create_task(
        publish_numerics(
            broker_url,
            topic_root,
            {"bed-1": {"hr": 80, "spo2": 80, "pr": 80}, "bed-2": {"hr": 80, "spo2": 80, "pr": 80}},
            stop,
        )
    )
    try:
        async with browser_page(base_url(station) + "/") as page:
            await page.get_by_test_id("bed-bed-1").wait_for(timeout=10000)
            row1 = page.locator("[data-testid^=alarm-][data-type=desaturation]").first
            await row1.wait_for(timeout=10000)
            # not signed in: the page shows alarms, actions ask for a sign-in
            assert await page.get_by_test_id("signin-open").is_visible()
            await page.get_by_test_id("signin-open").click()
            await sign_in(page, "carol")
            assert "carol" in await page.get_by_test_id("user-badge").inner_text()

            # audio: two unacknowledged high alarms -> the high pattern
            await page.wait_for_function("window.wardwatch.audio && window.wardwatch.audio.level === 'high'")
            assert await page.evaluate("window.wardwatch.audio.plays.high") >= 1

            # acknowledge bed-1's desaturation
            bed1 = station.ward.alarms.open_alarms("bed-1")[0]
            await page.get_by_test_id(f"ack-{bed1.id}").click()
            await page.wait_for_selector(f"[data-testid=alarm-{bed1.id}][data-state=acknowledged]", timeout=5000)
            assert station.ward.alarms.get(bed1.id).acknowledged_by == "carol"
            assert await page.evaluate("window.wardwatch.audio.level") == "high"  # bed-2 still sounds

            # pause bed-2's audio: nothing sounds any more, but bed-2's alarm is still shown
            await page.get_by_test_id("pause-bed-2").click()
            await page.get_by_test_id("paused-bed-2").wait_for(timeout=5000)
            countdown = await page.get_by_test_id("paused-bed-2").inner_text()
            assert "1:5" in countdown or "2:00" in countdown, countdown
            await page.wait_for_function("window.wardwatch.audio.level === null")
            bed2 = station.ward.alarms.open_alarms("bed-2")[0]
            assert await page.locator(f"[data-testid=alarm-{bed2.id}][data-state=active]").count() == 1
            assert "bed-2" in station.desk.controls.pauses

            # edit a limit: a bad value is refused with the server's message, a good one is saved
            await page.get_by_test_id("settings-bed-1").click()
            await page.get_by_test_id("bed-dialog").wait_for(timeout=5000)
            await page.wait_for_function("document.querySelector('[data-testid=\"limit-hr.high\"]').value !== ''")
            await page.get_by_test_id("limit-hr.high").fill("100")
            await page.get_by_test_id("limit-hr.low").fill("110")  # bradycardia above tachycardia: refused
            await page.get_by_test_id("limits-save").click()
            await page.wait_for_function(
                "document.querySelector('[data-testid=limits-error]').textContent.includes('Not saved')"
            )
            assert "low < high" in await page.get_by_test_id("limits-error").inner_text()
            await page.get_by_test_id("limit-hr.low").fill("50")
            await page.get_by_test_id("limit-hr.high").fill("130")
            await page.get_by_test_id("limits-save").click()
            await page.wait_for_function(
                "document.querySelector('[data-testid=limits-status]').textContent.includes('Saved')"
            )
            assert station.desk.limits.limits_for("bed-1").hr.high == 130
            assert station.ward.beds["bed-1"].limits.hr.high == 130

            # switch the SpO2-low alarm of bed-1 off, with a reason: shown on the tile while off
            await page.get_by_test_id("condition-off-spo2_low").click()
            await page.get_by_test_id("off-reason-spo2_low").fill("chronic low saturation, doctor informed")
            await page.get_by_test_id("off-confirm-spo2_low").click()
            await page.get_by_test_id("condition-on-spo2_low").wait_for(timeout=5000)
            await page.get_by_test_id("bed-dialog-close").click()
            chip = page.get_by_test_id("off-bed-1-spo2_low")
            await chip.wait_for(timeout=5000)
            assert "doctor informed" in (await chip.get_attribute("title") or "")
            await page.screenshot(path=str(station.settings.data_dir / "operator.png"))

        await asyncio.to_thread(station.desk.writer.flush)
        kinds = [(e.kind, e.actor) for e in station.desk.audit.query()]
        for expected in ("sign_in", "alarm_acknowledged", "audio_paused", "limits_changed", "condition_off"):
            assert (expected, "carol") in kinds, (expected, kinds)
    finally:
        stop.set()
        await feeder


async def test_closed_station_asks_for_a_sign_in_first(broker_url: str, topic_root: str, tmp_path: Any) -> None:
    settings = Settings(topic_root=topic_root, port=0, tick_s=0.1, data_dir=tmp_path / "var", open_viewing=False)
    station = Station(settings)
    station.desk.accounts.create_user("rita", "reviewer", PASSWORD, by="test", now=time.time())
    task = await station.start(BrokerUrl.parse(broker_url))
    try:
        async with browser_page(base_url(station) + "/") as page:
            await page.get_by_test_id("signin-dialog").wait_for(timeout=5000)
            assert await page.evaluate("window.wardwatch.store.serverUp") is False  # nothing shown before sign-in
            await sign_in(page, "rita")
            await page.wait_for_function("window.wardwatch.store.serverUp === true", timeout=10000)
            # a reviewer may look but not act
            assert await page.evaluate("window.wardwatch.session.can('acknowledge')") is False
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def test_ci_has_a_browser() -> None:
    if IN_CI:
        assert os.access(CHROMIUM, os.X_OK) or shutil.which("chromium"), "CI must have chromium"
