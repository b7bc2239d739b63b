"""Streaming QRS detector: chunk invariance, latency, sampling rates, gaps, configuration."""

from __future__ import annotations

import os
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from monitor.cli import main
from monitor.errors import ConfigError
from monitor.evaluate import score_record
from monitor.records import physionet_dir, read_record, read_reference_beats
from monitor.signal.qrs import Beat, QrsConfig, QrsDetector, detect_beats


def _require_data() -> None:
    if not (physionet_dir() / "mitdb" / "100.hea").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PhysioNet data missing at {physionet_dir()} (set WARDWATCH_PHYSIONET_DIR)")
        pytest.skip(f"PhysioNet data not found at {physionet_dir()} (set WARDWATCH_PHYSIONET_DIR)")


@cache
def _segment(name: str, seconds: float) -> tuple[np.ndarray, np.ndarray, float]:
    """First ``seconds`` of channel 0 and the reference beats inside it."""
    record = read_record(name)
    n = int(seconds * record.fs)
    ref = read_reference_beats(name)
    return record.channel(0)[:n], ref[ref < n], record.fs


def _feed(detector: QrsDetector, x: np.ndarray, sizes: list[int]) -> list[Beat]:
    beats: list[Beat] = []
    i = k = 0
    while i < x.size:
        n = sizes[k % len(sizes)]
        beats.extend(detector.process(x[i : i + n]))
        i += n
        k += 1
    return beats


@cache
def _whole(name: str, seconds: float) -> list[Beat]:
    x, _, fs = _segment(name, seconds)
    return QrsDetector(fs).process(x)


# ------------------------------------------------------------------ chunk invariance
@pytest.mark.parametrize(("chunk_s", "seconds"), [(0.007, 40.0), (0.25, 300.0), (1.0, 300.0), (10.0, 300.0)])
@pytest.mark.parametrize("name", ["mitdb/105", "mitdb/208", "svdb/800"])
def test_fixed_chunk_sizes_give_identical_beats(name: str, chunk_s: float, seconds: float) -> None:
    _require_data()
    x, _, fs = _segment(name, seconds)
    assert detect_beats(x, fs, chunk_s=chunk_s) == _whole(name, seconds)


def test_one_sample_chunks_give_identical_beats() -> None:
    _require_data()
    x, _, fs = _segment("mitdb/208", 20.0)
    assert _feed(QrsDetector(fs), x, [1]) == QrsDetector(fs).process(x)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["mitdb/105", "mitdb/107", "mitdb/208", "mitdb/232"]),
    sizes=st.lists(st.integers(min_value=1, max_value=4000), min_size=1, max_size=40),
)
def test_random_chunk_sequences_give_identical_beats(name: str, sizes: list[int]) -> None:
    _require_data()
    x, _, fs = _segment(name, 150.0)
    # the chunk sizes are cycled; one 2000-sample chunk per cycle bounds the number of calls
    assert _feed(QrsDetector(fs), x, [*sizes, 2000]) == _whole(name, 150.0)


# ------------------------------------------------------------------ latency
@pytest.mark.parametrize(("name", "seconds", "chunk"), [("mitdb/107", 15.0, 1), ("mitdb/208", 40.0, 3)])
def test_every_beat_is_reported_within_300_ms(name: str, seconds: float, chunk: int) -> None:
    _require_data()
    x, _, fs = _segment(name, seconds)
    detector = QrsDetector(fs)
    n_beats = 0
    for i in range(0, x.size, chunk):
        for beat in detector.process(x[i : i + chunk]):
            n_beats += 1
            assert 0 <= detector.samples_seen - beat.sample <= 0.3 * fs + chunk - 1
    assert n_beats > seconds * 0.8


