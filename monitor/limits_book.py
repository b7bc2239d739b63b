"""Per-bed limits and named profiles, as the station keeps them (pure: the desk persists and audits).

A bed's limits are a profile plus dotted overrides (``{"hr.high": 130}``), resolved and validated by
``monitor.limits``. Built-in profiles (``monitor.limits.PROFILES``) cannot be changed; sites add their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from monitor.errors import ConfigError
from monitor.limits import PROFILES, Limits, apply_overrides

__all__ = ["LimitsBook", "BedSetting", "PROFILE_NAME_RE"]

PROFILE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


@dataclass(frozen=True, slots=True)
class BedSetting:
    bed: str
    profile: str
    overrides: dict[str, Any]
    limits: Limits
    updated_at: float | None = None
    updated_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "bed": self.bed,
            "profile": self.profile,
            "overrides": self.overrides,
            "limits": self.limits.model_dump(),
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


@dataclass
class LimitsBook:
    default_profile: str
    custom: dict[str, Limits] = field(default_factory=dict)
    beds: dict[str, BedSetting] = field(default_factory=dict)

    # -- profiles ------------------------------------------------------------------------------------------
    def profile(self, name: str) -> Limits:
        if name in PROFILES:
            return PROFILES[name]
        if name in self.custom:
            return self.custom[name]
        known = ", ".join(sorted({*PROFILES, *self.custom}))
        raise ConfigError(f"unknown profile {name[:40]!r}; known: {known}")

    def profiles(self) -> list[dict[str, Any]]:
        out = [{"name": n, "builtin": True, "limits": lim.model_dump()} for n, lim in sorted(PROFILES.items())]
        out += [{"name": n, "builtin": False, "limits": lim.model_dump()} for n, lim in sorted(self.custom.items())]
        return out

    def save_profile(self, name: str, data: dict[str, Any]) -> Limits:
        if not PROFILE_NAME_RE.match(name or ""):
            raise ConfigError("profile name: 2..40 characters, lower-case letters, digits and '-'")
        if name in PROFILES:
            raise ConfigError(f"profile {name!r} is built in and cannot be changed; save it under another name")
        limits = validate_limits(data)
        self.custom[name] = limits
        return limits

    def delete_profile(self, name: str) -> None:
        if name in PROFILES:
            raise ConfigError(f"profile {name!r} is built in and cannot be deleted")
        if name not in self.custom:
            raise ConfigError(f"unknown profile {name[:40]!r}")
        users = sorted(b for b, s in self.beds.items() if s.profile == name)
        if users:
            raise ConfigError(f"profile {name!r} is in use by {', '.join(users[:5])}")
        del self.custom[name]

    # -- beds ----------------------------------------------------------------------------------------------
    def setting(self, bed: str) -> BedSetting:
        return self.beds.get(bed) or BedSetting(bed, self.default_profile, {}, self.profile(self.default_profile))

    def limits_for(self, bed: str) -> Limits:
        setting = self.beds.get(bed)
        return setting.limits if setting is not None else self.profile(self.default_profile)

    def resolve(self, bed: str, profile: str | None, overrides: dict[str, Any] | None) -> BedSetting:
        """Validate a new setting for ``bed`` (``ConfigError`` with a message saying which field and why)."""
        current = self.setting(bed)
        name = profile or current.profile
        over = dict(current.overrides if profile is None and overrides is None else overrides or {})
        limits = apply_overrides(self.profile(name), over)
        return BedSetting(bed, name, over, limits)

    def put(self, setting: BedSetting) -> None:
        self.beds[setting.bed] = setting


def validate_limits(data: dict[str, Any]) -> Limits:
    if not isinstance(data, dict):
        raise ConfigError('limits must be an object like {"hr": {"high": 120}, "spo2": {...}}')
    try:
        return Limits.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            parts.append(f"{where}: {err['msg']}" if where else err["msg"])
        raise ConfigError("; ".join(parts)) from exc
