"""The dispatcher against real receivers: retries with backoff, failures reported, a slow channel does not
hold up another, bounded queues, outbox records and resumed deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from alarms.escalation import Escalator
from alarms.model import AlarmEvent
from alarms.paging.config import PagingConfig, parse_paging_config
from alarms.paging.dispatcher import DeliveryResult, Dispatcher
from alarms.paging.factory import build_channels
from store.alarm_store import AlarmStore
from store.db import Database, Writer
from tests.receivers import HttpReceiver


def config(channels: dict, tiers: dict, **extra: object) -> PagingConfig:
    return parse_paging_config({"tiers": tiers, "channels": channels, **extra})


def pages(n: int = 1, priority: str = "high", prefix: str = "al") -> list:
    out = []
    for i in range(n):
        alarm = {
            "id": f"{prefix}{i}",
            "bed": f"bed-{i}",
            "type": "desaturation",
            "priority": priority,
            "state": "active",
            "raised_at": 100.0,
            "onset": 100.0,
            "kind": "physiological",
            "label": "Desat",
        }
        out += Escalator().on_event(AlarmEvent("raised", 100.0, alarm))
    return out


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_failing_webhook_is_retried_with_backoff_then_reported() -> None:
    results: list[DeliveryResult] = []
    with HttpReceiver(status=503) as bad:
        cfg = config({"bad": {"type": "webhook", "url": bad.url, "retries": 2, "backoff_s": 0.1}}, {"primary": ["bad"]})
        d = Dispatcher(cfg, build_channels(cfg), on_result=results.append)
        async with running(d):
            started = time.monotonic()
            d.submit(pages())
            while not results:
                await asyncio.sleep(0.01)
            took = time.monotonic() - started
    (r,) = results
    assert not r.ok and r.attempts == 3 and "503" in (r.error or "")
    assert len(bad.received) == 3
    assert 0.3 <= took < 2.0  # backoff 0.1 s then 0.2 s
    assert d.health()["bad"]["consecutive_failures"] == 1


async def test_a_slow_channel_does_not_delay_another() -> None:
    results: list[DeliveryResult] = []
    with HttpReceiver(delay=1.5) as slow, HttpReceiver() as fast:
        cfg = config(
            {
                "slow": {"type": "webhook", "url": slow.url, "timeout_s": 5},
                "fast": {"type": "webhook", "url": fast.url},
            },
            {"primary": ["slow", "fast"]},
        )
        d = Dispatcher(cfg, build_channels(cfg), on_result=results.append)
        async with running(d):
            t0 = time.time()
            d.submit(pages(3))
            await asyncio.to_thread(fast.wait, 3, 5)
            assert max(r.t for r in fast.received) - t0 < 0.5
            assert await d.wait_idle(10)
    assert sum(r.ok for r in results) == 6


async def test_a_full_queue_fails_the_page_instead_of_growing() -> None:
    results: list[DeliveryResult] = []
    with HttpReceiver(delay=0.5) as slow:
        cfg = config(
            {"slow": {"type": "webhook", "url": slow.url, "concurrency": 1}}, {"primary": ["slow"]}, queue_size=10
        )
        d = Dispatcher(cfg, build_channels(cfg), on_result=results.append)
        async with running(d):
            d.submit(pages(15))
            await asyncio.sleep(0.2)
            full = [r for r in results if r.error == "channel queue full"]
            assert 1 <= len(full) <= 5


async def test_pages_are_recorded_and_resumed_after_a_restart(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path}/w.sqlite")
    writer = Writer(db)
    store = AlarmStore(db, writer)
    with HttpReceiver(status=503) as down:
        cfg = config({"hook": {"type": "webhook", "url": down.url, "retries": 0}}, {"primary": ["hook"]})
        d = Dispatcher(cfg, build_channels(cfg), store=store)
        async with running(d):
            d.submit(pages(2))
            await asyncio.to_thread(down.wait, 2, 5)
            assert await d.wait_idle(5)
    writer.flush()
    listed = store.list_pages()
    assert {p["id"] for p in listed} == {"al0-000", "al1-000"}
    assert all(p["deliveries"][0]["status"] == "failed" for p in listed)
    # a page recorded but never delivered (the station stopped) is sent after the restart, with the same id
    (page,) = pages(1, prefix="later")
    store.save_pages([(page, ["hook"])], 1.0)
    writer.flush()
    assert [(p.id, c) for p, c, _ in store.pending_deliveries()] == [("later0-000", "hook")]
    with HttpReceiver() as up:
        cfg = config({"hook": {"type": "webhook", "url": up.url}}, {"primary": ["hook"]})
        d = Dispatcher(cfg, build_channels(cfg), store=store)
        d.resume(store.pending_deliveries())
        async with running(d):
            (got,) = await asyncio.to_thread(up.wait, 1, 5)
            assert await d.wait_idle(5)
    assert got.meta["headers"]["Idempotency-Key"] == page.id
    writer.flush()
    assert store.pending_deliveries() == []
    writer.close()
    db.close()
