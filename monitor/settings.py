"""One settings object for the whole service (env prefix ``WARDWATCH_``), validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
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
