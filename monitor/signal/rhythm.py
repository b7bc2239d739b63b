"""Rhythm from one lead's beat sequence: rate runs, pauses, ventricular runs, irregularity (AF).

:class:`RhythmTracker` takes beats as ``(time_s, label)`` (label from :mod:`monitor.signal.morphology`:
``N`` dominant, ``V`` ventricular, ``Q`` unclassified) and answers, from the beats alone:

* :meth:`rate_run` — the run of the last ``n`` beats and its mean rate ``60 (n-1) / (t_n - t_1)``, the CinC
  2015 reading of "HR above 140 bpm for 17 beats" / "below 40 bpm for 5 beats";
* :meth:`ventricular_run` — the current run of consecutive ``V`` beats, its length, rate and first beat;
* :meth:`longest_rr_since` — the longest RR interval that ended after a time (pauses);
* :meth:`irregularity` — atrial-fibrillation evidence over the last ``af_window`` RR intervals between
  dominant beats (see :func:`af_evidence`).

It keeps the last ``history`` beats; all methods are O(history) numpy at most, called once per block.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["RateRun", "VentricularRun", "AfEvidence", "RhythmTracker", "af_evidence"]


@dataclass(frozen=True, slots=True)
class RateRun:
    n: int
    bpm: float
    first: float  # time of the run's first beat, s
    last: float


@dataclass(frozen=True, slots=True)
class VentricularRun:
    n: int
    bpm: float
    first: float
    last: float


@dataclass(frozen=True, slots=True)
class AfEvidence:
    """``nrmssd``: RMS of successive RR differences / mean RR; ``pnn``: fraction of successive differences
    > 12.5 % of the mean RR; ``tpr``: turning-point ratio (2/3 for random order); ``mean_rr`` in s;
    ``n`` intervals used."""

    n: int
    mean_rr: float
    nrmssd: float
    pnn: float
    tpr: float


def af_evidence(rr: np.ndarray) -> AfEvidence | None:
    """Irregularity measures of an RR series (s); ``None`` for fewer than 8 intervals."""
    rr = np.asarray(rr, dtype=float)
    if rr.size < 8:
        return None
    mean = float(rr.mean())
    d = np.diff(rr)
    nrmssd = math.sqrt(float(np.dot(d, d)) / d.size) / mean
    pnn = float(np.count_nonzero(np.abs(d) > 0.125 * mean)) / d.size
    mid = rr[1:-1]
    turning = np.count_nonzero(((mid > rr[:-2]) & (mid > rr[2:])) | ((mid < rr[:-2]) & (mid < rr[2:])))
    tpr = float(turning) / max(1, mid.size)
    return AfEvidence(int(rr.size), mean, nrmssd, pnn, tpr)


class RhythmTracker:
    def __init__(self, history: int = 64, af_window: int = 32) -> None:
        self._t: deque[float] = deque(maxlen=history)
        self._label: deque[str] = deque(maxlen=history)
        self._af_window = af_window
        self._run: list[float] = []  # times of the current run of consecutive V beats

    def reset(self) -> None:
        self._t.clear()
        self._label.clear()
        self._run = []

    def __len__(self) -> int:
        return len(self._t)

    @property
    def last_beat(self) -> float | None:
        return self._t[-1] if self._t else None

    def add(self, t: float, label: str) -> None:
        self._t.append(t)
        self._label.append(label)
        if label == "V":
            self._run.append(t)
        else:
            self._run = []

    def rate_run(self, n: int) -> RateRun | None:
        """The last ``n`` beats (``n`` >= 2) and their mean rate, or ``None`` if there are fewer."""
        if n < 2 or len(self._t) < n:
            return None
        first, last = self._t[-n], self._t[-1]
        span = last - first
        if span <= 0:
            return None
        return RateRun(n, 60.0 * (n - 1) / span, first, last)

    def ventricular_run(self) -> VentricularRun | None:
        run = self._run
        if len(run) < 2:
            return None
        span = run[-1] - run[0]
        return VentricularRun(len(run), 60.0 * (len(run) - 1) / span if span > 0 else 0.0, run[0], run[-1])

    def longest_rr_since(self, t: float) -> tuple[float, float] | None:
        """The longest RR interval whose second beat came at or after ``t``: ``(rr, time of its first beat)``."""
        times = self._t
        best: tuple[float, float] | None = None
        for i in range(len(times) - 1, 0, -1):
            if times[i] < t:
                break
            rr = times[i] - times[i - 1]
            if best is None or rr > best[0]:
                best = (rr, times[i - 1])
        return best

    def dominant_rr(self, window: int | None = None) -> np.ndarray:
        """RR intervals (s) between consecutive beats that are both dominant (``N``), the newest last."""
        n = window or self._af_window
        t = np.fromiter(self._t, dtype=float, count=len(self._t))
        if t.size < 2:
            return np.zeros(0)
        normal = np.fromiter((lab == "N" for lab in self._label), dtype=bool, count=t.size)
        both = normal[1:] & normal[:-1]
        return np.diff(t)[both][-n:]

    def irregularity(self) -> AfEvidence | None:
        return af_evidence(self.dominant_rr())
