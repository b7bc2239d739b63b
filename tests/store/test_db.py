"""The portable database layer: migrations, transactions and the batching writer, on both dialects."""

from __future__ import annotations

import threading

import pytest

from store.db import Database, StoreError, Writer, register_migration

register_migration(
    "test-db-001",
    "CREATE TABLE IF NOT EXISTS t_items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, v REAL, data BLOB)",
)


def test_migrations_apply_once(db: Database) -> None:
    assert db.migrate() == []  # already applied by the fixture
    assert ("test-db-001",) in db.query("SELECT name FROM schema_migrations")


def test_round_trip_and_rollback(db: Database) -> None:
    db.execute("INSERT INTO t_items (name, v, data) VALUES (?, ?, ?)", ("a", 1.5, b"\x00\x01"))
    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("INSERT INTO t_items (name, v, data) VALUES (?, ?, ?)", ("b", 2.0, b""))
            raise RuntimeError("boom")
    rows = db.query("SELECT name, v, data FROM t_items ORDER BY id")
    assert [(r[0], r[1], bytes(r[2])) for r in rows] == [("a", 1.5, b"\x00\x01")]


def test_writer_batches_and_flushes_from_another_thread(db: Database) -> None:
    writer = Writer(db, interval=0.05)
    for i in range(200):
        writer.submit(lambda cur, i=i: cur.execute("INSERT INTO t_items (name, v) VALUES (?, ?)", (f"n{i}", i)))
    assert writer.flush()
    assert db.query_one("SELECT COUNT(*) FROM t_items") == (200,)
    assert writer.committed == 200 and writer.errors == 0
    writer.close()


def test_writer_reports_errors_and_goes_on(db: Database) -> None:
    seen: list[Exception] = []
    writer = Writer(db, interval=0.01, on_error=seen.append)
    writer.submit(lambda cur: cur.execute("INSERT INTO no_such_table VALUES (1)"))
    writer.flush()
    writer.submit(lambda cur: cur.execute("INSERT INTO t_items (name) VALUES (?)", ("ok",)))
    writer.flush()
    assert writer.errors == 1 and len(seen) == 1
    assert db.query_one("SELECT COUNT(*) FROM t_items WHERE name = ?", ("ok",)) == (1,)
    writer.close()
    assert threading.active_count() >= 1


def test_bad_url_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(StoreError, match="cannot open database"):
        Database.open("postgresql://nobody@127.0.0.1:1/none")
