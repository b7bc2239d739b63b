"""One error root for the whole project; library errors are translated at the boundary."""

from __future__ import annotations

__all__ = [
    "WardWatchError",
    "ConfigError",
    "ContractError",
    "RecordError",
]


class WardWatchError(Exception):
    """Root of every error WardWatch raises on purpose."""


class ConfigError(WardWatchError):
    """Settings or a limits profile are invalid."""


class ContractError(WardWatchError):
    """A message does not follow the MQTT contract (see docs/mqtt.md)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RecordError(WardWatchError):
    """A WFDB record or recorded session cannot be read."""
