"""The alarm manager: confirmed conditions and operator actions in, alarm events out.

It owns every alarm and walks each through the state machine of ``alarms.state``. Pure and synchronous:
the service shell persists and broadcasts the events it returns.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable

from alarms.conditions import ConditionEdge
from alarms.model import Alarm, AlarmEvent
from alarms.state import Action, AlarmState, IllegalTransition
from monitor.errors import WardWatchError

__all__ = ["AlarmManager", "UnknownAlarm"]

log = logging.getLogger(__name__)

_EVENT_OF = {
    AlarmState.ACKNOWLEDGED: "acknowledged",
    AlarmState.LATCHED: "latched",
    AlarmState.CLEARED: "cleared",
    AlarmState.ACTIVE: "reactivated",
}


class UnknownAlarm(WardWatchError):
    pass


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


class AlarmManager:
    def __init__(self, new_id: Callable[[], str] = _new_id, keep_cleared: int = 2000) -> None:
        self._new_id = new_id
        self._keep_cleared = keep_cleared
        self._alarms: OrderedDict[str, Alarm] = OrderedDict()
        self._open: dict[tuple[str, str], Alarm] = {}

    # -- queries -------------------------------------------------------------------------------------
    def get(self, alarm_id: str) -> Alarm:
        try:
            return self._alarms[alarm_id]
        except KeyError:
            raise UnknownAlarm(f"no alarm with id {alarm_id!r}") from None

    def open_alarms(self, bed: str | None = None) -> list[Alarm]:
        return [a for a in self._open.values() if bed is None or a.bed == bed]

    def all_alarms(self) -> list[Alarm]:
        return list(self._alarms.values())

    def restore(self, alarms: Iterable[Alarm]) -> None:
        """Put back alarms loaded from storage (after a restart)."""
        for alarm in alarms:
            self._alarms[alarm.id] = alarm
            if alarm.state.is_open:
                self._open[(alarm.bed, alarm.type)] = alarm

    # -- inputs --------------------------------------------------------------------------------------
    def on_edge(self, edge: ConditionEdge) -> list[AlarmEvent]:
        obs = edge.observation
        key = (obs.bed, obs.type)
        current = self._open.get(key)
        if edge.started:
            if current is None:
                alarm = Alarm.raise_(self._new_id(), obs, raised_at=edge.t)
                self._alarms[alarm.id] = alarm
                self._open[key] = alarm
                log.info("alarm raised bed=%s type=%s id=%s %s", alarm.bed, alarm.type, alarm.id, alarm.message)
                return [AlarmEvent("raised", edge.t, alarm.to_json())]
            if current.state is AlarmState.LATCHED:
                return [self._apply(current, Action.CONDITION_RETURNED, edge.t)]
            return []
        if current is None or current.state is AlarmState.LATCHED:
            return []
        return [self._apply(current, Action.CONDITION_ENDED, edge.t)]

    def acknowledge(self, alarm_id: str, user: str, t: float) -> AlarmEvent | None:
        """Acknowledge; ``None`` if it already was (a no-op). Raises ``IllegalTransition`` if cleared."""
        alarm = self.get(alarm_id)
        if alarm.state is AlarmState.ACKNOWLEDGED:
            return None
        if alarm.state is AlarmState.CLEARED:
            raise IllegalTransition(alarm.state, Action.ACKNOWLEDGE)
        event = self._apply(alarm, Action.ACKNOWLEDGE, t, user)
        log.info("alarm acknowledged bed=%s type=%s id=%s by=%s", alarm.bed, alarm.type, alarm.id, user)
        return event

    def _apply(self, alarm: Alarm, action: Action, t: float, user: str | None = None) -> AlarmEvent:
        state = alarm.apply(action, t, user)
        if state is AlarmState.CLEARED:
            self._open.pop((alarm.bed, alarm.type), None)
            self._forget_old()
        return AlarmEvent(_EVENT_OF[state], t, alarm.to_json(), user)

    def _forget_old(self) -> None:
        cleared = [a for a in self._alarms.values() if a.state is AlarmState.CLEARED]
        for alarm in cleared[: max(0, len(cleared) - self._keep_cleared)]:
            del self._alarms[alarm.id]
