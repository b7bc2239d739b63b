"""Run a recording through the live pipeline and list the alarms WardWatch would raise.

:func:`analyze_record` feeds every ECG lead and the pleth of a WFDB record (``monitor.sources.WfdbSource``:
0.25 s chunks, each arriving ``latency_s`` after its last sample; ABP, RESP and other channels are left out,
as the MQTT contract carries only ECG and pleth) to a fresh ``Ward`` on a virtual clock, exactly as the
station would receive them live, and collects the alarm events. :func:`analyze_messages` does the same for
any ``(arrival, message)`` sequence (e.g. :func:`array_messages`: signals in memory, such as a clean record
with noise added).

Times in the result are seconds of *record time*: station time minus the record's start and minus the fixed
delivery offset, so an alarm raised on the chunk that ends at record time 300 s is reported at 300.0 s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from alarms.catalog import spec
from alarms.manager import AlarmManager
from monitor.limits import Limits
from monitor.messages import Message, WaveChunk
from monitor.sources import DEFAULT_START, WfdbSource
from monitor.ward import Ward

__all__ = ["AnalyzedAlarm", "Analysis", "analyze_record", "analyze_messages", "array_messages"]


@dataclass(frozen=True)
class AnalyzedAlarm:
    """One announcement of an alarm, as the station's alarm log lists it: when its condition began (``onset``),
    when the alarm signal started (``raised``), when the condition ended (``ended``; ``None``: still present at
    the end) and the stretch its condition was present. A latched alarm whose condition comes back is
    *reactivated*: the same alarm (``id``) sounds again, listed as another entry with ``reactivated`` true."""

    type: str
    priority: str
    kind: str
    onset: float
    raised: float
    ended: float | None
    value: float | None
    message: str
    stretches: tuple[tuple[float, float | None], ...] = ()
    id: str = ""
    reactivated: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["stretches"] = [list(s) for s in self.stretches]
        return data


@dataclass
class Analysis:
    record: str
    duration_s: float
    alarms: list[AnalyzedAlarm] = field(default_factory=list)
    vitals: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, alarm_type: str) -> list[AnalyzedAlarm]:
        return [a for a in self.alarms if a.type == alarm_type]

    def to_json(self) -> dict[str, Any]:
        return {"record": self.record, "duration_s": self.duration_s, "alarms": [a.to_json() for a in self.alarms]}


def analyze_record(
    record: str,
    *,
    cut_s: float | None = None,
    limits: Limits | None = None,
    chunk_s: float = 0.25,
    latency_s: float = 0.02,
    bed: str = "wfdb",
) -> Analysis:
    """Analyse a WFDB record (path without extension, or relative to the PhysioNet directory), optionally
    only its first ``cut_s`` seconds."""
    source = WfdbSource(record, bed=bed, start=DEFAULT_START, chunk_s=chunk_s, latency_s=latency_s)
    duration = source.duration_s if cut_s is None else min(cut_s, source.duration_s)
    end = DEFAULT_START + duration
    messages = ((a, m) for a, m in source if _before(m, end))
    return analyze_messages(messages, name=source.name, start=DEFAULT_START, duration_s=duration,
                            latency_s=latency_s, limits=limits)


def _before(msg: Message, end: float) -> bool:
    if isinstance(msg, WaveChunk):
        return msg.ts < end - 1e-9
    ts = getattr(msg, "ts", None)
    return ts is None or ts <= end + 1e-9


def analyze_messages(
    messages: Iterable[tuple[float, Message]],
    *,
    name: str,
    start: float,
    duration_s: float,
    latency_s: float = 0.0,
    limits: Limits | None = None,
    vitals_every: float | None = None,
) -> Analysis:
    """Feed ``(arrival, message)`` pairs (arrival = station time) to a fresh ward; see the module docstring."""
    counter = iter(range(1, 1 << 30))
    ward = Ward(limits or Limits(), alarms=AlarmManager(new_id=lambda: f"a{next(counter):05d}"))
    events = []
    zero = start + latency_s
    vitals: list[dict[str, Any]] = []
    next_vitals = start + 1.0
    bed_id: str | None = None
    for arrival, msg in messages:
        if vitals_every is not None and bed_id is not None:
            while next_vitals <= arrival:
                row = ward.beds[bed_id].vitals(next_vitals)
                vitals.append({**row, "t": round(next_vitals - zero, 3)})
                next_vitals += vitals_every
        events.extend(ward.feed(msg, arrival).alarms)
        bed_id = msg.bed
    events.extend(ward.advance(start + duration_s + latency_s).alarms)
    return Analysis(name, duration_s, _alarms(events, zero), vitals)


def _alarms(events: Sequence[Any], zero: float) -> list[AnalyzedAlarm]:
    """One entry per announcement: the raise, then every reactivation of a latched alarm, in time order."""
    episodes: dict[str, list[dict[str, Any]]] = {}  # alarm id -> [{"alarm", "raised", "onset", "end"}, ...]
    for ev in events:
        alarm = ev.alarm
        if alarm["bed"] == "*":
            continue
        runs = episodes.get(alarm["id"])
        if runs is None:
            if ev.event != "raised":
                continue
            runs = episodes[alarm["id"]] = [
                {"alarm": alarm, "raised": alarm["raised_at"] - zero, "onset": alarm["onset"] - zero, "end": None}
            ]
        last = runs[-1]
        if ev.event in ("latched", "cleared") and last["end"] is None:
            ended = alarm.get("ended_at")
            last["end"] = (ended if ended is not None else ev.t) - zero
        elif ev.event == "reactivated":
            runs.append({"alarm": alarm, "raised": ev.t - zero, "onset": ev.t - zero, "end": None})
    out = []
    for alarm_id, runs in episodes.items():
        for k, run in enumerate(runs):
            a = run["alarm"]
            s = spec(a["type"])
            end = None if run["end"] is None else round(run["end"], 3)
            onset = round(run["onset"], 3)
            out.append(
                AnalyzedAlarm(
                    type=a["type"], priority=s.priority.value, kind=s.kind.value, onset=onset,
                    raised=round(run["raised"], 3), ended=end, value=a.get("value"), message=a.get("message", ""),
                    stretches=((onset, end),), id=alarm_id, reactivated=k > 0,
                )
            )
    out.sort(key=lambda a: (a.raised, a.onset))
    return out


def array_messages(
    ecg: dict[str, np.ndarray],
    fs: float,
    *,
    pleth: np.ndarray | None = None,
    pleth_fs: float | None = None,
    bed: str = "array",
    start: float = DEFAULT_START,
    chunk_s: float = 0.25,
    latency_s: float = 0.02,
) -> Iterator[tuple[float, Message]]:
    """Signals in memory as a monitor would send them: per tick of ``chunk_s``, one ``ecg`` chunk per lead
    (clipped to the contract's +-50 mV) and one ``pleth`` chunk, arriving ``latency_s`` after their last
    sample. Non-finite samples are not sent (a gap)."""
    streams: list[tuple[str, str, float, np.ndarray]] = [
        ("ecg", lead, fs, np.clip(np.asarray(x, dtype=float), -50.0, 50.0)) for lead, x in ecg.items()
    ]
    if pleth is not None:
        streams.append(("pleth", "II", float(pleth_fs or fs), np.asarray(pleth, dtype=float)))
    duration = max(len(x) / f for _, _, f, x in streams)
    ticks = int(np.ceil(duration / chunk_s - 1e-9))
    for k in range(ticks):
        t1 = (k + 1) * chunk_s
        arrival = start + min(t1, duration) + latency_s
        for stream, lead, f, x in streams:
            i0, i1 = int(round(k * chunk_s * f)), min(int(round(t1 * f)), len(x))
            if i1 <= i0:
                continue
            seg = x[i0:i1]
            ok = np.isfinite(seg)
            if not ok.all():
                edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))
                for a, b in zip(edges[::2], edges[1::2], strict=True):
                    yield arrival, WaveChunk(bed, stream, start + (i0 + a) / f, f, seg[a:b].copy(), k, lead)  # type: ignore[arg-type]
                continue
            yield arrival, WaveChunk(bed, stream, start + i0 / f, f, seg.copy(), k, lead)  # type: ignore[arg-type]
