"""Operator accounts, sign-in sessions and API tokens.

* Users have a role: ``nurse``, ``charge_nurse``, ``reviewer`` or ``admin``. Passwords are hashed with scrypt
  (stdlib ``hashlib.scrypt``, a random salt per password); the hash records its parameters.
* There is no built-in password. ``ensure_admin`` creates the first admin when there are no users, with the
  password from ``WARDWATCH_ADMIN_PASSWORD`` or a generated one that the caller prints once.
* Sessions and API tokens are random secrets handed out once; only their SHA-256 is stored, so a copy of the
  database does not let anyone sign in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from monitor.errors import WardWatchError
from store.db import Database, register_migration

__all__ = [
    "ROLES",
    "User",
    "ApiToken",
    "Accounts",
    "AccountError",
    "hash_password",
    "verify_password",
    "USERNAME_RE",
]

register_migration(
    "accounts-001",
    """
    CREATE TABLE IF NOT EXISTS users (
        username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL, created_at REAL NOT NULL, created_by TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS sessions (
        token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS api_tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL, created_by TEXT NOT NULL, revoked_at REAL
    )
    """,
)

ROLES = ("nurse", "charge_nurse", "reviewer", "admin")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AccountError(WardWatchError):
    """A bad username, role or password, or a user that exists already."""


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str
    disabled: bool = False
    created_at: float = 0.0
    created_by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    name: str
    role: str
    created_at: float
    created_by: str
    revoked_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "revoked_at": self.revoked_at,
        }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_username(username: str) -> str:
    if not USERNAME_RE.match(username or ""):
        raise AccountError(
            "username: 2..32 characters, letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)} (got {str(role)[:30]!r})")
    return role


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 256:
        raise AccountError(f"password: {MIN_PASSWORD}..256 characters")
    return password


class Accounts:
    """Synchronous (call from a worker thread in async code)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._dummy = hash_password(secrets.token_urlsafe(16))  # equal work for unknown users

    # -- users ---------------------------------------------------------------------------------------------
    def count(self) -> int:
        row = self.db.query_one("SELECT COUNT(*) FROM users")
        return int(row[0]) if row else 0

    def create_user(self, username: str, role: str, password: str, *, by: str, now: float) -> User:
        check_username(username)
        check_role(role)
        check_password(password)
        if self.get(username) is not None:
            raise AccountError(f"user {username!r} exists already")
        self.db.execute(
            "INSERT INTO users (username, role, password_hash, disabled, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (username, role, hash_password(password), 0, now, by),
        )
        return User(username, role, False, now, by)

    def get(self, username: str) -> User | None:
        row = self.db.query_one(
            "SELECT username, role, disabled, created_at, created_by FROM users WHERE username = ?", (username,)
        )
        return None if row is None else User(row[0], row[1], bool(row[2]), float(row[3]), row[4])

    def all_users(self) -> list[User]:
        rows = self.db.query("SELECT username, role, disabled, created_at, created_by FROM users ORDER BY username")
        return [User(r[0], r[1], bool(r[2]), float(r[3]), r[4]) for r in rows]

    def update(
        self, username: str, *, role: str | None = None, password: str | None = None, disabled: bool | None = None
    ) -> User:
        if self.get(username) is None:
            raise AccountError(f"no user {username[:40]!r}")
        with self.db.transaction() as cur:
            if role is not None:
                cur.execute("UPDATE users SET role = ? WHERE username = ?", (check_role(role), username))
            if password is not None:
                cur.execute(
                    "UPDATE users SET password_hash = ? WHERE username = ?",
                    (hash_password(check_password(password)), username),
                )
            if disabled is not None:
                cur.execute("UPDATE users SET disabled = ? WHERE username = ?", (1 if disabled else 0, username))
            if password is not None or disabled:
                cur.execute("DELETE FROM sessions WHERE username = ?", (username,))
        user = self.get(username)
        assert user is not None
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        row = self.db.query_one("SELECT password_hash, disabled FROM users WHERE username = ?", (username,))
        if row is None:
            verify_password(password, self._dummy)
            return None
        if not verify_password(password, row[0]) or row[1]:
            return None
        return self.get(username)

    def ensure_admin(self, password: str | None, *, now: float, username: str = "admin") -> str | None:
        """Create the first admin if there are no users. Returns the generated password (to print once), or
        None when a password was given or users exist already."""
        if self.count() > 0:
            return None
        generated = None
        if not password:
            generated = password = secrets.token_urlsafe(15)
        self.create_user(username, "admin", password, by="system", now=now)
        return generated

    # -- sessions ------------------------------------------------------------------------------------------
    def create_session(self, username: str, *, now: float, ttl_s: float) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        expires = now + ttl_s
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            cur.execute(
                "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (_sha(token), username, now, expires),
            )
        return token, expires

    def session_user(self, token: str, *, now: float) -> User | None:
        row = self.db.query_one(
            "SELECT u.username, u.role, u.disabled, u.created_at, u.created_by FROM sessions s "
            "JOIN users u ON u.username = s.username WHERE s.token_hash = ? AND s.expires_at > ?",
            (_sha(token), now),
        )
        if row is None or row[2]:
            return None
        return User(row[0], row[1], False, float(row[3]), row[4])

    def end_session(self, token: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE token_hash = ?", (_sha(token),))

    # -- API tokens ----------------------------------------------------------------------------------------
    def create_token(self, name: str, role: str, *, by: str, now: float) -> tuple[ApiToken, str]:
        check_role(role)
        if not re.match(r"^[\w .@-]{2,64}$", name or ""):
            raise AccountError("token name: 2..64 characters (letters, digits, space, . @ _ -)")
        token_id = secrets.token_hex(6)
        secret = f"wwt_{token_id}_{secrets.token_urlsafe(32)}"
        self.db.execute(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_at, created_by, revoked_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_id, name, role, _sha(secret), now, by, None),
        )
        return ApiToken(token_id, name, role, now, by), secret

    def token(self, secret: str) -> ApiToken | None:
        row = self.db.query_one(
            "SELECT id, name, role, created_at, created_by, revoked_at FROM api_tokens WHERE token_hash = ?",
            (_sha(secret),),
        )
        if row is None or row[5] is not None:
            return None
        return ApiToken(row[0], row[1], row[2], float(row[3]), row[4], None)

    def tokens(self) -> list[ApiToken]:
        rows = self.db.query(
            "SELECT id, name, role, created_at, created_by, revoked_at FROM api_tokens ORDER BY created_at"
        )
        return [ApiToken(r[0], r[1], r[2], float(r[3]), r[4], r[5]) for r in rows]

    def revoke_token(self, token_id: str, *, now: float) -> ApiToken:
        row = self.db.query_one("SELECT id FROM api_tokens WHERE id = ? AND revoked_at IS NULL", (token_id,))
        if row is None:
            raise AccountError(f"no active token {token_id[:20]!r}")
        self.db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", (now, token_id))
        return next(t for t in self.tokens() if t.id == token_id)
