"""The nurse station in headless Chromium, fed by simulated monitors through a real broker: tiles, moving
strips, a tachycardia alarm appearing, and acknowledging it with a click."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from monitor.service import Station
from simulators.publisher import run_ward
from tests.conftest import base_url
from tests.dashboard.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "station-browser-pass-1"


async def test_tiles_strips_alarm_and_acknowledge(
    station: Station, broker_url: str, topic_root: str, tmp_path: Path
) -> None:
    station.desk.accounts.create_user("nina", "nurse", PASSWORD, by="test", now=time.time())
    timing = {"onset_s": 2.0, "ramp_s": 10.0, "hold_s": 120.0}
    ward = [
        asyncio.create_task(run_ward(broker_url, 1, "stable", topic_root=topic_root, bed_prefix="calm-")),
        asyncio.create_task(
            run_ward(
                broker_url, 1, "ketamine-tachycardia", topic_root=topic_root, bed_prefix="tachy-",
                scenario_params=timing,
            )
        ),
    ]  # fmt: skip
    try:
        async with browser_page(base_url(station) + "/") as page:
            for bed in ("calm-01", "tachy-01"):
                await page.get_by_test_id(f"bed-{bed}").wait_for(timeout=15000)
                await page.get_by_test_id(f"ecg-{bed}").wait_for(timeout=5000)
                await page.get_by_test_id(f"pleth-{bed}").wait_for(timeout=5000)

            async def strips() -> list[str]:
                return [
                    await page.get_by_test_id(f"{kind}-calm-01").evaluate("c => c.toDataURL()")
                    for kind in ("ecg", "pleth")
                ]

            await asyncio.sleep(3)
            before = await strips()
            await asyncio.sleep(1)
            after = await strips()
            assert before[0] != after[0] and before[1] != after[1], "ECG and pleth strips must move"
            hr = await page.locator("[data-testid=bed-calm-01] .num-hr").inner_text()
            assert any(ch.isdigit() for ch in hr), f"the calm bed shows an HR: {hr!r}"

            row = page.locator("[data-testid^=alarm-][data-type=tachycardia]")
            await row.first.wait_for(timeout=45000)
            alarm_id = (await row.first.get_attribute("data-testid") or "").removeprefix("alarm-")
            assert await row.first.get_attribute("data-priority") == "medium"
            assert await page.get_by_test_id("bed-tachy-01").get_attribute("data-alarm") == "medium"
            await page.screenshot(path=str(tmp_path / "station-alarm.png"))

            await page.get_by_test_id(f"ack-{alarm_id}").click()  # not signed in: it asks, then goes through
            await page.get_by_test_id("signin-dialog").wait_for(timeout=5000)
            await sign_in(page, "nina", PASSWORD)
            await page.wait_for_selector(f"[data-testid=alarm-{alarm_id}][data-state=acknowledged]", timeout=5000)
            await page.screenshot(path=str(tmp_path / "station-acknowledged.png"))
        alarm = station.ward.alarms.get(alarm_id)
        assert alarm.state.value == "acknowledged" and alarm.acknowledged_by == "nina"
        assert (tmp_path / "station-acknowledged.png").stat().st_size > 10_000
    finally:
        for task in ward:
            task.cancel()
        for task in ward:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
