"""Sessions in the database, on SQLite and PostgreSQL: round trips, compaction, retention."""

from __future__ import annotations

import pytest

from monitor.errors import RecordError
from store.codec import FAST, decode_entries
from store.db import Database
from store.recording import Session, SessionStore, new_session_id
from tests.store.test_codec import _entries, entries_equal


@pytest.fixture
def store(db: Database) -> SessionStore:
    return SessionStore(db)


def _session(bed: str = "bed-1", t: float = 1764085200.0, **kw: object) -> Session:
    return Session(id=new_session_id(bed, t), bed=bed, opened_at=t, station="st-1",
                   settings={"limits": {"hr": {"high": 130}}, "reorder_window_s": 0.5}, **kw)  # type: ignore[arg-type]


def test_session_round_trip(store: SessionStore) -> None:
    s = _session(label="visit 3")
    with store.db.transaction() as cur:
        store.insert_session(cur, s)
    back = store.session(s.id)
    assert back == s and back.is_open
    with store.db.transaction() as cur:
        store.update_session(cur, s.id, closed_at=s.opened_at + 3600, close_reason="discharge", closed_by="nurse-a")
    back = store.session(s.id)
    assert (back.closed_at, back.close_reason, back.closed_by) == (s.opened_at + 3600, "discharge", "nurse-a")
    assert back.to_json()["duration_s"] == 3600
    assert [x.id for x in store.sessions(bed="bed-1")] == [s.id]
    assert store.sessions(open_only=True) == []
    with pytest.raises(RecordError):
        store.session("nope")


def test_blocks_round_trip_and_compaction(store: SessionStore) -> None:
    s = _session()
    entries = _entries(seed=5, n=400)
    vitals = [{"t": 1764085200.0 + i, "hr": 70.0 + i % 3, "rhythm": "sinus"} for i in range(40)]
    hot = list(range(0, len(entries), 37))
    with store.db.transaction() as cur:
        store.insert_session(cur, s)
        for seq, i in enumerate(hot):
            store.write_hot(cur, s.id, seq, entries[i : i + 37], vitals[seq * 3 : seq * 3 + 3], FAST)
    assert entries_equal(list(store.entries(s.id)), entries)
    with store.db.transaction() as cur:
        merged = store.compact(cur, s.id)
    assert merged == len(hot)
    size = store.size(s.id)
    assert size["blocks"] == 1 and size["data_bytes"] > 0
    assert entries_equal(list(store.entries(s.id)), entries)
    assert store.vitals(s.id) == vitals[: 3 * len(hot)]
    t0, t1 = entries[100][0], entries[200][0]
    window = list(store.entries(s.id, t0, t1))
    assert window and all(t0 <= t <= t1 for t, _ in window)
    row = store.db.query_one("SELECT data FROM rec_blocks WHERE session_id = ?", (s.id,))
    assert row is not None and entries_equal(decode_entries(bytes(row[0])), entries)


def test_events_and_annotations(store: SessionStore) -> None:
    s = _session()
    alarm = {"id": "a1", "bed": "bed-1", "type": "tachycardia", "priority": "medium", "state": "active"}
    with store.db.transaction() as cur:
        store.insert_session(cur, s)
        store.insert_event(cur, s.id, s.opened_at + 10, "alarm", "raised", {"alarm": alarm, "user": None})
        store.insert_event(cur, s.id, s.opened_at + 1, "session", "admitted", {"user": "nurse-a", "label": "x"})
        store.insert_annotation(cur, s.id, "bed-1", s.opened_at + 5, "midazolam 1 mg", "nurse-a", s.opened_at + 6)
    events = store.events(s.id)
    assert [e["name"] for e in events] == ["admitted", "raised"]
    assert events[1]["alarm"] == alarm
    assert store.alarm_counts([s.id]) == {s.id: {"medium": 1}}
    notes = store.annotations(s.id)
    assert [(n["text"], n["user"]) for n in notes] == [("midazolam 1 mg", "nurse-a")]


def test_retention_deletes_old_closed_unpinned_sessions_only(store: SessionStore) -> None:
    now = 1764085200.0
    old = _session("bed-1", now - 200 * 3600, closed_at=now - 100 * 3600)
    pinned = _session("bed-2", now - 200 * 3600, closed_at=now - 100 * 3600, pinned=True)
    recent = _session("bed-3", now - 10 * 3600, closed_at=now - 9 * 3600)
    still_open = _session("bed-4", now - 100 * 3600)
    entries = _entries(n=20)
    with store.db.transaction() as cur:
        for s in (old, pinned, recent, still_open):
            store.insert_session(cur, s)
            store.write_hot(cur, s.id, 0, [(s.opened_at + 1, m) for _, m in entries[:5]], [], FAST)
            store.insert_annotation(cur, s.id, s.bed, s.opened_at + 1, "note", None, s.opened_at + 1)
        store.write_hot(cur, still_open.id, 1, [(now - 1, m) for _, m in entries[5:10]], [], FAST)
    with store.db.transaction() as cur:
        assert store.prune(cur, now - 96 * 3600) == 1
    ids = {s.id for s in store.sessions()}
    assert ids == {pinned.id, recent.id, still_open.id}
    assert store.annotations(old.id) == [] and store.size(old.id)["blocks"] == 0
    # an open session older than the retention keeps only its recent blocks
    assert store.size(still_open.id)["blocks"] == 1
    assert store.size(pinned.id)["blocks"] == 1
