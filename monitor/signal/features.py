"""Per-block ECG features for signal quality and ventricular fibrillation, streamed.

:class:`EcgFeatureBank` takes the raw ECG (mV) of one lead and, once per whole block of ``block_s`` (1 s)
aligned on the absolute sample index, returns a :class:`BlockFeatures` computed over the window of the
last ``window_s`` (4 s) of signal. Blocks never depend on how the input was chunked: samples are
buffered until a block is complete, filters keep their state, and every statistic is a function of the
samples in its window.

Signals (causal, second-order-section Butterworth filters, state initialised from the first sample):

* ``wide``: 1-30 Hz band-pass, the ECG without baseline wander and mains/EMG (morphology, VF)
* ``low``: 2-9 Hz band-pass, where ventricular fibrillation/flutter puts its energy (3-7 Hz)
* ``hf``: the QRS detector's 15-40 Hz RMS row (``QrsFilterBank.HF``), passed in with the samples; its
  square's mean over a window is the 15-40 Hz power (QRS edges and muscle noise live there)

Feature definitions are in docs/algorithms.md ("Signal quality", "Ventricular fibrillation").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.errors import ConfigError
from monitor.signal.filters import SampleBuffer, SosFilter, design_bandpass

__all__ = ["BlockFeatures", "EcgFeatureBank", "envelope_floor", "periodicity"]

_WIDE, _LOW, _HF, _RAW = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class BlockFeatures:
    """Features of the window ending at sample ``end`` (exclusive; absolute index).

    ``ptp``: raw peak-to-peak (mV) over the last 2 s; ``rail``: fraction of the last 2 s stuck at its
    extreme values (clipping, a saturated amplifier); ``amp``: RMS of the wide band over the window (mV);
    ``low_ratio``: power in 2-9 Hz / power in 1-30 Hz; ``hf_ratio``: RMS 15-40 Hz / RMS 1-30 Hz;
    ``busy``: fraction of the window where the wide band exceeds 20 % of its maximum (TCSC-like: high
    when there is no isoelectric baseline); ``leak``: Kuo-Dillman VF-filter leakage (low for a
    sinusoid-like signal); ``wander``: peak-to-peak of the 0.25 s means of the raw signal over 2 s (mV);
    ``freq``: the wide band's mean frequency (Hz), ``fs / (2 N)`` with N the VF filter's half period.
    ``busy`` and ``freq`` are 0.0 and ``leak`` 1.0 when they were not computed (``hf_ratio`` too large or
    ``busy`` too small for the window to be VF-like).
    """

    end: int
    ptp: float
    rail: float
    amp: float
    low_ratio: float
    hf_ratio: float
    busy: float
    leak: float
    wander: float
    freq: float = 0.0


class EcgFeatureBank:
    """Buffers one lead's raw samples and emits :class:`BlockFeatures` per completed block."""

    def __init__(self, fs: float, block_s: float = 1.0, window_s: float = 4.0) -> None:
        if not 50.0 <= fs <= 2000.0:
            raise ConfigError(f"fs={fs} Hz is outside 50-2000 Hz")
        if not 0.0 < block_s <= window_s:
            raise ConfigError("need 0 < block_s <= window_s")
        self.fs = float(fs)
        self.block = max(1, int(round(block_s * fs)))
        self.window = max(self.block, int(round(window_s / block_s)) * self.block)
        self._short = min(self.window, 2 * self.block)
        self._wide = SosFilter(design_bandpass(fs, 1.0, 30.0))
        self._low = SosFilter(design_bandpass(fs, 2.0, 9.0))
        self._buf = SampleBuffer(4, keep=self.window + self.block)
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._n = 0  # absolute index of the next sample
        self._start = 0  # first sample of the current segment
        self._quarter = max(1, self.block // 4)

    @property
    def samples_seen(self) -> int:
        return self._n + self._n_pending

    def wide_view(self, lo: int, hi: int) -> np.ndarray:
        """The 1-30 Hz signal at absolute samples ``[lo, hi)`` (clipped to what is held)."""
        return self._buf.view(_WIDE, lo, hi)

    def skip(self, n: int) -> None:
        """A gap of ``n`` samples: the partial block is dropped, filters and windows restart after it."""
        self._n += self._n_pending + int(n)
        self._pending.clear()
        self._n_pending = 0
        self._start = self._n
        self._buf.clear(self._n)
        for f in (self._wide, self._low):
            f.reset()

    def process(self, x: np.ndarray, hf_rms: np.ndarray) -> list[BlockFeatures]:
        """Feed samples (mV, finite) with the detector's 15-40 Hz RMS of the same samples; returns the
        features of every block completed by them."""
        if x.size == 0:
            return []
        self._pending.append(np.vstack((x, hf_rms)))
        self._n_pending += x.size
        if self._n_pending < self.block:
            return []
        joined = np.concatenate(self._pending, axis=1) if len(self._pending) > 1 else self._pending[0]
        take = (joined.shape[1] // self.block) * self.block
        rest = joined[:, take:]
        self._pending = [rest] if rest.shape[1] else []
        self._n_pending = rest.shape[1]
        return self._blocks(joined[0, :take], joined[1, :take])

    # -----------------------------------------------------------------------------------------
    def _blocks(self, x: np.ndarray, hf_rms: np.ndarray) -> list[BlockFeatures]:
        rows = np.empty((4, x.size))
        rows[_WIDE] = self._wide.process(x)
        rows[_LOW] = self._low.process(x)
        rows[_HF] = hf_rms
        rows[_RAW] = x
        self._buf.append(rows)
        out = []
        for _ in range(x.size // self.block):
            self._n += self.block
            out.append(self._features(self._n))
        return out

    def _features(self, end: int) -> BlockFeatures:
        lo = max(end - self.window, self._start)
        short = max(end - self._short, self._start)
        raw = self._buf.view(_RAW, short, end)
        top, bottom = float(raw.max()), float(raw.min())
        ptp = top - bottom
        tol = 0.002 * ptp + 1e-9
        stuck = np.count_nonzero(raw >= top - tol) + np.count_nonzero(raw <= bottom + tol)
        rail = float(stuck) / raw.size if ptp > 0 else 1.0
        q = self._quarter
        usable = (raw.size // q) * q
        means = raw[raw.size - usable :].reshape(-1, q).sum(axis=1) / q
        wander = float(means.max() - means.min()) if means.size else 0.0
        wide = self._buf.view(_WIDE, lo, end)
        power = float(np.dot(wide, wide))
        low = self._buf.view(_LOW, lo, end)
        hf = self._buf.view(_HF, lo, end)
        n = wide.size
        amp = math.sqrt(power / n)
        if power <= 1e-12:
            return BlockFeatures(end, ptp, rail, amp, 0.0, 0.0, 0.0, 1.0, wander)
        low_ratio = float(np.dot(low, low)) / power
        hf_ratio = math.sqrt(float(np.dot(hf, hf)) / power)
        busy, leak, freq = 0.0, 1.0, 0.0
        if hf_ratio <= 0.3:  # no sharp QRS edges: only then can it be VF-like; compute the costlier features
            mag = np.abs(wide)
            busy = float(np.count_nonzero(mag > 0.2 * float(mag.max()))) / n
            if busy >= 0.2:
                leak, half = _leakage(wide, mag)
                freq = self.fs / (2.0 * half) if half else 0.0
        return BlockFeatures(end, ptp, rail, amp, low_ratio, hf_ratio, busy, leak, wander, freq)


def _leakage(x: np.ndarray, mag: np.ndarray) -> tuple[float, int]:
    """Kuo & Dillman's VF filter: a notch at the signal's mean frequency; the fraction that leaks through.

    ``N = round(pi * sum|x| / sum|dx| + 0.5)`` is half the mean period in samples; the leakage is
    ``sum|x_i + x_(i-N)| / sum(|x_i| + |x_(i-N)|)``: near 0 for a sinusoid, near 1 for spiky beats.
    Returns the leakage and N.
    """
    dx = float(np.abs(x[1:] - x[:-1]).sum())
    if dx <= 0.0:
        return 1.0, 0
    half = int(math.floor(math.pi * float(mag.sum()) / dx + 0.5))
    if not 1 <= half < x.size // 2:
        return 1.0, 0
    num = float(np.abs(x[half:] + x[:-half]).sum())
    den = float(mag[half:].sum() + mag[:-half].sum())
    return (num / den if den > 0 else 1.0), half


def envelope_floor(envelope: np.ndarray, q: float = 0.2) -> float:
    """The ``q`` quantile of an envelope over its maximum: small when QRS complexes rise out of a quiet
    baseline, large for the continuous activity of fibrillation (or noise)."""
    if envelope.size == 0:
        return 0.0
    top = float(envelope.max())
    if top <= 0.0:
        return 0.0
    k = int(q * (envelope.size - 1))
    return float(np.partition(envelope, k)[k]) / top


def periodicity(
    envelope: np.ndarray, fs: float, min_lag_s: float = 0.33, max_lag_s: float = 2.0, rate: float = 25.0
) -> float:
    """Largest normalised autocorrelation of a (QRS-detection) envelope at lags ``min_lag_s``-``max_lag_s``,
    after averaging it down to ``rate`` Hz. Close to 1 for beats at a steady pace (the envelope repeats every
    cycle, or every other cycle in bigeminy), low for fibrillation, whose envelope has no period in that range
    (ventricular flutter's own period, 0.2-0.25 s, lies below ``min_lag_s``)."""
    step = max(1, int(round(fs / rate)))
    n = envelope.size // step
    if n < 4:
        return 0.0
    e = envelope[envelope.size - n * step :].reshape(n, step).sum(axis=1)
    e = e - e.sum() / n
    energy = float(np.dot(e, e))
    if energy <= 0.0:
        return 0.0
    lo, hi = max(1, int(round(min_lag_s * rate))), min(n - 2, int(round(max_lag_s * rate)))
    if hi < lo:
        return 0.0
    full = np.correlate(e, e, "full")[n - 1 + lo : n + hi]
    lags = np.arange(lo, hi + 1)
    return float((full * n / (n - lags)).max() / energy)
