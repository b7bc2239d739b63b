"""Rhythm from one lead's beat sequence: rate runs, pauses, ventricular runs, irregularity (AF).

:class:`RhythmTracker` takes beats as ``(time_s, label)`` (label from :mod:`monitor.signal.morphology`:
``N`` dominant, ``V`` ventricular, ``Q`` unclassified) and answers, from the beats alone:

* :meth:`rate_run` — the run of the last ``n`` beats and its mean rate ``60 (n-1) / (t_n - t_1)``, the CinC
  2015 reading of "HR above 140 bpm for 17 beats" / "below 40 bpm for 5 beats";
* :meth:`ventricular_run` — the current run of consecutive ``V`` beats, its length, rate and first beat;
* :meth:`longest_rr_since` — the longest RR interval that ended after a time (pauses);
* :meth:`irregularity` — atrial-fibrillation evidence over the last ``af_window`` RR intervals between
  dominant beats (see :func:`af_evidence`).

It keeps the last ``history`` beats; all methods are O(history) at most, and their results are kept until
the next beat is added (the bed asks several times per block).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["RateRun", "VentricularRun", "AfEvidence", "AfCriteria", "RhythmTracker", "af_evidence"]


@dataclass(frozen=True, slots=True)
class RateRun:
    """The last ``n`` beats: ``bpm`` from their median RR interval (one extra or missed detection does not
    move it), ``mean_bpm`` = 60 (n-1) / span; ``dominant`` the fraction labelled N (or still learning),
    ``consistency`` the median correlation of each beat with the one before."""

    n: int
    bpm: float
    mean_bpm: float
    first: float  # time of the run's first beat, s
    last: float
    dominant: float
    consistency: float


@dataclass(frozen=True, slots=True)
class VentricularRun:
    """The current run of consecutive V beats; ``consistency`` as in :class:`RateRun` (a monomorphic
    ventricular rhythm repeats its shape, artefact spikes do not)."""

    n: int
    bpm: float
    first: float
    last: float
    consistency: float
    times: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class AfEvidence:
    """``nrmssd``: RMS of successive RR differences / mean RR; ``pnn``: fraction of successive differences
    > 12.5 % of the mean RR; ``steady``: fraction < 5 % of the mean RR; ``tpr``: turning-point ratio (2/3 for
    random order); ``mean_rr`` in s; ``n`` intervals used."""

    n: int
    mean_rr: float
    nrmssd: float
    pnn: float
    tpr: float
    steady: float = 0.0


@dataclass(frozen=True)
class AfCriteria:
    """Atrial fibrillation: irregular (nRMSSD >= ``min_nrmssd``), but not dominated by pauses or runs of
    ectopy (nRMSSD <= ``max_nrmssd``), few successive intervals alike (``steady`` <= ``max_steady``), many
    clearly different (``pnn`` >= ``min_pnn``), in random order (turning-point ratio within ``tpr``), over
    at least ``min_intervals`` dominant RR intervals. See docs/algorithms.md ("Atrial fibrillation")."""

    min_nrmssd: float = 0.1
    max_nrmssd: float = 0.5
    max_steady: float = 0.4
    min_pnn: float = 0.25
    tpr: tuple[float, float] = (0.45, 0.85)
    min_intervals: int = 24

    def holds(self, ev: AfEvidence | None) -> bool:
        return (
            ev is not None
            and ev.n >= self.min_intervals
            and self.min_nrmssd <= ev.nrmssd <= self.max_nrmssd
            and ev.steady <= self.max_steady
            and ev.pnn >= self.min_pnn
            and self.tpr[0] <= ev.tpr <= self.tpr[1]
        )


def af_evidence(rr: np.ndarray) -> AfEvidence | None:
    """Irregularity measures of an RR series (s); ``None`` for fewer than 8 intervals."""
    rr = np.asarray(rr, dtype=float)
    if rr.size < 8:
        return None
    mean = float(rr.mean())
    d = np.diff(rr)
    nrmssd = math.sqrt(float(np.dot(d, d)) / d.size) / mean
    ad = np.abs(d)
    pnn = float(np.count_nonzero(ad > 0.125 * mean)) / d.size
    steady = float(np.count_nonzero(ad < 0.05 * mean)) / d.size
    mid = rr[1:-1]
    turning = np.count_nonzero(((mid > rr[:-2]) & (mid > rr[2:])) | ((mid < rr[:-2]) & (mid < rr[2:])))
    tpr = float(turning) / max(1, mid.size)
    return AfEvidence(int(rr.size), mean, nrmssd, pnn, tpr, steady)


class RhythmTracker:
    def __init__(self, history: int = 64, af_window: int = 32) -> None:
        self._t: deque[float] = deque(maxlen=history)
        self._label: deque[str] = deque(maxlen=history)
        self._prev_corr: deque[float] = deque(maxlen=history)
        self._af_window = af_window
        self._run: list[tuple[float, float]] = []  # (time, prev_corr) of the current run of consecutive V beats
        self._memo: dict[object, object] = {}

    def reset(self) -> None:
        self._t.clear()
        self._label.clear()
        self._prev_corr.clear()
        self._run = []
        self._memo.clear()

    def __len__(self) -> int:
        return len(self._t)

    @property
    def last_beat(self) -> float | None:
        return self._t[-1] if self._t else None

    def add(self, t: float, label: str, prev_corr: float = 1.0) -> None:
        self._t.append(t)
        self._label.append(label)
        self._prev_corr.append(prev_corr)
        self._memo.clear()
        if label == "V":
            self._run.append((t, prev_corr))
        else:
            self._run = []

    def rate_run(self, n: int) -> RateRun | None:
        """The last ``n`` beats (``n`` >= 2) and their rate, or ``None`` if there are fewer."""
        key = ("rate", n)
        if key not in self._memo:
            self._memo[key] = self._rate_run(n)
        return self._memo[key]  # type: ignore[return-value]

    def _rate_run(self, n: int) -> RateRun | None:
        if n < 2 or len(self._t) < n:
            return None
        t = list(self._t)[-n:]
        span = t[-1] - t[0]
        rr = sorted(b - a for a, b in zip(t, t[1:], strict=False))
        mid = len(rr) // 2
        median_rr = rr[mid] if len(rr) % 2 else 0.5 * (rr[mid - 1] + rr[mid])
        if span <= 0 or median_rr <= 0:
            return None
        labels = list(self._label)[-n:]
        dominant = sum(1 for lab in labels if lab in ("N", "?")) / n
        corr = sorted(list(self._prev_corr)[-n + 1 :])
        return RateRun(n, 60.0 / median_rr, 60.0 * (n - 1) / span, t[0], t[-1], dominant, corr[len(corr) // 2])

    def ventricular_run(self) -> VentricularRun | None:
        run = self._run
        if len(run) < 2:
            return None
        span = run[-1][0] - run[0][0]
        corr = sorted(c for _, c in run[1:])
        return VentricularRun(len(run), 60.0 * (len(run) - 1) / span if span > 0 else 0.0, run[0][0], run[-1][0],
                              corr[len(corr) // 2], tuple(t for t, _ in run))

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
        if "af" not in self._memo:
            self._memo["af"] = af_evidence(self.dominant_rr())
        return self._memo["af"]  # type: ignore[return-value]
