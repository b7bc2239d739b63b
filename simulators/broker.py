"""Broker addresses: ``mqtt://[user[:password]@]host[:port]`` (default port 1883)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from monitor.errors import ConfigError

__all__ = ["BrokerAddress"]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse ``mqtt://user:pass@host:port``; a bare ``host[:port]`` is accepted too."""
        text = url.strip()
        if "://" not in text:
            text = "mqtt://" + text
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"bad broker URL {url!r}: {exc}") from None
        if parts.scheme not in ("mqtt", "tcp"):
            raise ConfigError(f"bad broker URL {url!r}: scheme must be mqtt:// (TLS is not supported)")
        if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigError(f"bad broker URL {url!r}: expected mqtt://[user[:password]@]host[:port]")
        return cls(
            host=parts.hostname,
            port=port or 1883,
            username=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def __str__(self) -> str:
        """The URL without the password (safe to log)."""
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{user}{host}:{self.port}"
