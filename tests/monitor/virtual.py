"""A live station on a virtual clock, for recording tests: the real ``Station`` (ingest path, ticker order,
recorder, alarm desk), fed contract payloads at chosen arrival times, ticked every ``tick_s``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from monitor.service import Station
from monitor.settings import Settings
from simulators.bed import BedConfig, BedStream
from simulators.scenarios import get_scenario

__all__ = ["VirtualStation", "simulated_payloads"]

T0 = 1764085200.0


def simulated_payloads(
    scenario: str, bed: str, duration_s: float, *, seed: int = 3, start: float = T0,
    params: dict[str, float] | None = None,
    jitter_s: float = 0.05, late_fraction: float = 0.0, drop_fraction: float = 0.0, root: str = "vitals",
) -> list[tuple[float, str, bytes, bool]]:
    """``(arrival, topic, payload, retained)`` of a simulated monitor, with network jitter, some chunks late
    (arriving after the next ones: the station's reorder buffer waits for them) and some waveform chunks lost
    (the reorder buffer gives up on them, on a message or on a tick)."""
    stream = BedStream(BedConfig(bed=bed, start_ts=start, topic_root=root), get_scenario(scenario, seed=seed,
                       params=params), seed)
    rng = np.random.default_rng(seed)
    out = []
    while stream.tick_end(stream.index) <= duration_s:
        tick = stream.next_tick()
        for m in tick.messages:
            arrival = start + tick.t1 + float(rng.uniform(0.001, jitter_s))
            if late_fraction and rng.random() < late_fraction:
                arrival += float(rng.uniform(0.3, 0.9))
            if drop_fraction and not m.topic.endswith(("numerics", "status")) and rng.random() < drop_fraction:
                continue
            out.append((arrival, m.topic, m.payload, False))
    out.sort(key=lambda x: x[0])
    return out


@dataclass
class VirtualStation:
    data_dir: Path
    tick_s: float = 0.25
    settings: dict[str, Any] = field(default_factory=dict)
    now: float = T0

    def __post_init__(self) -> None:
        self.station = Station(
            Settings(data_dir=self.data_dir, port=0, tick_s=self.tick_s, admin_password="virtual-admin-pw",
                     **self.settings),
            clock=lambda: self.now,
        )
        assert self.station.recorder is not None
        self.recorder = self.station.recorder
        self.recorder.open()

    def run(self, payloads: Iterable[tuple[float, str, bytes, bool]], until: float,
            at: dict[float, Callable[[VirtualStation], None]] | None = None) -> None:
        """Deliver the payloads at their arrival times and tick, until station time ``until``; ``at`` runs
        operator actions at given times."""
        pending = list(payloads)
        actions = sorted((at or {}).items())
        i = 0
        t = self.now
        while t < until:
            t += self.tick_s
            while i < len(pending) and pending[i][0] <= t:
                arrival, topic, payload, retained = pending[i]
                self.now = arrival
                self.station.handle_raw(topic, payload, retained, arrival)
                i += 1
            while actions and actions[0][0] <= t:
                when, action = actions.pop(0)
                self.now = max(self.now, when)
                action(self)
            self.now = t
            self.recorder.tick(t)
            self.station.publish(self.station.ward.advance(t))

    def close(self) -> None:
        self.recorder.close()
        self.station.desk.close()
