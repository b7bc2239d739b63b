"""Escalation planning: alarm events and time in, page requests out. Pure: no I/O, no clock.

An ``EscalationPolicy`` has one ``Rule`` per priority: an ordered list of ``Step`` (tier, after_s) and a
re-notification period. The ``Escalator`` keeps one small ``Track`` per alarm and answers three inputs:

* ``on_event(event)``: an alarm event from the alarm manager (raised, acknowledged, latched, cleared,
  reactivated). ``raised`` opens a track (and pages the steps due at once); ``acknowledged`` stops escalation
  and re-notification; ``cleared`` sends the all-clear (phase ``end``) to every tier paged and closes the track.
* ``advance(now)``: steps whose ``after_s`` has passed since the alarm was raised, and re-notifications.
  Pages are stamped with the time they were due, so how often this is called does not change the plan.
* ``on_failed(page, now)``: a page could not be delivered on a channel: the alarm goes to the next tier now.

Invariants (tested with hypothesis): a tier is paged only after every earlier tier of its rule (never skips a
tier); nothing but the all-clear is paged for an acknowledged alarm; every page id is unique.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from alarms.catalog import Priority
from alarms.model import AlarmEvent
from monitor.errors import ConfigError

__all__ = [
    "Step",
    "Rule",
    "EscalationPolicy",
    "DEFAULT_POLICY",
    "PageRequest",
    "Phase",
    "Track",
    "Escalator",
]

Phase = Literal["start", "escalate", "continue", "end"]


@dataclass(frozen=True, slots=True)
class Step:
    """Page ``tier`` when the alarm is still unacknowledged ``after_s`` seconds after it was raised."""

    tier: str
    after_s: float

    def __post_init__(self) -> None:
        if not self.tier:
            raise ConfigError("an escalation step needs a tier")
        if not 0 <= self.after_s <= 3600:
            raise ConfigError(f"escalation step {self.tier!r}: after_s must be 0..3600 s (got {self.after_s:g})")


@dataclass(frozen=True, slots=True)
class Rule:
    """The steps of one priority, in order, and how often reached tiers are re-notified (None = never)."""

    steps: tuple[Step, ...] = ()
    renotify_s: float | None = None

    def __post_init__(self) -> None:
        tiers = [s.tier for s in self.steps]
        if len(set(tiers)) != len(tiers):
            raise ConfigError(f"escalation rule lists a tier twice: {tiers}")
        if any(b.after_s < a.after_s for a, b in zip(self.steps, self.steps[1:], strict=False)):
            raise ConfigError(f"escalation steps must not go back in time: {[(s.tier, s.after_s) for s in self.steps]}")
        if self.renotify_s is not None and not 5 <= self.renotify_s <= 3600:
            raise ConfigError(f"renotify_s must be 5..3600 s or none (got {self.renotify_s:g})")


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    rules: Mapping[Priority, Rule]
    all_clear: bool = True

    def rule(self, priority: Priority | str) -> Rule:
        return self.rules.get(Priority(priority), Rule())

    @property
    def tiers(self) -> list[str]:
        seen: list[str] = []
        for rule in self.rules.values():
            seen += [s.tier for s in rule.steps if s.tier not in seen]
        return seen


#: The defaults of docs/alarms.md: high pages the primary nurse at once and the charge nurse after 60 s
#: unacknowledged; medium pages the primary after 30 s and the charge nurse after 60 s; low alarms page the
#: primary after 60 s and the charge nurse after 120 s (so that no tier is skipped).
DEFAULT_POLICY = EscalationPolicy(
    {
        Priority.HIGH: Rule((Step("primary", 0), Step("charge", 60)), renotify_s=60),
        Priority.MEDIUM: Rule((Step("primary", 30), Step("charge", 60)), renotify_s=120),
        Priority.LOW: Rule((Step("primary", 60), Step("charge", 120)), renotify_s=300),
    }
)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page to one tier. ``id`` is unique and stable (alarm id + sequence number): receivers use it to
    recognise a page re-sent after a restart."""

    id: str
    alarm_id: str
    seq: int
    tier: str
    tier_index: int
    phase: Phase
    t: float
    reason: str
    alarm: dict[str, Any]

    @property
    def bed(self) -> str:
        return str(self.alarm.get("bed", ""))

    @property
    def priority(self) -> str:
        return str(self.alarm.get("priority", ""))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alarm_id": self.alarm_id,
            "seq": self.seq,
            "tier": self.tier,
            "tier_index": self.tier_index,
            "phase": self.phase,
            "t": self.t,
            "reason": self.reason,
            "alarm": self.alarm,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PageRequest:
        return cls(
            id=str(data["id"]),
            alarm_id=str(data["alarm_id"]),
            seq=int(data["seq"]),
            tier=str(data["tier"]),
            tier_index=int(data["tier_index"]),
            phase=data["phase"],
            t=float(data["t"]),
            reason=str(data.get("reason", "")),
            alarm=dict(data.get("alarm") or {}),
        )


