"""How two runs' alarms differ, in count and timing: the tool for tuning limits against alarm fatigue.

``episodes(events)`` folds alarm events (``AlarmEvent`` or their recorded JSON) into one :class:`Episode` per
alarm. ``same_events`` says whether two runs produced exactly the same events (ids aside). ``compare`` matches
the episodes of a baseline and a candidate per alarm type (overlapping in time, closest announcement first) and
reports per type: how many alarms each run raised, how many match, which only one run raised, how much later
or earlier the candidate announced the matched ones, and the time spent in alarm.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from alarms.model import AlarmEvent

__all__ = ["Episode", "episodes", "event_key", "same_events", "compare", "TypeDiff", "Comparison"]


@dataclass(frozen=True)
class Episode:
    id: str
    bed: str
    type: str
    priority: str
    onset: float
    raised_at: float
    ended_at: float | None
    acknowledged_at: float | None
    value: float | None
    message: str

    def end_or(self, default: float) -> float:
        return self.ended_at if self.ended_at is not None else default

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _parts(event: AlarmEvent | Mapping[str, Any]) -> tuple[str, float, dict[str, Any]]:
    if isinstance(event, AlarmEvent):
        return event.event, event.t, event.alarm
    return str(event.get("name") or event.get("event")), float(event["t"]), dict(event["alarm"])


def event_key(event: AlarmEvent | Mapping[str, Any]) -> tuple[Any, ...]:
    """What must be equal for two events to be the same (the alarm id is not: it is random live)."""
    name, t, a = _parts(event)
    return (
        round(t, 6), a["bed"], a["type"], name, a["state"], round(a["onset"], 6), round(a["raised_at"], 6),
        None if a.get("ended_at") is None else round(a["ended_at"], 6),
        None if a.get("acknowledged_at") is None else round(a["acknowledged_at"], 6),
        a.get("value"), a.get("limit"),
    )


def same_events(a: Iterable[AlarmEvent | Mapping[str, Any]], b: Iterable[AlarmEvent | Mapping[str, Any]]) -> bool:
    return sorted(map(event_key, a)) == sorted(map(event_key, b))


def episodes(events: Iterable[AlarmEvent | Mapping[str, Any]]) -> list[Episode]:
    """One episode per alarm id, from its events (the latest state wins), in order of announcement."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        _, _, alarm = _parts(event)
        latest[alarm["id"]] = alarm
    out = [
        Episode(
            id=a["id"],
            bed=a["bed"],
            type=a["type"],
            priority=a["priority"],
            onset=a["onset"],
            raised_at=a["raised_at"],
            ended_at=a.get("ended_at"),
            acknowledged_at=a.get("acknowledged_at"),
            value=a.get("value"),
            message=a.get("message", ""),
        )
        for a in latest.values()
    ]
    return sorted(out, key=lambda e: (e.raised_at, e.type))


@dataclass
class TypeDiff:
    type: str
    baseline: int
    candidate: int
    matched: int
    only_baseline: list[float]  # raised_at of alarms the candidate would not raise
    only_candidate: list[float]  # raised_at of alarms only the candidate raises
    delay_shift_s: float | None  # median candidate - baseline announcement time of matched alarms
    baseline_alarm_s: float
    candidate_alarm_s: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    identical: bool
    types: list[TypeDiff]

    @property
    def baseline_total(self) -> int:
        return sum(t.baseline for t in self.types)

    @property
    def candidate_total(self) -> int:
        return sum(t.candidate for t in self.types)

    def to_json(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "baseline_alarms": self.baseline_total,
            "candidate_alarms": self.candidate_total,
            "types": [t.to_json() for t in self.types],
        }

    def table(self, baseline: str = "baseline", candidate: str = "candidate") -> str:
        head = f"{'alarm':<26}{baseline:>10}{candidate:>11}{'matched':>9}{'gone':>6}{'new':>5}{'shift s':>9}" \
               f"{'alarm time':>22}"
        lines = [head, "-" * len(head)]
        for t in self.types:
            shift = "" if t.delay_shift_s is None else f"{t.delay_shift_s:+.1f}"
            time_col = f"{_dur(t.baseline_alarm_s)} -> {_dur(t.candidate_alarm_s)}"
            lines.append(
                f"{t.type:<26}{t.baseline:>10}{t.candidate:>11}{t.matched:>9}{len(t.only_baseline):>6}"
                f"{len(t.only_candidate):>5}{shift:>9}{time_col:>22}"
            )
        lines.append("-" * len(head))
        lines.append(f"{'total':<26}{self.baseline_total:>10}{self.candidate_total:>11}")
        return "\n".join(lines)


def _dur(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def compare(
    baseline: Iterable[AlarmEvent | Mapping[str, Any]],
    candidate: Iterable[AlarmEvent | Mapping[str, Any]],
    *,
    end: float | None = None,
    window_s: float = 60.0,
) -> Comparison:
    """Per alarm type: counts, matches (overlapping in time, or announced within ``window_s``), timing shift."""
    base_events, cand_events = list(baseline), list(candidate)
    identical = same_events(base_events, cand_events)
    base, cand = episodes(base_events), episodes(cand_events)
    horizon = end if end is not None else max([e.end_or(e.raised_at) for e in base + cand], default=0.0)
    types = sorted({e.type for e in base + cand})
    out = []
    for kind in types:
        b = [e for e in base if e.type == kind]
        c = [e for e in cand if e.type == kind]
        pairs = []
        for i, eb in enumerate(b):
            for j, ec in enumerate(c):
                overlap = eb.raised_at <= ec.end_or(horizon) and ec.raised_at <= eb.end_or(horizon)
                gap = abs(ec.raised_at - eb.raised_at)
                if overlap or gap <= window_s:
                    pairs.append((gap, i, j))
        used_b: set[int] = set()
        used_c: set[int] = set()
        shifts = []
        for _gap, i, j in sorted(pairs):
            if i in used_b or j in used_c:
                continue
            used_b.add(i)
            used_c.add(j)
            shifts.append(c[j].raised_at - b[i].raised_at)
        out.append(
            TypeDiff(
                type=kind,
                baseline=len(b),
                candidate=len(c),
                matched=len(used_b),
                only_baseline=[e.raised_at for i, e in enumerate(b) if i not in used_b],
                only_candidate=[e.raised_at for j, e in enumerate(c) if j not in used_c],
                delay_shift_s=round(statistics.median(shifts), 3) if shifts else None,
                baseline_alarm_s=sum(max(0.0, e.end_or(horizon) - e.raised_at) for e in b),
                candidate_alarm_s=sum(max(0.0, e.end_or(horizon) - e.raised_at) for e in c),
            )
        )
    return Comparison(identical=identical, types=out)
