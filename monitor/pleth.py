"""Per-bed pleth (PPG) analysis: pulses, pulse rate, perfusion index and quality of the oximeter's waveform.

Like the ECG leads, the pleth is analysed in whole blocks of ``BLOCK_S`` of signal (chunk-invariant
results, one pass per block); after each block the quality over the last 8 s is judged
(:meth:`monitor.signal.pulse.PulseDetector.assess`). ``good`` means regular pulses of steady amplitude at a
plausible rate: only then may the pleth overrule the ECG (an asystole, bradycardia or tachycardia that the
pulse contradicts) or stand in for it (``hr_source = "pleth"``).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from monitor.signal.pulse import PlethAssessment, PulseDetector
from monitor.stream import Segment

__all__ = ["BLOCK_S", "PlethAnalyzer"]

BLOCK_S = 2.0


class PlethAnalyzer:
    def __init__(self) -> None:
        self.fs = 0.0
        self.quality: str = "unknown"
        self.rate: float | None = None
        self.pi: float | None = None
        self.last_arrival: float | None = None
        self.samples_seen = 0
        self.version = 0
        self.good_since: float | None = None  # stream time since which the pleth has been good throughout
        self.bad_since: float | None = None  # ... noisy throughout
        self.assessments: deque[PlethAssessment] = deque(maxlen=16)
        self._detector: PulseDetector | None = None
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._block = 1
        self._arrival_end = 0

    @property
    def t_end(self) -> float:
        return self.samples_seen / self.fs if self.fs else 0.0

    @property
    def pulses(self) -> list[float]:
        """Times (stream seconds) of the recent pulses."""
        if self._detector is None:
            return []
        return [p.sample / self.fs for p in self._detector.pulses]

    def process(self, seg: Segment) -> None:
        if seg.restart or self._detector is None or seg.fs != self.fs:
            self.fs = seg.fs
            self._detector = PulseDetector(seg.fs)
            self._block = max(1, int(round(BLOCK_S * seg.fs)))
            self._pending.clear()
            self._n_pending = 0
            self.samples_seen = 0
            self._set("unknown", None, None)
            self.good_since = self.bad_since = None
            self.assessments.clear()
        if seg.gap:
            self._flush()
            self._detector.skip(seg.gap)
            self.samples_seen += seg.gap
            self.good_since = self.bad_since = None
            self._set("unknown", None, None)
        self.last_arrival = seg.arrival
        self._arrival_end = seg.end
        self._pending.append(np.asarray(seg.samples, dtype=float))
        self._n_pending += len(seg.samples)
        if self._n_pending >= self._block:
            joined = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            take = (joined.size // self._block) * self._block
            rest = joined[take:]
            self._pending = [rest] if rest.size else []
            self._n_pending = rest.size
            self._analyse(joined[:take])

    def station_time_at(self, t_stream: float) -> float:
        assert self.last_arrival is not None
        return self.last_arrival - (self._arrival_end - t_stream * self.fs) / self.fs

    def pulse_between(self, t0: float, t1: float) -> int:
        """Number of detected pulses with stream time in ``[t0, t1]``."""
        return sum(1 for t in self.pulses if t0 <= t <= t1)

    def _flush(self) -> None:
        if self._n_pending:
            x = np.concatenate(self._pending)
            self._pending.clear()
            self._n_pending = 0
            self._analyse(x)

    def _analyse(self, x: np.ndarray) -> None:
        for i in range(0, x.size, self._block):  # one block at a time: judged on what was known at its end
            self._analyse_block(x[i : i + self._block])
        self.version += 1

    def _analyse_block(self, x: np.ndarray) -> None:
        det = self._detector
        assert det is not None
        det.process(x)
        self.samples_seen += x.size
        a = det.assess()
        self.assessments.append(a)
        t_end = self.samples_seen / self.fs
        self._set(a.quality, a.rate, a.pi)
        if a.quality == "good":
            self.bad_since = None
            if self.good_since is None:
                self.good_since = t_end - det.config.window_s
        else:
            self.good_since = None
            if a.quality == "noisy" and self.bad_since is None:
                self.bad_since = t_end

    def _set(self, quality: str, rate: float | None, pi: float | None) -> None:
        self.quality, self.rate, self.pi = quality, rate, pi
