"""Accounts on SQLite and PostgreSQL: hashed passwords, first admin, sessions, API tokens."""

from __future__ import annotations

import pytest

from store.accounts import AccountError, Accounts, hash_password, verify_password
from store.db import Database


def test_password_hashing() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$") and "correct" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("wrong horse battery", stored)
    assert not verify_password("x", "not-a-hash")
    assert hash_password("same password 1") != hash_password("same password 1")  # salted


def test_first_admin_and_users(db: Database) -> None:
    accounts = Accounts(db)
    generated = accounts.ensure_admin(None, now=1.0)
    assert generated and len(generated) >= 15
    assert accounts.authenticate("admin", generated).role == "admin"  # type: ignore[union-attr]
    assert accounts.ensure_admin(None, now=2.0) is None  # only once
    accounts.create_user("ann", "nurse", "ann-password-1", by="admin", now=3.0)
    with pytest.raises(AccountError, match="exists"):
        accounts.create_user("ann", "nurse", "ann-password-1", by="admin", now=3.0)
    for bad in [("a", "nurse", "long-enough-1"), ("bob", "surgeon", "long-enough-1"), ("bob", "nurse", "short")]:
        with pytest.raises(AccountError):
            accounts.create_user(*bad, by="admin", now=3.0)
    assert accounts.authenticate("ann", "nope") is None and accounts.authenticate("ghost", "x") is None
    accounts.update("ann", disabled=True)
    assert accounts.authenticate("ann", "ann-password-1") is None
    assert [u.username for u in accounts.all_users()] == ["admin", "ann"]


def test_admin_password_from_the_environment(db: Database) -> None:
    accounts = Accounts(db)
    assert accounts.ensure_admin("from-the-env-123", now=1.0) is None
    assert accounts.authenticate("admin", "from-the-env-123") is not None


def test_sessions_and_tokens(db: Database) -> None:
    accounts = Accounts(db)
    accounts.create_user("ann", "nurse", "ann-password-1", by="admin", now=0.0)
    token, expires = accounts.create_session("ann", now=100.0, ttl_s=60)
    assert expires == 160.0
    assert accounts.session_user(token, now=150.0).username == "ann"  # type: ignore[union-attr]
    assert accounts.session_user(token, now=161.0) is None
    assert accounts.session_user("forged", now=150.0) is None
    accounts.end_session(token)
    assert accounts.session_user(token, now=150.0) is None
    token2, _ = accounts.create_session("ann", now=100.0, ttl_s=60)
    accounts.update("ann", password="new-password-12")  # a new password ends the sessions
    assert accounts.session_user(token2, now=110.0) is None
    info, secret = accounts.create_token("pager gateway", "nurse", by="admin", now=5.0)
    assert secret.startswith("wwt_") and accounts.token(secret).name == "pager gateway"  # type: ignore[union-attr]
    assert secret not in str(db.query("SELECT * FROM api_tokens"))
    accounts.revoke_token(info.id, now=6.0)
    assert accounts.token(secret) is None
    with pytest.raises(AccountError):
        accounts.revoke_token(info.id, now=7.0)
