"""Synthetic ECG and pleth: rate, morphology, rhythms, artifacts, determinism, chunking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import find_peaks

from monitor.errors import ConfigError
from simulators.beats import BeatKind
from simulators.ecg import EcgGenerator, qrs_duration, render_beats
from simulators.physiology import Condition, window_mask
from simulators.scenarios import get_scenario
from simulators.waveforms import Waveforms, pulse_transit_time, reference_beats, synthesize

FS = 250


def _beat_times(name: str, seconds: float, seed: int = 1, **params: float) -> tuple[np.ndarray, object]:
    scenario = get_scenario(name, seed=seed, params=params)
    beats = reference_beats(scenario, seed, 0.0, seconds)
    return np.array([b.t for b in beats]), scenario


@pytest.mark.parametrize("name", ["stable", "ketamine-tachycardia", "bradycardia", "midazolam-desaturation"])
def test_beat_rate_follows_the_hr_trajectory(name: str) -> None:
    times, scenario = _beat_times(name, 400)
    for start in range(10, 390, 10):
        inside = times[(times >= start) & (times < start + 10)]
        measured = 60.0 * (len(inside) - 1) / (inside[-1] - inside[0])
        true = np.mean([scenario.hr(t) for t in np.arange(start, start + 10, 0.1)])
        assert abs(measured - true) < 3.0, (start, measured, true)


def test_stable_hr_varies_a_little_beat_to_beat() -> None:
    times, _ = _beat_times("stable", 300)
    hr = 60.0 / np.diff(times)
    assert 70 < hr.mean() < 74
    assert 1.0 < hr.std() < 5.0  # respiratory sinus arrhythmia, not a metronome
    assert hr.min() > 60 and hr.max() < 84


@pytest.mark.slow
@pytest.mark.parametrize("name", ["stable", "ketamine-tachycardia", "bradycardia", "midazolam-desaturation", "afib"])
def test_a_standard_qrs_detector_finds_every_beat(name: str) -> None:
    processing = pytest.importorskip("wfdb.processing")
    seconds = 300
    signals = synthesize(get_scenario(name, seed=3), seconds, seed=3)
    detected = processing.xqrs_detect(signals.ecg["II"], fs=FS, verbose=False) / FS
    reference = np.array([b.t for b in signals.beats])
    # ANSI/AAMI EC57 matching: a detection within 150 ms of a reference beat (edges of the record excluded)
    ref_inner = reference[(reference > 1.0) & (reference < seconds - 1.0)]
    det_inner = detected[(detected > 1.0) & (detected < seconds - 1.0)]
    missed = np.min(np.abs(detected[None, :] - ref_inner[:, None]), axis=1) > 0.150
    false_positive = np.min(np.abs(reference[None, :] - det_inner[:, None]), axis=1) > 0.150
    assert not missed.any(), f"missed beats at {ref_inner[missed]}"
    assert not false_positive.any(), f"false detections at {det_inner[false_positive]}"


def test_qrs_and_r_wave_shape() -> None:
    assert 0.080 <= qrs_duration("II", BeatKind.SINUS) <= 0.100
    assert 0.150 <= qrs_duration("II", BeatKind.VENTRICULAR) <= 0.180
    signals = synthesize(get_scenario("stable", seed=2), 30, seed=2)
    ecg = signals.ecg["II"]
    for beat in signals.beats[2:-2]:
        i = round(beat.t * FS)
        r = ecg[i - 3 : i + 4].max()
        assert 1.0 <= r <= 1.5, (beat.t, r)
    assert np.abs(ecg).max() < 2.0


def test_p_wave_only_in_sinus_beats() -> None:
    t = np.arange(-0.4, 0.0, 0.001)  # before the R peak: P wave territory
    beat = {kind: render_beats(t, [_beat(kind)]) for kind in BeatKind}
    assert beat[BeatKind.SINUS].max() > 0.1
    assert np.abs(beat[BeatKind.AF][t < -0.08]).max() < 0.01


def _beat(kind: BeatKind):  # type: ignore[no-untyped-def]
    from simulators.beats import Beat

    return Beat(t=0.0, rr=1.0, kind=kind, amplitude=1.0, pulse=1.0)


def test_pleth_has_one_pulse_per_beat_after_the_r_wave() -> None:
    signals = synthesize(get_scenario("stable", seed=4), 60, seed=4)
    pleth, fs_p = signals.pleth, signals.pleth_fs
    peaks, _ = find_peaks(pleth, prominence=0.4)
    peak_times = peaks / fs_p
    beats = [b for b in signals.beats if 1.0 < b.t < 59.0]
    for beat in beats:
        delay = peak_times[peak_times > beat.t][0] - beat.t
        ptt = pulse_transit_time(beat.rr)
        assert 0.15 <= ptt <= 0.25
        assert ptt + 0.05 <= delay <= ptt + 0.2, (beat.t, delay)  # systolic peak ~120 ms after the foot
    inside = peak_times[(peak_times > beats[0].t) & (peak_times < beats[-1].t + 0.6)]
    assert len(inside) == len(beats)


def test_pleth_shows_a_dicrotic_notch() -> None:
    signals = synthesize(get_scenario("stable", seed=4), 20, seed=4)
    fs_p = signals.pleth_fs
    beat = signals.beats[5]
    window = signals.pleth[round(beat.t * fs_p) : round((beat.t + beat.rr) * fs_p)]
    peaks, _ = find_peaks(window, prominence=0.01)
    assert len(peaks) >= 2  # systolic peak and dicrotic wave


def test_pulse_amplitude_follows_perfusion() -> None:
    scenario = get_scenario("midazolam-desaturation", seed=5, params={"onset_s": 5, "ramp_s": 5, "hold_s": 20})
    signals = synthesize(scenario, 30, seed=5)
    fs_p = signals.pleth_fs
    _, before = find_peaks(signals.pleth[: 5 * fs_p], prominence=0.3)
    _, during = find_peaks(signals.pleth[12 * fs_p : 28 * fs_p], prominence=0.3)
    ratio = np.median(during["prominences"]) / np.median(before["prominences"])
    assert 0.65 < ratio < 0.9  # perfusion 1.0 -> 0.8


def test_ventricular_tachycardia() -> None:
    scenario = get_scenario("vtach", seed=6, params={"onset_s": 10, "hold_s": 20})
    beats = reference_beats(scenario, 6, 0, 40)
    vt = [b for b in beats if 10 < b.t < 30]
    assert all(b.kind is BeatKind.VENTRICULAR for b in vt)
    assert 160 < 60 / np.mean([b.rr for b in vt[1:]]) < 180
    assert all(b.kind is BeatKind.SINUS for b in beats if b.t < 9.5 or b.t > 31)


def test_atrial_fibrillation_is_irregularly_irregular() -> None:
    scenario = get_scenario("afib", seed=7, params={"onset_s": 30, "hold_s": 120})
    beats = reference_beats(scenario, 7, 0, 200)
    af_rr = np.array([b.rr for b in beats if 35 < b.t < 145])
    sinus_rr = np.array([b.rr for b in beats if 2 < b.t < 29])
    assert all(b.kind is BeatKind.AF for b in beats if 35 < b.t < 145)
    assert np.std(af_rr) / np.mean(af_rr) > 0.15
    assert np.std(sinus_rr) / np.mean(sinus_rr) < 0.06
    assert 100 < 60 / af_rr.mean() < 125


def test_asystole_has_no_qrs_and_no_pulse() -> None:
    scenario = get_scenario("asystole", seed=8, params={"onset_s": 10, "hold_s": 8})
    signals = synthesize(scenario, 30, seed=8)
    times = np.array([b.t for b in signals.beats])
    assert not ((times >= 10) & (times < 18)).any()
    assert np.diff(times).max() >= 8.0
    ecg = signals.ecg["II"][10 * FS + 200 : 18 * FS]  # after the last T wave
    assert np.ptp(ecg) < 0.4
    pleth = signals.pleth[11 * signals.pleth_fs : 18 * signals.pleth_fs]
    assert np.ptp(pleth) < 0.3


def test_motion_artifact_is_large_and_only_in_bursts() -> None:
    scenario = get_scenario("artifact", seed=9, params={"onset_s": 10, "hold_s": 120})
    signals = synthesize(scenario, 140, seed=9)
    t = np.arange(signals.ecg["II"].size) / FS
    bursts = scenario.windows(Condition.ARTIFACT, 0, 140)
    assert len(bursts) >= 4
    assert all(2.0 <= b - a <= 8.0 for a, b in bursts[:-1])
    ecg = signals.ecg["II"]
    inside = window_mask(bursts, t)
    assert np.abs(ecg[~inside]).max() < 2.0
    big = [np.ptp(ecg[(t >= a) & (t < b)]) for a, b in bursts]
    assert np.median(big) > 3.0  # several mV
    tp = np.arange(signals.pleth.size) / signals.pleth_fs
    pleth_big = [np.ptp(signals.pleth[(tp >= a) & (tp < b)]) for a, b in bursts]
    assert np.median(pleth_big) > 2.0  # swings larger than a pulse


@pytest.mark.parametrize("mode, level", [("flat", 0.0), ("rail", 5.0)])
def test_leads_off(mode: str, level: float) -> None:
    scenario = get_scenario("leads-off", seed=10, params={"onset_s": 5, "hold_s": 10})
    ecg = Waveforms(scenario, 10, leads_off_mode=mode).ecg.next(20 * FS)["II"]  # type: ignore[arg-type]
    off = ecg[5 * FS : 15 * FS]
    assert np.abs(off - level).max() < 0.02
    assert np.ptp(ecg[16 * FS :]) > 1.0


def test_probe_off_gives_a_flat_noisy_pleth() -> None:
    scenario = get_scenario("probe-off", seed=11, params={"onset_s": 5, "hold_s": 10})
    waves = Waveforms(scenario, 11)
    pleth = waves.pleth.next(20 * 125)
    assert np.ptp(pleth[5 * 125 : 15 * 125]) < 0.2
    assert np.ptp(pleth[16 * 125 :]) > 0.5
    assert np.ptp(waves.ecg.next(20 * FS)["II"][5 * FS : 15 * FS]) > 1.0  # ECG unaffected


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=60))
def test_chunked_generation_equals_one_shot(chunks: list[int]) -> None:
    scenario = get_scenario("artifact", seed=12, params={"onset_s": 2, "hold_s": 30})
    whole = Waveforms(scenario, 12, leads=("II", "V"))
    n = sum(chunks)
    ecg_whole, pleth_whole = whole.ecg.next(n), whole.pleth.next(n // 2)
    parts = Waveforms(scenario, 12, leads=("II", "V"))
    ecg_parts = [parts.ecg.next(c) for c in chunks]
    pleth_parts = [parts.pleth.next(c // 2) for c in chunks]
    for lead in ("II", "V"):
        np.testing.assert_allclose(np.concatenate([p[lead] for p in ecg_parts]), ecg_whole[lead], atol=1e-9)
    np.testing.assert_allclose(np.concatenate(pleth_parts), pleth_whole[: sum(c // 2 for c in chunks)], atol=1e-9)


def test_same_seed_same_signal_other_seed_other_signal() -> None:
    scenario = get_scenario("stable", seed=1)
    a = synthesize(scenario, 10, seed=1).ecg["II"]
    b = synthesize(scenario, 10, seed=1).ecg["II"]
    c = synthesize(scenario, 10, seed=2).ecg["II"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_sampling_rate_is_configurable() -> None:
    scenario = get_scenario("stable", seed=1)
    slow = synthesize(scenario, 10, seed=1, ecg_fs=250)
    fast = synthesize(scenario, 10, seed=1, ecg_fs=500)
    assert fast.ecg["II"].size == 2 * slow.ecg["II"].size
    assert [b.t for b in fast.beats] == [b.t for b in slow.beats]
    with pytest.raises(ConfigError):
        EcgGenerator(scenario, 1, fs=50)
    with pytest.raises(ConfigError):
        EcgGenerator(scenario, 1, leads=("aVR",))
