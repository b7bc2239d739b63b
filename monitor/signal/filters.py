"""Causal streaming filters with explicit state, and the QRS detector's filter bank.

Every filter here carries its state between calls, so filtering a signal in chunks gives
bit-for-bit the same output as filtering it whole (scipy's ``sosfilt``/``lfilter`` run sample by
sample with the state passed in ``zi``). Designs are made per sampling rate.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import ConfigError

__all__ = [
    "MovingAverage",
    "QrsFilterBank",
    "SampleBuffer",
    "SosFilter",
    "design_bandpass",
    "forward_max",
    "group_delay_samples",
    "sosfilt_zi",
]


def _load_sos_kernel() -> Any:
    """The compiled kernel behind ``scipy.signal.sosfilt`` (``_sosfilt(sos, x, zi)``: filters the rows of ``x``
    in place, carrying ``zi``), loaded on its own.

    ``import scipy.signal`` loads all of scipy.signal, scipy.stats, scipy.optimize and more: about 85 MB of
    resident memory per process for one recursive loop, most of a station's baseline. The extension module
    itself needs only numpy, so it is loaded directly from scipy's package directory; with another scipy
    layout the public ``scipy.signal.sosfilt`` is used instead (same arithmetic, same results)."""
    spec = importlib.util.find_spec("scipy")
    if spec is not None and spec.submodule_search_locations:
        for base in spec.submodule_search_locations:
            for path in sorted((Path(base) / "signal").glob("_sosfilt.*")):
                if path.suffix not in (".so", ".pyd"):
                    continue
                try:
                    loader = importlib.machinery.ExtensionFileLoader("_sosfilt", str(path))
                    module_spec = importlib.util.spec_from_file_location("_sosfilt", str(path), loader=loader)
                    if module_spec is None:
                        continue
                    module = importlib.util.module_from_spec(module_spec)
                    loader.exec_module(module)
                    return module._sosfilt
                except (ImportError, AttributeError, OSError):  # pragma: no cover - other scipy layouts
                    continue
    return None  # pragma: no cover


_sos_kernel = _load_sos_kernel()


def design_bandpass(fs: float, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth band-pass as second-order sections; the upper edge is kept below 0.45 fs.

    The same design, step for step, as ``scipy.signal.butter(order, [low, high], "bandpass", fs=fs,
    output="sos")`` (analog prototype, pre-warped low-pass to band-pass transform, bilinear transform, poles
    closest to the unit circle in the last section, each pole pair with its nearest zeros, the gain in the
    first section): the tests check it coefficient for coefficient against scipy."""
    high = min(high_hz, 0.45 * fs)
    if not 0.0 < low_hz < high:
        raise ConfigError(f"band {low_hz}-{high_hz} Hz is not usable at fs={fs} Hz")
    if order < 1 or order % 2:
        raise ConfigError(f"band-pass order must be a positive even number, got {order}")
    wn = 2.0 * np.array([low_hz, high], dtype=float) / fs
    m = np.arange(-order + 1, order, 2, dtype=float)
    prototype = -np.exp(1j * np.pi * m / (2 * order))  # Butterworth poles, cut-off 1 rad/s
    warped = 4.0 * np.tan(np.pi * wn / 2.0)  # pre-warped band edges (bilinear transform at fs = 2)
    bw = warped[1] - warped[0]
    wo = np.sqrt(warped[0] * warped[1])
    p_lp = (prototype * bw / 2).astype(np.complex128)
    p_bp = np.concatenate((p_lp + np.sqrt(p_lp**2 - wo**2), p_lp - np.sqrt(p_lp**2 - wo**2)))
    z_bp = np.zeros(order, dtype=np.complex128)  # plus ``order`` zeros at infinity
    fs2 = 4.0
    zeros = np.concatenate(((fs2 + z_bp) / (fs2 - z_bp), -np.ones(order))).real  # order at +1, order at -1
    poles = (fs2 + p_bp) / (fs2 - p_bp)
    gain = bw**order * np.real(np.prod(fs2 - z_bp) / np.prod(fs2 - p_bp))
    upper = poles[poles.imag > 0]  # one of each conjugate pair, by real part (ties: the first goes last)
    upper = upper[np.lexsort((np.abs(upper.imag), upper.real))]
    if len(upper) != order:  # pragma: no cover - an even-order band-pass has complex poles only
        raise ConfigError(f"band {low_hz}-{high_hz} Hz at fs={fs} Hz gives real poles")
    sos = np.zeros((order, 6))
    for section in range(order - 1, -1, -1):  # the pole pair closest to the unit circle goes last
        i = int(np.argmin(np.abs(1 - np.abs(upper))))
        pole = upper[i]
        upper = np.delete(upper, i)
        pair = []
        for _ in range(2):  # its two nearest zeros
            j = int(np.argsort(np.abs(zeros - pole), kind="stable")[0])
            pair.append(zeros[j])
            zeros = np.delete(zeros, j)
        sos[section, :3] = np.poly(pair)
        sos[section, 3:] = np.poly([pole, pole.conjugate()]).real
    sos[0, :3] *= gain
    return sos


def sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """Initial state of each section for the steady-state step response (as ``scipy.signal.sosfilt_zi``)."""
    zi = np.empty((sos.shape[0], 2))
    scale = 1.0
    for k, section in enumerate(np.asarray(sos, dtype=float)):
        b, a = section[:3] / section[3], section[3:] / section[3]
        companion = np.array([[-a[1], -a[2]], [1.0, 0.0]])
        zi[k] = scale * np.linalg.solve(np.eye(2) - companion.T, b[1:] - a[1:] * b[0])
        scale *= section[:3].sum() / section[3:].sum()
    return zi


def group_delay_samples(sos: np.ndarray, freq_hz: float, fs: float) -> float:
    """Group delay of ``sos`` at ``freq_hz``, in samples."""
    b = np.array([1.0])
    a = np.array([1.0])
    for section in np.asarray(sos, dtype=float):
        b, a = np.polymul(b, section[:3]), np.polymul(a, section[3:])
    c = np.convolve(b, a[::-1])
    z = np.exp(-1j * 2.0 * np.pi * freq_hz / fs)
    num = np.polyval((c * np.arange(c.size))[::-1], z)
    den = np.polyval(c[::-1], z)
    return float(np.real(num / den) - a.size + 1)


def forward_max(x: np.ndarray, width: int) -> np.ndarray:
    """``out[i] = max(x[i : i + width])``, the missing samples past the end counting as -inf (as
    ``scipy.ndimage.maximum_filter1d(x, width, origin=-(width // 2), mode="constant", cval=-inf)``)."""
    n = x.shape[0]
    if width <= 1 or n == 0:
        return np.array(x, dtype=float)
    padded = np.concatenate((np.asarray(x, dtype=float), np.full(width - 1, -np.inf)))
    return np.lib.stride_tricks.sliding_window_view(padded, width).max(axis=1)


