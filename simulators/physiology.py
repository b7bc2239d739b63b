"""What a simulated patient is: the small interface the signal generators read.

A :class:`Physiology` gives the *true* state of one simulated bed as pure functions of scenario time
``t`` (seconds since the bed started): heart rate, SpO2, rhythm, and the windows during which a
condition holds (motion artifact, leads off, probe off, device offline, an arrhythmia). Scenarios
(``simulators.scenarios``) implement it; the generators (``beats``, ``ecg``, ``pleth``, ``device``) only
read it, so a test can plug in any object with these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

import numpy as np

__all__ = ["Condition", "Physiology", "Rhythm", "Window", "in_windows", "window_mask"]

Window = tuple[float, float]
"""A half-open interval ``[start, end)`` of scenario time, seconds."""


class Rhythm(StrEnum):
    """Cardiac rhythm of the simulated patient."""

    SINUS = "sinus"
    ASYSTOLE = "asystole"
    VTACH = "vtach"
    AFIB = "afib"


class Condition(StrEnum):
    """Something that holds during windows of time."""

    ARTIFACT = "artifact"
    LEADS_OFF = "leads_off"
    PROBE_OFF = "probe_off"
    OFFLINE = "offline"
    ASYSTOLE = "asystole"
    VTACH = "vtach"
    AFIB = "afib"


class Physiology(Protocol):
    """The true state of one simulated patient and device, as functions of scenario time."""

    def hr(self, t: float) -> float:
        """True heart rate, beats per minute (0 during asystole)."""
        ...

    def spo2(self, t: float) -> float:
        """True arterial oxygen saturation, percent."""
        ...

    def perfusion(self, t: float) -> float:
        """Relative peripheral perfusion (pleth pulse amplitude scale), 1.0 is normal."""
        ...

    def resp_rate(self, t: float) -> float:
        """Respiratory rate, breaths per minute (drives sinus arrhythmia and baseline wander)."""
        ...

    def rhythm(self, t: float) -> Rhythm:
        """Cardiac rhythm at ``t``."""
        ...

    def windows(self, condition: Condition, t0: float, t1: float) -> list[Window]:
        """Windows of ``condition`` that overlap ``[t0, t1)``, in time order."""
        ...


def in_windows(windows: Sequence[Window], t: float) -> bool:
    """Whether ``t`` lies in one of ``windows``."""
    return any(start <= t < end for start, end in windows)


def window_mask(windows: Sequence[Window], t: np.ndarray) -> np.ndarray:
    """Boolean mask of the samples at times ``t`` that lie in one of ``windows``."""
    mask = np.zeros(t.shape, dtype=bool)
    for start, end in windows:
        mask |= (t >= start) & (t < end)
    return mask
