"""Alarm limits and delays, grouped as the clinical brief groups them, and named profiles.

Every number here is a clinical default from ../shared/docs/CLINICAL.md and is configurable: per bed over the
API, per site with a profile, per replay with ``--set hr.high=130``. Validation refuses nonsense (low >= high,
values outside physiological ranges) with a message that says which field and why.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.errors import ConfigError

__all__ = [
    "HeartRateLimits",
    "Spo2Limits",
    "ArrhythmiaLimits",
    "TechnicalLimits",
    "Limits",
    "PROFILES",
    "profile",
    "apply_overrides",
]


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HeartRateLimits(_Group):
    high: float = Field(120, ge=60, le=250, description="tachycardia above this, bpm")
    high_delay_s: float = Field(5, ge=0, le=60, description="tachycardia must persist this long")
    extreme_high: float = Field(140, ge=80, le=300, description="extreme tachycardia above this, bpm")
    extreme_high_beats: int = Field(17, ge=1, le=60, description="consecutive beats above extreme_high")
    low: float = Field(50, ge=20, le=120, description="bradycardia below this, bpm")
    low_delay_s: float = Field(5, ge=0, le=60)
    extreme_low: float = Field(40, ge=15, le=100, description="extreme bradycardia below this, bpm")
    extreme_low_beats: int = Field(5, ge=1, le=60, description="consecutive beats below extreme_low")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.extreme_low <= self.low < self.high <= self.extreme_high:
            raise ValueError(
                "heart-rate limits must satisfy extreme_low <= low < high <= extreme_high "
                f"(got {self.extreme_low:g} / {self.low:g} / {self.high:g} / {self.extreme_high:g})"
            )
        return self


class Spo2Limits(_Group):
    low: float = Field(90, ge=50, le=99, description="SpO2 low below this, %")
    low_delay_s: float = Field(15, ge=0, le=120, description="fixed alarm-condition delay for SpO2 low")
    satseconds: float = Field(
        0, ge=0, le=200, description="SatSeconds-style area (points below low x s); 0 = use the fixed delay"
    )
    desat: float = Field(85, ge=40, le=95, description="desaturation below this, %")
    desat_delay_s: float = Field(0, ge=0, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.desat < self.low:
            raise ValueError(f"SpO2 limits must satisfy desat < low (got {self.desat:g} / {self.low:g})")
        return self


class ArrhythmiaLimits(_Group):
    asystole_s: float = Field(4, ge=2, le=15, description="no QRS (and no pulse) for this long")
    pause_s: float = Field(3, ge=1.5, le=10, description="an RR interval longer than this is a pause")
    vt_beats: int = Field(5, ge=3, le=30, description="consecutive ventricular beats for VT")
    vt_rate: float = Field(100, ge=60, le=250, description="VT rate above this, bpm")
    vf_s: float = Field(4, ge=1, le=15, description="fibrillatory/flutter wave for this long")
    af_delay_s: float = Field(30, ge=5, le=600, description="irregularly irregular rhythm for this long")


class TechnicalLimits(_Group):
    silence_s: float = Field(10, ge=2, le=300, description="no data from a bed for this long: bed silent")


class Limits(_Group):
    """All limits of one bed. ``Limits()`` is the adult default."""

    hr: HeartRateLimits = HeartRateLimits()
    spo2: Spo2Limits = Spo2Limits()
    arrhythmia: ArrhythmiaLimits = ArrhythmiaLimits()
    technical: TechnicalLimits = TechnicalLimits()


PROFILES: dict[str, Limits] = {
    "adult-default": Limits(),
    # The recovery-area profile of the clinical brief: ketamine raises HR (tachycardia is the main risk),
    # midazolam depresses breathing (SpO2 low with a 15 s delay, desaturation at once).
    "ketamine-infusion": Limits(
        hr=HeartRateLimits(high=120, high_delay_s=5, extreme_high=140, low=50, extreme_low=40),
        spo2=Spo2Limits(low=90, low_delay_s=15, desat=85, desat_delay_s=0),
    ),
}


def profile(name: str) -> Limits:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None


def apply_overrides(limits: Limits, overrides: dict[str, Any]) -> Limits:
    """Return ``limits`` with dotted-key overrides applied, e.g. ``{"spo2.low": 88}``; validated."""
    data = limits.model_dump()
    for key, value in overrides.items():
        group, _, name = key.partition(".")
        if group not in data or not name or name not in data[group]:
            raise ConfigError(f"unknown limit {key!r}; keys look like hr.high, spo2.low, arrhythmia.asystole_s")
        data[group][name] = value
    try:
        return Limits.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)
