"""The recorder: full disclosure of every session, from the live station (imperative shell).

The station calls, on its own thread and in order:

* ``ingest(msg, arrival)`` for every validated message, *before* the ward sees it: the message is made canonical
  (``store.codec.canonical``: the recording's resolution), so the live ward and a replay are fed the same
  numbers; it is appended to its bed's open session (opening one automatically when a silent bed starts
  sending);
* ``tick(now)`` on every ticker tick, *before* ``Ward.advance``: marks the beds whose held chunks are due (so a
  replay releases them at the same moment), samples the derived vitals at 1 Hz, hands the buffers to the
  encoder thread, closes idle sessions and schedules compaction and pruning;
* ``on_alarm(event)`` (a ``Station.listeners`` entry) and ``on_action`` (``Ward.journal``: limits, alarm off/on,
  acknowledgements, in order with the messages).

Nothing here blocks: encoding runs in the encoder thread, database writes in the ``Writer`` thread. Buffers go
out every tick and at least every ``FLUSH_S`` of data, and the writer commits every ``COMMIT_S``, so a crash
(kill -9) loses less than a second. A session starts with fresh signal state (``Ward.reset_signals``) and
records the alarm-layer state it started with (limits, condition delays, open alarms), so that a replay from
the recording starts exactly where the live session started.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from alarms.catalog import STATION
from alarms.model import AlarmEvent
from ingest.contract import BED_ID_RE
from monitor import __version__
from monitor.errors import WardWatchError
from monitor.messages import Message, Status
from store.codec import (
    FAST,
    SMALL,
    Entry,
    Marker,
    canonical,
    canonical_time,
    encode_entries,
    encode_vitals,
)
from store.db import Database, Writer
from store.recording import BLOCK_S, Session, SessionStore, new_session_id

if TYPE_CHECKING:
    from monitor.service import Station

__all__ = ["Recorder", "SessionConflict", "NoSession", "FLUSH_S", "COMMIT_S"]

log = logging.getLogger(__name__)

FLUSH_S = 0.5  #: a bed's buffer goes to the encoder at least this often (of data)
COMMIT_S = 0.2  #: the writer commits at least this often
PRUNE_EVERY_S = 600.0
LABEL_MAX = 64
TEXT_MAX = 500


class SessionConflict(WardWatchError):
    """The action does not fit the bed's session (e.g. admitting a bed that is admitted)."""


class NoSession(WardWatchError):
    """No such session, or the bed has no open session."""


@dataclass
class _Live:
    session: Session
    started: bool = False
    buffer: list[Entry] = field(default_factory=list)
    vitals: list[dict[str, Any]] = field(default_factory=list)
    buffer_since: float | None = None
    next_vitals: float = 0.0
    seq: int = 0
    block_since: float | None = None
    block_first_seq: int = 0
    last_data: float | None = None