# ------------------------------------------------------------------ sampling rates
@pytest.mark.parametrize("fs_new", [100.0, 250.0, 500.0, 1000.0])
@pytest.mark.parametrize("name", ["mitdb/105", "mitdb/208", "mitdb/232"])
def test_accuracy_holds_when_resampled(name: str, fs_new: float) -> None:
    _require_data()
    x, ref, fs = _segment(name, 600.0)
    ratio = Fraction(fs_new / fs).limit_denominator(100)
    y = signal.resample_poly(x, ratio.numerator, ratio.denominator)
    ref_new = np.round(ref * fs_new / fs).astype(np.int64)
    beats = detect_beats(y, fs_new, chunk_s=0.5)
    score = score_record(name, ref_new, np.array([b.sample for b in beats]), fs_new)
    assert score.se >= 0.985 and score.ppv >= 0.985, score


# ------------------------------------------------------------------ gaps
def test_skip_advances_numbering_and_relearns() -> None:
    _require_data()
    x, ref, fs = _segment("mitdb/118", 120.0)
    cut, gap = int(50 * fs), int(7 * fs)  # feed 0-50 s, lose 50-57 s, feed 57-120 s
    detector = QrsDetector(fs)
    beats: list[Beat] = []
    for i in range(0, cut, int(fs)):
        beats += detector.process(x[i : min(i + int(fs), cut)])
    detector.skip(gap)
    assert detector.samples_seen == cut + gap
    for i in range(cut + gap, x.size, int(fs)):
        beats += detector.process(x[i : i + int(fs)])
    samples = np.array([b.sample for b in beats])
    assert not np.any((samples >= cut) & (samples < cut + gap))
    start, end = cut + gap + int(2.5 * fs), x.size - int(0.3 * fs)  # 2.5 s to re-learn; the last
    after = ref[(ref >= start) & (ref < end)]  # beat has no lookahead before the data ends
    score = score_record("118", after, samples[(samples >= start) & (samples < end)], fs)
    assert score.se >= 0.99 and score.ppv >= 0.99
    first = samples[samples >= cut + gap][0]
    assert first - (cut + gap) < 2.0 * fs  # detecting again within 2 s of the gap


def test_non_finite_samples_are_a_gap() -> None:
    _require_data()
    x, _, fs = _segment("mitdb/100", 60.0)
    y = x.copy()
    y[int(20 * fs) : int(25 * fs)] = np.nan
    with_nan = detect_beats(y, fs)
    detector = QrsDetector(fs)
    manual = detector.process(x[: int(20 * fs)])
    detector.skip(int(5 * fs))
    manual += detector.process(x[int(25 * fs) :])
    assert with_nan == manual


def test_skip_rejects_negative() -> None:
    with pytest.raises(ValueError):
        QrsDetector(360).skip(-1)


# ------------------------------------------------------------------ synthetic signals
def _pulse_train(fs: float, rate_bpm: float, seconds: float, amp_mv: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * fs)) / fs
    beats = np.arange(0.5, seconds - 0.5, 60.0 / rate_bpm)
    x = np.zeros_like(t)
    for b in beats:
        x += amp_mv * np.exp(-0.5 * ((t - b) / 0.012) ** 2)
    return x, np.round(beats * fs).astype(np.int64)


@pytest.mark.parametrize("fs", [100.0, 128.0, 360.0, 1000.0])
@pytest.mark.parametrize("rate", [30.0, 75.0, 180.0])
def test_synthetic_pulse_train(fs: float, rate: float) -> None:
    x, ref = _pulse_train(fs, rate, 60.0)
    beats = detect_beats(x + 0.3, fs, chunk_s=0.04)
    score = score_record("synthetic", ref, np.array([b.sample for b in beats]), fs)
    assert score.fp == 0 and score.fn <= 1  # the first beat may fall in the learning period
    assert all(abs(b.amplitude) > 0.1 and 0.0 < b.width_s < 0.25 for b in beats)


