"""Publish a simulated ward to an MQTT broker in real time (the imperative shell around ``BedStream``).

Every bed is a separate monitor with its own MQTT connection (:class:`~simulators.link.BedLink`, with its own
last will). Per bed two tasks run in one ``asyncio.TaskGroup``: the link, and the **tick loop**, which wakes
at ``start + (k + 1) * chunk`` on ``time.monotonic()`` (absolute deadlines, so no drift over hours), asks the
:class:`~simulators.bed.BedStream` for tick ``k`` and hands its messages to the link. The tick loop also
follows the scenario's offline windows (drop the connection, reconnect a chunk before it ends). A tick more
than 1 s late is generated but not sent (counted as skipped), so an overloaded process catches up with real
time instead of drifting. Beds start staggered over one chunk so they do not all publish at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from ingest.broker import BrokerUrl
from monitor.errors import ConfigError
from simulators.bed import BedConfig, BedStream
from simulators.link import BedLink
from simulators.stats import WardStats
from simulators.ward import BedPlan, plan_ward

__all__ = ["BrokerUrl", "WardStats", "run_ward"]

logger = logging.getLogger(__name__)

_MAX_LAG_S = 1.0  # a tick later than this is generated but not sent (catch up with real time)


class _BedClock:
    """Scenario time of one bed: seconds of ``time.monotonic()`` since its start."""

    def __init__(self, start_monotonic: float) -> None:
        self.start = start_monotonic

    def now(self) -> float:
        return time.monotonic() - self.start


async def _tick_loop(bed: BedStream, link: BedLink, clock: _BedClock, stats: WardStats, duration: float | None) -> None:
    try:
        while True:
            k = bed.index
            t1 = bed.tick_end(k)
            if duration is not None and t1 > duration + 1e-9:
                return
            delay = clock.start + t1 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            lag = time.monotonic() - (clock.start + t1)
            online = bed.online(t1 - bed.tick_s)
            if not online and link.wanted:
                logger.info("%s: dropping off the network at t=%.2f s", bed.config.bed, t1)
                link.drop()
            elif online and not link.wanted:
                link.resume()
            late = lag > _MAX_LAG_S
            tick = bed.next_tick(render=link.connected and not late)
            if late and link.connected:
                stats.skipped_ticks += 1
            if tick.messages:
                stats.record_lag(lag)
                link.send(tick.messages)
            if not link.wanted and bed.online(t1):  # reconnect during the last offline chunk
                logger.info("%s: back online at t=%.2f s", bed.config.bed, t1)
                link.resume()
    finally:
        link.close()


async def _run_bed(
    address: BrokerUrl, bed: BedStream, clock: _BedClock, stats: WardStats, seed: int, duration: float | None
) -> None:
    link = BedLink(address, bed, clock.now, stats, seed)
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(link.run(), name=f"mqtt:{bed.config.bed}")
            tg.create_task(_tick_loop(bed, link, clock, stats, duration), name=f"ticks:{bed.config.bed}")
    except Exception:  # one broken bed must not stop the ward
        stats.bed_failures += 1
        logger.exception("%s: simulation failed; the other beds go on", bed.config.bed)


async def _run_beds(
    broker_url: str,
    beds: Iterable[BedStream],
    *,
    duration: float | None = None,
    stats: WardStats | None = None,
    start_delay: float | None = None,
) -> WardStats:
    """Publish bed streams in real time; bed ``i`` of ``n`` starts ``start_delay + i / n`` chunks from now
    (its ``BedConfig.start_ts`` must be the wall-clock time of that start)."""
    address = BrokerUrl.parse(broker_url)
    streams = list(beds)
    stats = stats if stats is not None else WardStats()
    stats.beds = len(streams)
    delay = _start_delay(len(streams)) if start_delay is None else start_delay
    start = time.monotonic() + delay
    stats.bed_start_ts.update({bed.config.bed: bed.config.start_ts for bed in streams})
    async with asyncio.TaskGroup() as tg:
        for i, bed in enumerate(streams):
            clock = _BedClock(start + bed.tick_s * i / max(len(streams), 1))
            tg.create_task(_run_bed(address, bed, clock, stats, i, duration), name=f"bed:{bed.config.bed}")
    return stats


async def run_ward(
    broker_url: str,
    beds: int,
    scenario: str,
    *,
    topic_root: str = "vitals",
    bed_prefix: str = "bed-",
    chunk_ms: int = 250,
    duration: float | None = None,
    seed: int = 0,
    scenario_params: Mapping[str, float | None] | None = None,
    leads: Sequence[str] = ("II",),
    ecg_fs: int = 250,
    pleth_fs: int = 125,
    waveform_qos: Literal[0, 1] = 0,
    stats: WardStats | None = None,
) -> WardStats:
    """Simulate ``beds`` monitors running ``scenario`` (or the ``mixed`` ward) and publish them in real time.

    Runs until ``duration`` seconds of scenario time have been published (``None``: until cancelled), then
    every bed publishes ``{"online": false}`` and disconnects. ``scenario_params`` overrides the timing
    (``onset_s``, ``ramp_s``, ``hold_s``, ``recover_s``, ``repeat_s``). Pass ``stats`` to watch the counters
    while it runs. Raises :class:`~monitor.errors.ConfigError` for bad arguments.
    """
    if duration is not None and duration <= 0:
        raise ConfigError(f"duration must be > 0, got {duration}")
    BrokerUrl.parse(broker_url)
    plans = plan_ward(beds, scenario, bed_prefix=bed_prefix, seed=seed, scenario_params=scenario_params)
    delay = _start_delay(len(plans))
    wall_start = time.time() + delay
    chunk_s = chunk_ms / 1000.0
    streams = [
        _stream(
            plan,
            topic_root,
            chunk_ms,
            leads,
            ecg_fs,
            pleth_fs,
            waveform_qos,
            wall_start + chunk_s * (plan.index - 1) / len(plans),
        )
        for plan in plans
    ]
    logger.info("simulating %d bed(s), scenario %s, on %s", len(plans), scenario, BrokerUrl.parse(broker_url))
    return await _run_beds(broker_url, streams, duration=duration, stats=stats, start_delay=delay)


def _stream(
    plan: BedPlan,
    root: str,
    chunk_ms: int,
    leads: Sequence[str],
    ecg_fs: int,
    pleth_fs: int,
    waveform_qos: Literal[0, 1],
    start_ts: float,
) -> BedStream:
    config = BedConfig(
        bed=plan.bed,
        topic_root=root,
        chunk_ms=chunk_ms,
        ecg_fs=ecg_fs,
        pleth_fs=pleth_fs,
        leads=tuple(leads),
        waveform_qos=waveform_qos,
        start_ts=start_ts,
    )
    return BedStream(config, plan.scenario, plan.seed)


def _start_delay(beds: int) -> float:
    """Time to connect every bed before the first tick is due."""
    return 0.5 + 0.01 * beds