class Recorder:
    def __init__(self, station: Station, *, url: str | None = None) -> None:
        self.station = station
        self.settings = station.settings
        self.url = url or station.settings.database_url
        self.store: SessionStore | None = None
        self.writer: Writer | None = None
        self.live: dict[str, _Live] = {}
        self.errors = 0
        self._discharged: dict[str, float] = {}
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._encoder: threading.Thread | None = None
        self._next_prune = 0.0
        station.listeners.append(self.on_alarm)
        station.ward.journal = self.on_action

    @property
    def ready(self) -> bool:
        return self.store is not None

    # -- life cycle ------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Open the store, close this station's sessions left open by a crash or stop (call once, in a thread)."""
        self.store = SessionStore(Database.open(self.url))
        self.writer = Writer(self.store.db, interval=COMMIT_S, on_error=self._write_failed)
        self._encoder = threading.Thread(target=self._encode_loop, name="wardwatch-recorder", daemon=True)
        self._encoder.start()
        for s in self.store.sessions(open_only=True, station=self.settings.client_id, limit=10_000):
            self._close_left_open(s)
        log.info("recording sessions in %s (retention %.0f h)", self.store.db, self.settings.retention_h)

    async def run(self) -> None:
        """Open the store and run until cancelled; then close every session's buffers cleanly."""
        await asyncio.to_thread(self.open)
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Flush everything (sessions stay open: a restart closes them as ``restart``)."""
        if self.store is None:
            return
        for live in list(self.live.values()):
            self._flush(live)
            self._jobs.put(("compact", live.session.id, None, live.block_first_seq))
        self.flush()
        self._jobs.put(None)
        if self._encoder is not None:
            self._encoder.join(120)
        assert self.writer is not None
        self.writer.flush()
        self.writer.close()
        self.store.close()
        self.store = None

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until everything handed over so far is committed (tests, API reads after a write)."""
        if self.writer is None:
            return False
        done = threading.Event()
        self._jobs.put(("sync", done))
        return done.wait(timeout) and self.writer.flush(timeout)

    # -- the live path -----------------------------------------------------------------------------------------
    def ingest(self, msg: Message, arrival: float) -> tuple[Message, float]:
        if self.store is None:
            return msg, arrival
        try:
            msg = canonical(msg)
            arrival = canonical_time(arrival)
            live = self.live.get(msg.bed)
            retained = isinstance(msg, Status) and msg.retained
            if live is None:
                if retained or not self._may_open(msg.bed, arrival):
                    return msg, arrival
                live = self._open(msg.bed, arrival, "auto", None, None)
            if not live.started:
                if retained:
                    return msg, arrival
                self._start(live, arrival)
            live.buffer.append((arrival, msg))
            live.last_data = arrival
            if live.buffer_since is None:
                live.buffer_since = arrival
            elif arrival - live.buffer_since >= FLUSH_S:
                self._flush(live)
        except Exception:
            self.errors += 1
            log.exception("recording failed for a message of bed %s", getattr(msg, "bed", "?"))
        return msg, arrival

    def tick(self, now: float) -> None:
        if self.store is None:
            return
        try:
            self._tick(now)
        except Exception:
            self.errors += 1
            log.exception("recorder tick failed")

    def _tick(self, now: float) -> None:
        ward = self.station.ward
        idle = self.settings.session_idle_close_s
        for bed_id, live in list(self.live.items()):
            bed = ward.beds.get(bed_id)
            if live.started and bed is not None:
                deadline = bed.next_deadline()
                if deadline is not None and deadline <= now:
                    live.buffer.append((now, Marker(bed_id, "tick", now)))
                if now >= live.next_vitals:
                    vitals = dict(bed.vitals(now))
                    vitals["t"] = canonical_time(now)
                    live.vitals.append(vitals)
                    live.next_vitals = math.floor(now) + 1.0
            self._flush(live)
            if live.started and live.last_data is not None and now - live.last_data >= idle:
                self._close(live, now, "idle", None)
            elif live.block_since is not None and now - live.block_since >= BLOCK_S:
                self._jobs.put(("compact", live.session.id, live.seq - 1, live.block_first_seq))
                live.block_since = None
                live.block_first_seq = live.seq
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            before = now - self.settings.retention_h * 3600.0
            self._submit(lambda cur: self._prune(cur, before))

    def on_alarm(self, event: AlarmEvent) -> None:
        if self.store is None:
            return
        bed = event.alarm.get("bed")
        targets = list(self.live.values()) if bed == STATION else [self.live[bed]] if bed in self.live else []
        payload = {"alarm": event.alarm, "user": event.user}
        for live in targets:
            sid = live.session.id
            self._submit(lambda cur, sid=sid: self._events(cur, sid, event.t, "alarm", event.event, payload))

    def on_action(self, bed: str, kind: str, t: float | None, data: dict[str, Any]) -> None:
        """``Ward.journal``: an operator action, in sequence with the bed's messages."""
        live = self.live.get(bed)
        if live is None or not live.started or self.store is None:
            return
        when = t if t is not None else self.station.clock()
        live.buffer.append((when, Marker(bed, kind, when, data)))

    # -- operator actions ----------------------------------------------------------------------------------------
    def admit(self, bed: str, label: str | None, user: str | None) -> Session:
        """Open a session for ``bed`` (or claim the one opened automatically when the bed started sending)."""
        self._require_ready()
        if not BED_ID_RE.fullmatch(bed):
            raise SessionConflict(f"bad bed id {bed[:40]!r}: must match [A-Za-z0-9_-]{{1,32}}")
        label = _clean(label, LABEL_MAX, "label")
        now = self.station.clock()
        live = self.live.get(bed)
        if live is not None:
            s = live.session
            if s.open_reason != "auto":
                raise SessionConflict(f"{bed} is admitted (session {s.id}); discharge it first")
            s.open_reason, s.opened_by, s.label = "admit", user, label
            snapshot = replace(s)
            self._submit(lambda cur: self._claim(cur, snapshot, now))
            return s
        self._discharged.pop(bed, None)
        return self._open(bed, now, "admit", user, label).session

    def discharge(self, bed: str, user: str | None) -> Session:
        self._require_ready()
        live = self.live.get(bed)
        if live is None:
            raise NoSession(f"{bed[:40]} has no open session")
        now = self.station.clock()
        self._close(live, now, "discharge", user)
        self._discharged[bed] = now
        return live.session

    def annotate(self, session_id: str | None, bed: str | None, text: str, user: str | None,
                 t: float | None = None) -> dict[str, Any]:
        """A nurse annotation at ``t`` (default now) in a session (or the open session of ``bed``)."""
        self._require_ready()
        assert self.store is not None
        text = _clean(text, TEXT_MAX, "text") or ""
        if not text:
            raise SessionConflict("an annotation needs text")
        now = self.station.clock()
        if session_id is None:
            live = self.live.get(bed or "")
            if live is None:
                raise NoSession(f"{(bed or '')[:40]} has no open session")
            session = live.session
        else:
            lives = list(self.live.values())  # may run in a worker thread: take a copy
            session = next((lv.session for lv in lives if lv.session.id == session_id), None) or \
                self.store.session(session_id)
        when = now if t is None else float(t)
        end = session.closed_at if session.closed_at is not None else now
        if not session.opened_at - 1.0 <= when <= end + 1.0:
            raise SessionConflict("the annotation time lies outside the session")
        note = {"session_id": session.id, "bed": session.bed, "t": when, "text": text, "user": user, "created_at": now}
        self._submit(lambda cur: self.store.insert_annotation(  # type: ignore[union-attr]
            cur, session.id, session.bed, when, text, user, now))
        return note

    # -- sessions ------------------------------------------------------------------------------------------------
    def _may_open(self, bed: str, arrival: float) -> bool:
        """A bed with no session opens one when it starts sending, unless it was discharged and has not been
        silent since (a monitor left running after discharge does not start a new session)."""
        if bed not in self._discharged:
            return True
        known = self.station.ward.beds.get(bed)
        silence = self.station.ward.limits_of(bed).technical.silence_s
        if known is not None and known.last_seen is not None and arrival - known.last_seen < silence:
            return False
        del self._discharged[bed]
        return True

    def _open(self, bed: str, t: float, reason: str, user: str | None, label: str | None) -> _Live:
        session = Session(
            id=new_session_id(bed, t),
            bed=bed,
            opened_at=t,
            station=self.settings.client_id,
            label=label,
            open_reason=reason,
            opened_by=user,
            settings=self._settings_now(bed),
        )
        live = self.live[bed] = _Live(session)
        snapshot = replace(session, settings=dict(session.settings))  # the writer runs later: freeze what it writes
        self._submit(lambda cur: self._opened(cur, snapshot))
        log.info("session %s opened (%s) on bed %s", session.id, reason, bed)
        return live

    def _start(self, live: _Live, arrival: float) -> None:
        """First data of a session: fresh signal state, and the alarm-layer state it starts from."""
        bed = live.session.bed
        self.station.ward.reset_signals(bed)
        live.session.settings = self._settings_now(bed)
        live.started = True
        live.next_vitals = math.floor(arrival) + 1.0
        sid, settings = live.session.id, live.session.settings
        self._submit(lambda cur: self.store.update_session(cur, sid, settings=settings))  # type: ignore[union-attr]

    def _settings_now(self, bed: str) -> dict[str, Any]:
        ward = self.station.ward
        return {
            "limits": ward.limits_of(bed).model_dump(),
            "conditions": ward.conditions_of(bed),
            "open_alarms": [a.to_json() for a in ward.alarms.open_alarms(bed)],
            "reorder_window_s": ward.reorder_window,
            "profile": self.settings.profile,
            "topic_root": self.settings.topic_root,
            "wardwatch": __version__,
        }

    def _close(self, live: _Live, now: float, reason: str, user: str | None) -> None:
        self._flush(live)
        s = live.session
        s.closed_at, s.close_reason, s.closed_by, s.last_data_at = now, reason, user, live.last_data
        self.live.pop(s.bed, None)
        self._jobs.put(("compact", s.id, None, live.block_first_seq))
        snapshot = replace(s)
        self._submit(lambda cur: self._closed(cur, snapshot))
        log.info("session %s closed (%s) on bed %s", s.id, reason, s.bed)

    def _close_left_open(self, s: Session) -> None:
        assert self.store is not None
        row = self.store.db.query_one("SELECT MAX(t1) FROM rec_blocks WHERE session_id = ?", (s.id,))
        last = row[0] if row and row[0] is not None else None
        s.closed_at = last if last is not None else s.opened_at
        s.last_data_at, s.close_reason = last, "restart"
        with self.store.db.transaction() as cur:
            self.store.compact(cur, s.id)
            self._closed(cur, s)
        log.info("session %s left open by the last run: closed at its last data", s.id)

    # -- hand-over to the threads ------------------------------------------------------------------------------
    def _flush(self, live: _Live) -> None:
        if not live.buffer and not live.vitals:
            return
        entries, vitals = live.buffer, live.vitals
        live.buffer, live.vitals, live.buffer_since = [], [], None
        if live.block_since is None:
            live.block_since = entries[0][0] if entries else vitals[0]["t"]
            live.block_first_seq = live.seq
        self._jobs.put(("hot", live.session.id, live.seq, entries, vitals))
        live.seq += 1

    def _submit(self, job: Any) -> None:
        self._jobs.put(("write", job))

    def _encode_loop(self) -> None:
        """The encoder thread: encodes blocks outside any transaction (compaction reads a session's hot rows back
        from the database) and hands ready rows to the writer, in order."""
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._encode_one(job)
            except Exception:
                self.errors += 1
                log.exception("recorder could not encode %s", job[0])

    def _encode_one(self, job: tuple[Any, ...]) -> None:
        store, writer = self.store, self.writer
        assert store is not None and writer is not None
        kind = job[0]
        if kind == "write":
            writer.submit(job[1])
        elif kind == "sync":
            writer.submit(lambda cur: None)
            job[1].set()
        elif kind == "hot":
            _, sid, seq, entries, vitals = job
            row = _row(entries, vitals, FAST)
            writer.submit(lambda cur: _insert(cur, sid, seq, 0, row))
        elif kind == "compact":
            # the hot rows are read back from the database, not kept in memory until now (5 minutes of every bed,
            # ~0.45 MB per bed, was most of a full ward's memory growth); the LZMA encoding stays out of the
            # writer's transaction
            _, sid, up_to, _first_seq = job
            writer.flush()  # the hot rows handed over so far are committed
            seqs, entries, vitals = store.hot_blocks(sid, up_to)
            if not seqs:
                return
            row = _row(entries, vitals, None)
            last_seq = seqs[-1]

            def compact(cur: Any) -> None:
                store.delete_hot_blocks(cur, sid, last_seq)
                _insert(cur, sid, seqs[0], 1, row)

            writer.submit(compact)

    # -- writer jobs (run in the writer thread, inside its transaction) ------------------------------------------
    def _opened(self, cur: Any, s: Session) -> None:
        assert self.store is not None
        self.store.insert_session(cur, s)
        self._events(cur, s.id, s.opened_at, "session", "admitted" if s.open_reason == "admit" else "opened",
                     {"user": s.opened_by, "label": s.label})

    def _claim(self, cur: Any, s: Session, t: float) -> None:
        assert self.store is not None
        self.store.update_session(cur, s.id, open_reason="admit", opened_by=s.opened_by, label=s.label)
        self._events(cur, s.id, t, "session", "admitted", {"user": s.opened_by, "label": s.label})

    def _closed(self, cur: Any, s: Session) -> None:
        assert self.store is not None and s.closed_at is not None
        self.store.update_session(
            cur, s.id, closed_at=s.closed_at, close_reason=s.close_reason, closed_by=s.closed_by,
            last_data_at=s.last_data_at,
        )
        name = "discharged" if s.close_reason == "discharge" else "closed"
        self._events(cur, s.id, s.closed_at, "session", name, {"user": s.closed_by, "reason": s.close_reason})

    def _events(self, cur: Any, sid: str, t: float, kind: str, name: str, payload: dict[str, Any]) -> None:
        assert self.store is not None
        self.store.insert_event(cur, sid, t, kind, name, payload)

    def _prune(self, cur: Any, before: float) -> None:
        assert self.store is not None
        n = self.store.prune(cur, before)
        if n:
            log.info("retention: deleted %d session(s) closed before %.0f", n, before)

    def _write_failed(self, exc: Exception) -> None:
        self.errors += 1
        log.error("recording could not be written: %s", exc)

    def _require_ready(self) -> None:
        if self.store is None:
            raise SessionConflict("recording is not running on this station")


@dataclass(frozen=True, slots=True)
class _Row:
    t0: float
    t1: float
    n: int
    vitals: bytes | None
    data: bytes


def _row(entries: list[Entry], vitals: list[dict[str, Any]], compressor: int | None) -> _Row:
    times = [t for t, _ in entries] + [v["t"] for v in vitals]
    compressor = SMALL if compressor is None else compressor
    return _Row(
        min(times),
        max(times),
        len(entries),
        encode_vitals(vitals, compressor) if vitals else None,
        encode_entries(entries, compressor),
    )


def _insert(cur: Any, sid: str, seq: int, level: int, row: _Row) -> None:
    cur.execute(
        "INSERT INTO rec_blocks (session_id, seq, level, t0, t1, n, vitals, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (sid, seq, level, row.t0, row.t1, row.n, row.vitals, row.data),
    )


def _clean(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise SessionConflict(f"{what} is longer than {limit} characters")
    return value or None
