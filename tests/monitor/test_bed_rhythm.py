"""The bed's fused rhythm conditions through the live pipeline (Ward on a virtual clock): simulated rhythms,
quality gating, the pleth cross-check, SpO2 (fixed delay and SatSeconds) and the cheap evaluate()."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.analyze import Analysis, analyze_messages, array_messages
from monitor.bed import BedMonitor
from monitor.limits import Limits, apply_overrides
from monitor.messages import Numerics
from monitor.noise_stress import add_noise
from monitor.records import read_reference_beats
from monitor.sources import DEFAULT_START, SimulatedSource
from simulators.beats import Beat, BeatKind
from simulators.waveforms import render_pulses
from tests.monitor.signal.data import require

PHYSIOLOGICAL = {
    "asystole", "ventricular_fibrillation", "ventricular_tachycardia", "extreme_tachycardia", "extreme_bradycardia",
    "tachycardia", "bradycardia", "atrial_fibrillation", "pause", "spo2_low", "desaturation",
}


def _sim(scenario: str, seconds: float, leads: tuple[str, ...] = ("II",), limits: Limits | None = None) -> Analysis:
    src = SimulatedSource(scenario, duration_s=seconds, leads=leads, seed=3)
    return analyze_messages(src, name=scenario, start=src.start, duration_s=seconds, latency_s=src.latency_s,
                            limits=limits, vitals_every=1.0)


def _first(analysis: Analysis, kind: str) -> float | None:
    alarms = analysis.of_type(kind)
    return alarms[0].raised if alarms else None


@pytest.mark.parametrize("leads", [("II",), ("II", "V")])
def test_asystole_is_raised_within_seconds_and_dated_to_the_last_beat(leads: tuple[str, ...]) -> None:
    a = _sim("asystole", 60, leads)  # 8 s without QRS and pulse from 30 s
    (asy,) = a.of_type("asystole")
    assert 29.0 <= asy.onset <= 30.0 and asy.onset + 4.0 <= asy.raised <= asy.onset + 6.5
    assert not a.of_type("ventricular_fibrillation") and not a.of_type("ventricular_tachycardia")


@pytest.mark.parametrize("leads", [("II",), ("II", "V")])
def test_ventricular_tachycardia(leads: tuple[str, ...]) -> None:
    a = _sim("vtach", 60, leads)  # monomorphic VT at ~170 bpm from 30 s
    (vt,) = a.of_type("ventricular_tachycardia")
    assert 30.0 <= vt.onset <= 31.0 and vt.raised - vt.onset <= 5.0
    assert vt.priority == "high"


def test_atrial_fibrillation_is_an_advisory_after_its_delay() -> None:
    a = _sim("afib", 240)  # AF from 30 s to 210 s
    afs = a.of_type("atrial_fibrillation")
    assert afs and 60.0 <= afs[0].raised <= 110.0 and afs[0].priority == "low"
    assert not a.of_type("ventricular_tachycardia") and not a.of_type("extreme_tachycardia")


def test_bradycardia_and_extreme_bradycardia() -> None:
    a = _sim("bradycardia", 150)
    assert _first(a, "bradycardia") is not None and _first(a, "extreme_bradycardia") is not None


@pytest.mark.parametrize("leads", [("II",), ("II", "V")])
def test_motion_artefact_raises_no_physiological_alarm_but_ecg_signal_poor(leads: tuple[str, ...]) -> None:
    a = _sim("artifact", 200, leads)
    assert not [x for x in a.alarms if x.type in PHYSIOLOGICAL]
    assert a.of_type("ecg_signal_poor")
    during = [v for v in a.vitals if 45.0 <= v["t"] <= 48.0]  # inside a motion burst (41-48 s)
    assert all(v["hr_source"] != "ecg" or v["hr"] < 100 for v in during)


def test_leads_off_and_probe_off_are_technical() -> None:
    a = _sim("leads-off", 100)
    assert a.of_type("leads_off") and not [x for x in a.alarms if x.type in PHYSIOLOGICAL]
    b = _sim("probe-off", 100)
    assert b.of_type("probe_off") and not [x for x in b.alarms if x.type in PHYSIOLOGICAL]


def test_ketamine_tachycardia_is_dated_back_to_the_first_fast_beat() -> None:
    a = _sim("ketamine-tachycardia", 150)
    (tachy,) = a.of_type("tachycardia")
    assert tachy.raised - tachy.onset == pytest.approx(5.0, abs=1.0)


def _pleth_for(beats_s: np.ndarray, n: int, fs: float) -> np.ndarray:
    """A pleth that pulses once per reference beat (the patient's real rhythm)."""
    pairs = zip(beats_s[1:], np.diff(beats_s), strict=True)
    beats = [Beat(float(t), float(rr), BeatKind.SINUS, 1.0, 1.0) for t, rr in pairs]
    t = np.arange(n) / fs
    out = np.zeros(n)
    for i in range(0, n, int(10 * fs)):  # in 10 s pieces (the renderer is dense in beats x samples)
        tt = t[i : i + int(10 * fs)]
        near = [b for b in beats if tt[0] - 2.0 <= b.t <= tt[-1] + 1.0]
        out[i : i + tt.size] = render_pulses(tt, near, [1.0] * len(near))
    return out


@pytest.mark.slow
def test_a_pulsing_pleth_overrules_an_ecg_full_of_motion_artefact() -> None:
    """mitdb 118 with electrode-motion noise at -6 dB in both leads: beats lost in the noise would look like
    pauses, asystole or bradycardia; a pleth that keeps pulsing (rendered from the reference beats) says the heart
    did not stop, and the station shows the pleth's pulse rate instead."""
    require("mitdb/118", "nstdb/118e00")
    signals, fs, _ = add_noise("mitdb/118", "em", -6.0)
    n = int(700 * fs)
    ref = read_reference_beats("mitdb/118") / fs
    pleth_fs = 120.0
    pleth = _pleth_for(ref[ref < 700], int(700 * pleth_fs), pleth_fs)
    msgs = array_messages({"MLII": signals[:n, 0], "V1": signals[:n, 1]}, fs, pleth=pleth, pleth_fs=pleth_fs)
    a = analyze_messages(msgs, name="118+em", start=DEFAULT_START, duration_s=700.0, latency_s=0.02, vitals_every=1.0)
    assert not [x for x in a.alarms if x.type in PHYSIOLOGICAL], a.alarms
    noisy = [v for v in a.vitals if 320 <= v["t"] <= 420]
    assert sum(v["hr_source"] == "pleth" for v in noisy) >= 0.5 * len(noisy)
    assert all(v["hr"] is None or 55 <= v["hr"] <= 100 for v in noisy)


def _numerics(values: list[float], limits: Limits) -> list[tuple[str, float]]:
    bed = BedMonitor("b", limits=limits)
    from alarms.conditions import ConditionTracker

    trackers: dict[str, ConditionTracker] = {}
    raised = []
    for k, v in enumerate(values):
        now = DEFAULT_START + k + 0.02
        bed.on_numerics(Numerics("b", DEFAULT_START + k, hr=70, spo2=v, pr=70), now)
        for obs in bed.evaluate(now):
            delay = limits.spo2.low_delay_s if obs.type == "spo2_low" and not limits.spo2.satseconds else 0.0
            tr = trackers.setdefault(obs.type, ConditionTracker(delay=delay))
            edge = tr.observe(obs)
            if edge is not None and edge.started:
                raised.append((obs.type, round(edge.t - DEFAULT_START, 2)))
    return raised


def test_spo2_fixed_delay_and_satseconds() -> None:
    values = [97.0] * 10 + [88.0] * 40 + [97.0] * 5  # 2 points below 90 % from 10 s
    fixed = _numerics(values, Limits())
    assert ("spo2_low", 25.02) in fixed  # 15 s delay
    sat = _numerics(values, apply_overrides(Limits(), {"spo2.satseconds": 50}))
    assert ("spo2_low", 34.02) in sat  # 2 x 25 s = 50 SatSeconds
    deep = _numerics([97.0] * 10 + [80.0] * 5, Limits())
    assert ("desaturation", 10.02) in deep  # no delay below 85 %


def test_evaluate_is_cheap_when_nothing_changes() -> None:
    bed = BedMonitor("b")
    bed.on_numerics(Numerics("b", 1.0, hr=70, spo2=97, pr=70), 1.0)
    assert len(list(bed.evaluate(1.0))) > 10  # the first call: every condition
    assert list(bed.evaluate(20.0)) != []  # a sweep
    assert list(bed.evaluate(20.3)) == []  # nothing present, nothing recent, no sweep due
