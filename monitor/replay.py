"""Replay: recorded or WFDB messages through the same pipeline as live (``Ward``), on a virtual clock.

``replay(entries, settings, ...)`` feeds ``(arrival, item)`` pairs (``monitor.sources``) to a fresh ``Ward``:
messages with ``Ward.feed(msg, arrival)``, the station's recorded actions (``store.codec.Marker``) with the same
calls the live station made (``advance`` on a tick that released held chunks, ``acknowledge``,
``switch_condition``, ``set_enabled``, ``set_limits``), and a final ``advance(end)``. A session replayed with the
settings it was recorded under (:meth:`ReplaySettings.of_session`) gives exactly the live alarm events; with
other limits (``with_limits``) it shows how the alarms would have differed (``monitor.alarm_diff``).

``speed`` paces the virtual clock against the wall clock (1 = real time, 10, ... ; ``None`` = as fast as it goes).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from alarms.manager import AlarmManager
from alarms.model import AlarmEvent
from monitor.limits import Limits, apply_overrides
from monitor.messages import Message
from monitor.ward import Ward
from store.codec import Entry, Marker, canonical_time

__all__ = ["ReplaySettings", "ReplayResult", "replay", "Progress"]

Progress = Callable[[float, float], None]  # (virtual seconds done, virtual seconds in all)


@dataclass(frozen=True)
class ReplaySettings:
    """What a replay needs to start where the live session started."""

    limits: Limits = field(default_factory=Limits)
    reorder_window_s: float = 0.5
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    open_alarms: list[dict[str, Any]] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)  # applied to every recorded limit change too
    follow_recorded_limits: bool = True

    @classmethod
    def of_session(cls, settings: dict[str, Any]) -> ReplaySettings:
        """The settings a session was recorded under (``Session.settings``)."""
        return cls(
            limits=Limits.model_validate(settings.get("limits") or {}),
            reorder_window_s=float(settings.get("reorder_window_s", 0.5)),
            conditions=dict(settings.get("conditions") or {}),
            open_alarms=list(settings.get("open_alarms") or []),
        )

    def with_limits(self, base: Limits | None = None, overrides: dict[str, Any] | None = None) -> ReplaySettings:
        """Other limits: a profile (``base``, recorded limit changes then ignored) and/or ``--set`` overrides."""
        overrides = dict(overrides or {})
        limits = apply_overrides(base if base is not None else self.limits, overrides)
        return replace(self, limits=limits, overrides=overrides, follow_recorded_limits=base is None)

    @property
    def changed(self) -> bool:
        return bool(self.overrides) or not self.follow_recorded_limits

    def describe(self) -> dict[str, Any]:
        return {
            "limits": self.limits.model_dump(),
            "reorder_window_s": self.reorder_window_s,
            "overrides": self.overrides,
            "recorded_limit_changes": "followed" if self.follow_recorded_limits else "ignored",
        }


@dataclass
class ReplayResult:
    events: list[AlarmEvent]
    vitals: list[dict[str, Any]]
    messages: int
    virtual_s: float
    wall_s: float
    start: float | None
    end: float | None
    ward: Ward

    @property
    def speedup(self) -> float:
        return self.virtual_s / self.wall_s if self.wall_s > 0 else float("inf")


def replay(
    entries: Iterable[Entry] | Iterable[tuple[float, Message]],
    settings: ReplaySettings | None = None,
    *,
    bed: str | None = None,
    end: float | None = None,
    speed: float | None = None,
    progress: Progress | None = None,
    total_s: float | None = None,
    vitals_every: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayResult:
    """Run ``entries`` through a fresh ward; see the module docstring."""
    settings = settings or ReplaySettings()
    counter = itertools.count(1)
    ward = Ward(
        settings.limits,
        reorder_window=settings.reorder_window_s,
        alarms=AlarmManager(new_id=lambda: f"replay-{next(counter):06d}"),
    )
    events: list[AlarmEvent] = []
    vitals: list[dict[str, Any]] = []
    restored = False
    first: float | None = None
    last: float | None = None
    n = 0
    wall0 = time.perf_counter()
    next_vitals = 0.0
    next_report = wall0
    for arrival, item in entries:
        if first is None:
            first = arrival
            bed = bed or item.bed
            next_vitals = float(int(arrival)) + 1.0
        if not restored and bed is not None:
            _restore(ward, bed, settings)
            restored = True
        if speed is not None:
            ahead = (arrival - first) / speed - (time.perf_counter() - wall0)
            if ahead > 0.002:
                sleep(ahead)
        if vitals_every is not None and bed in ward.beds:
            while next_vitals <= arrival:
                row = dict(ward.beds[bed].vitals(next_vitals))
                row["t"] = canonical_time(next_vitals)
                vitals.append(row)
                next_vitals += vitals_every
        if isinstance(item, Marker):
            events.extend(_apply(ward, item, settings))
        else:
            events.extend(ward.feed(item, arrival).alarms)
            n += 1
        last = arrival
        if progress is not None and n % 256 == 0:
            now = time.perf_counter()
            if now >= next_report:
                next_report = now + 0.2
                progress(arrival - first, total_s if total_s is not None else arrival - first)
    if end is not None and (last is None or end >= last):
        events.extend(ward.advance(end).alarms)
        last = end
    if progress is not None and first is not None and last is not None:
        progress(last - first, last - first)
    wall = time.perf_counter() - wall0
    return ReplayResult(
        events=events,
        vitals=vitals,
        messages=n,
        virtual_s=(last - first) if first is not None and last is not None else 0.0,
        wall_s=wall,
        start=first,
        end=last,
        ward=ward,
    )


def _restore(ward: Ward, bed: str, settings: ReplaySettings) -> None:
    if settings.conditions:
        ward.restore_conditions(bed, settings.conditions)
    if settings.open_alarms:
        from store.alarm_store import alarm_from_json

        ward.alarms.restore(alarm_from_json(a) for a in settings.open_alarms)
    if settings.changed and (settings.conditions or settings.open_alarms):
        ward.set_limits(bed, settings.limits)  # condition delays follow the replay's limits


def _apply(ward: Ward, marker: Marker, settings: ReplaySettings) -> list[AlarmEvent]:
    data, bed, t = marker.data, marker.bed, marker.t
    if marker.kind == "tick":
        return ward.advance(t).alarms
    if marker.kind == "ack":
        alarm = next((a for a in ward.alarms.open_alarms(bed) if a.type == data.get("type")), None)
        if alarm is None:
            return []
        event = ward.acknowledge(alarm.id, str(data.get("user") or "replay"), t)
        return [event] if event is not None else []
    if marker.kind == "switch":
        return ward.switch_condition(bed, str(data["type"]), bool(data["enabled"]), t)
    if marker.kind == "enabled":
        ward.set_enabled(bed, str(data["type"]), bool(data["enabled"]))
        return []
    if marker.kind == "limits":
        if settings.follow_recorded_limits:
            limits = Limits.model_validate(data["limits"])
            ward.set_limits(bed, apply_overrides(limits, settings.overrides) if settings.overrides else limits)
        return []
    return []
