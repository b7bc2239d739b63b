"""The audit trail: ONE append-only table of everything that happened to alarms and who did what.

``audit_log(id, t, bed, kind, actor, alarm_id, payload)``: ``t`` is station time (Unix s), ``bed`` the bed
(``"*"`` for station-wide entries, ``NULL`` for entries about no bed such as sign-ins), ``kind`` one of
``KINDS`` (docs/alarms.md), ``actor`` the signed-in user, API token (``token:<name>``), pager
(``pager:<tier>``) or ``system``; ``payload`` a JSON object. Rows are never updated or deleted.

Readers (the review pages, session replay) use ``AuditLog.query(bed=..., since=..., until=...)``: entries
in time order (then id order), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from store.db import Database, Writer, register_migration

__all__ = ["AuditEntry", "AuditLog", "KINDS"]

register_migration(
    "audit-001",
    """
    CREATE TABLE IF NOT EXISTS audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        t REAL NOT NULL,
        bed TEXT,
        kind TEXT NOT NULL,
        actor TEXT,
        alarm_id TEXT,
        payload TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_log_t ON audit_log (t);
    CREATE INDEX IF NOT EXISTS audit_log_bed_t ON audit_log (bed, t);
    CREATE INDEX IF NOT EXISTS audit_log_alarm ON audit_log (alarm_id)
    """,
)

#: Every kind of audit entry (documented in docs/alarms.md).
KINDS = (
    "alarm_raised",
    "alarm_acknowledged",
    "alarm_latched",
    "alarm_cleared",
    "alarm_reactivated",
    "audio_paused",
    "audio_resumed",
    "audio_pause_ended",
    "condition_off",
    "condition_on",
    "limits_changed",
    "profile_saved",
    "profile_deleted",
    "page_delivered",
    "page_failed",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "user_created",
    "user_changed",
    "token_created",
    "token_revoked",
    "station_started",
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    t: float
    bed: str | None
    kind: str
    actor: str | None
    alarm_id: str | None
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "t": self.t,
            "bed": self.bed,
            "kind": self.kind,
            "actor": self.actor,
            "alarm_id": self.alarm_id,
            "payload": self.payload,
        }


_INSERT = "INSERT INTO audit_log (t, bed, kind, actor, alarm_id, payload) VALUES (?, ?, ?, ?, ?, ?)"


class AuditLog:
    """Appends through a ``Writer`` (never blocks the live path); reads synchronously (call from a thread)."""

    def __init__(self, db: Database, writer: Writer | None = None) -> None:
        self.db = db
        self.writer = writer

    def append(
        self,
        t: float,
        kind: str,
        *,
        bed: str | None = None,
        actor: str | None = None,
        alarm_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown audit kind {kind!r}")
        row = (float(t), bed, kind, actor, alarm_id, json.dumps(payload or {}, separators=(",", ":"), default=str))
        if self.writer is None:
            self.db.execute(_INSERT, row)
        else:
            self.writer.submit(lambda cur: cur.execute(_INSERT, row))

    def query(
        self,
        *,
        bed: str | None = None,
        since: float | None = None,
        until: float | None = None,
        kinds: Iterable[str] | None = None,
        alarm_id: str | None = None,
        after_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Entries in time order; ``since`` inclusive, ``until`` exclusive; ``after_id`` pages through."""
        where: list[str] = []
        params: list[Any] = []
        if bed is not None:
            where.append("bed = ?")
            params.append(bed)
        if since is not None:
            where.append("t >= ?")
            params.append(float(since))
        if until is not None:
            where.append("t < ?")
            params.append(float(until))
        kinds = list(kinds or [])
        if kinds:
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        if alarm_id is not None:
            where.append("alarm_id = ?")
            params.append(alarm_id)
        if after_id is not None:
            where.append("id > ?")
            params.append(int(after_id))
        sql = "SELECT id, t, bed, kind, actor, alarm_id, payload FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY t, id LIMIT ?"
        params.append(max(1, min(int(limit), 10_000)))
        return [_entry(r) for r in self.db.query(sql, params)]


def _entry(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        id=int(row[0]),
        t=float(row[1]),
        bed=row[2],
        kind=str(row[3]),
        actor=row[4],
        alarm_id=row[5],
        payload=json.loads(row[6]) if row[6] else {},
    )
