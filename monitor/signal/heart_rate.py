"""Streaming heart rate from beat times (RR intervals).

The rate is 60 / median of the last ``window`` (8) RR intervals. The median ignores up to three
outlying intervals in eight, so an ectopic beat (one short + one long interval), a missed beat (one
double interval) or a false detection (two short intervals) does not move it, while a real change
of rhythm takes over once half the window has the new interval. Intervals outside
[``min_rr_s``, ``max_rr_s``] are rejected as implausible; a longer gap starts afresh.

:meth:`HeartRateEstimator.rate_at` never invents a rate: once the wait for the next beat exceeds the
current RR interval by half (``decay_after_rr``) the displayed rate falls in proportion to
1 / elapsed, and after ``timeout_s`` without a beat it is ``None``. Measured step response (IEC 60601-2-27 style,
time from the step until the rate stays within 5 % of the new rate): see docs/algorithms.md.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import median

from monitor.errors import ConfigError

__all__ = ["HeartRateConfig", "HeartRateEstimator"]


@dataclass(frozen=True)
class HeartRateConfig:
    """Averaging and plausibility settings (seconds)."""

    window: int = 8
    min_intervals: int = 3
    min_rr_s: float = 0.2
    max_rr_s: float = 10.0
    timeout_s: float = 6.0
    decay_after_rr: float = 1.5

    def __post_init__(self) -> None:
        if self.window < 1 or not 1 <= self.min_intervals <= self.window:
            raise ConfigError("need window >= 1 and 1 <= min_intervals <= window")
        if not 0.0 < self.min_rr_s < self.max_rr_s:
            raise ConfigError("need 0 < min_rr_s < max_rr_s")
        if self.timeout_s <= 0.0 or self.decay_after_rr < 1.0:
            raise ConfigError("need timeout_s > 0 and decay_after_rr >= 1")


class HeartRateEstimator:
    """Feed beat times (seconds, increasing) with :meth:`update`; read the rate in bpm."""

    def __init__(self, config: HeartRateConfig | None = None) -> None:
        self.config = config or HeartRateConfig()
        self._rr: deque[float] = deque(maxlen=self.config.window)
        self._last: float | None = None
        self._rate: float | None = None

    def reset(self) -> None:
        """Forget all beats (e.g. after a data gap)."""
        self._rr.clear()
        self._last = None
        self._rate = None

    @property
    def rate(self) -> float | None:
        """The rate at the last beat (bpm), or None while fewer than ``min_intervals`` are known."""
        return self._rate

    def update(self, beat_time_s: float) -> float | None:
        """Add a beat; returns the rate (bpm) after it, or None while still learning."""
        cfg = self.config
        t = float(beat_time_s)
        if not math.isfinite(t):
            raise ValueError("beat time must be finite")
        if self._last is None:
            self._last = t
            return self._rate
        rr = t - self._last
        if rr < cfg.min_rr_s:
            return self._rate  # too close to the previous beat to be a new one: ignore it
        self._last = t
        if rr > cfg.max_rr_s:
            self._rr.clear()
            self._rate = None
            return None
        self._rr.append(rr)
        if len(self._rr) >= cfg.min_intervals:
            self._rate = 60.0 / median(self._rr)
        return self._rate

    def rate_at(self, t: float) -> float | None:
        """The rate to display at time ``t`` (>= the last beat): decays while a beat is overdue,
        None after ``timeout_s`` without beats."""
        if self._rate is None or self._last is None:
            return None
        elapsed = t - self._last
        if elapsed > self.config.timeout_s:
            return None
        overdue = self.config.decay_after_rr * 60.0 / self._rate
        if elapsed > overdue:  # continuous at the boundary, then falls as 1/elapsed
            return self._rate * overdue / elapsed
        return self._rate