@dataclass
class Track:
    """What the escalator remembers of one open alarm."""

    alarm: dict[str, Any]
    raised_at: float
    reached: list[str] = field(default_factory=list)  # tiers paged, in order
    last_sent: dict[str, float] = field(default_factory=dict)
    acknowledged: bool = False
    seq: int = 0

    @property
    def alarm_id(self) -> str:
        return str(self.alarm["id"])


def page_id(alarm_id: str, seq: int) -> str:
    return f"{alarm_id}-{seq:03d}"


class Escalator:
    def __init__(self, policy: EscalationPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self.tracks: dict[str, Track] = {}

    # -- inputs --------------------------------------------------------------------------------------------
    def on_event(self, event: AlarmEvent) -> list[PageRequest]:
        alarm = event.alarm
        alarm_id = str(alarm["id"])
        track = self.tracks.get(alarm_id)
        if event.event == "raised":
            if track is None:
                track = self.tracks[alarm_id] = Track(dict(alarm), float(alarm.get("raised_at", event.t)))
            return self._due(track, event.t)
        if track is None:
            return []
        track.alarm = dict(alarm)
        if event.event == "acknowledged":
            track.acknowledged = True
            return []
        if event.event == "reactivated":
            track.acknowledged = False
            return self._due(track, event.t)
        if event.event == "cleared":
            del self.tracks[alarm_id]
            if not self.policy.all_clear:
                return []
            rule = self._rule(track)
            return [
                self._page(track, tier, self._index(rule, tier), "end", event.t, "alarm ended")
                for tier in track.reached
            ]
        return []  # latched: still unacknowledged, escalation goes on

    def advance(self, now: float) -> list[PageRequest]:
        pages: list[PageRequest] = []
        for track in list(self.tracks.values()):
            pages.extend(self._due(track, now))
        pages.sort(key=lambda p: (p.t, p.alarm_id, p.seq))
        return pages

    def on_failed(self, page: PageRequest, now: float, reason: str = "") -> list[PageRequest]:
        """A page to ``page.tier`` failed on a channel: page the next tier now (once)."""
        track = self.tracks.get(page.alarm_id)
        if track is None or track.acknowledged or page.phase == "end":
            return []
        rule = self._rule(track)
        index = self._index(rule, page.tier)
        if index < 0 or index + 1 >= len(rule.steps):
            return []
        nxt = rule.steps[index + 1].tier
        if nxt in track.reached:
            return []
        why = f"paging failed on tier {page.tier}" + (f" ({reason})" if reason else "")
        return [self._reach(track, rule, index + 1, now, why)]

    def restore(self, alarm: dict[str, Any], pages: Iterable[PageRequest]) -> None:
        """Rebuild a track after a restart from the alarm and the pages already planned for it."""
        track = Track(dict(alarm), float(alarm["raised_at"]))
        track.acknowledged = alarm.get("state") == "acknowledged"
        for page in sorted(pages, key=lambda p: p.seq):
            track.seq = max(track.seq, page.seq + 1)
            if page.phase == "end":
                continue
            if page.tier not in track.reached:
                track.reached.append(page.tier)
            track.last_sent[page.tier] = max(track.last_sent.get(page.tier, page.t), page.t)
        self.tracks[track.alarm_id] = track

    # -- internals -----------------------------------------------------------------------------------------
    def _rule(self, track: Track) -> Rule:
        return self.policy.rule(track.alarm.get("priority", "low"))

    @staticmethod
    def _index(rule: Rule, tier: str) -> int:
        for i, step in enumerate(rule.steps):
            if step.tier == tier:
                return i
        return -1

    def _due(self, track: Track, now: float) -> list[PageRequest]:
        if track.acknowledged:
            return []
        rule = self._rule(track)
        pages: list[PageRequest] = []
        # Steps in order: a later step is only reached once every earlier one has been (never skip a tier).
        while len(track.reached) < len(rule.steps):
            step = rule.steps[len(track.reached)]
            due = track.raised_at + step.after_s
            if due > now + 1e-9:
                break
            why = "alarm raised" if step.after_s == 0 else f"unacknowledged {step.after_s:g} s"
            pages.append(self._reach(track, rule, len(track.reached), due, why))
        if rule.renotify_s is not None:
            for tier in track.reached:
                missed = int((now + 1e-9 - track.last_sent[tier]) // rule.renotify_s)
                if missed >= 1:  # one reminder, even if several periods passed (e.g. across a restart)
                    due = track.last_sent[tier] + missed * rule.renotify_s
                    pages.append(
                        self._page(track, tier, self._index(rule, tier), "continue", due, "still unacknowledged")
                    )
                    track.last_sent[tier] = due
        return pages

    def _reach(self, track: Track, rule: Rule, index: int, t: float, why: str) -> PageRequest:
        tier = rule.steps[index].tier
        track.reached.append(tier)
        track.last_sent[tier] = t
        return self._page(track, tier, index, "start" if index == 0 else "escalate", t, why)

    def _page(self, track: Track, tier: str, index: int, phase: Phase, t: float, why: str) -> PageRequest:
        seq = track.seq
        track.seq += 1
        return PageRequest(
            page_id(track.alarm_id, seq), track.alarm_id, seq, tier, index, phase, t, why, dict(track.alarm)
        )
