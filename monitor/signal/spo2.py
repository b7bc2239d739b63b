"""SpO2 alarm logic on the device's SpO2 numeric: a SatSeconds-style integral, and artefact hold.

:class:`SatSeconds` follows Nellcor's SatSeconds alarm management (Nellcor OxiMax N-600x manual): while SpO2
is below the low limit, ``(limit - SpO2) x seconds`` accumulates; the alarm condition holds once the sum
reaches ``area`` (10, 25, 50 or 100 "SatSeconds"), and at once when SpO2 has fallen below the limit for the
``violations``-th time (3) within ``window_s`` (60 s), whatever the sum (the "safety net" against repeated
short dips). The sum restarts at zero whenever SpO2 is back at or above the limit. The fixed-delay
alternative needs no state here: the alarm layer's condition delay (``Spo2Limits.low_delay_s``) does it.

:class:`ArtefactHold` gives the SpO2 value to alarm on while the pleth shows motion artefact: the last
value before the artefact, for at most ``max_hold_s`` (then the live value again), so a burst of motion
neither starts nor resets an SpO2 alarm, while a desaturation during a long struggle still alarms.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from monitor.errors import ConfigError

__all__ = ["SatSeconds", "SatState", "ArtefactHold"]


@dataclass(frozen=True, slots=True)
class SatState:
    present: bool
    integral: float  # SatSeconds accumulated in the current violation
    onset: float | None  # when the current violation began
    violations: int  # entries below the limit within the window


class SatSeconds:
    def __init__(self, area: float, window_s: float = 60.0, violations: int = 3, max_step_s: float = 5.0) -> None:
        if area <= 0 or window_s <= 0 or violations < 1:
            raise ConfigError("SatSeconds needs area > 0, window_s > 0, violations >= 1")
        self.area = float(area)
        self.window_s = float(window_s)
        self.violations = int(violations)
        self.max_step_s = float(max_step_s)
        self._entries: deque[float] = deque()
        self._below_since: float | None = None
        self._integral = 0.0
        self._last: tuple[float, float] | None = None  # (t, spo2) of the previous sample
        self.state = SatState(False, 0.0, None, 0)

    def update(self, t: float, spo2: float | None, limit: float) -> SatState:
        """Add a SpO2 sample at time ``t`` (s); ``None`` (no reading) ends the current violation.

        Each sample below the limit adds ``(limit - spo2) x dt``, ``dt`` the time since the previous sample
        (at most ``max_step_s``; 1 s for the first one), so 1 Hz numerics add their depth once a second."""
        dt = 1.0 if self._last is None else min(max(t - self._last[0], 0.0), self.max_step_s)
        if spo2 is None or spo2 >= limit:
            self._below_since = None
            self._integral = 0.0
        else:
            if self._below_since is None:
                self._below_since = t
                self._entries.append(t)
            self._integral += (limit - spo2) * dt
        self._last = None if spo2 is None else (t, spo2)
        while self._entries and self._entries[0] < t - self.window_s:
            self._entries.popleft()
        below = self._below_since is not None
        present = below and (self._integral >= self.area or len(self._entries) >= self.violations)
        self.state = SatState(present, self._integral, self._below_since, len(self._entries))
        return self.state


class ArtefactHold:
    def __init__(self, max_hold_s: float = 30.0) -> None:
        self.max_hold_s = max_hold_s
        self._good: float | None = None
        self._since: float | None = None

    def value(self, t: float, spo2: float | None, artefact: bool) -> float | None:
        """The SpO2 to alarm on at ``t``, given the live value and whether the pleth shows artefact now."""
        if not artefact:
            self._since = None
            self._good = spo2
            return spo2
        if self._since is None:
            self._since = t
        if t - self._since <= self.max_hold_s:
            return self._good
        return spo2
