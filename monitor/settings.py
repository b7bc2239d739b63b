"""One settings object for the whole service (env prefix ``WARDWATCH_``), validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.limits import PROFILES

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARDWATCH_", extra="ignore")

    broker: str | None = Field(None, description="mqtt://[user:pass@]host:port; None = embedded broker (demo)")
    topic_root: str = Field("vitals", min_length=1, description="MQTT topic root: <root>/<bed>/<stream>")
    client_id: str = Field("wardwatch-station", min_length=1, max_length=64)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    profile: str = Field("ketamine-infusion", description="default limits profile for new beds")
    reorder_window_s: float = Field(0.5, ge=0.0, le=5.0, description="wait for a missing chunk this long")
    tick_s: float = Field(0.25, gt=0.0, le=2.0, description="how often time-based conditions are checked")
    vitals_period_s: float = Field(1.0, gt=0.0, le=10.0, description="vitals pushed to dashboards this often")
    wave_period_s: float = Field(0.25, gt=0.0, le=2.0, description="waveform frames batched this long")
    ws_queue: int = Field(256, ge=8, le=100_000, description="frames buffered per websocket client")
    data_dir: Path = Field(Path("var"), description="where the station keeps its files")
    # -- alarms, operators and paging (docs/alarms.md) --
    database: str | None = Field(
        None, description="sqlite:///path or postgresql://...; default sqlite:///<data_dir>/wardwatch.sqlite"
    )
    paging_config: Path | None = Field(
        None, description="paging config file (TOML); default <data_dir>/paging.toml when it exists, else no paging"
    )
    open_viewing: bool = Field(
        False, description="anyone on the network may VIEW the station (actions still need sign-in)"
    )
    session_secret: SecretStr | None = Field(
        None, description="signs pager acknowledge links; default: generated once into <data_dir>/secret.key (0600)"
    )
    session_ttl_s: float = Field(12 * 3600, ge=300, le=7 * 86400, description="a sign-in lasts this long")
    admin_password: SecretStr | None = Field(
        None, description="password of the first admin (created when there are no users); else one is generated"
    )
    audio_pause_s: float = Field(120, ge=10, le=600, description="default audio pause per bed")
    public_url: str | None = Field(None, description="the station's address as pagers reach it (acknowledge links)")
    restore_beds_s: float = Field(
        600, ge=0, le=86400, description="after a restart, beds seen this recently must send again or go silent"
    )

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.data_dir}/wardwatch.sqlite"

    @field_validator("session_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if len(raw) < 32 or raw.lower() in {"changeme" * 4, "secret" * 6} or len(set(raw)) < 8:
            raise ValueError("session_secret must be a random string of at least 32 characters (not a placeholder)")
        return value

    # -- full disclosure: recording, replay and review (docs/review.md); the store is ``database_url`` --
    record: bool = Field(True, description="record every session (full disclosure, docs/review.md)")
    retention_h: float = Field(96.0, gt=0.0, le=24 * 365, description="recordings are kept this long, hours")
    session_idle_close_s: float = Field(
        600.0, ge=10.0, le=7 * 86400, description="a session closes after this long without data from its bed"
    )

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown profile {value!r}; known: {', '.join(sorted(PROFILES))}")
        return value

    @field_validator("topic_root")
    @classmethod
    def _clean_root(cls, value: str) -> str:
        value = value.strip("/")
        if not value or "+" in value or "#" in value:
            raise ValueError("topic root must be a plain topic prefix without wildcards")
        return value
