"""Durable alarm state: alarms, audio pauses, alarms off, bed limits, limit profiles, beds seen, pages and
their deliveries. What the station needs to come back after a restart exactly as it was.

Alarms, controls and limits are written through the ``Writer`` (batched, off the live path). Pages and their
delivery outcomes go through the same writer, in order (a page is queued before it is sent): after a restart,
deliveries still pending are sent again, with the same page id, and nothing delivered is sent again (but for
the writer's last interval before a crash).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alarms.catalog import Kind, Priority
from alarms.controls import AudioPause, ConditionOff
from alarms.escalation import PageRequest
from alarms.model import Alarm
from alarms.state import AlarmState
from store.db import Database, Writer, register_migration

__all__ = ["AlarmStore", "BedLimitsRecord", "Delivery", "alarm_from_json"]

register_migration(
    "alarms-001",
    """
    CREATE TABLE IF NOT EXISTS alarms (
        id TEXT PRIMARY KEY, bed TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL,
        raised_at REAL NOT NULL, updated_at REAL NOT NULL, data TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS alarms_state ON alarms (state);
    CREATE TABLE IF NOT EXISTS audio_pauses (
        bed TEXT PRIMARY KEY, started_at REAL NOT NULL, ends_at REAL NOT NULL, actor TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS conditions_off (
        bed TEXT NOT NULL, type TEXT NOT NULL, since REAL NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL,
        PRIMARY KEY (bed, type)
    );
    CREATE TABLE IF NOT EXISTS bed_limits (
        bed TEXT PRIMARY KEY, profile TEXT NOT NULL, overrides TEXT NOT NULL, updated_at REAL NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS limit_profiles (
        name TEXT PRIMARY KEY, limits TEXT NOT NULL, updated_at REAL NOT NULL, actor TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS beds_seen (bed TEXT PRIMARY KEY, last_seen REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS pages (
        id TEXT PRIMARY KEY, alarm_id TEXT NOT NULL, seq INTEGER NOT NULL, bed TEXT NOT NULL, tier TEXT NOT NULL,
        phase TEXT NOT NULL, t REAL NOT NULL, data TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS pages_alarm ON pages (alarm_id);
    CREATE INDEX IF NOT EXISTS pages_t ON pages (t);
    CREATE TABLE IF NOT EXISTS page_deliveries (
        page_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
        last_error TEXT, updated_at REAL NOT NULL, delivered_at REAL,
        PRIMARY KEY (page_id, channel)
    );
    CREATE INDEX IF NOT EXISTS page_deliveries_status ON page_deliveries (status)
    """,
)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


def alarm_from_json(data: dict[str, Any]) -> Alarm:
    return Alarm(
        id=str(data["id"]),
        bed=str(data["bed"]),
        type=str(data["type"]),
        priority=Priority(data["priority"]),
        kind=Kind(data["kind"]),
        latching=bool(data["latching"]),
        state=AlarmState(data["state"]),
        onset=float(data["onset"]),
        raised_at=float(data["raised_at"]),
        value=data.get("value"),
        limit=data.get("limit"),
        message=str(data.get("message") or ""),
        ended_at=data.get("ended_at"),
        acknowledged_at=data.get("acknowledged_at"),
        acknowledged_by=data.get("acknowledged_by"),
    )


@dataclass(frozen=True, slots=True)
class BedLimitsRecord:
    bed: str
    profile: str
    overrides: dict[str, Any]
    updated_at: float
    actor: str


@dataclass(frozen=True, slots=True)
class Delivery:
    page_id: str
    channel: str
    status: str  # pending, delivered, failed
    attempts: int
    last_error: str | None
    updated_at: float
    delivered_at: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "updated_at": self.updated_at,
            "delivered_at": self.delivered_at,
        }


_UPSERT_ALARM = (
    "INSERT INTO alarms (id, bed, type, state, raised_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, data = excluded.data"
)


class AlarmStore:
    def __init__(self, db: Database, writer: Writer) -> None:
        self.db = db
        self.writer = writer

    # -- alarms --------------------------------------------------------------------------------------------
    def save_alarm(self, alarm: dict[str, Any], t: float) -> None:
        row = (alarm["id"], alarm["bed"], alarm["type"], alarm["state"], alarm["raised_at"], t, _dumps(alarm))
        self.writer.submit(lambda cur: cur.execute(_UPSERT_ALARM, row))

    def open_alarms(self) -> list[Alarm]:
        rows = self.db.query("SELECT data FROM alarms WHERE state <> ? ORDER BY raised_at", ("cleared",))
        return [alarm_from_json(json.loads(r[0])) for r in rows]

    def alarm(self, alarm_id: str) -> dict[str, Any] | None:
        row = self.db.query_one("SELECT data FROM alarms WHERE id = ?", (alarm_id,))
        return json.loads(row[0]) if row else None

    # -- controls ------------------------------------------------------------------------------------------
    def save_pause(self, pause: AudioPause) -> None:
        row = (pause.bed, pause.started_at, pause.ends_at, pause.by)

        def job(cur: Any) -> None:
            cur.execute("DELETE FROM audio_pauses WHERE bed = ?", (row[0],))
            cur.execute("INSERT INTO audio_pauses (bed, started_at, ends_at, actor) VALUES (?, ?, ?, ?)", row)

        self.writer.submit(job)

    def delete_pause(self, bed: str) -> None:
        self.writer.submit(lambda cur: cur.execute("DELETE FROM audio_pauses WHERE bed = ?", (bed,)))

    def pauses(self) -> list[AudioPause]:
        rows = self.db.query("SELECT bed, started_at, ends_at, actor FROM audio_pauses ORDER BY bed")
        return [AudioPause(r[0], float(r[1]), float(r[2]), r[3]) for r in rows]

    def save_off(self, entry: ConditionOff) -> None:
        row = (entry.bed, entry.type, entry.since, entry.by, entry.reason)

        def job(cur: Any) -> None:
            cur.execute("DELETE FROM conditions_off WHERE bed = ? AND type = ?", row[:2])
            cur.execute("INSERT INTO conditions_off (bed, type, since, actor, reason) VALUES (?, ?, ?, ?, ?)", row)

        self.writer.submit(job)

    def delete_off(self, bed: str, alarm_type: str) -> None:
        self.writer.submit(
            lambda cur: cur.execute("DELETE FROM conditions_off WHERE bed = ? AND type = ?", (bed, alarm_type))
        )

    def conditions_off(self) -> list[ConditionOff]:
        rows = self.db.query("SELECT bed, type, since, actor, reason FROM conditions_off ORDER BY bed, type")
        return [ConditionOff(r[0], r[1], float(r[2]), r[3], r[4]) for r in rows]

    # -- limits --------------------------------------------------------------------------------------------
    def save_bed_limits(self, rec: BedLimitsRecord) -> None:
        row = (rec.bed, rec.profile, _dumps(rec.overrides), rec.updated_at, rec.actor)

        def job(cur: Any) -> None:
            cur.execute("DELETE FROM bed_limits WHERE bed = ?", (row[0],))
            cur.execute(
                "INSERT INTO bed_limits (bed, profile, overrides, updated_at, actor) VALUES (?, ?, ?, ?, ?)", row
            )

        self.writer.submit(job)

    def bed_limits(self) -> list[BedLimitsRecord]:
        rows = self.db.query("SELECT bed, profile, overrides, updated_at, actor FROM bed_limits ORDER BY bed")
        return [BedLimitsRecord(r[0], r[1], json.loads(r[2]), float(r[3]), r[4]) for r in rows]

    def save_profile(self, name: str, limits: dict[str, Any], t: float, actor: str) -> None:
        row = (name, _dumps(limits), t, actor)

        def job(cur: Any) -> None:
            cur.execute("DELETE FROM limit_profiles WHERE name = ?", (name,))
            cur.execute("INSERT INTO limit_profiles (name, limits, updated_at, actor) VALUES (?, ?, ?, ?)", row)

        self.writer.submit(job)

    def delete_profile(self, name: str) -> None:
        self.writer.submit(lambda cur: cur.execute("DELETE FROM limit_profiles WHERE name = ?", (name,)))

    def profiles(self) -> list[tuple[str, dict[str, Any], float, str]]:
        rows = self.db.query("SELECT name, limits, updated_at, actor FROM limit_profiles ORDER BY name")
        return [(r[0], json.loads(r[1]), float(r[2]), r[3]) for r in rows]

    # -- beds seen -----------------------------------------------------------------------------------------
    def save_beds_seen(self, seen: dict[str, float]) -> None:
        rows = list(seen.items())

        def job(cur: Any) -> None:
            for bed, t in rows:
                cur.execute("DELETE FROM beds_seen WHERE bed = ?", (bed,))
                cur.execute("INSERT INTO beds_seen (bed, last_seen) VALUES (?, ?)", (bed, t))

        if rows:
            self.writer.submit(job)

    def beds_seen(self, since: float) -> dict[str, float]:
        rows = self.db.query("SELECT bed, last_seen FROM beds_seen WHERE last_seen >= ?", (since,))
        return {r[0]: float(r[1]) for r in rows}

    # -- pages ---------------------------------------------------------------------------------------------
    def save_pages(self, pages: Iterable[tuple[PageRequest, list[str]]], t: float) -> None:
        """Record pages and their pending deliveries (through the writer: never blocks; idempotent by page id).
        Queued before any delivery outcome of these pages, so the writer commits them first."""
        rows = list(pages)

        def job(cur: Any) -> None:
            for page, channels in rows:
                cur.execute("SELECT id FROM pages WHERE id = ?", (page.id,))
                if cur.fetchone() is not None:
                    continue
                cur.execute(
                    "INSERT INTO pages (id, alarm_id, seq, bed, tier, phase, t, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (page.id, page.alarm_id, page.seq, page.bed, page.tier, page.phase, page.t, _dumps(page.to_json())),
                )
                for channel in channels:
                    cur.execute(
                        "INSERT INTO page_deliveries (page_id, channel, status, attempts, last_error, updated_at, "
                        "delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (page.id, channel, "pending", 0, None, t, None),
                    )

        self.writer.submit(job)

    def set_delivery(self, page_id: str, channel: str, status: str, attempts: int, error: str | None, t: float) -> None:
        row = (status, attempts, error, t, t if status == "delivered" else None, page_id, channel)
        self.writer.submit(
            lambda cur: cur.execute(
                "UPDATE page_deliveries SET status = ?, attempts = ?, last_error = ?, updated_at = ?, delivered_at = ? "
                "WHERE page_id = ? AND channel = ?",
                row,
            )
        )

    def pages_of(self, alarm_ids: Iterable[str]) -> dict[str, list[PageRequest]]:
        ids = list(alarm_ids)
        out: dict[str, list[PageRequest]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            if not part:
                continue
            rows = self.db.query(
                f"SELECT data FROM pages WHERE alarm_id IN ({', '.join('?' for _ in part)}) ORDER BY seq", part
            )
            for (data,) in rows:
                page = PageRequest.from_json(json.loads(data))
                out[page.alarm_id].append(page)
        return out

    def pending_deliveries(self) -> list[tuple[PageRequest, str, int]]:
        rows = self.db.query(
            "SELECT p.data, d.channel, d.attempts FROM page_deliveries d JOIN pages p ON p.id = d.page_id "
            "WHERE d.status = ? ORDER BY p.t, p.id",
            ("pending",),
        )
        return [(PageRequest.from_json(json.loads(r[0])), r[1], int(r[2])) for r in rows]

    def list_pages(
        self, *, alarm_id: str | None = None, since: float | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        where, params = [], []  # type: ignore[var-annotated]
        if alarm_id is not None:
            where.append("alarm_id = ?")
            params.append(alarm_id)
        if since is not None:
            where.append("t >= ?")
            params.append(since)
        sql = "SELECT id, data FROM pages" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY t DESC, seq DESC LIMIT ?"
        params.append(max(1, min(limit, 2000)))
        pages = self.db.query(sql, params)
        if not pages:
            return []
        ids = [p[0] for p in pages]
        deliveries: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        rows = self.db.query(
            "SELECT page_id, channel, status, attempts, last_error, updated_at, delivered_at FROM page_deliveries "
            f"WHERE page_id IN ({', '.join('?' for _ in ids)}) ORDER BY channel",
            ids,
        )
        for r in rows:
            deliveries[r[0]].append(Delivery(r[0], r[1], r[2], int(r[3]), r[4], float(r[5]), r[6]).to_json())
        out = []
        for page_id, data in pages:
            item = json.loads(data)
            item["deliveries"] = deliveries[page_id]
            out.append(item)
        return out
