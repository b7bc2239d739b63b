"""Sources of monitor messages with their station arrival times, for everything that is not live MQTT.

A source is an iterable of ``(arrival, message)`` pairs in arrival order, messages as ``monitor.messages``
values, already canonical (``store.codec.canonical``), chunked the way a bedside monitor sends them. Feeding them
to ``Ward.feed(message, arrival)`` (and ``Ward.advance`` at the end) is what the live station does, on a
virtual clock. Used by ``wardwatch replay``, ``wardwatch sessions import`` and the ``analyze`` command.

* :class:`WfdbSource`: a PhysioNet/WFDB record. ECG channels become ``ecg`` chunks with their lead as ``lead``,
  PLETH/PPG becomes ``pleth``, HR/SpO2/PULSE numeric channels become 1 Hz ``numerics``; ABP, RESP and the
  rest are left out. Chunks of ``chunk_s`` (0.25 s) arrive ``latency_s`` after their last sample.
* :class:`SessionSource`: a recorded session (``SessionStore``); with ``markers=True`` also the station's own
  actions (ticks, acknowledgements, limit changes), which an exact replay needs.
* :class:`SimulatedSource`: a simulator scenario generated offline (tests and benchmarks).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from monitor.errors import RecordError
from monitor.messages import Message, Numerics, Status, WaveChunk
from store.codec import Entry, Marker, canonical, canonical_time

__all__ = ["WfdbSource", "SessionSource", "SimulatedSource", "classify_channel", "DEFAULT_START"]

#: Start time of records that do not say when they were recorded (2000-01-01T00:00:00Z).
DEFAULT_START = 946684800.0

_PLETH = {"PLETH", "PPG", "PLET", "PLETHYSMOGRAM"}
_SPO2 = {"SPO2", "%SPO2", "SAO2", "SPO2%"}
_HR = {"HR", "HEARTRATE"}
_PR = {"PULSE", "PR", "PULSERATE"}
_ECG_NAMES = re.compile(r"^(I|II|III|AVR|AVL|AVF|V\d?|MLI+|ML\d|MCL\d?|ECG\d?|D\d|EKG\d?|CM\d)$", re.I)
_ECG_LIMIT_MV = 50.0


def classify_channel(name: str, unit: str) -> str | None:
    """``ecg``, ``pleth``, ``hr``, ``spo2``, ``pr`` or None (left out) for a WFDB channel."""
    key = name.strip().upper().replace(" ", "")
    if key in _PLETH:
        return "pleth"
    if key in _SPO2:
        return "spo2"
    if key in _HR:
        return "hr"
    if key in _PR:
        return "pr"
    if _ECG_NAMES.match(key) or unit.strip().lower() in ("mv", "uv"):
        return "ecg"
    return None


def _lead_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9]", "", name)[:8] or "ECG"
    lead, i = base, 2
    while lead in taken:
        suffix = str(i)
        lead = base[: 8 - len(suffix)] + suffix
        i += 1
    taken.add(lead)
    return lead


@dataclass
class _Wave:
    stream: str
    lead: str
    fs: float
    samples: np.ndarray


@dataclass
class WfdbSource:
    """A WFDB record as the messages a monitor would have sent."""

    record: str
    bed: str = "wfdb"
    start: float | None = None
    chunk_s: float = 0.25
    latency_s: float = 0.02
    waves: list[_Wave] = field(default_factory=list, init=False)
    numerics: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict, init=False)
    duration_s: float = field(default=0.0, init=False)
    name: str = field(default="", init=False)

    def __post_init__(self) -> None:
        import wfdb

        from monitor.records import resolve_record_path

        path = resolve_record_path(self.record)
        try:
            rec = wfdb.rdrecord(str(path))
        except Exception as exc:  # wfdb raises many kinds
            raise RecordError(f"cannot read record {path}: {exc}") from exc
        self.name = Path(str(self.record)).name
        if self.start is None:
            base = rec.base_datetime if getattr(rec, "base_datetime", None) is not None else None
            self.start = base.replace(tzinfo=UTC).timestamp() if isinstance(base, datetime) else DEFAULT_START
        fs = float(rec.fs)
        signals = rec.p_signal
        if signals is None:
            raise RecordError(f"record {path} has no physical signal")
        taken: set[str] = set()
        for i, (name, unit) in enumerate(zip(rec.sig_name or [], rec.units or [], strict=False)):
            kind = classify_channel(name, unit or "")
            x = np.asarray(signals[:, i], dtype=float)
            if kind in ("ecg", "pleth"):
                if not 100.0 <= fs <= 1000.0:
                    raise RecordError(f"{self.name}: waveform sampled at {fs:g} Hz; the contract takes 100-1000 Hz")
                if kind == "ecg":
                    x = x / 1000.0 if (unit or "").strip().lower() == "uv" else x
                    x = np.clip(x, -_ECG_LIMIT_MV, _ECG_LIMIT_MV)
                    self.waves.append(_Wave("ecg", _lead_name(name, taken), fs, x))
                elif not any(w.stream == "pleth" for w in self.waves):
                    self.waves.append(_Wave("pleth", "II", fs, x))
            elif kind in ("hr", "spo2", "pr") and kind not in self.numerics:
                self.numerics[kind] = (fs, x)
        if not self.waves and not self.numerics:
            raise RecordError(f"{self.name}: no ECG, pleth or HR/SpO2/pulse channel (has {rec.sig_name})")
        self.duration_s = signals.shape[0] / fs

    @property
    def end(self) -> float:
        assert self.start is not None
        return canonical_time(self.start + self.duration_s + self.latency_s)

    def __iter__(self) -> Iterator[tuple[float, Message]]:
        assert self.start is not None
        start = self.start
        n_ticks = int(np.ceil(self.duration_s / self.chunk_s))
        bounds = [
            (w, np.minimum((np.arange(n_ticks + 1) * self.chunk_s * w.fs).round().astype(np.int64), len(w.samples)))
            for w in self.waves
        ]
        numerics = self._numerics_by_second()
        seq = 0
        for k in range(n_ticks):
            t1 = (k + 1) * self.chunk_s
            arrival = canonical_time(start + min(t1, self.duration_s) + self.latency_s)
            for w, b in bounds:
                i0, i1 = int(b[k]), int(b[k + 1])
                if i1 <= i0:
                    continue
                for j0, j1 in _finite_runs(w.samples, i0, i1):
                    chunk = WaveChunk(self.bed, w.stream, start + j0 / w.fs, w.fs, w.samples[j0:j1], seq, w.lead)  # type: ignore[arg-type]
                    yield arrival, canonical(chunk)
            for second in range(int(k * self.chunk_s) + 1, int(t1) + 1) if numerics else ():
                values = numerics.get(second)
                if values is not None and second <= self.duration_s:
                    yield arrival, canonical(Numerics(self.bed, start + second, *values))
            seq += 1

    def _numerics_by_second(self) -> dict[int, tuple[float | None, float | None, float | None]]:
        out: dict[int, tuple[float | None, float | None, float | None]] = {}
        if not self.numerics:
            return out
        for second in range(1, int(self.duration_s) + 1):
            row = []
            for kind, (limit_lo, limit_hi) in (("hr", (0, 350)), ("spo2", (0, 100)), ("pr", (0, 350))):
                if kind not in self.numerics:
                    row.append(None)
                    continue
                fs, x = self.numerics[kind]
                i = min(int(second * fs) - 1, len(x) - 1)
                v = float(x[i]) if i >= 0 else float("nan")
                row.append(v if np.isfinite(v) and limit_lo < v <= limit_hi else None)  # MIMIC: 0 = not available
            if any(v is not None for v in row):
                out[second] = (row[0], row[1], row[2])
        return out


def _finite_runs(x: np.ndarray, i0: int, i1: int) -> Iterator[tuple[int, int]]:
    """Runs of finite samples in x[i0:i1] (a NaN is missing data: the monitor sends nothing there)."""
    seg = np.isfinite(x[i0:i1])
    if seg.all():
        yield i0, i1
        return
    edges = np.flatnonzero(np.diff(np.concatenate(([0], seg.astype(np.int8), [0]))))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        yield i0 + int(a), i0 + int(b)


@dataclass
class SessionSource:
    """A recorded session; iterate for ``(arrival, message)``, or ``entries()`` for messages and markers."""

    store: object  # store.recording.SessionStore
    session_id: str
    markers: bool = False

    def __post_init__(self) -> None:
        from store.recording import SessionStore

        assert isinstance(self.store, SessionStore)
        self.session = self.store.session(self.session_id)
        self.bed = self.session.bed
        self.start = self.session.opened_at

    @property
    def end(self) -> float | None:
        """Until when the session's events are recorded: its close, or (still open) its latest block."""
        if self.session.closed_at is not None:
            return self.session.closed_at
        row = self.store.db.query_one(  # type: ignore[attr-defined]
            "SELECT MAX(t1) FROM rec_blocks WHERE session_id = ?", (self.session_id,)
        )
        return row[0] if row and row[0] is not None else self.session.last_data_at

    def entries(self) -> Iterator[Entry]:
        yield from self.store.entries(self.session_id)  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[tuple[float, Message]]:
        for arrival, item in self.entries():
            if not isinstance(item, Marker):
                yield arrival, item