def _recovered_after(beats: list[Beat], ref: np.ndarray, fs: float, t_s: float) -> bool:
    samples = np.array([b.sample for b in beats])
    lo, hi = t_s * fs, ref[-1] - 0.2 * fs  # the last beat may lack its lookahead
    score = score_record("recovery", ref[(ref > lo) & (ref < hi)], samples[(samples > lo) & (samples < hi)], fs)
    return score.fn == 0 and score.fp == 0


def test_large_artefact_while_learning_does_not_lock_the_detector_out() -> None:
    fs = 250.0
    x, ref = _pulse_train(fs, 75.0, 40.0)
    x[int(0.3 * fs) : int(0.5 * fs)] += 30.0  # a 30 mV lead-attach transient in the first second
    assert _recovered_after(detect_beats(x, fs), ref, fs, 3.0)


def test_sudden_amplitude_drop_is_followed() -> None:
    fs = 360.0
    big, _ = _pulse_train(fs, 70.0, 20.0, amp_mv=1.5)
    small, ref = _pulse_train(fs, 70.0, 40.0, amp_mv=0.2)
    beats = detect_beats(np.concatenate((big, small)), fs)
    assert _recovered_after(beats, ref + big.size, fs, 30.0)  # re-learnt after 8 s without a beat


def test_asystole_with_noise_invents_no_beats() -> None:
    fs = 250.0
    rhythm, _ = _pulse_train(fs, 70.0, 20.0)
    t = np.arange(int(40 * fs)) / fs
    noise = 0.1 * np.random.default_rng(4).standard_normal(t.size) + 0.5 * np.sin(2 * np.pi * 0.3 * t)
    beats = detect_beats(np.concatenate((rhythm, noise)), fs)
    assert not [b for b in beats if b.sample > 20.2 * fs]  # including after re-learning at 28 s


def test_flat_line_and_small_noise_give_no_beats() -> None:
    fs = 250.0
    rng = np.random.default_rng(1)
    assert detect_beats(np.zeros(int(30 * fs)), fs) == []
    assert detect_beats(0.01 * rng.standard_normal(int(30 * fs)), fs) == []


def test_asystole_after_rhythm_invents_no_beats() -> None:
    fs = 360.0
    x, _ = _pulse_train(fs, 70.0, 20.0)
    flat = np.concatenate((x, np.zeros(int(10 * fs)))) + 0.005 * np.random.default_rng(2).standard_normal(
        int(30 * fs))
    beats = detect_beats(flat, fs)
    assert not [b for b in beats if b.sample > 20.2 * fs]


def test_empty_chunks_are_harmless() -> None:
    detector = QrsDetector(360)
    assert detector.process(np.empty(0)) == []
    assert detector.samples_seen == 0


# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize(
    "kwargs",
    [
        {"band_hz": (15.0, 5.0)},
        {"threshold_fraction": 1.5},
        {"lookahead_s": 0.29},
        {"refractory_s": 0.0},
        {"searchback_rr_factor": 0.9},
        {"history": 0},
        {"min_qrs_mv": -1.0},
    ],
)
def test_bad_config_raises(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        QrsConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fs", [10.0, 5000.0])
def test_unsupported_fs_raises(fs: float) -> None:
    with pytest.raises(ConfigError):
        QrsDetector(fs)


def test_two_dimensional_chunk_is_rejected() -> None:
    with pytest.raises(ValueError):
        QrsDetector(360).process(np.zeros((2, 10)))


# ------------------------------------------------------------------ CLI
def test_beats_command_prints_sample_indices(capsys: pytest.CaptureFixture[str]) -> None:
    _require_data()
    assert main(["beats", "mitdb/232", "--chunk-ms", "250"]) == 0
    printed = [int(line) for line in capsys.readouterr().out.split()]
    record = read_record("mitdb/232")
    expected = [b.sample for b in detect_beats(record.channel(0), record.fs)]
    assert printed == expected and len(printed) > 1700


def test_beats_command_reports_a_missing_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["beats", "no/such/record"]) == 2
    assert "no WFDB record" in capsys.readouterr().err
