"""Streaming pulse detection on the photoplethysmogram (pleth): pulses, pulse rate, perfusion index, quality.

Front end (causal): band-pass 0.5-8 Hz (Butterworth, order 2, second-order sections), then the slope sum
function of Zong et al. (2003): ``SSF[n] = sum of the positive first differences over the last 125 ms``,
which peaks on each pulse's systolic upstroke. A *candidate* is an SSF sample that is the largest within
``lookahead_s`` (200 ms) on both sides; it is decided once that lookahead has arrived (so chunking never
matters). It is a pulse when it exceeds ``threshold`` x the median of the last 8 pulse SSF peaks (learnt
from the largest SSF peak of the first 2 s, and again after 5 s without a pulse), and comes at least
``refractory_s`` (250 ms) after the previous pulse.

:class:`PulseDetector` also keeps, per pulse, its time, its amplitude (peak-to-trough of the band-passed
pleth over the pulse) and the raw signal's level (for the perfusion index), and judges quality over the
last ``window_s`` (8 s): see :meth:`PulseDetector.assess`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from statistics import median

import numpy as np

from monitor.errors import ConfigError
from monitor.signal.filters import SampleBuffer, SosFilter, design_bandpass, forward_max

__all__ = ["PulseConfig", "Pulse", "PlethAssessment", "PulseDetector"]

_BP, _SSF, _RAW = 0, 1, 2


@dataclass(frozen=True)
class PulseConfig:
    band_hz: tuple[float, float] = (0.5, 8.0)
    ssf_window_s: float = 0.125
    lookahead_s: float = 0.2
    refractory_s: float = 0.25
    threshold: float = 0.35
    learn_s: float = 2.0
    relearn_s: float = 5.0
    window_s: float = 8.0
    min_pulses: int = 4
    max_interval_cv: float = 0.2
    max_amplitude_cv: float = 0.45
    min_bpm: float = 25.0
    max_bpm: float = 220.0
    flat_levels: float = 12.0

    def __post_init__(self) -> None:
        if not 0.0 < self.band_hz[0] < self.band_hz[1]:
            raise ConfigError("bad pleth band")
        if self.threshold <= 0.0 or self.threshold >= 1.0 or self.min_pulses < 2:
            raise ConfigError("bad pulse threshold or min_pulses")


@dataclass(frozen=True, slots=True)
class Pulse:
    sample: int
    amplitude: float  # peak-to-trough of the band-passed pleth, units of the input
    level: float  # raw signal at the pulse (the DC the perfusion index divides by)


@dataclass(frozen=True, slots=True)
class PlethAssessment:
    """Quality over the window ending at sample ``end``: ``good`` (regular pulses), ``noisy``, ``flat``
    (no pulsatile signal: probe off or no perfusion) or ``unknown``; pulse ``rate`` (bpm, median of the
    window's intervals), perfusion index ``pi`` (%; ``None`` when the signal has no DC level to divide by)."""

    end: int
    quality: str
    rate: float | None
    pi: float | None
    pulses: int


class PulseDetector:
    def __init__(self, fs: float, config: PulseConfig | None = None) -> None:
        if not 20.0 <= fs <= 2000.0:
            raise ConfigError(f"pleth fs={fs} Hz is outside 20-2000 Hz")
        self.fs = float(fs)
        self.config = cfg = config or PulseConfig()
        self._bp = SosFilter(design_bandpass(fs, *cfg.band_hz))
        s = self._samples
        self._ssf_w = max(1, s(cfg.ssf_window_s))
        self._look = max(1, s(cfg.lookahead_s))
        self._refractory = s(cfg.refractory_s)
        self._learn, self._relearn, self._window = s(cfg.learn_s), s(cfg.relearn_s), s(cfg.window_s)
        self._buf = SampleBuffer(3, keep=self._window + 2 * self._look + self._ssf_w + 8)
        self._tail = np.zeros(self._ssf_w)  # positive differences of the last ssf window (for the running sum)
        self._ones = np.ones(self._ssf_w)
        self._prev: float | None = None
        self.pulses: deque[Pulse] = deque(maxlen=64)
        self._levels: deque[float] = deque(maxlen=8)
        self._steps: deque[float] = deque(maxlen=max(1, int(round(cfg.window_s))))
        self._n = 0
        self._new_segment()

    def _samples(self, seconds: float) -> int:
        return int(round(seconds * self.fs))

    @property
    def samples_seen(self) -> int:
        return self._n

    def skip(self, n: int) -> None:
        if n > 0:
            self._n += int(n)
            self._new_segment()

    def _new_segment(self) -> None:
        self._bp.reset()
        self._prev = None
        self._tail[:] = 0.0
        self._seg_start = self._scan = self._n
        self._buf.clear(self._n)
        self._last: int | None = None
        self._levels.clear()
        self._learn_until = self._n + self._learn

    def process(self, x: np.ndarray) -> list[Pulse]:
        x = np.asarray(x, dtype=float)
        if x.size == 0:
            return []
        bp = self._bp.process(x)
        pos = np.empty(x.size)
        pos[0] = bp[0] - (bp[0] if self._prev is None else self._prev)
        np.subtract(bp[1:], bp[:-1], out=pos[1:])
        np.maximum(pos, 0.0, out=pos)
        self._prev = float(bp[-1])
        w = self._ssf_w
        joined = np.concatenate((self._tail[1:], pos))  # each sum covers the w samples ending at a new one
        ssf = np.convolve(joined, self._ones, "valid")  # a fixed-order sum per sample: chunk-invariant
        self._tail = joined[joined.size - w :] if joined.size >= w else np.concatenate((self._tail, pos))[-w:]
        rows = np.empty((3, x.size))
        rows[_BP], rows[_SSF], rows[_RAW] = bp, ssf, x
        self._buf.append(rows)
        self._n += x.size
        return self._scan_candidates()

    def _scan_candidates(self) -> list[Pulse]:
        look = self._look
        lo, hi = self._scan, self._n - look
        if hi <= lo:
            return []
        self._scan = hi
        first = max(lo - look, self._seg_start)
        ssf = self._buf.view(_SSF, first, hi + look)
        pad = first - (lo - look)
        if pad:
            ssf = np.concatenate((np.full(pad, -np.inf), ssf))
        wmax = forward_max(ssf, look)
        j = np.arange(look, look + hi - lo)
        mid = ssf[j]
        peaks = np.flatnonzero((mid > wmax[j - look]) & (mid >= wmax[j + 1]) & (mid > 0.0))
        out = []
        for i in peaks:
            pulse = self._decide(lo + int(i), float(mid[i]))
            if pulse is not None:
                out.append(pulse)
        return out

    def _decide(self, t: int, peak: float) -> Pulse | None:
        cfg = self.config
        if self._last is not None and t - self._last < self._refractory:
            return None
        if self._last is not None and t - self._last > self._relearn:
            self._levels.clear()
            self._learn_until = t + self._learn
        if not self._levels or t < self._learn_until:
            recent = self._buf.view(_SSF, max(t - self._learn, self._seg_start), t + self._look + 1)
            threshold = cfg.threshold * float(recent.max())
        else:
            threshold = cfg.threshold * median(self._levels)
        if peak < threshold:
            return None
        self._levels.append(peak)
        self._last = t
        bp = self._buf.view(_BP, t - self._look, t + self._look)
        raw = float(self._buf.view(_RAW, t, t + 1)[0])
        pulse = Pulse(t, float(bp.max() - bp.min()), raw)
        self.pulses.append(pulse)
        return pulse

    def assess(self) -> PlethAssessment:
        """Quality, rate and perfusion index over the last ``window_s`` of signal."""
        cfg = self.config
        end = self._n
        lo = max(end - self._window, self._seg_start)
        if end - lo < self._window // 2:
            return PlethAssessment(end, "unknown", None, None, 0)
        raw = self._buf.view(_RAW, lo, end)
        top, bottom = float(raw.max()), float(raw.min())
        ptp = top - bottom
        step = self._quantum(raw[-self._samples(1.0):])
        if ptp <= 0.0 or (step > 0.0 and ptp / step < cfg.flat_levels):
            return PlethAssessment(end, "flat", None, None, 0)
        # pulses found while the detector was still learning its levels are not evidence of anything
        recent = [p for p in self.pulses if p.sample >= max(lo, self._learn_until)]
        if len(recent) < cfg.min_pulses:
            # too few pulses: noise, unless the window still reaches into the learning phase (no evidence yet)
            learning = lo < self._learn_until
            return PlethAssessment(end, "unknown" if learning else "noisy", None, None, len(recent))
        fs = self.fs
        iv = [(b.sample - a.sample) / fs for a, b in zip(recent, recent[1:], strict=False)]
        amps = [p.amplitude for p in recent]
        mean_iv, mean_amp = sum(iv) / len(iv), sum(amps) / len(amps)
        cv_iv = _std(iv, mean_iv) / mean_iv
        cv_amp = _std(amps, mean_amp) / max(mean_amp, 1e-12)
        median_iv = median(iv)
        rate = 60.0 / median_iv
        gap = (end - recent[-1].sample) / fs
        regular = cv_iv <= cfg.max_interval_cv and cv_amp <= cfg.max_amplitude_cv
        plausible = cfg.min_bpm <= rate <= cfg.max_bpm and gap <= 2.5 * median_iv + 0.5
        dc = float(raw.sum()) / raw.size
        ac = median(amps)
        pi = 100.0 * ac / dc if dc > 0 and ac < 0.5 * dc else None
        quality = "good" if regular and plausible else "noisy"
        return PlethAssessment(end, quality, rate if plausible else None, pi, len(recent))

    def _quantum(self, x: np.ndarray) -> float:
        """The smallest non-zero step between the newest samples, remembered over the window: the ADC
        quantum of a digital flat line."""
        d = np.abs(x[1:] - x[:-1])
        d = d[d > 0]
        step = float(d.min()) if d.size else 0.0
        self._steps.append(step)
        steps = [v for v in self._steps if v > 0]
        return min(steps) if steps else 0.0


def _std(values: list[float], mean: float) -> float:
    return (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
