"""Synthetic photoplethysmogram (pleth), streamed; one pulse per heart beat.

Each beat's pulse starts (its foot) one pulse transit time after the R peak (150-250 ms, shorter at fast
rates), rises steeply to the systolic peak ~120 ms later, falls, and shows a dicrotic notch and wave.
Pulse amplitude follows the perfusion of the physiology and the beat's stroke volume (weak pulses after
short RR intervals in AF, no pulse in asystole). Arbitrary units, ~1 for a normal pulse, around 0.
Respiratory baseline modulation, white noise, motion artifact and probe-off (flat line with noise) on top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from monitor.errors import ConfigError
from simulators.artifacts import BlockNoise, MotionArtifact
from simulators.beats import Beat, BeatTrain
from simulators.blocks import BlockRenderer
from simulators.physiology import Condition, Physiology, window_mask

__all__ = ["PlethGenerator", "pulse_transit_time", "render_pulses"]

_LOOKBACK_S = 1.2  # a pulse ends < 1 s after its R peak
_LOOKAHEAD_S = 0.3


def pulse_transit_time(rr: float) -> float:
    """Delay from the R peak to the foot of the pleth pulse, s (0.15-0.25 s)."""
    return min(max(0.16 + 0.06 * rr, 0.15), 0.25)


def render_pulses(t: np.ndarray, beats: Sequence[Beat], amplitudes: Sequence[float]) -> np.ndarray:
    """The noise-free sum of the pulses of ``beats`` (with the given amplitudes) at times ``t``."""
    if not beats:
        return np.zeros(t.shape)
    rr = np.array([b.rr for b in beats])
    foot = np.array([b.t for b in beats]) + np.clip(0.16 + 0.06 * rr, 0.15, 0.25)
    k = np.clip(np.sqrt(rr), 0.6, 1.1)
    amp = np.asarray(amplitudes, dtype=float)
    d_sys = t[:, None] - (foot + 0.12 * k)[None, :]
    sigma = np.where(d_sys < 0, 0.045 * k[None, :], 0.075 * k[None, :])
    systolic = np.exp(-0.5 * np.minimum((d_sys / sigma) ** 2, 700.0))
    d_dic = (t[:, None] - (foot + 0.34 * k)[None, :]) / (0.06 * k)[None, :]
    dicrotic = 0.4 * np.exp(-0.5 * np.minimum(d_dic * d_dic, 700.0))
    return (systolic + dicrotic) @ amp


class PlethGenerator:
    """Streaming pleth for one bed."""

    def __init__(
        self, physiology: Physiology, seed: int, *, fs: int = 125, noise: float = 0.004, resp_mod: float = 0.06
    ) -> None:
        if not 100 <= fs <= 1000:
            raise ConfigError(f"pleth fs must be 100-1000 Hz, got {fs}")
        self.fs = fs
        self.position = 0
        self._phys = physiology
        self._train = BeatTrain(physiology, seed)
        self._noise_level, self._resp_mod = noise, resp_mod
        self._noise = BlockNoise(seed, 20, fs)
        self._artifact = MotionArtifact(seed, 200, "pleth")
        self._drift_phase = float(np.random.default_rng([seed, 0x9E7]).uniform(0, 2 * math.pi))
        self._blocks = BlockRenderer(self._render, fs)  # render one second at a time

    @property
    def time(self) -> float:
        """Scenario time of the next sample."""
        return self.position / self.fs

    def next(self, n: int) -> np.ndarray:
        """The next ``n`` samples (arbitrary units)."""
        if n <= 0:
            return np.zeros(0)
        out = self._blocks.take(self.position, n)["pleth"]
        self.position += n
        return out

    def _render(self, start: int, n: int) -> dict[str, np.ndarray]:
        """Samples ``start .. start + n - 1``; called block by block in increasing order."""
        t = np.arange(start, start + n) / self.fs
        t0, t1 = float(t[0]), float(t[-1])
        phys = self._phys
        beats = self._train.between(t0 - _LOOKBACK_S, t1 + _LOOKAHEAD_S)
        self._train.forget_before(t0 - _LOOKBACK_S)
        amplitudes = [phys.perfusion(b.t) * b.pulse * b.amplitude for b in beats]
        resp = 2 * math.pi * phys.resp_rate(t0) / 60.0 * t + self._train.resp_phase0
        y = render_pulses(t, beats, amplitudes)
        y += self._resp_mod * np.sin(resp) + 0.04 * np.sin(2 * math.pi * 0.04 * t + self._drift_phase)
        y += self._noise_level * self._noise.take(start, n)
        artifact = phys.windows(Condition.ARTIFACT, t0, t1 + 1e-9)
        if artifact:
            y += self._artifact.render(t, start, artifact)
        probe_off = window_mask(phys.windows(Condition.PROBE_OFF, t0, t1 + 1e-9), t)
        if probe_off.any():
            y[probe_off] = 0.02 * self._noise.take(start, n)[probe_off]
        return {"pleth": y}
