"""Beat times of a simulated heart, generated lazily in time order from a :class:`Physiology`.

Each beat (R-peak time) follows the instantaneous heart rate ``hr(t)`` with respiratory sinus arrhythmia
(RR shorter during inspiration) and a small jitter. Atrial fibrillation draws irregularly irregular RR
intervals, ventricular tachycardia gives regular wide-complex beats, asystole gives no beats at all.

Every beat consumes the same fixed number of random draws from its own generator, so the beat sequence
depends only on the seed and the physiology, never on how the signal is cut into chunks. Generators that
need beats (ECG, pleth) each own a :class:`BeatTrain` with the same seed and so see the same beats.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from simulators.physiology import Physiology, Rhythm

__all__ = ["Beat", "BeatKind", "BeatTrain", "resp_phase"]

_MIN_HR = 20.0  # bpm used when the physiology reports less (it never produces a slower escape rhythm)
_ASYSTOLE_SCAN = 0.05  # s, step when looking for the end of an asystole
_ASYSTOLE_MAX = 3600.0  # s, give up scanning after this


class BeatKind(StrEnum):
    SINUS = "sinus"  # P wave, narrow QRS
    AF = "af"  # narrow QRS, no P wave (conducted atrial fibrillation)
    VENTRICULAR = "ventricular"  # wide QRS, no P wave


@dataclass(frozen=True, slots=True)
class Beat:
    """One heart beat."""

    t: float  # R-peak time, seconds of scenario time
    rr: float  # interval from the previous beat, s
    kind: BeatKind
    amplitude: float  # relative QRS amplitude (beat-to-beat and respiratory variation), ~1
    pulse: float  # relative stroke volume for the pleth pulse, ~1


def resp_phase(physiology: Physiology, t: float, phase0: float = 0.0) -> float:
    """Respiratory phase (radians) at ``t``; inspiration is around phase pi/2."""
    return 2.0 * math.pi * physiology.resp_rate(t) / 60.0 * t + phase0


class BeatTrain:
    """Lazily generated, seeded sequence of beats."""

    def __init__(
        self,
        physiology: Physiology,
        seed: int,
        *,
        rsa_depth: float = 0.04,
        jitter: float = 0.012,
        start: float = -2.0,
    ) -> None:
        self._phys = physiology
        self._rng = np.random.default_rng([seed, 0xBEA7])
        self._rsa = rsa_depth
        self._jitter = jitter
        self.resp_phase0 = float(self._rng.uniform(0, 2 * math.pi))
        self._beats: deque[Beat] = deque()
        self._last_t = start + float(self._rng.uniform(0.0, 0.8))
        self._last_rr = 60.0 / max(physiology.hr(self._last_t), _MIN_HR)
        self._beats.append(self._make(self._last_t, self._last_rr, self._draw()))

    def between(self, t0: float, t1: float) -> list[Beat]:
        """Beats with R-peak time in ``[t0, t1)``; generates beats as far as needed."""
        while self._last_t < t1:
            self._append_next()
        return [b for b in self._beats if t0 <= b.t < t1]

    def forget_before(self, t: float) -> None:
        """Drop beats earlier than ``t`` (the caller will not ask for them again)."""
        while len(self._beats) > 1 and self._beats[0].t < t:
            self._beats.popleft()

    def _draw(self) -> tuple[float, float, float]:
        z = self._rng.standard_normal(2)
        u = self._rng.random()
        return float(z[0]), float(z[1]), float(u)

    def _append_next(self) -> None:
        phys, t_prev = self._phys, self._last_t
        z_rr, z_amp, u = self._draw()
        rr0 = 60.0 / max(phys.hr(t_prev), _MIN_HR)
        rr_mean = 60.0 / max(phys.hr(t_prev + 0.5 * rr0), _MIN_HR)
        rhythm = phys.rhythm(t_prev + rr_mean)
        if rhythm is Rhythm.AFIB:
            rr = rr_mean * (0.6 + 0.8 * u)
        elif rhythm is Rhythm.VTACH:
            rr = rr_mean * (1.0 + 0.01 * z_rr)
        else:
            rsa = 1.0 - self._rsa * math.sin(resp_phase(phys, t_prev, self.resp_phase0))
            rr = rr_mean * rsa * (1.0 + self._jitter * z_rr)
        t = t_prev + rr
        if phys.rhythm(t) is Rhythm.ASYSTOLE:
            t = self._end_of_asystole(t) + 0.3 + 0.4 * u
            rr = t - t_prev
        beat = self._make(t, rr, (z_rr, z_amp, u), rr_mean)
        self._beats.append(beat)
        self._last_t, self._last_rr = t, rr

    def _end_of_asystole(self, t: float) -> float:
        stop = t + _ASYSTOLE_MAX
        while t < stop and self._phys.rhythm(t) is Rhythm.ASYSTOLE:
            t += _ASYSTOLE_SCAN
        return t

    def _make(self, t: float, rr: float, draws: tuple[float, float, float], rr_mean: float | None = None) -> Beat:
        _, z_amp, _ = draws
        rhythm = self._phys.rhythm(t)
        kind = {Rhythm.AFIB: BeatKind.AF, Rhythm.VTACH: BeatKind.VENTRICULAR}.get(rhythm, BeatKind.SINUS)
        amplitude = 1.0 + 0.03 * z_amp + 0.05 * math.sin(resp_phase(self._phys, t, self.resp_phase0))
        pulse = 1.0
        if kind is BeatKind.AF and rr_mean:
            pulse = min(max(rr / rr_mean, 0.3), 1.15)  # short filling time, weak pulse
        return Beat(t=t, rr=rr, kind=kind, amplitude=amplitude, pulse=pulse)
