"""Streaming, causal single-lead QRS detector (Pan-Tompkins / Hamilton-Tompkins family).

Front end (:class:`~monitor.signal.filters.QrsFilterBank`): 5-15 Hz band-pass -> first
difference -> RMS over 150 ms (the *envelope*). A *candidate* is an envelope sample that is the
largest within ``lookahead_s`` on both sides; it is decided as soon as ``lookahead_s`` of
envelope after it exists, in time order, so every decision depends on the sample stream only and
never on where chunks end. Decisions use adaptive thresholds on signal and noise peak levels,
a refractory period, a T-wave test, a prominence test and a searchback that lowers the threshold
once the current RR interval is 1.66x the recent median; levels are learnt at the start, after a
gap and after 8 s without a beat. See docs/algorithms.md ("QRS detection").
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from statistics import median

import numpy as np

from monitor.errors import ConfigError
from monitor.signal.filters import QrsFilterBank, SampleBuffer, forward_max

__all__ = ["Beat", "QrsConfig", "QrsDetector", "detect_beats"]

log = logging.getLogger(__name__)

_F = QrsFilterBank


@dataclass(frozen=True)
class QrsConfig:
    """Detector settings (times in seconds). The defaults are the documented, validated ones."""

    band_hz: tuple[float, float] = (5.0, 15.0)
    hf_band_hz: tuple[float, float] = (15.0, 40.0)
    integration_s: float = 0.150
    lookahead_s: float = 0.150
    refractory_s: float = 0.200
    threshold_fraction: float = 0.25
    history: int = 8
    searchback_rr_factor: float = 1.66
    searchback_threshold_factor: float = 0.5
    searchback_noise_ratio: float = 1.5
    t_wave_window_s: float = 0.360
    t_wave_slope_ratio: float = 0.5
    t_wave_hf_ratio: float = 0.6
    base_window_s: float = 0.300
    min_prominence: float = 0.5
    learn_s: float = 2.0
    learn_fraction: float = 0.3
    learn_beats: int = 2
    learn_min_qrs_mv: float = 0.15
    learn_median_factor: float = 3.0
    relearn_s: float = 8.0
    noise_cap: float = 0.6
    min_qrs_mv: float = 0.05
    default_rr_s: float = 1.0
    max_latency_s: float = 0.300

    def __post_init__(self) -> None:
        for band in (self.band_hz, self.hf_band_hz):
            if len(band) != 2 or not 0.0 < band[0] < band[1]:
                raise ConfigError(f"bad band {band!r}: need 0 < low < high")
        positive = ("integration_s", "lookahead_s", "refractory_s", "t_wave_window_s", "base_window_s",
                    "learn_s", "relearn_s", "default_rr_s", "max_latency_s")
        for name in positive:
            if not getattr(self, name) > 0.0:
                raise ConfigError(f"{name} must be > 0")
        unit = ("threshold_fraction", "searchback_threshold_factor", "t_wave_slope_ratio", "t_wave_hf_ratio",
                "min_prominence", "learn_fraction", "noise_cap")
        for name in unit:
            if not 0.0 < getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in (0, 1)")
        if self.searchback_rr_factor <= 1.0 or self.searchback_noise_ratio < 0.0:
            raise ConfigError("need searchback_rr_factor > 1 and searchback_noise_ratio >= 0")
        if self.history < 1 or self.learn_beats < 1:
            raise ConfigError("history and learn_beats must be >= 1")
        if self.min_qrs_mv < 0.0 or self.learn_min_qrs_mv < 0.0 or self.learn_median_factor < 0.0:
            raise ConfigError("QRS amplitude floors must be >= 0")
        if self.lookahead_s + 0.05 > self.max_latency_s:
            raise ConfigError("lookahead_s leaves no room within max_latency_s")


@dataclass(frozen=True, slots=True)
class Beat:
    """A detected QRS complex.

    ``sample``: absolute index of the R peak, counting every sample ever fed (gaps included).
    ``amplitude``: signed value of the 5-15 Hz band-passed ECG at the R peak, in mV.
    ``width_s``: time over which the band-passed slope stays above 20 % of its peak within
    +-120 ms of the R peak; a relative QRS width (the filter adds about 40 ms) for telling wide
    (ventricular, bundle-branch) from narrow beats. ``peak``: the detection envelope's peak in mV
    equivalents (what the thresholds compare).
    """

    sample: int
    amplitude: float
    width_s: float
    peak: float = 0.0


class QrsDetector:
    """Single-lead streaming QRS detector; feed float mV samples with :meth:`process`.

    Decision lookahead: a candidate envelope peak is decided ``lookahead_s`` after it, and the
    reported R peak is searched no further back than ``max_latency_s`` from that moment, so each
    beat is returned at most ``max_latency_s`` after its R peak when fed sample by sample.
    """

    def __init__(self, fs: float, config: QrsConfig | None = None) -> None:
        if not 50.0 <= fs <= 2000.0:
            raise ConfigError(f"fs={fs} Hz is outside 50-2000 Hz")
        self.fs = float(fs)
        self.config = cfg = config or QrsConfig()
        self._bank = QrsFilterBank(fs, cfg.band_hz, cfg.hf_band_hz, cfg.integration_s)
        self._width = self._bank.width
        self._delay = self._bank.delay
        per_mv = self._bank.envelope_per_mv()
        self._floor = cfg.min_qrs_mv * per_mv
        self._learn_floor = cfg.learn_min_qrs_mv * per_mv
        s = self._samples
        self._look = max(1, s(cfg.lookahead_s))
        self._refractory, self._t_wave, self._base = s(cfg.refractory_s), s(cfg.t_wave_window_s), s(cfg.base_window_s)
        self._learn, self._relearn = s(cfg.learn_s), s(cfg.relearn_s)
        self._max_latency = int(np.floor(cfg.max_latency_s * fs))
        self._half = self._samples(0.12)
        self._buf = SampleBuffer(_F.ROWS, keep=max(s(1.0), self._learn) + 2 * self._look + self._base + self._width)
        self._rr: deque[int] = deque(maxlen=cfg.history)
        self._beat_levels: deque[float] = deque(maxlen=cfg.history)
        self._noise_levels: deque[float] = deque(maxlen=cfg.history)
        self._per_mv = per_mv
        self._spk_key: tuple[float, ...] | None = None
        self._spk_value = 0.0
        self._n = 0
        #: Rejected candidate peaks that were not refractory repeats or T waves: ``(sample, peak in mV
        #: equivalents, signal level then)``, the newest last. Signal-quality checks count them.
        self.noise: deque[tuple[int, float, float]] = deque(maxlen=64)
        self._new_segment()

    def _samples(self, seconds: float) -> int:
        return int(round(seconds * self.fs))

    # ----------------------------------------------------------------- public API
    @property
    def samples_seen(self) -> int:
        """Samples fed so far, gaps included (the absolute index of the next sample)."""
        return self._n

    def rows(self, row: int, lo: int, hi: int) -> np.ndarray:
        """Filtered samples ``[lo, hi)`` (absolute, clipped to what is held) of one ``QrsFilterBank`` row;
        the newest ``max(1 s, learn_s)`` or so are held."""
        return self._buf.view(row, lo, hi)

    @property
    def signal_level(self) -> float | None:
        """The current QRS level (geometric mean of the last beats' envelope peaks) in mV equivalents;
        ``None`` while the levels are being learnt."""
        if self._learning or not self._beat_levels:
            return None
        return self._spk() / self._per_mv

    @property
    def lookahead(self) -> int:
        """Envelope samples after a candidate peak that are needed to decide it."""
        return self._look

    def process(self, x: np.ndarray) -> list[Beat]:
        """Feed a chunk of samples (mV); returns the beats decided during it, in time order.

        Non-finite samples are treated as a gap (see :meth:`skip`).
        """
        x = np.asarray(x, dtype=float)
        if x.ndim != 1:
            raise ValueError("QrsDetector.process expects a 1-D chunk")
        finite = np.isfinite(x)
        if finite.all():
            return self._process_finite(x)
        beats: list[Beat] = []
        edges = np.flatnonzero(np.diff(finite.astype(np.int8))) + 1
        for run in np.split(x, edges):
            if np.isfinite(run[0]):
                beats.extend(self._process_finite(run))
            else:
                self.skip(run.size)
        return beats

    def skip(self, n: int) -> None:
        """A gap of ``n`` samples: advance the counter, drop undecided candidates and re-learn
        the signal levels (the RR history is kept)."""
        if n < 0:
            raise ValueError("skip(n) needs n >= 0")
        if n:
            self._n += int(n)
            self._new_segment()

    # ----------------------------------------------------------------- streaming
    def _new_segment(self) -> None:
        self._bank.reset()
        self._seg_start = self._scan = self._n
        self._buf.clear(self._n)
        self._start_learning(self._n)

    def _start_learning(self, t: int, silent: bool = False) -> None:
        """(Re-)learn the signal and noise levels from ``t`` on; the RR history is kept."""
        self._silent = silent
        self._last_beat: int | None = None
        self._last_slope = self._last_hf = self._noise_since = 0.0
        self._beat_levels.clear()
        self._noise_levels.clear()
        self._learning = True
        self._learned: list[tuple[int, float]] = []
        self._learn_until = t + self._learn
        self._learn_max = 0.0

    def _process_finite(self, x: np.ndarray) -> list[Beat]:
        if x.size == 0:
            return []
        self._buf.append(self._bank.process(x))
        self._n += x.size
        return self._scan_candidates()

    def _scan_candidates(self) -> list[Beat]:
        look = self._look
        lo, hi = self._scan, self._n - look  # candidates t < hi have their whole lookahead
        if hi <= lo:
            return []
        self._scan = hi
        first = max(lo - look, self._seg_start)
        env = self._buf.view(_F.ENV, first, hi + look)
        pad = first - (lo - look)
        if pad:
            env = np.concatenate((np.full(pad, -np.inf), env))
        wmax = forward_max(env, look)
        j = np.arange(look, look + hi - lo)
        mid = env[j]
        peaks = np.flatnonzero((mid > wmax[j - look]) & (mid >= wmax[j + 1]) & (mid > 0.0))
        if peaks.size == 0:
            return []
        base, slope, hf = self._candidate_stats(lo + peaks, lo, hi)
        beats = [
            self._decide(lo + int(i), float(mid[i]), float(base[k]), float(slope[k]), float(hf[k]))
            for k, i in enumerate(peaks)
        ]
        return [b for b in beats if b is not None]

    def _candidate_stats(self, ts: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For candidates at absolute samples ``ts``: the lowest envelope value over the preceding
        ``base_window_s`` (prominence), the largest slope over the integration window (T-wave test) and the
        15-40 Hz RMS at the candidate; windows are clipped to the signal held, as single views would be."""
        reach = max(self._base, self._width)
        span_lo = lo - reach
        start = max(span_lo, self._buf.start)
        pad = start - span_lo
        env = self._buf.view(_F.ENV, start, hi)
        slope = self._buf.view(_F.SLOPE, start, hi)
        if pad:
            env = np.concatenate((np.full(pad, np.inf), env))
            slope = np.concatenate((np.full(pad, -np.inf), slope))
        pos = ts - span_lo
        base = _window_reduce(np.minimum, env, pos - self._base, pos + 1)
        smax = _window_reduce(np.maximum, slope, pos - self._width, pos + 1)
        hf = self._buf.view(_F.HF, start, hi)[pos - pad]
        return base, smax, hf

    # ----------------------------------------------------------------- decision rules
    def _threshold(self, t: int) -> float:
        cfg = self.config
        if self._learning:  # from the last learn_s of envelope (a sliding window: no lock-out by an artefact)
            upto = t + self._look + 1
            recent = self._buf.view(_F.ENV, max(upto - self._learn, self._seg_start), upto)
            self._learn_max = float(recent.max())
            threshold = cfg.learn_fraction * self._learn_max
            if self._silent:  # re-learning after a silence: stay well above the typical (noise) level
                threshold = max(threshold, cfg.learn_median_factor * float(np.median(recent)))
            return threshold
        spk = self._spk()
        npk = sum(self._noise_levels) / len(self._noise_levels) if self._noise_levels else 0.0
        npk = min(npk, cfg.noise_cap * spk)
        return npk + cfg.threshold_fraction * max(spk - npk, 0.0)

    def _spk(self) -> float:
        """Geometric mean of the last beat levels (recomputed only when they changed)."""
        key = tuple(self._beat_levels)
        if key != self._spk_key:
            self._spk_key = key
            self._spk_value = math.exp(sum(map(math.log, self._beat_levels)) / len(self._beat_levels))
        return self._spk_value

    def _finish_learning(self) -> None:
        """Seed the levels from the learning-phase beats that fit the last ``learn_s`` of signal:
        smaller ones were noise, much larger ones an artefact that has gone."""
        floor = self.config.learn_fraction * self._learn_max
        kept = [(t, p) for t, p in self._learned if floor <= p <= self._learn_max / self.config.learn_fraction]
        self._noise_levels.extend(p for _, p in self._learned if p < floor)
        self._rr.extend(t1 - t0 for (t0, _), (t1, _) in zip(kept, kept[1:], strict=False))
        self._beat_levels.extend(p for _, p in kept)
        if not self._beat_levels:
            self._beat_levels.append(self._learn_max)
        self._learning = False
        self._learned = []
        log.debug("QRS levels learnt: %d beats, signal %.3g, RR %s samples", len(kept), self._learn_max,
                  list(self._rr)[-3:])

    def _rr_average(self) -> float:
        return float(median(self._rr)) if self._rr else self.config.default_rr_s * self.fs

    def _reject(self, elapsed: int | None, peak: float) -> None:
        self._noise_levels.append(peak)
        if elapsed is None or elapsed >= self._t_wave:
            self._noise_since = max(self._noise_since, peak)

    def _decide(self, t: int, peak: float, base: float, slope: float, hf_rms: float) -> Beat | None:
        cfg = self.config
        elapsed = None if self._last_beat is None else t - self._last_beat
        if elapsed is not None and elapsed < self._refractory:
            return None
        if elapsed is not None and elapsed > self._relearn and not self._learning:
            self._start_learning(t, silent=True)  # silent for long: asystole, or levels that no longer fit
            elapsed = None
        if self._learning and t >= self._learn_until and len(self._learned) >= cfg.learn_beats:
            self._finish_learning()
        threshold = self._threshold(t)
        searchback = elapsed is not None and elapsed > cfg.searchback_rr_factor * self._rr_average()
        if searchback:  # a beat is overdue: lower the bar, but stay above the recent noise peaks
            lowered = max(cfg.searchback_threshold_factor * threshold, cfg.searchback_noise_ratio * self._noise_since)
            threshold = min(threshold, lowered)
        threshold = max(threshold, self._learn_floor if t < self._learn_until else self._floor)
        flat = peak - base < cfg.min_prominence * peak  # no rise out of the (noise) envelope
        if peak <= threshold or flat:
            self._reject(elapsed, peak)
            if not self._learning and self._beat_levels:
                self.noise.append((t, peak / self._per_mv, self._beat_levels[-1] / self._per_mv))
            return None
        hf = hf_rms / peak
        if (elapsed is not None and elapsed < self._t_wave and slope < cfg.t_wave_slope_ratio * self._last_slope
                and hf < cfg.t_wave_hf_ratio * self._last_hf):  # smooth and slow: a T wave
            self._reject(elapsed, peak)
            return None
        if self._learning:
            self._learned.append((t, peak))
        else:
            self._beat_levels.append(peak)
            if elapsed is not None:
                self._rr.append(elapsed)
        self._last_beat, self._last_slope, self._last_hf, self._noise_since = t, slope, hf, 0.0
        return self._make_beat(t, peak)

    def _make_beat(self, t: int, peak: float) -> Beat:
        """Locate the R peak: the largest band-passed deflection in the integration window."""
        earliest = t + self._look + 1 + self._delay - self._max_latency
        lo = max(t - self._width - 2, earliest, self._seg_start)
        bp = self._buf.view(_F.BP, lo, t + 1)
        k = lo + int(np.argmax(np.abs(bp)))
        half = self._half
        slope = self._buf.view(_F.SLOPE, k - half, k + half)
        above = np.flatnonzero(slope >= 0.2 * slope.max())
        return Beat(
            sample=int(max(k - self._delay, self._seg_start)),
            amplitude=float(bp[k - lo]),
            width_s=float((above[-1] - above[0] + 1) / self.fs),
            peak=peak / self._per_mv,
        )


def _window_reduce(op: np.ufunc, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``op.reduce(x[lo[i]:hi[i]])`` for every i in one call (``reduceat`` over interleaved bounds; windows
    may overlap, the values between them are ignored). Needs ``lo < hi <= len(x)``."""
    bounds = np.empty(2 * lo.size, dtype=np.intp)
    bounds[0::2], bounds[1::2] = lo, hi
    padded = np.append(x, x[-1])  # reduceat needs every bound < len; the last window ends at len(x) at most
    return op.reduceat(padded, bounds)[0::2]


def detect_beats(x: np.ndarray, fs: float, chunk_s: float = 1.0, config: QrsConfig | None = None) -> list[Beat]:
    """Run a fresh streaming detector over a whole signal fed in chunks of ``chunk_s`` seconds."""
    detector = QrsDetector(fs, config)
    step = max(1, int(round(chunk_s * fs)))
    beats: list[Beat] = []
    for start in range(0, len(x), step):
        beats.extend(detector.process(x[start : start + step]))
    return beats
