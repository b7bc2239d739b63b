"""The alarm manager walks alarms through the state machine from condition edges and acknowledgements."""

from __future__ import annotations

import itertools

import pytest

from alarms.conditions import ConditionEdge
from alarms.manager import AlarmManager, UnknownAlarm
from alarms.model import Observation
from alarms.state import IllegalTransition


def manager() -> AlarmManager:
    counter = itertools.count(1)
    return AlarmManager(new_id=lambda: f"a{next(counter)}")


def edge(kind: str, started: bool, t: float, bed: str = "b1") -> ConditionEdge:
    return ConditionEdge(started, t, Observation(bed, kind, started, t, onset=t - 5 if started else None))


def test_non_latching_alarm_clears_with_its_condition() -> None:
    m = manager()
    (raised,) = m.on_edge(edge("tachycardia", True, 10.0))
    assert raised.event == "raised" and raised.alarm["state"] == "active" and raised.alarm["onset"] == 5.0
    assert raised.alarm["priority"] == "medium" and raised.alarm["kind"] == "physiological"
    (cleared,) = m.on_edge(edge("tachycardia", False, 20.0))
    assert cleared.event == "cleared" and m.open_alarms() == []


def test_latching_alarm_waits_for_acknowledgement() -> None:
    m = manager()
    m.on_edge(edge("asystole", True, 10.0))
    (latched,) = m.on_edge(edge("asystole", False, 12.0))
    assert latched.event == "latched" and len(m.open_alarms()) == 1
    (again,) = m.on_edge(edge("asystole", True, 13.0))
    assert again.event == "reactivated" and again.alarm["id"] == "a1"
    m.on_edge(edge("asystole", False, 14.0))
    ack = m.acknowledge("a1", "nurse-a", 15.0)
    assert ack is not None and ack.event == "cleared" and ack.alarm["acknowledged_by"] == "nurse-a"
    assert m.open_alarms() == []


def test_acknowledge_is_idempotent_and_cleared_alarms_refuse() -> None:
    m = manager()
    m.on_edge(edge("spo2_low", True, 1.0))
    first = m.acknowledge("a1", "nurse-a", 2.0)
    assert first is not None and first.alarm["state"] == "acknowledged"
    assert m.acknowledge("a1", "nurse-b", 3.0) is None
    assert m.get("a1").acknowledged_by == "nurse-a"
    m.on_edge(edge("spo2_low", False, 4.0))
    with pytest.raises(IllegalTransition):
        m.acknowledge("a1", "nurse-a", 5.0)
    with pytest.raises(UnknownAlarm):
        m.acknowledge("nope", "nurse-a", 5.0)


def test_beds_and_types_are_independent() -> None:
    m = manager()
    m.on_edge(edge("tachycardia", True, 1.0, bed="b1"))
    m.on_edge(edge("tachycardia", True, 1.0, bed="b2"))
    m.on_edge(edge("spo2_low", True, 1.0, bed="b1"))
    assert len(m.open_alarms()) == 3 and len(m.open_alarms("b1")) == 2
