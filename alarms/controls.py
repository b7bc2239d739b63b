"""Operator controls that shape alarm signals: audio paused per bed, alarm off per condition. Pure.

* **Audio paused** (IEC 60601-1-8 "audio paused"): all audio of one bed is silent for a limited time
  (default 2 min), then it comes back by itself. Alarms raised during the pause are still shown; only their
  sound waits.
* **Alarm off** for one condition of one bed: the condition no longer raises an alarm (the ward's
  ``ConditionTracker`` is disabled) and the station shows it as off, with who, when and why, for as long as
  it is off.

``audio_signal(alarm, controls, now)`` says what the station's loudspeaker does for one alarm; the station
page implements the same rule (``dashboard/static/audio.js``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from alarms.catalog import CATALOG, STATION
from monitor.errors import WardWatchError

__all__ = [
    "AudioPause",
    "ConditionOff",
    "Controls",
    "ControlError",
    "AudioSignal",
    "audio_signal",
    "CANNOT_SWITCH_OFF",
    "PAUSE_DEFAULT_S",
    "PAUSE_MIN_S",
    "PAUSE_MAX_S",
]

PAUSE_DEFAULT_S = 120.0
PAUSE_MIN_S = 10.0
PAUSE_MAX_S = 600.0

#: Conditions that must never be switched off: losing a bed, the broker or the pagers unnoticed is the
#: hazard the distributed alarm system exists to prevent.
CANNOT_SWITCH_OFF = frozenset({"bed_silent", "device_offline", "broker_lost", "paging_failed"})

AudioSignal = Literal["sounding", "paused", "silenced", "none"]


class ControlError(WardWatchError):
    """An operator control that cannot be applied (unknown condition, bad duration...)."""


@dataclass(frozen=True, slots=True)
class AudioPause:
    bed: str
    started_at: float
    ends_at: float
    by: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ConditionOff:
    bed: str
    type: str
    since: float
    by: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["label"] = CATALOG[self.type].label if self.type in CATALOG else self.type
        return data


@dataclass
class Controls:
    pauses: dict[str, AudioPause] = field(default_factory=dict)
    off: dict[tuple[str, str], ConditionOff] = field(default_factory=dict)

    # -- audio pause ---------------------------------------------------------------------------------------
    def pause(self, bed: str, by: str, now: float, duration_s: float = PAUSE_DEFAULT_S) -> AudioPause:
        if bed == STATION:
            raise ControlError("station-wide alarms cannot be paused; acknowledge them")
        if not PAUSE_MIN_S <= duration_s <= PAUSE_MAX_S:
            raise ControlError(f"audio pause must last {PAUSE_MIN_S:g}..{PAUSE_MAX_S:g} s (got {duration_s:g})")
        pause = self.pauses[bed] = AudioPause(bed, now, now + duration_s, by)
        return pause

    def resume(self, bed: str) -> AudioPause | None:
        return self.pauses.pop(bed, None)

    def expire(self, now: float) -> list[AudioPause]:
        """Pauses that have run out by ``now`` (removed)."""
        done = [p for p in self.pauses.values() if p.ends_at <= now]
        for p in done:
            del self.pauses[p.bed]
        return done

    def paused(self, bed: str, now: float) -> bool:
        pause = self.pauses.get(bed)
        return pause is not None and now < pause.ends_at

    # -- alarm off -----------------------------------------------------------------------------------------
    def switch_off(self, bed: str, alarm_type: str, by: str, reason: str, now: float) -> ConditionOff:
        check_switchable(bed, alarm_type)
        reason = reason.strip()
        if not 3 <= len(reason) <= 200:
            raise ControlError("switching an alarm off needs a reason (3..200 characters)")
        entry = self.off[(bed, alarm_type)] = ConditionOff(bed, alarm_type, now, by, reason)
        return entry

    def switch_on(self, bed: str, alarm_type: str) -> ConditionOff | None:
        check_switchable(bed, alarm_type)
        return self.off.pop((bed, alarm_type), None)

    def is_off(self, bed: str, alarm_type: str) -> bool:
        return (bed, alarm_type) in self.off

    # -- views ---------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "pauses": [p.to_json() for p in sorted(self.pauses.values(), key=lambda p: p.bed)],
            "off": [o.to_json() for o in sorted(self.off.values(), key=lambda o: (o.bed, o.type))],
        }


def check_switchable(bed: str, alarm_type: str) -> None:
    if alarm_type not in CATALOG:
        raise ControlError(f"unknown alarm condition {alarm_type[:40]!r}")
    if bed == STATION or alarm_type in CANNOT_SWITCH_OFF:
        raise ControlError(f"the {alarm_type} alarm cannot be switched off")


def audio_signal(alarm: Mapping[str, Any], controls: Controls, now: float) -> AudioSignal:
    """What the station sounds for this alarm now.

    ``sounding`` for an active or latched alarm (latched alarms still need someone), ``paused`` for the same
    while its bed's audio is paused, ``silenced`` once acknowledged, ``none`` when it is cleared. Shown on
    screen in every case but ``none``.
    """
    state = alarm.get("state")
    if state in ("active", "latched"):
        return "paused" if controls.paused(str(alarm.get("bed")), now) else "sounding"
    if state == "acknowledged":
        return "silenced"
    return "none"
