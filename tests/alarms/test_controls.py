"""Audio pause and alarm off: rules, expiry and the audio signal; an alarm raised during a pause is still
shown (hypothesis, through the real ward)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alarms.controls import ControlError, Controls, audio_signal
from alarms.manager import AlarmManager
from alarms.model import Observation
from monitor.ward import Ward


def test_pause_lasts_two_minutes_by_default_and_ends_by_itself() -> None:
    c = Controls()
    p = c.pause("bed-1", "ann", 100.0)
    assert p.ends_at == 220.0 and c.paused("bed-1", 219.9) and not c.paused("bed-1", 220.0)
    assert c.expire(219.0) == []
    assert c.expire(220.0) == [p] and c.pauses == {}


def test_pause_duration_and_station_are_checked() -> None:
    c = Controls()
    with pytest.raises(ControlError):
        c.pause("bed-1", "ann", 0.0, 5)
    with pytest.raises(ControlError):
        c.pause("bed-1", "ann", 0.0, 3600)
    with pytest.raises(ControlError, match="station-wide"):
        c.pause("*", "ann", 0.0)


def test_alarm_off_needs_a_reason_and_a_switchable_condition() -> None:
    c = Controls()
    with pytest.raises(ControlError, match="reason"):
        c.switch_off("bed-1", "tachycardia", "ann", "  ", 1.0)
    with pytest.raises(ControlError, match="cannot be switched off"):
        c.switch_off("bed-1", "bed_silent", "ann", "annoying", 1.0)
    with pytest.raises(ControlError, match="unknown"):
        c.switch_off("bed-1", "hiccups", "ann", "annoying", 1.0)
    entry = c.switch_off("bed-1", "tachycardia", "ann", "known tachycardic", 1.0)
    assert c.is_off("bed-1", "tachycardia") and entry.to_json()["label"] == "Tachycardia"
    assert c.switch_on("bed-1", "tachycardia") == entry and not c.is_off("bed-1", "tachycardia")


def test_audio_signal() -> None:
    c = Controls()
    c.pause("bed-1", "ann", 0.0, 60)
    assert audio_signal({"bed": "bed-1", "state": "active"}, c, 10.0) == "paused"
    assert audio_signal({"bed": "bed-1", "state": "latched"}, c, 70.0) == "sounding"
    assert audio_signal({"bed": "bed-2", "state": "active"}, c, 10.0) == "sounding"
    assert audio_signal({"bed": "bed-1", "state": "acknowledged"}, c, 10.0) == "silenced"
    assert audio_signal({"bed": "bed-1", "state": "cleared"}, c, 10.0) == "none"


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.sampled_from(["tachycardia", "desaturation", "asystole", "probe_off"]),
            st.booleans(),
            st.floats(min_value=0.0, max_value=30.0, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    ),
    pause_at=st.floats(min_value=0, max_value=200, allow_nan=False),
    pause_for=st.floats(min_value=10, max_value=600, allow_nan=False),
)
def test_an_alarm_raised_during_an_audio_pause_is_still_shown(
    events: list[tuple[str, bool, float]], pause_at: float, pause_for: float
) -> None:
    counter = itertools.count()
    ward = Ward(alarms=AlarmManager(new_id=lambda: f"a{next(counter)}"))
    controls = Controls()
    controls.pause("bed-1", "ann", pause_at, pause_for)
    t = 0.0
    for kind, present, dt in events:
        t += dt
        obs = Observation("bed-1", kind, present, t)
        for event in ward._observe([obs]):
            alarm = event.alarm
            if alarm["state"] == "cleared":
                continue
            # shown: among the open alarms the station sends (snapshot / API), whatever the pause
            assert alarm["id"] in {a.id for a in ward.alarms.open_alarms("bed-1")}
            signal = audio_signal(alarm, controls, t)
            assert signal != "none"
            if controls.paused("bed-1", t) and alarm["state"] in ("active", "latched"):
                assert signal == "paused"