@dataclass
class SimulatedSource:
    """A simulator scenario (``simulators.scenarios``) as one monitor's messages, generated offline."""

    scenario: str
    duration_s: float
    bed: str = "sim-01"
    seed: int = 7
    start: float = DEFAULT_START
    latency_s: float = 0.02
    jitter_s: float = 0.0
    chunk_ms: int = 250
    params: dict[str, float | None] | None = None
    leads: Sequence[str] = ("II",)

    @property
    def end(self) -> float:
        return canonical_time(self.start + self.duration_s + self.latency_s + self.jitter_s)

    def __iter__(self) -> Iterator[tuple[float, Message]]:
        from ingest.contract import parse_message
        from simulators.bed import BedConfig, BedStream
        from simulators.scenarios import get_scenario

        physiology = get_scenario(self.scenario, seed=self.seed, params=self.params)
        config = BedConfig(bed=self.bed, start_ts=self.start, chunk_ms=self.chunk_ms, leads=tuple(self.leads))
        stream = BedStream(config, physiology, self.seed)
        rng = np.random.default_rng(self.seed)
        last = 0.0
        for m in stream.connect_messages(0.0):
            yield canonical_time(self.start + self.latency_s), canonical(parse_message(m.topic, m.payload, "vitals"))
        while stream.tick_end(stream.index) <= self.duration_s + 1e-9:
            tick = stream.next_tick()
            base = self.start + tick.t1 + self.latency_s
            for m in tick.messages:
                jitter = float(rng.uniform(0.0, self.jitter_s)) if self.jitter_s else 0.0
                arrival = max(last, canonical_time(base + jitter))
                last = arrival
                msg = parse_message(m.topic, m.payload, "vitals", m.retain)
                if isinstance(msg, Status):
                    msg = Status(msg.bed, msg.online, msg.ts, msg.leads_off, msg.probe_off, False)
                yield arrival, canonical(msg)
