"""Per-lead ECG analysis and per-bed pleth analysis: chunk invariance, quality gating with real noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.ecg import EcgAnalyzer, EcgQuality
from monitor.noise_stress import add_noise
from monitor.pleth import PlethAnalyzer
from monitor.stream import Segment
from simulators.scenarios import get_scenario
from simulators.waveforms import synthesize
from tests.monitor.signal.data import channel, require


def _segments(x: np.ndarray, fs: float, sizes: list[int]) -> list[Segment]:
    out, i, k = [], 0, 0
    while i < x.size:
        n = sizes[k % len(sizes)]
        out.append(Segment(i, x[i : i + n], fs, (i + n) / fs, 0, i == 0))
        i, k = i + n, k + 1
    return out


Blocks = list[tuple[float, str, bool]]


def _ecg(x: np.ndarray, fs: float, sizes: list[int]) -> tuple[list[tuple[int, str, bool]], Blocks]:
    a = EcgAnalyzer("II")
    beats = []
    for seg in _segments(x, fs, sizes):
        beats.extend((b.sample, b.label, b.odd) for b in a.process(seg))
    return beats, list(a.blocks)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=12))
def test_ecg_analysis_does_not_depend_on_chunking(sizes: list[int]) -> None:
    x, fs = channel("mitdb/208", 0, 64.0)  # PVCs, fusion beats, couplets: every label occurs
    assert _ecg(x, fs, [*sizes, 900]) == _ecg(x, fs, [x.size])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=12))
def test_pleth_analysis_does_not_depend_on_chunking(sizes: list[int]) -> None:
    pleth = synthesize(get_scenario("artifact", seed=2), 70.0, seed=2).pleth

    def run(chunks: list[int]) -> list[object]:
        p = PlethAnalyzer()
        for seg in _segments(pleth, 125.0, chunks):
            p.process(seg)
        return [*p.assessments, tuple(p.pulses)]

    assert run([*sizes, 300]) == run([pleth.size])


def test_gap_restarts_the_filters_but_keeps_counting() -> None:
    x, fs = channel("mitdb/100", 0, 40.0)
    a = EcgAnalyzer("II")
    a.process(Segment(0, x[:3600], fs, 10.0, 0, True))
    a.process(Segment(7200, x[7200:], fs, 40.0, 3600, False))  # 10 s missing
    assert a.samples_seen == x.size and all(b.sample >= 7200 for b in list(a.beats)[-20:])


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "snr"), [("em", 0.0), ("ma", 0.0)])
def test_real_noise_makes_the_lead_unreadable_not_arrhythmic(kind: str, snr: float) -> None:
    require("mitdb/118", "nstdb/118e00", "nstdb/ma")
    signals, fs, mask = add_noise("mitdb/118", kind, snr)
    x = signals[: int(780 * fs), 0]  # clean 0-300 s, noise 300-420 s and 540-660 s, clean between
    a = EcgAnalyzer("MLII")
    for seg in _segments(x, fs, [int(fs / 4)]):
        a.process(seg)
    quality = dict(a.history)
    in_noise = [q for t, q in quality.items() if 302 < t <= 420 or 542 < t <= 660]
    clean = [q for t, q in quality.items() if 10 < t <= 300 or 670 < t <= 780]
    assert in_noise.count("noisy") / len(in_noise) >= 0.5, in_noise
    assert clean.count("good") / len(clean) >= 0.95, clean


def test_flat_lead_is_flat() -> None:
    a = EcgAnalyzer("II")
    x = np.full(2500, 0.3) + 0.001 * np.random.default_rng(0).integers(0, 3, 2500)
    for seg in _segments(x, 250.0, [62]):
        a.process(seg)
    assert a.quality == EcgQuality.FLAT
