"""The alarm record and the events the alarm manager emits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from alarms.catalog import Kind, Priority, spec
from alarms.state import Action, AlarmState, transition

__all__ = ["Alarm", "AlarmEvent", "Observation"]


@dataclass(frozen=True, slots=True)
class Observation:
    """What the signal core says about one alarm condition at time ``t``.

    ``present`` is the raw condition (before the alarm-condition delay). ``onset`` may be earlier than ``t``
    when the core knows when the condition really began (e.g. asystole began at the last beat).
    """

    bed: str
    type: str
    present: bool
    t: float
    value: float | None = None
    limit: float | None = None
    message: str = ""
    onset: float | None = None


@dataclass(slots=True)
class Alarm:
    id: str
    bed: str
    type: str
    priority: Priority
    kind: Kind
    latching: bool
    state: AlarmState
    onset: float
    raised_at: float
    value: float | None = None
    limit: float | None = None
    message: str = ""
    ended_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None

    @classmethod
    def raise_(cls, alarm_id: str, obs: Observation, raised_at: float) -> Alarm:
        s = spec(obs.type)
        return cls(
            id=alarm_id,
            bed=obs.bed,
            type=obs.type,
            priority=s.priority,
            kind=s.kind,
            latching=s.latching,
            state=AlarmState.ACTIVE,
            onset=obs.onset if obs.onset is not None else obs.t,
            raised_at=raised_at,
            value=obs.value,
            limit=obs.limit,
            message=obs.message,
        )

    def apply(self, action: Action, t: float, user: str | None = None) -> AlarmState:
        """Move along the state machine (raises ``IllegalTransition``) and stamp who and when."""
        new = transition(self.state, action, latching=self.latching)
        if action is Action.ACKNOWLEDGE:
            self.acknowledged_at = t
            self.acknowledged_by = user
        elif action is Action.CONDITION_ENDED:
            self.ended_at = t
        elif action is Action.CONDITION_RETURNED:
            self.ended_at = None
            self.acknowledged_at = None
            self.acknowledged_by = None
        self.state = new
        return new

    @property
    def label(self) -> str:
        return spec(self.type).label

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["priority"] = self.priority.value
        data["kind"] = self.kind.value
        data["state"] = self.state.value
        data["label"] = self.label
        return data


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """``event`` is one of raised, acknowledged, latched, cleared, reactivated."""

    event: str
    t: float
    alarm: dict[str, Any]
    user: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"type": "alarm", "event": self.event, "t": self.t, "alarm": self.alarm}
