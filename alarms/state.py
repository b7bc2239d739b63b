"""The alarm lifecycle as an explicit state machine; illegal transitions raise.

```
            acknowledge                 condition ended
  ACTIVE ───────────────▶ ACKNOWLEDGED ─────────────────▶ CLEARED
    │  ▲                                                   ▲
    │  │ condition returned                                │ acknowledge
    │  │                                                   │
    │  └──────────────── LATCHED ──────────────────────────┘
    │ condition ended      ▲
    ├──(latching)──────────┘
    └──(not latching)──────────────────────────────────────▶ CLEARED
```
"""

from __future__ import annotations

from enum import StrEnum

from monitor.errors import WardWatchError

__all__ = ["AlarmState", "Action", "IllegalTransition", "transition"]


class AlarmState(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    LATCHED = "latched"
    CLEARED = "cleared"

    @property
    def is_open(self) -> bool:
        return self is not AlarmState.CLEARED


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CONDITION_ENDED = "condition_ended"
    CONDITION_RETURNED = "condition_returned"


class IllegalTransition(WardWatchError):
    def __init__(self, state: AlarmState, action: Action) -> None:
        super().__init__(f"cannot {action.value} an alarm that is {state.value}")
        self.state = state
        self.action = action


def transition(state: AlarmState, action: Action, *, latching: bool) -> AlarmState:
    """The next state, or ``IllegalTransition``."""
    match state, action:
        case AlarmState.ACTIVE, Action.ACKNOWLEDGE:
            return AlarmState.ACKNOWLEDGED
        case AlarmState.ACTIVE, Action.CONDITION_ENDED:
            return AlarmState.LATCHED if latching else AlarmState.CLEARED
        case AlarmState.ACKNOWLEDGED, Action.CONDITION_ENDED:
            return AlarmState.CLEARED
        case AlarmState.LATCHED, Action.ACKNOWLEDGE:
            return AlarmState.CLEARED
        case AlarmState.LATCHED, Action.CONDITION_RETURNED:
            return AlarmState.ACTIVE
    raise IllegalTransition(state, action)
