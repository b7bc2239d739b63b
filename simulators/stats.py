"""Counters of a simulated ward's publishing: messages, bytes, drops, connections, tick lateness, CPU."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["WardStats"]

_LAG_BUCKETS = 10_000  # 1 ms buckets, 0-10 s; later ticks go into the last bucket


@dataclass
class WardStats:
    """Live counters of :func:`simulators.publisher.run_ward` (safe to read while it runs)."""

    beds: int = 0
    published: int = 0  # messages handed to the broker
    bytes: int = 0  # payload bytes published
    dropped: int = 0  # messages not sent: link down or send backlog full
    skipped_ticks: int = 0  # ticks generated but not sent because the bed fell behind real time
    connects: int = 0  # successful (re)connections
    connect_failures: int = 0
    drops: int = 0  # deliberate ungraceful disconnects (dropout scenario)
    bed_failures: int = 0  # beds whose simulation crashed (a bug; logged)
    started_monotonic: float = field(default_factory=time.monotonic)
    started_cpu: float = field(default_factory=time.process_time)
    bed_start_ts: dict[str, float] = field(default_factory=dict)  # bed -> device clock at scenario time 0
    _lag_counts: list[int] = field(default_factory=lambda: [0] * _LAG_BUCKETS, repr=False)
    max_lag_s: float = 0.0

    def record_lag(self, lag_s: float) -> None:
        """How late (s) a tick was sent after its data were complete."""
        lag_s = max(lag_s, 0.0)
        self.max_lag_s = max(self.max_lag_s, lag_s)
        self._lag_counts[min(int(lag_s * 1000), _LAG_BUCKETS - 1)] += 1

    def lag_percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of tick lateness, s (1 ms resolution)."""
        total = sum(self._lag_counts)
        if total == 0:
            return 0.0
        rank, seen = q / 100.0 * total, 0
        for ms, count in enumerate(self._lag_counts):
            seen += count
            if seen >= rank and count:
                return (ms + 1) / 1000.0
        return _LAG_BUCKETS / 1000.0

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started_monotonic

    @property
    def cpu_s(self) -> float:
        """CPU time of the whole process since the start."""
        return time.process_time() - self.started_cpu

    def summary(self) -> dict[str, float | int]:
        elapsed = max(self.elapsed_s, 1e-9)
        return {
            "beds": self.beds,
            "elapsed_s": round(elapsed, 2),
            "published": self.published,
            "messages_per_s": round(self.published / elapsed, 1),
            "kbytes_per_s": round(self.bytes / elapsed / 1000, 1),
            "dropped": self.dropped,
            "skipped_ticks": self.skipped_ticks,
            "connects": self.connects,
            "connect_failures": self.connect_failures,
            "drops": self.drops,
            "bed_failures": self.bed_failures,
            "lag_p50_ms": round(self.lag_percentile(50) * 1000, 1),
            "lag_p99_ms": round(self.lag_percentile(99) * 1000, 1),
            "lag_max_ms": round(self.max_lag_s * 1000, 1),
            "cpu_percent": round(100 * self.cpu_s / elapsed, 1),
        }