class SosFilter:
    """A causal IIR filter (second-order sections) whose state survives between chunks.

    The state is initialised from the first sample of a segment as if the signal had been
    constant before it, so a DC offset does not ring through a band-pass. ``process`` takes a 1-D
    chunk, or a 2-D array of several signals (rows) filtered independently with one state each.
    """

    def __init__(self, sos: np.ndarray, rows: int | None = None) -> None:
        self.sos = np.ascontiguousarray(sos, dtype=float)
        self._zi_unit = sosfilt_zi(self.sos)
        self._rows = rows
        self._zi: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the state; the next sample starts a new segment."""
        self._zi = None

    def process(self, x: np.ndarray) -> np.ndarray:
        one = x.ndim == 1
        rows = np.array(x[None, :] if one else x, dtype=float, order="C")  # a copy: filtered in place
        if rows.shape[1] == 0:
            return np.empty(x.shape)
        if self._zi is None:
            self._zi = np.ascontiguousarray(self._zi_unit[None, :, :] * rows[:, :1, None])
        if _sos_kernel is not None:
            _sos_kernel(self.sos, rows, self._zi)
        else:  # pragma: no cover
            from scipy import signal  # noqa: PLC0415 - heavy; only when the kernel could not be loaded

            out, zf = signal.sosfilt(self.sos, rows, axis=1, zi=np.moveaxis(self._zi, 0, 1))
            rows, self._zi = np.asarray(out), np.ascontiguousarray(np.moveaxis(zf, 1, 0))
        return rows[0] if one else rows


class MovingAverage:
    """Causal moving average over ``width`` samples of each row of a 2-D array.

    Each output is the dot product of the last ``width`` inputs with a fixed kernel, computed from a
    kept tail of ``width - 1`` samples, so the result for a sample never depends on chunk boundaries.
    """

    def __init__(self, width: int, rows: int = 1) -> None:
        if width < 1:
            raise ConfigError("moving-average width must be >= 1 sample")
        self._b = np.full(width, 1.0 / width)
        self._rows = rows
        self._tail = np.zeros((rows, width - 1))

    def reset(self) -> None:
        self._tail = np.zeros_like(self._tail)

    def process(self, x: np.ndarray) -> np.ndarray:
        """``x`` has shape (rows, n); returns the same shape."""
        if x.shape[1] == 0 or self._tail.shape[1] == 0:
            return x * self._b[0]
        joined = np.concatenate((self._tail, x), axis=1)
        self._tail = joined[:, joined.shape[1] - self._tail.shape[1] :]
        out = np.empty(x.shape)
        for i in range(x.shape[0]):
            out[i] = np.convolve(joined[i], self._b, "valid")
        return out


class QrsFilterBank:
    """The QRS detector's causal front end.

    Rows produced per sample: ``BP`` the ECG band-passed to ``band`` (mV), ``SLOPE`` the absolute
    first difference of it (mV/s), ``ENV`` the RMS of that slope over ``integration_s`` (mV/s, the
    detection envelope) and ``HF`` the RMS over the same window of the ECG band-passed to
    ``hf_band`` (mV, high-frequency content that tells QRS complexes from T waves).
    """

    BP, SLOPE, ENV, HF = 0, 1, 2, 3
    ROWS = 4

    def __init__(self, fs: float, band: tuple[float, float], hf_band: tuple[float, float],
                 integration_s: float) -> None:
        self.fs = float(fs)
        self._args = (fs, band, hf_band, integration_s)
        self.band_sos = design_bandpass(fs, *band)
        self.width = max(1, round(integration_s * fs))
        self.delay = int(round(group_delay_samples(self.band_sos, 10.0, fs)))
        self._bp = SosFilter(self.band_sos)
        self._hf = SosFilter(design_bandpass(fs, *hf_band))
        self._ma = MovingAverage(self.width, rows=2)
        self._prev: float | None = None

    def reset(self) -> None:
        self._bp.reset()
        self._hf.reset()
        self._ma.reset()
        self._prev = None

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter a chunk; returns an array of shape (ROWS, len(x))."""
        out = np.empty((self.ROWS, x.size))
        if x.size == 0:
            return out
        bp = self._bp.process(x)
        slope = np.empty(x.size)
        slope[0] = bp[0] - (bp[0] if self._prev is None else self._prev)
        np.subtract(bp[1:], bp[:-1], out=slope[1:])
        slope *= self.fs
        self._prev = float(bp[-1])
        hf = self._hf.process(x)
        power = np.empty((2, x.size))
        np.multiply(slope, slope, out=power[0])
        np.multiply(hf, hf, out=power[1])
        rms = np.sqrt(self._ma.process(power))
        out[self.BP] = bp
        out[self.SLOPE] = np.abs(slope)
        out[self.ENV] = rms[0]
        out[self.HF] = rms[1]
        return out

    def envelope_per_mv(self) -> float:
        """Envelope peak of a 1 mV Gaussian QRS (sigma 10 ms): converts envelope units to mV."""
        t = np.arange(round(2.0 * self.fs)) / self.fs
        qrs = np.exp(-0.5 * ((t - 1.0) / 0.010) ** 2)
        return float(QrsFilterBank(*self._args).process(qrs)[self.ENV].max())


class SampleBuffer:
    """The most recent samples of a few aligned signals, addressed by absolute sample index.

    ``append`` is amortised O(chunk): storage grows by doubling and samples older than the newest
    ``keep`` are dropped when the storage is compacted.
    """

    def __init__(self, n_signals: int, keep: int) -> None:
        self._keep = max(int(keep), 1)
        self._data = np.zeros((n_signals, 2 * self._keep + 16))
        self._start = 0  # absolute index of column 0
        self._len = 0

    def clear(self, start: int) -> None:
        self._start = int(start)
        self._len = 0

    @property
    def start(self) -> int:
        """Absolute index of the oldest sample held."""
        return self._start

    @property
    def end(self) -> int:
        """Absolute index one past the newest sample held."""
        return self._start + self._len

    def append(self, rows: np.ndarray) -> None:
        n = rows.shape[1]
        if self._len + n > self._data.shape[1]:
            drop = max(0, self._len - self._keep)
            kept = self._len - drop
            data = np.zeros((self._data.shape[0], max(self._data.shape[1], 2 * (kept + n))))
            data[:, :kept] = self._data[:, drop : self._len]
            self._data = data
            self._start += drop
            self._len = kept
        self._data[:, self._len : self._len + n] = rows
        self._len += n

    def view(self, row: int, lo: int, hi: int) -> np.ndarray:
        """Samples ``[lo, hi)`` (absolute; clipped to what is held) of signal ``row``, no copy."""
        a = max(lo, self._start) - self._start
        b = min(hi, self.end) - self._start
        if b <= a:
            return self._data[row, 0:0]
        return self._data[row, a:b]
