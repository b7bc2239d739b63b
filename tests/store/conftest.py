"""Database fixtures: every storage test runs on SQLite and on PostgreSQL (a private database per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from store.db import Database

PG_ADMIN_URL = os.environ.get("WARDWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin() -> object:
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc.__class__.__name__}); scripts/test.sh starts it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/wardwatch.sqlite"
        return
    admin = _pg_admin()
    name = f"wardwatch_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        admin.close()  # type: ignore[attr-defined]


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    try:
        yield database
    finally:
        database.close()
