"""Noise and motion artifact, as pure functions of the sample index / time (so chunking never matters).

* :class:`BlockNoise` — white Gaussian noise; block ``b`` always comes from ``default_rng((seed, stream, b))``.
* :class:`MotionArtifact` — patient-movement artifact during burst windows: large irregular baseline
  swings and steps, plus (ECG) spiky high-frequency bursts that look like QRS complexes to a naive
  detector. A burst's shape is drawn from a generator seeded by the burst's start time, so it is the
  same whichever chunk renders it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simulators.physiology import Window

__all__ = ["BlockNoise", "MotionArtifact"]

_TAPER_S = 0.3  # s, cosine fade in/out of a burst


class BlockNoise:
    """Standard normal noise addressed by absolute sample index."""

    def __init__(self, seed: int, stream: int, block: int = 1000) -> None:
        self._key = (seed, stream)
        self._block = block
        self._cache: dict[int, np.ndarray] = {}

    def take(self, start: int, n: int) -> np.ndarray:
        """Samples ``start .. start + n - 1`` (``start`` may be any integer >= 0)."""
        if n <= 0:
            return np.zeros(0)
        first, last = start // self._block, (start + n - 1) // self._block
        blocks = [self._get(b) for b in range(first, last + 1)]
        joined = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
        offset = start - first * self._block
        for old in [b for b in self._cache if b < first]:
            del self._cache[old]
        return joined[offset : offset + n]

    def _get(self, b: int) -> np.ndarray:
        block = self._cache.get(b)
        if block is None:
            block = np.random.default_rng([*self._key, b]).standard_normal(self._block)
            self._cache[b] = block
        return block


@dataclass(frozen=True, slots=True)
class _Burst:
    start: float
    end: float
    freqs: np.ndarray  # baseline swings: sinusoids
    amps: np.ndarray
    phases: np.ndarray
    step_times: np.ndarray  # baseline steps (smoothed)
    step_amps: np.ndarray
    spike_times: np.ndarray  # narrow spikes
    spike_amps: np.ndarray
    spike_widths: np.ndarray
    hf_level: float  # broadband noise level


_PROFILES = {
    # kind: (swing freq range Hz, swing amp range, n swings, step amp range, spikes/s, spike amp range, hf range)
    "ecg": ((0.3, 3.0), (0.3, 0.9), 5, (0.5, 2.0), 4.0, (0.5, 3.0), (0.1, 0.4)),
    "pleth": ((0.2, 2.5), (0.4, 1.2), 4, (0.5, 2.0), 0.0, (0.0, 0.0), (0.02, 0.06)),
}


class MotionArtifact:
    """Motion artifact for one signal kind, rendered on sample times inside burst windows."""

    def __init__(self, seed: int, stream: int, kind: Literal["ecg", "pleth"]) -> None:
        self._seed, self._stream = seed, stream
        self._profile = _PROFILES[kind]
        self._noise = BlockNoise(seed, stream + 1)
        self._bursts: dict[Window, _Burst] = {}

    def render(self, t: np.ndarray, start_index: int, windows: list[Window]) -> np.ndarray:
        """Artifact to add to the samples at times ``t`` (sample indices from ``start_index``)."""
        out = np.zeros(t.shape)
        if not windows or t.size == 0:
            return out
        for window in windows:
            inside = (t >= window[0]) & (t < window[1])
            if not inside.any():
                continue
            burst = self._burst(window)
            tt = t[inside]
            value = np.sin(2 * math.pi * burst.freqs[None, :] * tt[:, None] + burst.phases[None, :]) @ burst.amps
            if burst.step_times.size:
                steps = (tt[:, None] - burst.step_times[None, :]) / 0.05
                value += (0.5 * (1.0 + np.tanh(steps))) @ burst.step_amps
            if burst.spike_times.size:
                d = (tt[:, None] - burst.spike_times[None, :]) / burst.spike_widths[None, :]
                value += np.exp(-0.5 * np.clip(d * d, 0.0, 80.0)) @ burst.spike_amps
            idx = np.nonzero(inside)[0]
            value += burst.hf_level * self._noise.take(start_index + int(idx[0]), idx.size)
            out[inside] += value * _taper(tt, burst.start, burst.end)
        self._forget_before(float(t[0]))
        return out

    def _burst(self, window: Window) -> _Burst:
        burst = self._bursts.get(window)
        if burst is None:
            burst = self._draw(window)
            self._bursts[window] = burst
        return burst

    def _forget_before(self, t: float) -> None:
        for window in [w for w in self._bursts if w[1] < t]:
            del self._bursts[window]

    def _draw(self, window: Window) -> _Burst:
        start, end = window
        rng = np.random.default_rng([self._seed, self._stream, round(start * 1000)])
        (f_lo, f_hi), (a_lo, a_hi), n_swing, (s_lo, s_hi), spike_rate, (p_lo, p_hi), (h_lo, h_hi) = self._profile
        intensity = rng.uniform(0.6, 1.0)
        duration = end - start
        n_steps = int(rng.integers(1, 4))
        n_spikes = int(rng.poisson(spike_rate * duration)) if spike_rate else 0
        return _Burst(
            start=start,
            end=end,
            freqs=rng.uniform(f_lo, f_hi, n_swing),
            amps=intensity * rng.uniform(a_lo, a_hi, n_swing),
            phases=rng.uniform(0, 2 * math.pi, n_swing),
            step_times=rng.uniform(start, end, n_steps),
            step_amps=intensity * rng.uniform(s_lo, s_hi, n_steps) * rng.choice([-1.0, 1.0], n_steps),
            spike_times=np.sort(rng.uniform(start, end, n_spikes)),
            spike_amps=intensity * rng.uniform(p_lo, p_hi, n_spikes) * rng.choice([-1.0, 1.0], n_spikes),
            spike_widths=rng.uniform(0.004, 0.012, n_spikes),
            hf_level=float(intensity * rng.uniform(h_lo, h_hi)),
        )


def _taper(t: np.ndarray, start: float, end: float) -> np.ndarray:
    """1 inside the burst, cosine fade over ``_TAPER_S`` at both ends."""
    ramp = min(_TAPER_S, 0.5 * (end - start))
    x = np.clip(np.minimum(t - start, end - t) / ramp, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(math.pi * x)
