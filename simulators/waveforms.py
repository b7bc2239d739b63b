"""Bedside waveforms of one simulated patient: ECG (mV) and pleth, streamed or in one go.

:class:`Waveforms` bundles the streaming generators of one bed; every generator is a pure function of
(physiology, seed, sample index), so chunked generation equals one-shot generation and a run of hours never
holds more than a chunk in memory. :func:`reference_beats` gives the true R-peak times (the ground truth
for QRS detector tests); :func:`synthesize` renders a whole stretch at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simulators.beats import Beat, BeatKind, BeatTrain
from simulators.ecg import LEADS, EcgGenerator, render_beats
from simulators.physiology import Physiology
from simulators.pleth import PlethGenerator, pulse_transit_time, render_pulses

__all__ = [
    "LEADS",
    "Beat",
    "BeatKind",
    "EcgGenerator",
    "PlethGenerator",
    "Signals",
    "Waveforms",
    "pulse_transit_time",
    "reference_beats",
    "render_beats",
    "render_pulses",
    "synthesize",
]


class Waveforms:
    """The ECG and pleth generators of one bed, sharing a seed (and so the same beats)."""

    def __init__(
        self,
        physiology: Physiology,
        seed: int,
        *,
        ecg_fs: int = 250,
        pleth_fs: int = 125,
        leads: Sequence[str] = ("II",),
        leads_off_mode: Literal["flat", "rail"] = "flat",
    ) -> None:
        self.ecg = EcgGenerator(physiology, seed, fs=ecg_fs, leads=leads, leads_off_mode=leads_off_mode)
        self.pleth = PlethGenerator(physiology, seed, fs=pleth_fs)


@dataclass(frozen=True, slots=True)
class Signals:
    """A rendered stretch of signal from scenario time 0."""

    ecg: dict[str, np.ndarray]  # lead -> mV at ecg_fs
    pleth: np.ndarray  # at pleth_fs
    ecg_fs: int
    pleth_fs: int
    beats: list[Beat]  # true beats in the stretch


def reference_beats(physiology: Physiology, seed: int, t0: float, t1: float) -> list[Beat]:
    """The true beats (R-peak times) with ``t0 <= t < t1`` that the generators with ``seed`` produce."""
    return BeatTrain(physiology, seed).between(t0, t1)


def synthesize(
    physiology: Physiology,
    seconds: float,
    *,
    seed: int = 0,
    ecg_fs: int = 250,
    pleth_fs: int = 125,
    leads: Sequence[str] = ("II",),
) -> Signals:
    """``seconds`` of ECG and pleth from scenario time 0, in one go."""
    waves = Waveforms(physiology, seed, ecg_fs=ecg_fs, pleth_fs=pleth_fs, leads=leads)
    ecg = waves.ecg.next(round(seconds * ecg_fs))
    pleth = waves.pleth.next(round(seconds * pleth_fs))
    return Signals(ecg, pleth, ecg_fs, pleth_fs, reference_beats(physiology, seed, 0.0, seconds))
