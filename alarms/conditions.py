"""Alarm-condition delays: a raw condition becomes an alarm condition only when it persists.

One ``ConditionTracker`` per (bed, condition). The delay is confirmed by data, not by a timer: the condition
is confirmed by the first observation, at least ``delay`` after the onset, that still shows it. So a bed whose
data stops cannot confirm a condition it no longer shows (silence has its own technical alarm), and the
outcome depends only on the observations, which keeps replays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from alarms.model import Observation

__all__ = ["ConditionEdge", "ConditionTracker"]


@dataclass(frozen=True, slots=True)
class ConditionEdge:
    """A confirmed condition started (``started``) or ended, at ``t``."""

    started: bool
    t: float
    observation: Observation


@dataclass
class ConditionTracker:
    delay: float = 0.0
    clear_after: float = 0.0
    since: float | None = None
    absent_since: float | None = None
    confirmed: bool = False
    enabled: bool = True

    def observe(self, obs: Observation) -> ConditionEdge | None:
        if not self.enabled:
            return self._end(obs) if self.confirmed else self._reset()
        if obs.present:
            self.absent_since = None
            if self.since is None:
                self.since = obs.onset if obs.onset is not None else obs.t
            if not self.confirmed and obs.t - self.since >= self.delay - 1e-9:
                self.confirmed = True
                return ConditionEdge(True, obs.t, replace(obs, onset=self.since))
            return None
        if not self.confirmed:
            self.since = None
            return None
        if self.absent_since is None:
            self.absent_since = obs.t
        if obs.t - self.absent_since >= self.clear_after - 1e-9:
            return self._end(obs)
        return None

    def _end(self, obs: Observation) -> ConditionEdge:
        self.confirmed = False
        self.since = None
        self.absent_since = None
        return ConditionEdge(False, obs.t, obs)

    def _reset(self) -> None:
        self.since = None
        self.absent_since = None
        return None
