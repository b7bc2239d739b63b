"""The paging dispatcher: planned pages in, deliveries out, one bounded queue and worker pool per channel.

``submit(pages)`` is synchronous and never blocks (the alarm path calls it): it hands the pages and their
pending deliveries to the store (the batching writer thread) and puts one delivery per channel of the page's
tier on that channel's queue, at once: a slow database never holds a page back. ``run()`` (a task in the
station's TaskGroup) runs each channel's workers, so a slow or dead channel only delays itself. A delivery is
tried ``1 + retries`` times with exponential backoff; its outcome is recorded and reported to ``on_result``
(the station raises "paging failed" and escalates on a failure). Page ids are stable, so a delivery resumed
after a restart carries the id of the original.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from alarms.escalation import PageRequest
from alarms.paging.channel import Channel, DeliveryError, OutgoingPage
from alarms.paging.config import PagingConfig

__all__ = ["Dispatcher", "DeliveryResult", "ChannelHealth"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    page: PageRequest
    channel: str
    ok: bool
    attempts: int
    t: float
    detail: str = ""
    error: str | None = None


@dataclass
class ChannelHealth:
    delivered: int = 0
    failed: int = 0
    consecutive_failures: int = 0
    last_ok: float | None = None
    last_failure: float | None = None
    last_error: str | None = None
    queued: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "consecutive_failures": self.consecutive_failures,
            "last_ok": self.last_ok,
            "last_failure": self.last_failure,
            "last_error": self.last_error,
            "queued": self.queued,
        }


@dataclass
class _Lane:
    channel: Channel
    queue: asyncio.Queue[tuple[PageRequest, int]]
    health: ChannelHealth = field(default_factory=ChannelHealth)


class Dispatcher:
    def __init__(
        self,
        config: PagingConfig,
        channels: dict[str, Channel],
        *,
        store: Any | None = None,
        on_result: Callable[[DeliveryResult], None] | None = None,
        decorate: Callable[[PageRequest], OutgoingPage] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.on_result = on_result
        self.decorate = decorate or (lambda p: OutgoingPage(p, station=config.station))
        self.clock = clock
        self._lanes = {name: _Lane(ch, asyncio.Queue(maxsize=config.queue_size)) for name, ch in channels.items()}
        self.sent: list[DeliveryResult] = []  # the last results, for tests and the API
        self._in_flight = 0

    # -- inputs (synchronous) ------------------------------------------------------------------------------
    def submit(self, pages: Iterable[PageRequest]) -> None:
        plan = [(p, self.channels_of(p.tier)) for p in pages]
        if not plan:
            return
        if self.store is not None:
            try:
                self.store.save_pages(plan, self.clock())
            except Exception:  # paging matters more than its record
                log.exception("could not record %d page(s); sending anyway", len(plan))
        for page, channels in plan:
            if not channels:
                self._finish(
                    DeliveryResult(page, "-", False, 0, self.clock(), error=f"no channel for tier {page.tier}")
                )
            for channel in channels:
                self._enqueue(page, channel, 0)

    def resume(self, pending: Iterable[tuple[PageRequest, str, int]]) -> None:
        """Deliveries recorded before a restart but not finished: queued again (sent once ``run`` runs)."""
        for page, channel, attempts in pending:
            self._enqueue(page, channel, attempts)

    def channels_of(self, tier: str) -> list[str]:
        return [c for c in self.config.tiers.get(tier, []) if c in self._lanes]

    def health(self) -> dict[str, dict[str, Any]]:
        for lane in self._lanes.values():
            lane.health.queued = lane.queue.qsize()
        return {name: lane.health.to_json() for name, lane in self._lanes.items()}

    @property
    def idle(self) -> bool:
        return self._in_flight == 0 and all(lane.queue.empty() for lane in self._lanes.values())

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.idle:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # -- running -------------------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                for name, lane in self._lanes.items():
                    concurrency = getattr(self.config.channels[name], "concurrency", 1)
                    for i in range(concurrency):
                        tg.create_task(self._worker(name, lane), name=f"pager-{name}-{i}")
        finally:
            for lane in self._lanes.values():
                with contextlib.suppress(Exception):
                    await lane.channel.aclose()

    def _enqueue(self, page: PageRequest, channel: str, attempts: int) -> None:
        lane = self._lanes.get(channel)
        if lane is None:
            self._finish(DeliveryResult(page, channel, False, attempts, self.clock(), error="channel not configured"))
            return
        try:
            lane.queue.put_nowait((page, attempts))
        except asyncio.QueueFull:
            self._finish(DeliveryResult(page, channel, False, attempts, self.clock(), error="channel queue full"))

    async def _worker(self, name: str, lane: _Lane) -> None:
        retry = self.config.channels[name]
        while True:
            page, attempts = await lane.queue.get()
            self._in_flight += 1
            try:
                outgoing = self.decorate(page)
                error = ""
                tries = 0
                for n in range(1 + retry.retries):
                    if n:
                        await asyncio.sleep(retry.backoff_s * 2 ** (n - 1))
                    tries += 1
                    try:
                        detail = await asyncio.wait_for(lane.channel.send(outgoing), retry.timeout_s + 1.0)
                    except (DeliveryError, TimeoutError) as exc:
                        error = str(exc) or exc.__class__.__name__
                        log.warning("page %s on %s: attempt %d failed: %s", page.id, name, attempts + tries, error)
                        continue
                    except Exception as exc:  # a channel bug must not kill the worker
                        error = f"{exc.__class__.__name__}: {exc}"
                        log.exception("page %s on %s: channel error", page.id, name)
                        continue
                    result = DeliveryResult(page, name, True, attempts + tries, self.clock(), detail=detail)
                    break
                else:
                    result = DeliveryResult(page, name, False, attempts + tries, self.clock(), error=error[:300])
                self._record(result)
                self._finish(result)
            finally:
                self._in_flight -= 1
                lane.queue.task_done()

    def _record(self, r: DeliveryResult) -> None:
        if self.store is None or r.channel == "-":
            return
        try:
            self.store.set_delivery(r.page.id, r.channel, "delivered" if r.ok else "failed", r.attempts, r.error, r.t)
        except Exception:
            log.exception("could not record the delivery of page %s on %s", r.page.id, r.channel)

    def _finish(self, result: DeliveryResult) -> None:
        lane = self._lanes.get(result.channel)
        if lane is not None:
            h = lane.health
            if result.ok:
                h.delivered += 1
                h.consecutive_failures = 0
                h.last_ok = result.t
            else:
                h.failed += 1
                h.consecutive_failures += 1
                h.last_failure = result.t
                h.last_error = result.error
        self.sent.append(result)
        del self.sent[:-500]
        if result.ok:
            log.info(
                "page %s (%s, %s) delivered on %s", result.page.id, result.page.phase, result.page.tier, result.channel
            )
        else:
            log.error(
                "page %s (%s, %s) FAILED on %s: %s",
                result.page.id,
                result.page.phase,
                result.page.tier,
                result.channel,
                result.error,
            )
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:
                log.exception("delivery result handler failed")
