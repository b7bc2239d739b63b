"""Synthetic ECG: a sum of Gaussian waves per beat (ECGSYN-style, in the time domain), streamed.

Each beat of a :class:`~simulators.beats.BeatTrain` contributes P, Q, R, S and a two-part asymmetric T
wave (lead II: QRS ~90 ms, R ~1.25 mV; the P wave moves with the PR interval, the T wave with the QT
interval, Bazett-like ``sqrt(RR)``). Ventricular beats are wide (~160 ms) with a discordant T wave; AF
beats have no P wave and fibrillatory f-waves ride on the baseline. On top: respiratory and slow baseline
wander, white noise, motion artifact bursts, and leads-off (flat line or rail).

The output is a pure function of the seed, the physiology and the sample index: ``next(1000)`` equals
``next(400)`` followed by ``next(600)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from monitor.errors import ConfigError
from simulators.artifacts import BlockNoise, MotionArtifact
from simulators.beats import Beat, BeatKind, BeatTrain
from simulators.blocks import BlockRenderer
from simulators.physiology import Condition, Physiology, window_mask

__all__ = ["LEADS", "EcgGenerator", "Wave", "qrs_duration", "render_beats"]

_LOOKBACK_S = 1.0  # beats this far before a chunk still shape it (T wave)
_LOOKAHEAD_S = 0.6  # and this far after it (P wave)
_RAIL_MV = 5.0


@dataclass(frozen=True, slots=True)
class Wave:
    """One Gaussian component of a beat, relative to the R peak (at RR = 1 s)."""

    offset: float  # s
    width: float  # sigma, s
    amplitude: float  # mV
    scaling: Literal["", "pr", "qt"] = ""  # moves with the PR or QT interval


def _sinus(p: float, q: float, r: float, s: float, t1: float, t2: float) -> tuple[Wave, ...]:
    return (
        Wave(-0.170, 0.022, p, "pr"),
        Wave(-0.028, 0.007, q),
        Wave(0.000, 0.0105, r),
        Wave(0.027, 0.009, s),
        Wave(0.240, 0.055, t1, "qt"),
        Wave(0.300, 0.035, t2, "qt"),
    )


def _lead(sinus: tuple[Wave, ...], ventricular: tuple[Wave, ...]) -> dict[BeatKind, tuple[Wave, ...]]:
    return {BeatKind.SINUS: sinus, BeatKind.AF: sinus[1:], BeatKind.VENTRICULAR: ventricular}


LEADS: dict[str, dict[BeatKind, tuple[Wave, ...]]] = {
    "II": _lead(
        _sinus(0.13, -0.10, 1.25, -0.28, 0.22, 0.16),
        (Wave(0.0, 0.022, 1.35), Wave(0.055, 0.022, -0.75), Wave(0.25, 0.06, -0.45, "qt")),
    ),
    "V": _lead(  # a V5-like chest lead
        _sinus(0.09, -0.12, 1.6, -0.35, 0.30, 0.20),
        (Wave(-0.025, 0.02, 0.3), Wave(0.03, 0.025, -1.5), Wave(0.25, 0.06, 0.5, "qt")),
    ),
}
"""Beat templates per lead and beat kind."""


def qrs_duration(lead: str = "II", kind: BeatKind = BeatKind.SINUS) -> float:
    """QRS duration of a template, s: the span of its QRS waves (not P/T), each taken as +-2.5 sigma."""
    qrs = [w for w in LEADS[lead][kind] if not w.scaling]
    return max(w.offset + 2.5 * w.width for w in qrs) - min(w.offset - 2.5 * w.width for w in qrs)


def _template_arrays(lead: str, kind: BeatKind) -> tuple[np.ndarray, ...]:
    waves = LEADS[lead][kind]
    return (
        np.array([w.offset for w in waves]),
        np.array([w.width for w in waves]),
        np.array([w.amplitude for w in waves]),
        np.array([w.scaling == "qt" for w in waves]),
        np.array([w.scaling == "pr" for w in waves]),
    )


_ARRAYS = {(lead, kind): _template_arrays(lead, kind) for lead in LEADS for kind in BeatKind}


def render_beats(t: np.ndarray, beats: Sequence[Beat], lead: str = "II") -> np.ndarray:
    """The noise-free sum of the beat waveforms of ``beats`` at times ``t`` (mV)."""
    if not beats:
        return np.zeros(t.shape)
    centers, widths, amps = [], [], []
    for kind in {b.kind for b in beats}:
        chosen = [b for b in beats if b.kind is kind]
        bt = np.array([b.t for b in chosen])[:, None]
        rr = np.array([b.rr for b in chosen])[:, None]
        gain = np.array([b.amplitude for b in chosen])[:, None]
        offset, width, amplitude, qt, pr = _ARRAYS[(lead, kind)]
        k_qt = np.clip(np.sqrt(rr), 0.6, 1.15)
        k_pr = np.clip(0.8 + 0.2 * rr, 0.85, 1.1)
        centers.append((bt + offset * np.where(qt, k_qt, np.where(pr, k_pr, 1.0))).ravel())
        widths.append((width * np.where(qt, k_qt, 1.0)).ravel())
        amps.append((amplitude * gain).ravel())
    d = (t[:, None] - np.concatenate(centers)[None, :]) / np.concatenate(widths)[None, :]
    return np.exp(-0.5 * np.minimum(d * d, 700.0)) @ np.concatenate(amps)


class EcgGenerator:
    """Streaming ECG for one bed, one or more leads."""

    def __init__(
        self,
        physiology: Physiology,
        seed: int,
        *,
        fs: int = 250,
        leads: Sequence[str] = ("II",),
        noise_mv: float = 0.012,
        wander_mv: float = 0.06,
        leads_off_mode: Literal["flat", "rail"] = "flat",
    ) -> None:
        if not 100 <= fs <= 1000:
            raise ConfigError(f"ECG fs must be 100-1000 Hz, got {fs}")
        unknown = [lead for lead in leads if lead not in LEADS]
        if unknown or not leads:
            raise ConfigError(f"unknown ECG lead(s) {unknown}; known: {', '.join(LEADS)}")
        self.fs = fs
        self.leads = tuple(leads)
        self.position = 0  # samples generated so far
        self._phys = physiology
        self._train = BeatTrain(physiology, seed)
        self._noise_mv, self._wander_mv, self._leads_off_mode = noise_mv, wander_mv, leads_off_mode
        self._noise = {lead: BlockNoise(seed, 10 + i, fs) for i, lead in enumerate(self.leads)}
        self._artifact = {lead: MotionArtifact(seed, 100 + 10 * i, "ecg") for i, lead in enumerate(self.leads)}
        rng = np.random.default_rng([seed, 0xEC6])
        self._phases = rng.uniform(0, 2 * math.pi, 5)
        self._blocks = BlockRenderer(self._render, fs)  # render one second at a time

    @property
    def time(self) -> float:
        """Scenario time of the next sample."""
        return self.position / self.fs

    def next(self, n: int) -> dict[str, np.ndarray]:
        """The next ``n`` samples of every lead, mV."""
        if n <= 0:
            return {lead: np.zeros(0) for lead in self.leads}
        out = self._blocks.take(self.position, n)
        self.position += n
        return out

    def _render(self, start: int, n: int) -> dict[str, np.ndarray]:
        """Samples ``start .. start + n - 1``; called block by block in increasing order."""
        t = np.arange(start, start + n) / self.fs
        t0, t1 = float(t[0]), float(t[-1])
        beats = self._train.between(t0 - _LOOKBACK_S, t1 + _LOOKAHEAD_S)
        self._train.forget_before(t0 - _LOOKBACK_S)
        phys = self._phys
        common = self._wander(t, phys.resp_rate(t0))
        af = phys.windows(Condition.AFIB, t0, t1 + 1e-9)
        if af:
            common += window_mask(af, t) * self._f_waves(t)
        artifact = phys.windows(Condition.ARTIFACT, t0, t1 + 1e-9)
        leads_off = window_mask(phys.windows(Condition.LEADS_OFF, t0, t1 + 1e-9), t)
        out = {}
        for lead in self.leads:
            y = render_beats(t, beats, lead) + common + self._noise_mv * self._noise[lead].take(start, n)
            if artifact:
                y += self._artifact[lead].render(t, start, artifact)
            if leads_off.any():
                flat = _RAIL_MV if self._leads_off_mode == "rail" else 0.0
                y[leads_off] = flat + 0.002 * self._noise[lead].take(start, n)[leads_off]
            out[lead] = y
        return out

    def _wander(self, t: np.ndarray, resp_rate: float) -> np.ndarray:
        p = self._phases
        return self._wander_mv * (
            np.sin(2 * math.pi * resp_rate / 60.0 * t + self._train.resp_phase0)
            + 0.6 * np.sin(2 * math.pi * 0.05 * t + p[1])
            + 0.4 * np.sin(2 * math.pi * 0.13 * t + p[2])
        )

    def _f_waves(self, t: np.ndarray) -> np.ndarray:
        """Atrial fibrillation f-waves: irregular 4-8 Hz baseline oscillation, ~0.05-0.1 mV."""
        p = self._phases
        slow = 1.0 + 0.4 * np.sin(2 * math.pi * 0.3 * t + p[3])
        return 0.05 * slow * (np.sin(2 * math.pi * 5.3 * t + p[4]) + 0.6 * np.sin(2 * math.pi * 7.1 * t + p[3]))
