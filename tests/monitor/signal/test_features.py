"""Per-block ECG features (quality, VF) and the quality/VF rules: chunk invariance and physiology."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.signal.features import EcgFeatureBank, envelope_floor, periodicity
from monitor.signal.filters import QrsFilterBank
from monitor.signal.quality import Quality, classify_block, vf_candidate, vf_like
from tests.monitor.signal.data import channel

FS = 250.0


def _features(x: np.ndarray, fs: float, sizes: list[int]) -> list:  # type: ignore[type-arg]
    bank = EcgFeatureBank(fs, block_s=2.0)
    hf = QrsFilterBank(fs, (5.0, 15.0), (15.0, 40.0), 0.15).process(x)[QrsFilterBank.HF]
    out, i, k = [], 0, 0
    while i < x.size:
        n = sizes[k % len(sizes)]
        out.extend(bank.process(x[i : i + n], hf[i : i + n]))
        i, k = i + n, k + 1
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=20))
def test_chunked_features_equal_whole(sizes: list[int]) -> None:
    x, fs = channel("mitdb/208", 0, 60.0)
    assert _features(x, fs, sizes) == _features(x, fs, [x.size])


def test_flat_line_and_rail_are_flat() -> None:
    rng = np.random.default_rng(1)
    flat = 5.05 + 0.005 * rng.integers(-1, 2, size=int(10 * FS))  # a digital flat line (7 levels) at 5 mV
    rail = np.full(int(10 * FS), 4.9)
    for x in (flat, rail):
        f = _features(x, FS, [250])[-1]
        assert classify_block(f, 1.0, 0) is Quality.FLAT


def test_clipping_is_noisy_and_a_clean_record_is_good() -> None:
    x, fs = channel("mitdb/100", 0, 120.0)
    blocks = _features(x, fs, [360])
    assert all(classify_block(f, 1.4, 0) is Quality.GOOD for f in blocks[2:])
    clipped = np.minimum(x, np.percentile(x, 92))  # an amplifier saturating on the top 8 % of samples
    f = _features(clipped, fs, [360])[-1]
    assert 0.03 < f.rail < 0.5 and classify_block(f, 1.4, 0) is Quality.NOISY


def _vf(x: np.ndarray, fs: float) -> list[bool]:
    env = QrsFilterBank(fs, (5.0, 15.0), (15.0, 40.0), 0.15).process(x)[QrsFilterBank.ENV]
    out = []
    for f in _features(x, fs, [int(fs)]):
        window = env[f.end - int(4 * fs) : f.end]
        out.append(vf_like(f, periodicity(window, fs), envelope_floor(window)))
    return out


def test_fibrillation_is_vf_like_and_sinus_rhythm_is_not() -> None:
    x, fs = channel("challenge-2015/f545l", 0, 240.0)  # ventricular fibrillation throughout
    vf = _vf(x[int(120 * fs) :], fs)
    assert np.mean(vf[2:]) > 0.8
    for record in ("mitdb/100", "mitdb/107", "mitdb/208", "challenge-2015/t406s"):  # sinus, paced, PVCs, 170 bpm
        y, fs2 = channel(record, 0, 240.0)
        assert not any(_vf(y, fs2)[2:]), record


def test_periodicity_tells_beats_from_fibrillation() -> None:
    t = np.arange(0, 4.0, 1 / 25.0)
    beats = np.exp(-0.5 * ((t % 0.8) - 0.4) ** 2 / 0.02**2)  # an envelope peak every 0.8 s
    rng = np.random.default_rng(3)
    assert periodicity(np.repeat(beats, 10), 250.0) > 0.8
    assert periodicity(np.abs(rng.standard_normal(1000)), 250.0) < 0.45
    assert envelope_floor(np.repeat(beats, 10)) < 0.1


def test_vf_candidate_needs_continuous_low_frequency_activity() -> None:
    x, fs = channel("mitdb/100", 0, 60.0)
    assert not any(vf_candidate(f) for f in _features(x, fs, [360]))
