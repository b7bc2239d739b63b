"""The database behind WardWatch: one SQLite file by default, PostgreSQL for sites with several processes.

``Database.open(url)`` takes ``sqlite:///path/to/file.sqlite`` (or a bare path) or ``postgresql://…``. SQL is
written once with ``?`` placeholders and portable types; the PostgreSQL dialect rewrites placeholders and a
handful of type names. Each feature registers its own schema as numbered migrations (``register_migration``);
``Database.migrate()`` applies the missing ones in order, idempotently.

The API is synchronous: call it from a worker thread (``Writer`` batches writes in its own thread; reads from
async code go through ``asyncio.to_thread``). Each thread gets its own connection.
"""

from __future__ import annotations

import logging
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import WardWatchError

__all__ = ["Database", "StoreError", "Migration", "register_migration", "Writer"]

log = logging.getLogger(__name__)

Row = tuple[Any, ...]


class StoreError(WardWatchError):
    """The database cannot be opened, migrated or written."""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str  # unique, e.g. "recording-001"; applied in registration order
    sql: str  # portable DDL, statements separated by ";"


_MIGRATIONS: list[Migration] = []


def register_migration(name: str, sql: str) -> None:
    """Add a schema step (call at import time of the module that owns the tables)."""
    if any(m.name == name for m in _MIGRATIONS):
        return
    _MIGRATIONS.append(Migration(name, sql))


_PG_TYPES = [
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b", re.I), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
]


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
        self.path: Path | None = None
        if self.dialect == "sqlite":
            raw = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
            self.path = Path(raw)
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        db = cls(url)
        if db.path is not None:
            db.path.parent.mkdir(parents=True, exist_ok=True)
        db.connection()  # fail early with a clear message
        if migrate:
            db.migrate()
        return db

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else re.sub(r"://[^@/]*@", "://***@", self.url)

    # -- connections -----------------------------------------------------------------------------------
    def connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _connect(self) -> Any:
        try:
            if self.dialect == "sqlite":
                assert self.path is not None
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                return conn
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        except Exception as exc:
            raise StoreError(f"cannot open database {self}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except Exception:  # closing from another thread may fail; the process is ending
                    log.debug("close failed", exc_info=True)
            self._connections.clear()
        self._local = threading.local()

    # -- SQL -------------------------------------------------------------------------------------------
    def sql(self, text: str) -> str:
        if self.dialect == "sqlite":
            return text
        text = text.replace("?", "%s")
        for pattern, replacement in _PG_TYPES:
            text = pattern.sub(replacement, text)
        return text

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one transaction (committed on success, rolled back on error)."""
        conn = self.connection()
        if self.dialect == "sqlite":
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield _Cursor(self, cur)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()
        else:
            with conn.transaction(), conn.cursor() as cur:
                yield _Cursor(self, cur)

    def execute(self, text: str, params: Sequence[Any] = ()) -> None:
        with self.transaction() as cur:
            cur.execute(text, params)

    def query(self, text: str, params: Sequence[Any] = ()) -> list[Row]:
        conn = self.connection()
        cur = conn.cursor()
        try:
            cur.execute(self.sql(text), tuple(params))
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def query_one(self, text: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(text, params)
        return rows[0] if rows else None

    # -- schema ----------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the registered migrations that are missing; returns their names."""
        with self.transaction() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL)")
        applied = {r[0] for r in self.query("SELECT name FROM schema_migrations")}
        done = []
        for migration in list(_MIGRATIONS):
            if migration.name in applied:
                continue
            with self.transaction() as cur:
                for statement in _statements(migration.sql):
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (migration.name, time.time())
                )
            done.append(migration.name)
            log.info("database %s: applied %s", self, migration.name)
        return done


class _Cursor:
    """A cursor that speaks the portable SQL dialect."""

    def __init__(self, db: Database, cur: Any) -> None:
        self._db = db
        self._cur = cur

    def execute(self, text: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(self._db.sql(text), tuple(params))

    def executemany(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cur.executemany(self._db.sql(text), [tuple(r) for r in rows])

    def fetchall(self) -> list[Row]:
        return [tuple(r) for r in self._cur.fetchall()]

    def fetchone(self) -> Row | None:
        row = self._cur.fetchone()
        return None if row is None else tuple(row)


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


WriteJob = Callable[[_Cursor], None]


class Writer:
    """A background thread that runs write jobs in batched transactions, at least every ``interval`` s.

    ``submit(job)`` never blocks the caller (the live path); jobs queued within one interval share one
    transaction. ``flush()`` waits until everything submitted so far is committed. Errors are logged and
    counted, never raised into the live path; ``on_error`` is told (e.g. to raise a technical alarm).
    """

    def __init__(
        self, db: Database, *, interval: float = 0.25, on_error: Callable[[Exception], None] | None = None
    ) -> None:
        self.db = db
        self.interval = interval
        self.on_error = on_error
        self.errors = 0
        self.committed = 0
        self._queue: queue.SimpleQueue[WriteJob | threading.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="wardwatch-writer", daemon=True)
        self._thread.start()

    def submit(self, job: WriteJob) -> None:
        self._queue.put(job)

    def flush(self, timeout: float = 10.0) -> bool:
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            batch: list[WriteJob] = []
            waiters: list[threading.Event] = []
            deadline = time.monotonic() + self.interval
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    batch.append(item)
                if stop or waiters:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            self._commit(batch)
            for waiter in waiters:
                waiter.set()

    def _commit(self, batch: list[WriteJob]) -> None:
        if not batch:
            return
        try:
            with self.db.transaction() as cur:
                for job in batch:
                    job(cur)
            self.committed += len(batch)
        except Exception as exc:
            self.errors += 1
            log.exception("database write of %d job(s) failed", len(batch))
            if self.on_error is not None:
                self.on_error(exc)
