"""Event timing of a scenario: onset, ramp, hold, recovery, and an optional repeat period.

An event starts at ``onset_s``, moves smoothly (half-cosine) from the baseline to its peak over
``ramp_s``, stays there for ``hold_s`` and returns smoothly over ``recover_s``. Conditions such as
"probe off" or "offline" hold during the hold phase. With ``repeat_s`` the whole timeline repeats
(scenario time is taken modulo the period), which keeps a long demo lively.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor.errors import ConfigError
from simulators.physiology import Window

__all__ = ["Timing"]


@dataclass(frozen=True, slots=True)
class Timing:
    """When a scenario's event happens, in seconds of scenario time."""

    onset_s: float = 30.0
    ramp_s: float = 0.0
    hold_s: float = 0.0
    recover_s: float = 0.0
    repeat_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("onset_s", "ramp_s", "hold_s", "recover_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.repeat_s is not None:
            if not math.isfinite(self.repeat_s) or self.repeat_s <= 0:
                raise ConfigError(f"repeat_s must be a positive number, got {self.repeat_s!r}")
            if self.repeat_s < self.end_s:
                raise ConfigError(f"repeat_s ({self.repeat_s}) is shorter than the event ({self.end_s} s)")

    @property
    def hold_start_s(self) -> float:
        return self.onset_s + self.ramp_s

    @property
    def hold_end_s(self) -> float:
        return self.onset_s + self.ramp_s + self.hold_s

    @property
    def end_s(self) -> float:
        """When the event is over (baseline again)."""
        return self.hold_end_s + self.recover_s

    def local(self, t: float) -> float:
        """Scenario time folded into the first period (identity without ``repeat_s``)."""
        return t % self.repeat_s if self.repeat_s is not None else t

    def envelope(self, t: float) -> float:
        """0 at baseline, 1 at the peak of the event; smooth (half-cosine) ramps in between."""
        u = self.local(t)
        if u < self.onset_s or u >= self.end_s:
            return 0.0
        if u < self.hold_start_s:
            return _smooth((u - self.onset_s) / self.ramp_s)
        if u < self.hold_end_s:
            return 1.0
        return 1.0 - _smooth((u - self.hold_end_s) / self.recover_s)

    def repeat(self, windows: list[Window], t0: float, t1: float) -> list[Window]:
        """``windows`` (given in the first period) as they occur in ``[t0, t1)``, repeats included."""
        if self.repeat_s is None:
            return [(a, b) for a, b in windows if b > t0 and a < t1]
        period = self.repeat_s
        out: list[Window] = []
        for k in range(max(0, math.floor(t0 / period) - 1), math.floor(t1 / period) + 1):
            shift = k * period
            out.extend((a + shift, b + shift) for a, b in windows if b + shift > t0 and a + shift < t1)
        return out


def _smooth(x: float) -> float:
    """Half-cosine step from 0 (x=0) to 1 (x=1)."""
    return 0.5 - 0.5 * math.cos(math.pi * min(max(x, 0.0), 1.0))
