"""Per-bed ECG analysis: streaming QRS detection on the primary lead, heart rate, and a signal-quality check.

Input is the gap-free ``Segment`` stream of ``monitor.stream``. Beat times are kept in two clocks: the stream's
own sample clock (exact, for RR intervals) and the station clock (for alarm onsets), mapped through the
arrival time of the segment that carried the beat.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from monitor.signal.qrs import QrsDetector
from monitor.stream import Segment

__all__ = ["EcgBeat", "EcgQuality", "EcgAnalyzer"]

QUALITY_WINDOW_S = 2.0
FLAT_STD_MV = 0.015
NOISY_PEAK_TO_PEAK_MV = 6.0


@dataclass(frozen=True, slots=True)
class EcgBeat:
    sample: int
    t_stream: float
    t_station: float


class EcgQuality:
    GOOD = "good"
    NOISY = "noisy"
    FLAT = "flat"
    UNKNOWN = "unknown"


class EcgAnalyzer:
    """Beats, heart rate and quality from one ECG lead."""

    def __init__(self, lead: str) -> None:
        self.lead = lead
        self.fs = 0.0
        self._detector: QrsDetector | None = None
        self._window: np.ndarray = np.zeros(0)
        self.beats: deque[EcgBeat] = deque(maxlen=64)
        self.quality = EcgQuality.UNKNOWN
        self.samples_seen = 0
        self.last_arrival: float | None = None

    def process(self, seg: Segment) -> list[EcgBeat]:
        if seg.restart or self._detector is None:
            self.fs = seg.fs
            self._detector = QrsDetector(seg.fs)
            self._window = np.zeros(0)
            self.beats.clear()
        elif seg.gap:
            self._detector.skip(seg.gap)
            self._window = np.zeros(0)
            self.beats.clear()
        self.samples_seen = seg.end
        self.last_arrival = seg.arrival
        self._update_quality(seg.samples)
        found = []
        for beat in self._detector.process(seg.samples):
            t_stream = beat.sample / self.fs
            t_station = seg.arrival - (seg.end - beat.sample) / self.fs
            found.append(EcgBeat(beat.sample, t_stream, t_station))
        self.beats.extend(found)
        return found

    def heart_rate(self) -> float | None:
        """HR in bpm from recent RR intervals; ``None`` when the rhythm is not readable or beats stopped."""
        if self.quality != EcgQuality.GOOD or not self.beats:
            return None
        recent = [b.t_stream for b in list(self.beats)[-9:]]
        if len(recent) < 3:
            return None
        rr = float(np.median(np.diff(recent)))
        if (self.samples_seen / self.fs) - recent[-1] > max(3.0, 2.5 * rr):
            return None
        return 60.0 / rr

    def rate_run_onset(self, faster: bool, limit_bpm: float) -> float | None:
        """Station time at which the beats began to come faster (``faster``) or slower than ``limit_bpm``.

        Walks back over the recent beats while the instantaneous rate, smoothed by a running median of
        three intervals (one ectopic beat does not end the run), stays beyond the limit. ``None`` when the
        latest beats are not beyond it.
        """
        beats = list(self.beats)
        if len(beats) < 4:
            return None
        times = np.array([b.t_stream for b in beats])
        rates = 60.0 / np.maximum(np.diff(times), 1e-3)
        smooth = np.array([np.median(rates[max(0, i - 1) : i + 2]) for i in range(len(rates))])
        beyond = smooth > limit_bpm if faster else smooth < limit_bpm
        if not beyond[-1]:
            return None
        k = len(beyond) - 1
        while k > 0 and beyond[k - 1]:
            k -= 1
        return beats[k].t_station  # interval k runs from beat k to beat k+1

    def seconds_since_beat(self) -> float | None:
        """Seconds of signal since the last detected beat (``None`` before any signal)."""
        if self.fs == 0.0:
            return None
        last = self.beats[-1].sample if self.beats else 0
        return (self.samples_seen - last) / self.fs

    def station_time_of(self, sample: int) -> float:
        assert self.last_arrival is not None
        return self.last_arrival - (self.samples_seen - sample) / self.fs

    def _update_quality(self, samples: np.ndarray) -> None:
        keep = int(QUALITY_WINDOW_S * self.fs)
        self._window = np.concatenate([self._window, samples])[-keep:]
        if len(self._window) < keep // 2:
            self.quality = EcgQuality.UNKNOWN
        elif float(np.std(self._window)) < FLAT_STD_MV:
            self.quality = EcgQuality.FLAT
        elif float(np.ptp(self._window)) > NOISY_PEAK_TO_PEAK_MV:
            self.quality = EcgQuality.NOISY
        else:
            self.quality = EcgQuality.GOOD
