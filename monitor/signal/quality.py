"""ECG signal quality per lead and per block, and the ventricular-fibrillation waveform test.

Inputs are a block's :class:`~monitor.signal.features.BlockFeatures` and what the QRS detector saw in the
same window (rejected candidate peaks that were large next to the QRS level). Rules, in order:

1. ``flat`` (no signal: leads off, amplifier at a rail): raw peak-to-peak over 2 s below ``flat_ptp_mv``,
   or more than ``rail_flat`` of the samples stuck at the window's extreme values.
2. ``noisy`` (the rhythm cannot be read): any of clipping (``rail`` above ``rail_noisy``), baseline steps
   and swings of motion artefact (``wander`` above ``wander_mv`` or above ``wander_ratio`` x the QRS level),
   a raw peak-to-peak above ``ptp_ratio`` x the QRS level, at least ``noise_peaks`` rejected detector
   candidates above ``noise_peak_ratio`` x the QRS level within the window (artefact spikes and bursts that
   compete with the QRS complexes), or at least ``odd_beats`` detected "beats" that match neither the
   dominant beat nor the previous non-dominant beat (artefact taken for beats: it does not repeat a shape,
   while ectopic beats from one focus do) when most beats of the window are not dominant (the caller
   counts them).
3. ``good`` otherwise.

A lead whose waveform is VF-like (:func:`vf_like`) is not called noisy for its continuous activity; the
fibrillation detector decides about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from monitor.signal.features import BlockFeatures

__all__ = ["Quality", "QualityConfig", "VfConfig", "classify_block", "vf_candidate", "vf_like"]


class Quality(StrEnum):
    GOOD = "good"
    NOISY = "noisy"
    FLAT = "flat"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class QualityConfig:
    flat_ptp_mv: float = 0.025
    rail_flat: float = 0.5
    rail_noisy: float = 0.03
    wander_mv: float = 2.0
    wander_ratio: float = 2.5
    ptp_ratio: float = 6.0
    noise_peak_ratio: float = 0.4
    noise_peaks: int = 2
    odd_beats: int = 3


@dataclass(frozen=True)
class VfConfig:
    """VF/flutter waveform over a 4 s window. Common to both kinds: continuous activity without an isoelectric
    baseline (``busy``), no sharp QRS edges (little 15-40 Hz energy), a mean frequency of 2-9 Hz, no large
    baseline swings or steps (motion), not clipped, not tiny, a detection envelope that never falls back to a
    quiet baseline (20 % quantile >= ``min_floor`` x its maximum) and has no beat-to-beat period
    (``periodicity`` below ``max_periodicity``). Then either *sinusoidal* (flutter, fine VF: VF-filter
    leakage <= ``max_leak`` with most energy in 2-9 Hz) or *chaotic* (coarse VF: periodicity below
    ``chaotic_periodicity``, a fair share of energy in 2-9 Hz). The caller also requires that the lead shows
    no organized rhythm of detected beats in the window."""

    min_busy: float = 0.4
    max_hf_ratio: float = 0.25
    freq_hz: tuple[float, float] = (2.0, 9.0)
    max_wander_mv: float = 1.0
    max_rail: float = 0.02
    min_amp_mv: float = 0.05
    max_periodicity: float = 0.7
    min_floor: float = 0.18
    max_leak: float = 0.55
    sinus_low_ratio: float = 0.7
    chaotic_periodicity: float = 0.45
    chaotic_low_ratio: float = 0.35


def vf_candidate(f: BlockFeatures, cfg: VfConfig | None = None) -> bool:
    """The waveform tests that need no envelope periodicity (cheap; decide whether to compute it)."""
    cfg = cfg or VfConfig()
    return (
        f.busy >= cfg.min_busy
        and f.hf_ratio <= cfg.max_hf_ratio
        and cfg.freq_hz[0] <= f.freq <= cfg.freq_hz[1]
        and f.wander <= cfg.max_wander_mv
        and f.rail <= cfg.max_rail
        and f.amp >= cfg.min_amp_mv
        and f.low_ratio >= min(cfg.sinus_low_ratio, cfg.chaotic_low_ratio)
    )


def vf_like(f: BlockFeatures, period: float, floor: float, cfg: VfConfig | None = None) -> bool:
    """``period``: the detection envelope's periodicity, ``floor``: its 20 % quantile over its maximum
    (``monitor.signal.features``), both over the same window as ``f``."""
    cfg = cfg or VfConfig()
    if not vf_candidate(f, cfg) or period >= cfg.max_periodicity or floor < cfg.min_floor:
        return False
    sinusoidal = f.leak <= cfg.max_leak and f.low_ratio >= cfg.sinus_low_ratio
    chaotic = period < cfg.chaotic_periodicity and f.low_ratio >= cfg.chaotic_low_ratio
    return sinusoidal or chaotic


def classify_block(
    f: BlockFeatures, level_mv: float | None, noise_peaks: int, cfg: QualityConfig | None = None, odd_beats: int = 0
) -> Quality:
    """Quality of the window ending at ``f.end``; ``level_mv`` is the lead's QRS level (None: unknown),
    ``noise_peaks`` the number of large rejected candidates and ``odd_beats`` the number of detected "beats"
    unlike both the dominant beat and the previous non-dominant one, in the window."""
    cfg = cfg or QualityConfig()
    if f.ptp < cfg.flat_ptp_mv or f.rail > cfg.rail_flat:
        return Quality.FLAT
    if f.rail > cfg.rail_noisy or f.wander > cfg.wander_mv:
        return Quality.NOISY
    if level_mv is None:
        return Quality.UNKNOWN
    if f.wander > cfg.wander_ratio * level_mv or f.ptp > cfg.ptp_ratio * level_mv:
        return Quality.NOISY
    if noise_peaks >= cfg.noise_peaks or odd_beats >= cfg.odd_beats:
        return Quality.NOISY
    return Quality.GOOD
