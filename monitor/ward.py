"""The ward: every bed's monitor, every condition's delay and the alarm manager, as one pure pipeline.

``Ward.feed(message, now)`` and ``Ward.advance(now)`` are the only ways time moves. Live, the service calls them
with the wall clock; a replay calls them with the recorded arrival times; the outcome is the same. The return
value lists what happened (alarm events, waveform frames, drops) for the shell to broadcast, record and count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from alarms.catalog import STATION
from alarms.conditions import ConditionEdge, ConditionTracker
from alarms.manager import AlarmManager
from alarms.model import Alarm, AlarmEvent, Observation
from alarms.state import AlarmState
from monitor.bed import BedMonitor, WaveFrame
from monitor.limits import Limits
from monitor.messages import Message, Numerics, Status, WaveChunk

__all__ = ["Ward", "Output", "CLEAR_AFTER_S"]

log = logging.getLogger(__name__)

#: A numeric condition must be absent this long before its alarm ends (no flapping around a limit).
CLEAR_AFTER_S = {"tachycardia": 2.0, "bradycardia": 2.0, "spo2_low": 2.0, "desaturation": 2.0}


@dataclass
class Output:
    alarms: list[AlarmEvent] = field(default_factory=list)
    frames: list[WaveFrame] = field(default_factory=list)
    drops: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, other: Output) -> None:
        self.alarms.extend(other.alarms)
        self.frames.extend(other.frames)
        self.drops.extend(other.drops)


def _delays(limits: Limits) -> dict[str, float]:
    return {
        "tachycardia": limits.hr.high_delay_s,
        "bradycardia": limits.hr.low_delay_s,
        # with a SatSeconds area the bed itself decides when SpO2 low is an alarm (monitor/signal/spo2.py)
        "spo2_low": 0.0 if limits.spo2.satseconds > 0 else limits.spo2.low_delay_s,
        "desaturation": limits.spo2.desat_delay_s,
        "atrial_fibrillation": limits.arrhythmia.af_delay_s,
    }


class Ward:
    def __init__(
        self,
        limits: Limits | None = None,
        *,
        reorder_window: float = 0.5,
        alarms: AlarmManager | None = None,
        limits_for: Callable[[str], Limits] | None = None,
    ) -> None:
        self.default_limits = limits or Limits()
        self._limits_for = limits_for
        self.reorder_window = reorder_window
        self.beds: dict[str, BedMonitor] = {}
        self.alarms = alarms or AlarmManager()
        self._trackers: dict[tuple[str, str], ConditionTracker] = {}
        self._silent_checked: dict[str, float] = {}
        self._pending_status: dict[str, Status] = {}
        self.disabled: dict[tuple[str, str], bool] = {}
        #: Told ``(bed, kind, t, data)`` about every operator action that changes the core's state (limits,
        #: alarm off/on, acknowledge), in order with the messages; the recorder journals them for exact replays.
        self.journal: Callable[[str, str, float | None, dict[str, Any]], None] | None = None

    # -- inputs ------------------------------------------------------------------------------------------
    def feed(self, msg: Message, now: float) -> Output:
        if isinstance(msg, Status) and msg.retained and msg.bed not in self.beds:
            self._pending_status[msg.bed] = msg
            return Output()
        bed = self._bed(msg.bed)
        out = self._advance_bed(bed, now)
        if isinstance(msg, WaveChunk):
            out.frames.extend(bed.on_wave(msg, now))
        elif isinstance(msg, Numerics):
            bed.on_numerics(msg, now)
        else:
            bed.on_status(msg, now)
        if bed.drops:
            out.drops.extend(bed.drops)
            bed.drops.clear()
        out.alarms.extend(self._observe(bed.evaluate(now)))
        if not (isinstance(msg, Status) and msg.retained):
            out.alarms.extend(self._observe([Observation(bed.bed, "bed_silent", False, now)]))
        return out

    def advance(self, now: float) -> Output:
        """Let time pass for every bed: release reorder buffers and raise silence alarms that are due.

        Every event is stamped with the time it was due, not with ``now``, so how often this is called
        does not change the outcome.
        """
        out = Output()
        for bed in self.beds.values():
            out.extend(self._advance_bed(bed, now))
        return out

    def _advance_bed(self, bed: BedMonitor, now: float) -> Output:
        out = Output()
        deadline = bed.next_deadline()
        if deadline is not None and deadline <= now:
            frames, due = bed.flush(now)
            out.frames.extend(frames)
            if bed.drops:
                out.drops.extend(bed.drops)
                bed.drops.clear()
            if due is not None:
                out.alarms.extend(self._observe(bed.evaluate(due)))
        out.alarms.extend(self._check_silence(bed, now))
        return out

    def broker(self, connected: bool, now: float) -> list[AlarmEvent]:
        obs = Observation(STATION, "broker_lost", not connected, now, message="station lost the MQTT broker")
        return self._observe([obs])

    def acknowledge(self, alarm_id: str, user: str, now: float) -> AlarmEvent | None:
        event = self.alarms.acknowledge(alarm_id, user, now)
        if event is not None:
            alarm = event.alarm
            self._journal(alarm["bed"], "ack", now, {"type": alarm["type"], "user": user})
        return event

    # -- configuration -----------------------------------------------------------------------------------
    def set_limits(self, bed_id: str, limits: Limits) -> None:
        bed = self._bed(bed_id)
        bed.limits = limits
        for (b, kind), tracker in self._trackers.items():
            if b == bed_id:
                tracker.delay = _delays(limits).get(kind, 0.0)
        self._journal(bed_id, "limits", None, {"limits": limits.model_dump()})

    def set_enabled(self, bed_id: str, alarm_type: str, enabled: bool) -> None:
        self._tracker(bed_id, alarm_type).enabled = enabled
        self._journal(bed_id, "enabled", None, {"type": alarm_type, "enabled": enabled})

    # -- sessions (full disclosure, monitor/recorder.py) -----------------------------------------------------
    def reset_signals(self, bed_id: str) -> None:
        """A new session starts on this bed: fresh signal state (stream assembly, ECG/pleth analysis, numerics),
        same limits. The alarm layer (condition delays, open alarms, alarm-off) is untouched."""
        old = self.beds.get(bed_id)
        if old is not None:
            self.beds[bed_id] = BedMonitor(bed_id, limits=old.limits, reorder_window=self.reorder_window)
        self._silent_checked.pop(bed_id, None)

    def limits_of(self, bed_id: str) -> Limits:
        """The limits the bed has, or will get when it first sends."""
        if bed_id in self.beds:
            return self.beds[bed_id].limits
        return self._limits_for(bed_id) if self._limits_for else self.default_limits

    def conditions_of(self, bed_id: str) -> dict[str, dict[str, Any]]:
        """The alarm-condition state of a bed (delays running, confirmed, alarm-off), as plain data."""
        return {kind: asdict(t) for (b, kind), t in self._trackers.items() if b == bed_id}

    def restore_conditions(self, bed_id: str, states: dict[str, dict[str, Any]]) -> None:
        """Put back what ``conditions_of`` returned (a replay starts where the live session started)."""
        for kind, state in states.items():
            self._trackers[(bed_id, kind)] = ConditionTracker(**state)

    def _journal(self, bed_id: str, kind: str, t: float | None, data: dict[str, Any]) -> None:
        if self.journal is not None:
            try:
                self.journal(bed_id, kind, t, data)
            except Exception:  # the recorder must never break an operator action
                log.exception("ward journal failed")

    def switch_condition(self, bed_id: str, alarm_type: str, enabled: bool, now: float) -> list[AlarmEvent]:
        """Alarm off/on for one condition of one bed. Switching off ends its open alarm at once (a latching
        alarm latches: it stays until acknowledged)."""
        tracker = self._tracker(bed_id, alarm_type)
        tracker.enabled = enabled
        self._journal(bed_id, "switch", now, {"type": alarm_type, "enabled": enabled})
        if enabled or not tracker.confirmed:
            return []
        edge = tracker.observe(Observation(bed_id, alarm_type, False, now))
        return self.alarms.on_edge(edge) if edge is not None else []

    def restore(self, alarms: Iterable[Alarm], beds: Iterable[str] = (), now: float | None = None) -> None:
        """After a restart: the open alarms come back (an active or acknowledged alarm's condition counts as
        present until data says otherwise), and the beds seen recently come back as if they had just sent
        data, so that a bed that stays silent raises ``bed_silent``."""
        alarms = list(alarms)
        self.alarms.restore(alarms)
        for bed_id in beds:
            bed = self._bed(bed_id)
            if now is not None and bed.last_seen is None:
                bed.last_seen = now
        for alarm in alarms:
            if alarm.state in (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED):
                tracker = self._tracker(alarm.bed, alarm.type)
                tracker.confirmed = True
                tracker.since = alarm.onset

    # -- views -------------------------------------------------------------------------------------------
    def bed_view(self, bed_id: str, now: float) -> dict[str, Any]:
        bed = self.beds[bed_id]
        return {
            "bed": bed_id,
            "online": bed.online,
            "last_seen": bed.last_seen,
            "vitals": bed.vitals(now),
            "alarms": [a.to_json() for a in self.alarms.open_alarms(bed_id)],
        }

    def beds_view(self, now: float) -> list[dict[str, Any]]:
        return [self.bed_view(b, now) for b in sorted(self.beds)]

    # -- internals ---------------------------------------------------------------------------------------
    def _bed(self, bed_id: str) -> BedMonitor:
        bed = self.beds.get(bed_id)
        if bed is None:
            limits = self._limits_for(bed_id) if self._limits_for else self.default_limits
            bed = self.beds[bed_id] = BedMonitor(bed_id, limits=limits, reorder_window=self.reorder_window)
            pending = self._pending_status.pop(bed_id, None)
            if pending is not None:
                bed.on_status(pending, 0.0)
            log.info("bed %s appeared", bed_id)
        return bed

    def _tracker(self, bed_id: str, kind: str) -> ConditionTracker:
        key = (bed_id, kind)
        tracker = self._trackers.get(key)
        if tracker is None:
            limits = self.beds[bed_id].limits if bed_id in self.beds else self.default_limits
            tracker = self._trackers[key] = ConditionTracker(
                delay=_delays(limits).get(kind, 0.0), clear_after=CLEAR_AFTER_S.get(kind, 0.0)
            )
        return tracker

    def _observe(self, observations: Iterable[Observation]) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for obs in observations:
            tracker = self._trackers.get((obs.bed, obs.type))
            if tracker is None:
                if not obs.present:
                    continue
                tracker = self._tracker(obs.bed, obs.type)
            edge: ConditionEdge | None = tracker.observe(obs)
            if edge is not None:
                events.extend(self.alarms.on_edge(edge))
        return events

    def _check_silence(self, bed: BedMonitor, now: float) -> list[AlarmEvent]:
        if bed.last_seen is None:
            return []
        due = bed.last_seen + bed.limits.technical.silence_s
        if now < due or self._silent_checked.get(bed.bed) == bed.last_seen:
            return []
        if not bed.online:  # the device said goodbye (last will): device_offline says it all
            self._silent_checked[bed.bed] = bed.last_seen
            return self._observe(bed.evaluate(due))
        self._silent_checked[bed.bed] = bed.last_seen
        silent = Observation(
            bed.bed, "bed_silent", True, due, message=f"no data for {bed.limits.technical.silence_s:g} s"
        )
        events = self._observe([silent])
        events.extend(self._observe(bed.evaluate(due)))
        return events
