"""Validated value types for what a bedside monitor sends (see docs/mqtt.md).

They are produced by the MQTT edge (``ingest.contract``), by the simulators' in-process paths, by replays of
recorded sessions and by WFDB readers, and consumed by the functional core (``monitor.ward``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["WAVE_STREAMS", "STREAMS", "WaveStream", "WaveChunk", "Numerics", "Status", "Message"]

WaveStream = Literal["ecg", "pleth"]
WAVE_STREAMS: tuple[str, ...] = ("ecg", "pleth")
STREAMS: tuple[str, ...] = ("ecg", "pleth", "numerics", "status")


@dataclass(frozen=True, slots=True, eq=False)
class WaveChunk:
    """A chunk of one waveform: ``samples[i]`` was taken at ``ts + i / fs`` (device clock)."""

    bed: str
    stream: WaveStream
    ts: float
    fs: float
    samples: np.ndarray
    seq: int | None = None
    lead: str = "II"

    @property
    def duration(self) -> float:
        return len(self.samples) / self.fs

    @property
    def key(self) -> tuple[str, str, str]:
        """Identifies the stream this chunk belongs to: (bed, stream, lead)."""
        return (self.bed, self.stream, self.lead if self.stream == "ecg" else "")


@dataclass(frozen=True, slots=True)
class Numerics:
    """Device numerics (about 1 Hz); ``None`` means not available."""

    bed: str
    ts: float
    hr: float | None = None
    spo2: float | None = None
    pr: float | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """Device state; ``None`` for leads/probe means "unchanged"."""

    bed: str
    online: bool
    ts: float | None = None
    leads_off: bool | None = None
    probe_off: bool | None = None
    retained: bool = False


Message = WaveChunk | Numerics | Status
