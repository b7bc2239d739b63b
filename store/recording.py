"""Sessions and their full disclosure in the database: schema, writes (from the recorder's writer thread) and reads.

Tables (portable SQL, SQLite or PostgreSQL):

* ``rec_sessions``: one row per session (one infusion visit on one bed).
* ``rec_blocks``: what the station saw, as codec blocks (``store.codec``). Level 0 ("hot") blocks hold one tick
  of one bed and are written every tick, so a crash loses at most the last second; every ``BLOCK_S`` seconds the
  hot blocks of a session are merged into one level-1 block (LZMA, about 12 per bed-hour). ``vitals`` (1 Hz
  derived values) comes before ``data`` in the row so trends never read waveform bytes.
* ``rec_events``: alarm events (raised, acknowledged, latched, cleared, reactivated) and session events.
* ``rec_annotations``: nurse annotations ("midazolam 1 mg").

Every method is synchronous; call it from a worker thread. Methods that take ``cur`` run inside a caller's
transaction (the ``Writer`` batches them).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.errors import RecordError
from store.codec import SMALL, Entry, decode_entries, decode_vitals, encode_entries, encode_vitals
from store.db import Database, register_migration

__all__ = ["Session", "SessionStore", "BLOCK_S", "new_session_id"]

#: Hot blocks are merged into one compacted block per this many seconds of a session.
BLOCK_S = 300.0

register_migration(
    "recording-001",
    """
    CREATE TABLE IF NOT EXISTS rec_sessions (
        id TEXT PRIMARY KEY,
        bed TEXT NOT NULL,
        label TEXT,
        station TEXT NOT NULL,
        opened_at REAL NOT NULL,
        closed_at REAL,
        last_data_at REAL,
        open_reason TEXT NOT NULL,
        opened_by TEXT,
        close_reason TEXT,
        closed_by TEXT,
        pinned INTEGER NOT NULL DEFAULT 0,
        settings TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rec_sessions_bed ON rec_sessions (bed, opened_at);
    CREATE INDEX IF NOT EXISTS rec_sessions_open ON rec_sessions (closed_at);
    CREATE TABLE IF NOT EXISTS rec_blocks (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        level INTEGER NOT NULL,
        t0 REAL NOT NULL,
        t1 REAL NOT NULL,
        n INTEGER NOT NULL,
        vitals BLOB,
        data BLOB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rec_blocks_session ON rec_blocks (session_id, seq);
    CREATE TABLE IF NOT EXISTS rec_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        t REAL NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rec_events_session ON rec_events (session_id, t);
    CREATE TABLE IF NOT EXISTS rec_annotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        bed TEXT NOT NULL,
        t REAL NOT NULL,
        text TEXT NOT NULL,
        user_name TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rec_annotations_session ON rec_annotations (session_id, t)
    """,
)

_SESSION_COLUMNS = (
    "id, bed, label, station, opened_at, closed_at, last_data_at, open_reason, opened_by, close_reason, "
    "closed_by, pinned, settings"
)


def new_session_id(bed: str, t: float) -> str:
    """``20261125-143012-bed-03-a1b2``: sortable, readable in a shell, unique across stations."""
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{bed}-{uuid.uuid4().hex[:4]}"


@dataclass
class Session:
    id: str
    bed: str
    opened_at: float
    station: str = "station"
    label: str | None = None
    closed_at: float | None = None
    last_data_at: float | None = None
    open_reason: str = "auto"  # admit | auto | import
    opened_by: str | None = None
    close_reason: str | None = None  # discharge | idle | restart | import
    closed_by: str | None = None
    pinned: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["open"] = self.is_open
        end = self.closed_at if self.closed_at is not None else self.last_data_at
        data["duration_s"] = None if end is None else round(max(0.0, end - self.opened_at), 3)
        return data

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Session:
        (sid, bed, label, station, opened, closed, last, oreason, oby, creason, cby, pinned, settings) = row
        return cls(
            id=sid,
            bed=bed,
            label=label,
            station=station,
            opened_at=opened,
            closed_at=closed,
            last_data_at=last,
            open_reason=oreason,
            opened_by=oby,
            close_reason=creason,
            closed_by=cby,
            pinned=bool(pinned),
            settings=json.loads(settings),
        )


class SessionStore:
    """Sessions, blocks, events and annotations on one ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, url: str) -> SessionStore:
        return cls(Database.open(url))

    # -- writes (inside a transaction) ------------------------------------------------------------------
    def insert_session(self, cur: Any, s: Session) -> None:
        cur.execute(
            f"INSERT INTO rec_sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                s.id,
                s.bed,
                s.label,
                s.station,
                s.opened_at,
                s.closed_at,
                s.last_data_at,
                s.open_reason,
                s.opened_by,
                s.close_reason,
                s.closed_by,
                int(s.pinned),
                json.dumps(s.settings),
            ),
        )

    def update_session(self, cur: Any, session_id: str, **fields: Any) -> None:
        allowed = {"label", "closed_at", "last_data_at", "close_reason", "closed_by", "opened_by", "open_reason",
                   "pinned", "settings"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        if "settings" in fields:
            fields["settings"] = json.dumps(fields["settings"])
        if "pinned" in fields:
            fields["pinned"] = int(fields["pinned"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        cur.execute(f"UPDATE rec_sessions SET {sets} WHERE id = ?", (*fields.values(), session_id))

    def write_hot(
        self, cur: Any, session_id: str, seq: int, entries: Sequence[Entry], vitals: Sequence[dict[str, Any]],
        compressor: int,
    ) -> None:
        """One tick of one bed, as a level-0 block."""
        times = [t for t, _ in entries] + [v["t"] for v in vitals]
        cur.execute(
            "INSERT INTO rec_blocks (session_id, seq, level, t0, t1, n, vitals, data) VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
            (
                session_id,
                seq,
                min(times),
                max(times),
                len(entries),
                encode_vitals(vitals, compressor) if vitals else None,
                encode_entries(entries, compressor),
            ),
        )

    def write_block(
        self, cur: Any, session_id: str, seq: int, entries: Sequence[Entry], vitals: Sequence[dict[str, Any]]
    ) -> None:
        """A compacted (level-1) block."""
        times = [t for t, _ in entries] + [v["t"] for v in vitals]
        if not times:
            return
        cur.execute(
            "INSERT INTO rec_blocks (session_id, seq, level, t0, t1, n, vitals, data) VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
            (
                session_id,
                seq,
                min(times),
                max(times),
                len(entries),
                encode_vitals(vitals, SMALL) if vitals else None,
                encode_entries(entries, SMALL),
            ),
        )

    def hot_blocks(
        self, session_id: str, up_to_seq: int | None = None, cur: Any | None = None
    ) -> tuple[list[int], list[Entry], list[dict[str, Any]]]:
        """The session's hot blocks (``seq <= up_to_seq``), decoded in order: their seqs, entries and vitals.
        Through ``cur`` inside a transaction, or on this thread's own connection."""
        where, params = self._hot_where(session_id, up_to_seq)
        text = f"SELECT seq, vitals, data FROM rec_blocks WHERE {where} ORDER BY seq"
        if cur is None:
            rows = self.db.query(text, params)
        else:
            cur.execute(text, params)
            rows = cur.fetchall()
        entries: list[Entry] = []
        vitals: list[dict[str, Any]] = []
        for _, vblob, dblob in rows:
            entries.extend(decode_entries(bytes(dblob)))
            if vblob is not None:
                vitals.extend(decode_vitals(bytes(vblob)))
        return [r[0] for r in rows], entries, vitals

    def delete_hot_blocks(self, cur: Any, session_id: str, up_to_seq: int | None = None) -> None:
        where, params = self._hot_where(session_id, up_to_seq)
        cur.execute(f"DELETE FROM rec_blocks WHERE {where}", params)

    @staticmethod
    def _hot_where(session_id: str, up_to_seq: int | None) -> tuple[str, tuple[Any, ...]]:
        if up_to_seq is None:
            return "session_id = ? AND level = 0", (session_id,)
        return "session_id = ? AND level = 0 AND seq <= ?", (session_id, up_to_seq)

    def compact(self, cur: Any, session_id: str, up_to_seq: int | None = None) -> int:
        """Merge the session's hot blocks (``seq <= up_to_seq``) into one compacted block; returns how many."""
        seqs, entries, vitals = self.hot_blocks(session_id, up_to_seq, cur)
        if not seqs:
            return 0
        self.delete_hot_blocks(cur, session_id, up_to_seq)
        self.write_block(cur, session_id, seqs[0], entries, vitals)
        return len(seqs)

    def insert_event(self, cur: Any, session_id: str, t: float, kind: str, name: str, payload: dict[str, Any]) -> None:
        cur.execute(
            "INSERT INTO rec_events (session_id, t, kind, name, payload) VALUES (?, ?, ?, ?, ?)",
            (session_id, t, kind, name, json.dumps(payload)),
        )

    def insert_annotation(
        self, cur: Any, session_id: str, bed: str, t: float, text: str, user: str | None, created_at: float
    ) -> None:
        cur.execute(
            "INSERT INTO rec_annotations (session_id, bed, t, text, user_name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, bed, t, text, user, created_at),
        )

    def prune(self, cur: Any, before: float) -> int:
        """Delete recordings older than ``before`` (pinned sessions are kept); returns sessions deleted."""
        cur.execute(
            "SELECT id FROM rec_sessions WHERE pinned = 0 AND closed_at IS NOT NULL AND closed_at < ?", (before,)
        )
        old = [r[0] for r in cur.fetchall()]
        for sid in old:
            for table in ("rec_blocks", "rec_events", "rec_annotations"):
                cur.execute(f"DELETE FROM {table} WHERE session_id = ?", (sid,))
            cur.execute("DELETE FROM rec_sessions WHERE id = ?", (sid,))
        # a session longer than the retention loses its oldest blocks
        cur.execute(
            "DELETE FROM rec_blocks WHERE t1 < ? AND session_id IN (SELECT id FROM rec_sessions WHERE pinned = 0)",
            (before,),
        )
        return len(old)

    # -- reads -----------------------------------------------------------------------------------------
    def session(self, session_id: str) -> Session:
        row = self.db.query_one(f"SELECT {_SESSION_COLUMNS} FROM rec_sessions WHERE id = ?", (session_id,))
        if row is None:
            raise RecordError(f"no session {session_id!r}")
        return Session.from_row(row)

    def sessions(self, *, bed: str | None = None, open_only: bool = False, limit: int = 500,
                 station: str | None = None) -> list[Session]:
        where, params = [], []
        if bed is not None:
            where.append("bed = ?")
            params.append(bed)
        if open_only:
            where.append("closed_at IS NULL")
        if station is not None:
            where.append("station = ?")
            params.append(station)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.query(
            f"SELECT {_SESSION_COLUMNS} FROM rec_sessions {clause} ORDER BY opened_at DESC LIMIT ?",
            (*params, limit),
        )
        return [Session.from_row(r) for r in rows]

    def alarm_counts(self, session_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Alarms raised per session, by priority."""
        if not session_ids:
            return {}
        marks = ", ".join("?" for _ in session_ids)
        rows = self.db.query(
            f"SELECT session_id, payload FROM rec_events WHERE kind = 'alarm' AND name = 'raised' "
            f"AND session_id IN ({marks})",
            tuple(session_ids),
        )
        out: dict[str, dict[str, int]] = {sid: {} for sid in session_ids}
        for sid, payload in rows:
            prio = json.loads(payload).get("alarm", {}).get("priority", "low")
            out[sid][prio] = out[sid].get(prio, 0) + 1
        return out

    def blocks(self, session_id: str, t0: float | None = None, t1: float | None = None) -> Iterator[list[Entry]]:
        """Decoded blocks in order (only those overlapping [t0, t1] when given)."""
        where, params = "session_id = ?", [session_id]
        if t0 is not None:
            where += " AND t1 >= ?"
            params.append(t0)
        if t1 is not None:
            where += " AND t0 <= ?"
            params.append(t1)
        ids = self.db.query(f"SELECT seq, level FROM rec_blocks WHERE {where} ORDER BY seq, level", params)
        for seq, level in ids:  # one block in memory at a time
            row = self.db.query_one(
                "SELECT data FROM rec_blocks WHERE session_id = ? AND seq = ? AND level = ?", (session_id, seq, level)
            )
            if row is not None:
                yield decode_entries(bytes(row[0]))

    def entries(self, session_id: str, t0: float | None = None, t1: float | None = None) -> Iterator[Entry]:
        for block in self.blocks(session_id, t0, t1):
            for arrival, item in block:
                if (t0 is None or arrival >= t0) and (t1 is None or arrival <= t1):
                    yield arrival, item

    def vitals(self, session_id: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT vitals FROM rec_blocks WHERE session_id = ? AND vitals IS NOT NULL ORDER BY seq, level",
            (session_id,),
        )
        out: list[dict[str, Any]] = []
        for (blob,) in rows:
            out.extend(decode_vitals(bytes(blob)))
        return out

    def events(self, session_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        where, params = "session_id = ?", [session_id]
        if kind is not None:
            where += " AND kind = ?"
            params.append(kind)
        rows = self.db.query(f"SELECT t, kind, name, payload FROM rec_events WHERE {where} ORDER BY t, id", params)
        return [{"t": t, "kind": k, "name": n, **json.loads(p)} for t, k, n, p in rows]

    def annotations(self, session_id: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT id, t, text, user_name, created_at FROM rec_annotations WHERE session_id = ? ORDER BY t, id",
            (session_id,),
        )
        return [{"id": i, "t": t, "text": x, "user": u, "created_at": c} for i, t, x, u, c in rows]

    def size(self, session_id: str) -> dict[str, int]:
        """Bytes and blocks stored for a session (waveforms+messages, vitals)."""
        row = self.db.query_one(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0), COALESCE(SUM(LENGTH(vitals)), 0) FROM rec_blocks "
            "WHERE session_id = ?",
            (session_id,),
        )
        assert row is not None
        return {"blocks": int(row[0]), "data_bytes": int(row[1]), "vitals_bytes": int(row[2])}

    def close(self) -> None:
        self.db.close()
