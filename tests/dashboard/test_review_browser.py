"""The review pages in headless Chromium: mitdb 210 imported and reviewed (AF and VT on the timeline, strips at
25 mm/s, playback, an annotation), and the station page's session section (admit, note, discharge)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import orjson
import pytest

from ingest.broker import BrokerUrl
from monitor.commands.review import serve_review
from monitor.importing import import_record
from monitor.service import Station
from monitor.settings import Settings
from store.recording import SessionStore
from tests.conftest import base_url, skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "review-browser-password"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "review-mitdb-210.png"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if path is None:
        skip_or_fail("chromium is not installed (apt-get install -y chromium)")
    return path  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=_chromium(), args=ARGS)
        try:
            yield b
        finally:
            await b.close()


@contextlib.asynccontextmanager
async def review_server(data_dir: Path) -> AsyncIterator[str]:
    settings = Settings(data_dir=data_dir, port=0, open_viewing=True, admin_password=PASSWORD,
                        client_id="wardwatch-review-test")
    started: asyncio.Future[Station] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_review(settings, started.set_result))
    done, _ = await asyncio.wait({task, started}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    assert started.done(), "review server did not start"
    try:
        yield base_url(started.result())
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_mitdb_210_review_shows_af_and_vt_alarms_on_the_timeline(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    store = SessionStore.open(f"sqlite:///{data}/wardwatch.sqlite")
    session = await asyncio.to_thread(import_record, store, "mitdb/210", label="MIT-BIH 210")
    raised: dict[str, list[float]] = {}
    for e in store.events(session.id, "alarm"):
        if e["name"] == "raised":
            raised.setdefault(e["alarm"]["type"], []).append(e["alarm"]["raised_at"])
    alarm_types = set(raised)
    notes_json = store.annotations(session.id)
    store.close()

    async with review_server(data) as url, browser() as b:
        page = await b.new_page(viewport={"width": 1600, "height": 1300})  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{url}/review")
        await page.wait_for_function("window.review && window.review.ready")
        rows = page.locator("[data-testid=session-row]")
        assert await rows.count() == 1
        await rows.first.click()
        await page.wait_for_url(f"**/review/{session.id}")
        await page.wait_for_function("window.review && window.review.ready && window.review.session.cache")
        markers = await page.eval_on_selector_all("[data-testid=alarm-marker]", "els => els.map(e => e.dataset.type)")
        assert set(markers) == alarm_types
        notes = await page.locator("[data-testid=note-marker]").count()
        assert notes >= 10  # the reference rhythm changes (AFIB, VT, bigeminy, ...)
        drawn = await page.evaluate("window.review.session.drawn")
        assert set(drawn) == {"ecg:MLII", "ecg:V1"} and min(drawn.values()) > 1000
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        # click the middle of the timeline: the strips move there
        lane = page.locator("[data-testid=timeline]")
        box = await lane.bounding_box()
        await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        await page.wait_for_function(f"Math.abs(window.review.cursor - {session.opened_at + 902.5}) < 30")
        # playback at 60x
        await page.select_option("[data-testid=speed]", "60")
        before = await page.evaluate("window.review.cursor")
        await page.click("[data-testid=play]")
        await page.wait_for_timeout(1500)
        await page.click("[data-testid=play]")
        after = await page.evaluate("window.review.cursor")
        assert 40 <= after - before <= 200
        # an annotation from the review page (sign-in first)
        await page.fill("[data-testid=note-text]", "reviewed: VT run confirmed")
        await page.click("[data-testid=note-add]")
        dialog = page.locator("[data-testid=rv-signin]")
        await dialog.locator("input[name=username]").fill("admin")
        await dialog.locator("input[name=password]").fill(PASSWORD)
        await dialog.locator("button[type=submit]").click()
        await page.wait_for_function(f"document.querySelectorAll('[data-testid=note-marker]').length === {notes + 1}")
        assert not errors, errors
    assert {"atrial_fibrillation", "ventricular_tachycardia"} <= alarm_types, f"see {SCREENSHOT}"
    # ... and where the annotators saw them: VT announced within 20 s of a reference VT run, AF inside AF
    rhythm = [(n["t"], n["text"].removeprefix("reference rhythm: ")) for n in notes_json if n["user"] == "reference"]
    vt_starts = [t for t, r in rhythm if r == "ventricular tachycardia"]
    assert any(0 <= t - start <= 20 for t in raised["ventricular_tachycardia"] for start in vt_starts)
    af_spans = [(t, nxt) for (t, r), (nxt, _) in zip(rhythm, rhythm[1:] + [(session.closed_at, "")], strict=True)
                if r == "atrial fibrillation"]
    assert any(a <= t <= b + 5 for t in raised["atrial_fibrillation"] for a, b in af_spans)


async def _publish(broker_url: str, root: str, bed: str, seconds: int) -> None:
    url = BrokerUrl.parse(broker_url)
    import time

    async with aiomqtt.Client(url.host, url.port) as client:
        t = time.time()
        for i in range(seconds):
            body = {"ts": t + i, "hr": 72, "spo2": 97, "pr": 71}
            await client.publish(f"{root}/{bed}/numerics", orjson.dumps(body), qos=1)
            await asyncio.sleep(1.0)


@pytest.fixture
def station_settings(topic_root: str, tmp_path: Path) -> Settings:
    return Settings(topic_root=topic_root, port=0, tick_s=0.1, client_id=f"wardwatch-test-{uuid.uuid4().hex[:8]}",
                    data_dir=tmp_path / "var", admin_password=PASSWORD, open_viewing=True)


async def test_station_bed_dialog_admits_annotates_and_discharges(station: Station, broker_url: str,
                                                                  topic_root: str) -> None:
    bed = "bed-42"
    feeder = asyncio.create_task(_publish(broker_url, topic_root, bed, 60))
    try:
        async with browser() as b:
            page = await b.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(base_url(station))
            await page.wait_for_selector(f"[data-testid=settings-{bed}]", timeout=20000)
            assert await page.locator("[data-testid=review-link]").count() == 1
            await page.click(f"[data-testid=settings-{bed}]")
            section = page.locator("[data-testid=rec-section]")
            await section.wait_for()
            await page.wait_for_function(
                "document.querySelector('[data-testid=rec-status]').textContent.includes('Recording since')")
            await page.fill("[data-testid=rec-label]", "visit 3")
            await page.click("[data-testid=rec-admit]")
            await page.fill("[data-testid=signin-user]", "admin")
            await page.fill("[data-testid=signin-password]", PASSWORD)
            await page.click("[data-testid=signin-submit]")
            await page.wait_for_function(
                "document.querySelector('[data-testid=rec-status]').textContent.includes('visit 3')")
            await page.fill("[data-testid=rec-note]", "midazolam 1 mg")
            await page.click("[data-testid=rec-note-add]")
            await page.wait_for_function(
                "document.querySelector('[data-testid=rec-status]').textContent.includes('Note saved')")
            await page.click("[data-testid=rec-discharge]")
            await page.wait_for_function(
                "document.querySelector('[data-testid=rec-status]').textContent.includes('No session')")
            assert not errors, errors
    finally:
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await feeder
    recorder = station.recorder
    assert recorder is not None and recorder.store is not None
    await asyncio.to_thread(recorder.flush)
    (s,) = recorder.store.sessions(bed=bed)
    assert (s.label, s.open_reason, s.opened_by, s.close_reason) == ("visit 3", "admit", "admin", "discharge")
    assert [n["text"] for n in recorder.store.annotations(s.id)] == ["midazolam 1 mg"]
