"""Scenario timelines: documented limit crossings, parameters, conditions, ward plans."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import ConfigError
from simulators.physiology import Condition, Rhythm
from simulators.scenarios import SCENARIOS, get_scenario, scenario_names
from simulators.timeline import Timing
from simulators.ward import MIXED_CYCLE, bed_id, plan_ward, ward_scenario_names

PINNED = [
    "stable",
    "ketamine-tachycardia",
    "midazolam-desaturation",
    "bradycardia",
    "artifact",
    "probe-off",
    "dropout",
    "mixed",
]


def _sample(fn, t0: float, t1: float, step: float = 0.5) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([fn(t) for t in np.arange(t0, t1, step)])


def test_pinned_names_exist() -> None:
    assert set(PINNED) <= set(ward_scenario_names())
    assert {"asystole", "vtach", "afib"} <= set(scenario_names())


@pytest.mark.parametrize("seed", range(5))
def test_stable_stays_normal(seed: int) -> None:
    s = get_scenario("stable", seed=seed)
    hr, spo2 = _sample(s.hr, 0, 1800), _sample(s.spo2, 0, 1800)
    assert 68 <= hr.min() and hr.max() <= 76
    assert 96.9 <= spo2.min() and spo2.max() <= 98.1
    assert s.first_time_hr_above(100, stop=1800) is None
    assert s.first_time_spo2_below(95, stop=1800) is None


@pytest.mark.parametrize("seed", range(5))
def test_ketamine_tachycardia_timeline(seed: int) -> None:
    s = get_scenario("ketamine-tachycardia", seed=seed)
    assert 78 <= s.hr(10) <= 82
    crossed = s.first_time_hr_above(120)
    assert crossed is not None and 66 <= crossed <= 72  # documented: ~69 s (onset 30 s + 60 s ramp)
    assert s.hr(crossed - 0.01) <= 120 < s.hr(crossed + 0.01)
    hold = _sample(s.hr, 90, 210)
    assert 130 <= hold.min() and hold.max() <= 138 and s.first_time_hr_above(140) is None
    assert s.hr(320) < 85  # recovered


@pytest.mark.parametrize("seed", range(5))
def test_midazolam_desaturation_timeline(seed: int) -> None:
    s = get_scenario("midazolam-desaturation", seed=seed)
    assert 96.5 <= s.spo2(10) <= 97.5
    below_90 = s.first_time_spo2_below(90)
    below_85 = s.first_time_spo2_below(85)
    assert below_90 is not None and 74 <= below_90 <= 82  # documented: ~78 s
    assert below_85 is not None and 98 <= below_85 <= 110  # documented: ~103 s
    assert 83.5 <= _sample(s.spo2, 120, 180).min() <= 84.5
    assert s.hr(150) > s.hr(10) + 5  # a little up
    assert s.spo2(300) > 96


@pytest.mark.parametrize("seed", range(5))
def test_bradycardia_timeline(seed: int) -> None:
    s = get_scenario("bradycardia", seed=seed)
    below_50 = s.first_time_hr_below(50)
    assert below_50 is not None and 47 <= below_50 <= 52  # documented: ~50 s
    assert 40 <= _sample(s.hr, 60, 120).min() <= 44
    assert s.first_time_hr_below(40) is None


def test_artifact_keeps_physiology_normal() -> None:
    s = get_scenario("artifact", seed=1)
    assert s.first_time_hr_above(100) is None and s.first_time_spo2_below(95) is None
    bursts = s.windows(Condition.ARTIFACT, 0, 400)
    assert bursts and bursts[0][0] == 30 and bursts[-1][1] <= 270
    assert s.has(Condition.ARTIFACT, bursts[0][0] + 0.5) and not s.has(Condition.ARTIFACT, 20)


@pytest.mark.parametrize(
    "name, condition",
    [("probe-off", Condition.PROBE_OFF), ("leads-off", Condition.LEADS_OFF), ("dropout", Condition.OFFLINE)],
)
def test_technical_conditions_hold_during_the_hold_phase(name: str, condition: Condition) -> None:
    s = get_scenario(name, params={"onset_s": 12, "hold_s": 7})
    assert s.windows(condition, 0, 100) == [(12, 19)]
    assert not s.has(condition, 11.99) and s.has(condition, 12) and s.has(condition, 18.99)
    assert not s.has(condition, 19)
    assert s.online(15) is (condition is not Condition.OFFLINE)


@pytest.mark.parametrize(
    "name, rhythm", [("asystole", Rhythm.ASYSTOLE), ("vtach", Rhythm.VTACH), ("afib", Rhythm.AFIB)]
)
def test_rhythm_scenarios(name: str, rhythm: Rhythm) -> None:
    s = get_scenario(name, params={"onset_s": 10, "hold_s": 5})
    assert s.rhythm(9.9) is Rhythm.SINUS and s.rhythm(10) is rhythm and s.rhythm(15) is Rhythm.SINUS
    if rhythm is Rhythm.ASYSTOLE:
        assert s.hr(12) == 0


def test_parameters_shorten_the_timeline() -> None:
    s = get_scenario("ketamine-tachycardia", seed=0, params={"onset_s": 2, "ramp_s": 4, "hold_s": 5, "recover_s": 3})
    crossed = s.first_time_hr_above(120)
    assert crossed is not None and 4 <= crossed <= 6
    assert s.hr(8) > 128 and s.hr(20) < 85


def test_repeat_runs_the_timeline_again() -> None:
    s = get_scenario("probe-off", params={"onset_s": 5, "hold_s": 5, "repeat_s": 20})
    assert s.windows(Condition.PROBE_OFF, 0, 50) == [(5, 10), (25, 30), (45, 50)]
    assert s.has(Condition.PROBE_OFF, 27) and not s.has(Condition.PROBE_OFF, 31)


@pytest.mark.parametrize("params", [{"onset_s": -1}, {"hold_s": float("nan")}, {"repeat_s": 1.0}, {"speed": 2}])
def test_bad_parameters_are_refused(params: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        get_scenario("bradycardia", params=params)


def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown scenario"):
        get_scenario("panic")
    with pytest.raises(ConfigError):
        plan_ward(3, "panic")


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100), st.floats(0, 100), st.floats(-50, 500))
def test_envelope_is_bounded(onset: float, ramp: float, hold: float, recover: float, t: float) -> None:
    timing = Timing(onset, ramp, hold, recover)
    e = timing.envelope(t)
    assert 0.0 <= e <= 1.0
    if t < onset or t >= timing.end_s:
        assert e == 0.0
    elif timing.hold_start_s <= t < timing.hold_end_s:
        assert e == 1.0


def test_mixed_ward_mapping() -> None:
    plans = plan_ward(16, "mixed", seed=3)
    assert [p.scenario.name for p in plans[:7]] == list(MIXED_CYCLE)
    assert MIXED_CYCLE == (
        "stable",
        "ketamine-tachycardia",
        "midazolam-desaturation",
        "artifact",
        "bradycardia",
        "probe-off",
        "dropout",
    )
    assert plans[7].scenario.name == "stable" and plans[15].scenario.name == "ketamine-tachycardia"
    assert [p.bed for p in plans[:2]] == ["bed-01", "bed-02"] and plans[-1].bed == "bed-16"
    assert len({p.seed for p in plans}) == 16


def test_ward_of_one_scenario_and_bed_ids() -> None:
    plans = plan_ward(3, "bradycardia", bed_prefix="icu_", scenario_params={"onset_s": 1})
    assert [p.bed for p in plans] == ["icu_01", "icu_02", "icu_03"]
    assert all(p.scenario.name == "bradycardia" and p.scenario.timing.onset_s == 1 for p in plans)
    assert bed_id(128) == "bed-128"
    with pytest.raises(ConfigError):
        bed_id(1, "bed 7/")
    with pytest.raises(ConfigError):
        plan_ward(0, "stable")


def test_every_spec_is_self_consistent() -> None:
    for name, spec in SCENARIOS.items():
        s = get_scenario(name, seed=1)
        for t in np.arange(0, spec.timing.end_s + 30, 0.5):
            assert 0 <= s.hr(t) <= 350 and 0 <= s.spo2(t) <= 100 and s.perfusion(t) > 0
