"""Streaming pleth pulse detection: chunk invariance, rate, perfusion index, quality."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.signal.pulse import PulseDetector
from simulators.scenarios import get_scenario
from simulators.waveforms import synthesize

FS = 125.0


def _pleth(scenario: str = "stable", seconds: float = 120.0, seed: int = 2) -> np.ndarray:
    return synthesize(get_scenario(scenario, seed=seed), seconds, seed=seed).pleth


def _run(x: np.ndarray, sizes: list[int]) -> tuple[list[int], list]:  # type: ignore[type-arg]
    det = PulseDetector(FS)
    pulses, assessments, i, k = [], [], 0, 0
    while i < x.size:
        n = sizes[k % len(sizes)]
        pulses.extend(p.sample for p in det.process(x[i : i + n]))
        i, k = i + n, k + 1
    assessments.append(det.assess())
    return pulses, assessments


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(min_value=1, max_value=1500), min_size=1, max_size=20))
def test_chunked_pulses_equal_whole(sizes: list[int]) -> None:
    x = _pleth()
    assert _run(x, sizes) == _run(x, [x.size])


def test_one_pulse_per_beat_and_the_rate() -> None:
    sig = synthesize(get_scenario("stable", seed=4), 120.0, seed=4)
    pulses, (a,) = _run(sig.pleth, [31])
    beats = [b.t for b in sig.beats if b.t > 3.0]
    assert abs(len([p for p in pulses if p / FS > 3.0]) - len(beats)) <= 2
    true_rate = 60.0 * (len(beats) - 1) / (beats[-1] - beats[0])
    assert a.quality == "good" and a.rate is not None and abs(a.rate - true_rate) < 4


def test_perfusion_index_needs_a_dc_level() -> None:
    x = _pleth()
    assert _run(x, [125])[1][0].pi is None  # the simulator's pleth is centred on 0
    _, (a,) = _run(50.0 + 0.5 * x, [125])  # 0.5 units of pulse on a DC of 50: PI ~ 1 %
    assert a.pi is not None and 0.5 < a.pi < 2.0


def test_flat_and_noisy_pleth() -> None:
    flat = 2.537 + 0.0004 * np.random.default_rng(0).integers(0, 6, int(30 * FS))  # a probe off: 6 ADC levels
    assert _run(flat, [125])[1][0].quality == "flat"
    noise = np.random.default_rng(1).standard_normal(int(30 * FS))
    assert _run(noise, [125])[1][0].quality == "noisy"
