"""Alarm-condition delays are confirmed by data; ending needs the condition absent for clear_after."""

from __future__ import annotations

from alarms.conditions import ConditionTracker
from alarms.model import Observation


def obs(present: bool, t: float, onset: float | None = None) -> Observation:
    return Observation("b", "tachycardia", present, t, value=130.0, onset=onset)


def test_condition_confirmed_after_delay_by_an_observation() -> None:
    tr = ConditionTracker(delay=5.0)
    assert tr.observe(obs(True, 10.0)) is None
    assert tr.observe(obs(True, 14.9)) is None
    edge = tr.observe(obs(True, 15.0))
    assert edge is not None and edge.started and edge.t == 15.0 and edge.observation.onset == 10.0
    assert tr.observe(obs(True, 16.0)) is None


def test_short_condition_never_confirmed() -> None:
    tr = ConditionTracker(delay=5.0)
    tr.observe(obs(True, 10.0))
    assert tr.observe(obs(False, 12.0)) is None
    assert tr.observe(obs(True, 13.0)) is None
    assert tr.observe(obs(True, 17.9)) is None  # the delay restarted at 13
    assert tr.observe(obs(True, 18.0)) is not None


def test_onset_from_the_core_counts() -> None:
    tr = ConditionTracker(delay=0.0)
    edge = tr.observe(obs(True, 20.0, onset=16.0))
    assert edge is not None and edge.observation.onset == 16.0


def test_clear_after_hysteresis() -> None:
    tr = ConditionTracker(delay=0.0, clear_after=2.0)
    assert tr.observe(obs(True, 1.0)) is not None
    assert tr.observe(obs(False, 2.0)) is None
    assert tr.observe(obs(True, 3.0)) is None  # came back: still the same alarm
    assert tr.observe(obs(False, 4.0)) is None
    edge = tr.observe(obs(False, 6.0))
    assert edge is not None and not edge.started and edge.t == 6.0


def test_disabled_condition_ends_and_stays_quiet() -> None:
    tr = ConditionTracker(delay=0.0)
    assert tr.observe(obs(True, 1.0)) is not None
    tr.enabled = False
    edge = tr.observe(obs(True, 2.0))
    assert edge is not None and not edge.started
    assert tr.observe(obs(True, 3.0)) is None
