"""Per-bed pleth (PPG) analysis: signal quality of the oximeter's waveform."""

from __future__ import annotations

import numpy as np

from monitor.stream import Segment

__all__ = ["PlethAnalyzer"]

QUALITY_WINDOW_S = 3.0


class PlethAnalyzer:
    def __init__(self) -> None:
        self.fs = 0.0
        self.quality: str = "unknown"
        self._window = np.zeros(0)
        self.last_arrival: float | None = None

    def process(self, seg: Segment) -> None:
        if seg.restart or seg.gap or self.fs != seg.fs:
            self.fs = seg.fs
            self._window = np.zeros(0)
        self.last_arrival = seg.arrival
        keep = int(QUALITY_WINDOW_S * self.fs)
        self._window = np.concatenate([self._window, seg.samples])[-keep:]
        if len(self._window) < keep // 2:
            self.quality = "unknown"
        elif float(np.std(self._window)) < 1e-3 * max(1.0, float(np.mean(np.abs(self._window)))):
            self.quality = "flat"
        else:
            self.quality = "good"
