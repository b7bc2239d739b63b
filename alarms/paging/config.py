"""The paging config file (TOML): tiers, escalation rules and notifier channels, validated at start.

See docs/alarms.md ("Paging configuration") and deploy/paging.example.toml. Secrets never live in this file:
a channel names the environment variable that holds its secret (``secret_env``, ``password_env``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alarms.catalog import Priority
from alarms.escalation import DEFAULT_POLICY, EscalationPolicy, Rule, Step
from monitor.errors import ConfigError

__all__ = [
    "PagingConfig",
    "WebhookConfig",
    "SmtpConfig",
    "MqttConfig",
    "MllpConfig",
    "RetryConfig",
    "load_paging_config",
    "parse_paging_config",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Model):
    timeout_s: float = Field(3.0, gt=0, le=60, description="one attempt gives up after this long")
    retries: int = Field(2, ge=0, le=10, description="attempts after the first one")
    backoff_s: float = Field(0.5, ge=0, le=60, description="wait before retry n: backoff_s * 2**(n-1)")
    concurrency: int = Field(4, ge=1, le=64, description="pages in flight at once on this channel")


class WebhookConfig(RetryConfig):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret_env: str | None = Field(None, description="env var with the HMAC-SHA256 key (X-WardWatch-Signature)")
    headers: dict[str, str] = Field(default_factory=dict)


class SmtpConfig(RetryConfig):
    type: Literal["smtp"]
    host: str
    port: int = Field(25, ge=1, le=65535)
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None


class MqttConfig(RetryConfig):
    type: Literal["mqtt"]
    broker: str | None = Field(None, description="mqtt://host:port; default: the station's broker")
    username: str | None = None
    password_env: str | None = None
    topic: str = Field(min_length=1, max_length=200)
    qos: Literal[1, 2] = 1

    @field_validator("topic")
    @classmethod
    def _plain(cls, v: str) -> str:
        if "+" in v or "#" in v:
            raise ValueError("a pager topic cannot contain wildcards")
        return v


class MllpConfig(RetryConfig):
    type: Literal["hl7-mllp"]
    host: str
    port: int = Field(ge=1, le=65535)
    sending_application: str = "WARDWATCH"
    sending_facility: str = "PACU"
    receiving_application: str = "AM"
    receiving_facility: str = ""


ChannelConfig = Annotated[WebhookConfig | SmtpConfig | MqttConfig | MllpConfig, Field(discriminator="type")]


class StepConfig(_Model):
    tier: str
    after_s: float = Field(ge=0, le=3600)


class RuleConfig(_Model):
    steps: list[StepConfig] = Field(default_factory=list)
    renotify_s: float | None = Field(None, ge=5, le=3600)


class PagingConfig(_Model):
    station: str = Field("WardWatch", min_length=1, max_length=64, description="name shown in pages")
    public_url: str | None = Field(None, pattern=r"^https?://", description="base of the acknowledge links")
    ack_link_ttl_s: float = Field(3600, ge=60, le=86400)
    all_clear: bool = True
    queue_size: int = Field(1000, ge=10, le=100_000, description="pages waiting per channel before refusing")
    tiers: dict[str, list[str]] = Field(default_factory=dict, description="tier -> channel names")
    rules: dict[Priority, RuleConfig] | None = None
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> PagingConfig:
        for tier, names in self.tiers.items():
            if not names:
                raise ValueError(f"tier {tier!r} has no channels")
            for name in names:
                if name not in self.channels:
                    raise ValueError(f"tier {tier!r} uses unknown channel {name!r}")
        for tier in self.policy().tiers:
            if tier not in self.tiers:
                raise ValueError(f"escalation rules page tier {tier!r}, which [tiers] does not define")
        return self

    def policy(self) -> EscalationPolicy:
        if self.rules is None:  # the defaults, limited to the tiers this site defines
            rules = {
                p: Rule(tuple(s for s in r.steps if s.tier in self.tiers), r.renotify_s)
                for p, r in DEFAULT_POLICY.rules.items()
            }
            return EscalationPolicy(rules, all_clear=self.all_clear)
        try:
            rules = {
                p: Rule(tuple(Step(s.tier, s.after_s) for s in r.steps), r.renotify_s) for p, r in self.rules.items()
            }
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        return EscalationPolicy(rules, all_clear=self.all_clear)

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    def summary(self) -> dict[str, Any]:
        """For the API: no secrets (URLs and hosts only)."""
        policy = self.policy()
        return {
            "enabled": self.enabled,
            "station": self.station,
            "tiers": self.tiers,
            "rules": {
                p.value: {
                    "steps": [{"tier": s.tier, "after_s": s.after_s} for s in r.steps],
                    "renotify_s": r.renotify_s,
                }
                for p, r in policy.rules.items()
            },
            "all_clear": policy.all_clear,
            "channels": {name: _describe(c) for name, c in self.channels.items()},
        }


def _describe(c: Any) -> dict[str, Any]:
    if isinstance(c, WebhookConfig):
        return {"type": c.type, "url": c.url.split("?")[0]}
    if isinstance(c, SmtpConfig):
        return {"type": c.type, "host": c.host, "port": c.port, "to": c.to}
    if isinstance(c, MqttConfig):
        return {"type": c.type, "broker": c.broker or "(station broker)", "topic": c.topic}
    return {"type": c.type, "host": c.host, "port": c.port}


def parse_paging_config(data: dict[str, Any]) -> PagingConfig:
    try:
        return PagingConfig.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            parts.append(f"{where}: {err['msg']}" if where else err["msg"])
        raise ConfigError("paging config: " + "; ".join(parts)) from exc


def load_paging_config(path: Path) -> PagingConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read paging config {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"paging config {path} is not valid TOML: {exc}") from exc
    config = parse_paging_config(data)
    for name, channel in config.channels.items():
        for attr in ("secret_env", "password_env"):
            var = getattr(channel, attr, None)
            if var and not os.environ.get(var):
                raise ConfigError(f"paging channel {name!r}: environment variable {var} is not set")
    return config
