"""The alarm state machine: legal moves, illegal moves raise, invariants hold for any action sequence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alarms.state import Action, AlarmState, IllegalTransition, transition

A, K, L, C = AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED, AlarmState.LATCHED, AlarmState.CLEARED


@pytest.mark.parametrize(
    ("state", "action", "latching", "expected"),
    [
        (A, Action.ACKNOWLEDGE, False, K),
        (A, Action.CONDITION_ENDED, False, C),
        (A, Action.CONDITION_ENDED, True, L),
        (K, Action.CONDITION_ENDED, True, C),
        (L, Action.ACKNOWLEDGE, True, C),
        (L, Action.CONDITION_RETURNED, True, A),
    ],
)
def test_legal(state: AlarmState, action: Action, latching: bool, expected: AlarmState) -> None:
    assert transition(state, action, latching=latching) is expected


@pytest.mark.parametrize(
    ("state", "action"),
    [(K, Action.ACKNOWLEDGE), (A, Action.CONDITION_RETURNED), (K, Action.CONDITION_RETURNED)]
    + [(C, a) for a in Action]
    + [(L, Action.CONDITION_ENDED)],
)
def test_illegal_raises(state: AlarmState, action: Action) -> None:
    with pytest.raises(IllegalTransition):
        transition(state, action, latching=True)


@given(latching=st.booleans(), actions=st.lists(st.sampled_from(list(Action)), max_size=30))
def test_latched_alarm_never_vanishes_unacknowledged(latching: bool, actions: list[Action]) -> None:
    state = A
    acknowledged_since_active = False
    for action in actions:
        try:
            new = transition(state, action, latching=latching)
        except IllegalTransition:
            continue
        if action is Action.ACKNOWLEDGE:
            acknowledged_since_active = True
        if new is A:
            acknowledged_since_active = False
        if new is C and latching:
            assert acknowledged_since_active, "a latching alarm cleared without an acknowledgement"
        if new is C:
            # cleared is terminal
            for later in Action:
                with pytest.raises(IllegalTransition):
                    transition(new, later, latching=latching)
            break
        state = new
