"""Per-block ECG features for signal quality and ventricular fibrillation, streamed.

:class:`EcgFeatureBank` takes the raw ECG (mV) of one lead and, once per whole block of ``block_s`` (1 s)
aligned on the absolute sample index, returns a :class:`BlockFeatures` computed over the window of the
last ``window_s`` (4 s) of signal. Blocks never depend on how the input was chunked: samples are
buffered until a block is complete, filters keep their state, and every statistic is a function of the
samples in its window.

Signals (causal, second-order-section Butterworth filters, state initialised from the first sample):

* ``wide``: 1-30 Hz band-pass, the ECG without baseline wander and mains/EMG (morphology, VF)
* ``low``: 2-9 Hz band-pass, where ventricular fibrillation/flutter puts its energy (3-7 Hz)
* ``hf``: 15-40 Hz band-pass (capped at 0.45 fs), where QRS edges and muscle noise live

Feature definitions are in docs/algorithms.md ("Signal quality", "Ventricular fibrillation").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.errors import ConfigError
from monitor.signal.filters import SampleBuffer, SosFilter, design_bandpass

__all__ = ["BlockFeatures", "EcgFeatureBank"]

_WIDE, _LOW, _HF, _RAW = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class BlockFeatures:
    """Features of the window ending at sample ``end`` (exclusive; absolute index).

    ``ptp``: raw peak-to-peak (mV) over the last 2 s; ``rail``: fraction of the last 2 s stuck at its
    extreme values (clipping, a saturated amplifier); ``amp``: RMS of the wide band over the window (mV);
    ``low_ratio``: power in 2-9 Hz / power in 1-30 Hz; ``hf_ratio``: RMS 15-40 Hz / RMS 1-30 Hz;
    ``busy``: fraction of the window where the wide band exceeds 20 % of its maximum (TCSC-like: high
    when there is no isoelectric baseline); ``leak``: Kuo-Dillman VF-filter leakage (low for a
    sinusoid-like signal); ``wander``: peak-to-peak of the 0.25 s means of the raw signal over 2 s (mV).
    ``leak`` is 1.0 when it was not computed (``low_ratio`` or ``busy`` too small to matter).
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
        self._hf = SosFilter(design_bandpass(fs, 15.0, 40.0))
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
        for f in (self._wide, self._low, self._hf):
            f.reset()

    def process(self, x: np.ndarray) -> list[BlockFeatures]:
        """Feed samples (mV, finite); returns the features of every block completed by them."""
        if x.size == 0:
            return []
        self._pending.append(x)
        self._n_pending += x.size
        if self._n_pending < self.block:
            return []
        joined = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        take = (joined.size // self.block) * self.block
        rest = joined[take:]
        self._pending = [rest] if rest.size else []
        self._n_pending = rest.size
        return self._blocks(joined[:take])

    # -----------------------------------------------------------------------------------------
    def _blocks(self, x: np.ndarray) -> list[BlockFeatures]:
        rows = np.empty((4, x.size))
        rows[_WIDE] = self._wide.process(x)
        rows[_LOW] = self._low.process(x)
        rows[_HF] = self._hf.process(x)
        rows[_RAW] = x
        self._buf.append(rows)
        out = []
        for k in range(x.size // self.block):
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
        rail = float(np.count_nonzero((raw >= top - tol) | (raw <= bottom + tol))) / raw.size if ptp > 0 else 1.0
        q = self._quarter
        usable = (raw.size // q) * q
        means = raw[raw.size - usable :].reshape(-1, q).mean(axis=1)
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
        mag = np.abs(wide)
        busy = float(np.count_nonzero(mag > 0.2 * float(mag.max()))) / n
        leak = 1.0
        if low_ratio >= 0.6 and busy >= 0.2:  # only then can it be VF-like: compute the costlier leakage
            leak = _leakage(wide, mag, self.fs)
        return BlockFeatures(end, ptp, rail, amp, low_ratio, hf_ratio, busy, leak, wander)


def _leakage(x: np.ndarray, mag: np.ndarray, fs: float) -> float:
    """Kuo & Dillman's VF filter: a notch at the signal's mean frequency; the fraction that leaks through.

    ``N = round(pi * sum|x| / sum|dx| + 0.5)`` is half the mean period in samples; the leakage is
    ``sum|x_i + x_(i-N)| / sum(|x_i| + |x_(i-N)|)``: near 0 for a sinusoid, near 1 for spiky beats.
    """
    dx = float(np.abs(np.diff(x)).sum())
    if dx <= 0.0:
        return 1.0
    half = int(math.floor(math.pi * float(mag.sum()) / dx + 0.5))
    if not 1 <= half < x.size // 2:
        return 1.0
    num = float(np.abs(x[half:] + x[:-half]).sum())
    den = float(mag[half:].sum() + mag[:-half].sum())
    return num / den if den > 0 else 1.0
