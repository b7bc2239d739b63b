"""The audit trail on SQLite and PostgreSQL: append-only, read back by bed and time range, in time order."""

from __future__ import annotations

import pytest

from store.audit import KINDS, AuditLog
from store.db import Database, Writer


def test_append_and_query(db: Database) -> None:
    writer = Writer(db, interval=0.01)
    log = AuditLog(db, writer)
    log.append(10.0, "alarm_raised", bed="bed-1", alarm_id="a1", payload={"type": "tachycardia"})
    log.append(12.0, "alarm_acknowledged", bed="bed-1", actor="ann", alarm_id="a1", payload={"state": "acknowledged"})
    log.append(11.0, "audio_paused", bed="bed-2", actor="bob", payload={"ends_at": 131.0})
    log.append(13.0, "sign_in", actor="ann", payload={"role": "nurse"})
    log.append(14.0, "alarm_raised", bed="*", alarm_id="a2", payload={})
    assert writer.flush()
    everything = log.query()
    assert [e.t for e in everything] == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert [(e.kind, e.actor) for e in log.query(bed="bed-1")] == [
        ("alarm_raised", None),
        ("alarm_acknowledged", "ann"),
    ]
    assert [e.kind for e in log.query(since=11.0, until=13.0)] == ["audio_paused", "alarm_acknowledged"]
    assert [e.kind for e in log.query(kinds=["sign_in"])] == ["sign_in"]
    assert log.query(alarm_id="a1")[1].payload == {"state": "acknowledged"}
    first = everything[0]
    assert [e.id for e in log.query(after_id=first.id, limit=2)] == [e.id for e in everything[1:3]]
    assert log.query(bed="*")[0].to_json()["bed"] == "*"
    writer.close()


def test_unknown_kind_is_refused(db: Database) -> None:
    with pytest.raises(ValueError):
        AuditLog(db).append(1.0, "something_else")
    assert "limits_changed" in KINDS and "condition_off" in KINDS
