"""Scenario definitions as data, and :class:`Scenario`, the true timeline of one simulated bed.

A scenario is a :class:`ScenarioSpec` (baseline and peak values, the condition during the event, default
:class:`~simulators.timeline.Timing`) plus a seed. :class:`Scenario` implements
:class:`~simulators.physiology.Physiology` and adds helpers for tests that measure time to alarm from the
moment the simulated patient crossed a limit (:meth:`Scenario.first_time_hr_above` and friends).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from monitor.errors import ConfigError
from simulators.physiology import Condition, Rhythm, Window, in_windows
from simulators.timeline import Timing

__all__ = [
    "SCENARIOS",
    "Scenario",
    "ScenarioSpec",
    "get_scenario",
    "scenario_names",
]

_RHYTHM_OF = {Condition.ASYSTOLE: Rhythm.ASYSTOLE, Condition.VTACH: Rhythm.VTACH, Condition.AFIB: Rhythm.AFIB}
TIMING_PARAMS = ("onset_s", "ramp_s", "hold_s", "recover_s", "repeat_s")


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """A scenario as data: values at baseline and at the peak of the event, and what holds meanwhile."""

    name: str
    summary: str
    timing: Timing = field(default_factory=Timing)
    hr_base: float = 72.0
    hr_peak: float | None = None  # None: unchanged
    spo2_base: float = 97.5
    spo2_peak: float | None = None
    perfusion_peak: float | None = None
    resp_rate: float = 14.0
    condition: Condition | None = None  # holds during the hold phase
    hr_wobble: float = 2.0  # slow natural HR variation, +- bpm
    spo2_wobble: float = 0.3


SCENARIOS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec("stable", "normal sinus rhythm, HR ~72, SpO2 97-98, no events"),
        ScenarioSpec(
            "ketamine-tachycardia",
            "HR climbs 80 -> 135 bpm over a minute, holds, recovers",
            Timing(onset_s=30, ramp_s=60, hold_s=120, recover_s=90),
            hr_base=80,
            hr_peak=135,
            spo2_peak=96.8,
            resp_rate=16,
        ),
        ScenarioSpec(
            "midazolam-desaturation",
            "SpO2 drifts 97 -> 84 % with slow breathing, HR a little up, recovers",
            Timing(onset_s=30, ramp_s=90, hold_s=60, recover_s=90),
            hr_base=76,
            hr_peak=86,
            spo2_base=97.0,
            spo2_peak=84.0,
            perfusion_peak=0.8,
            resp_rate=9,
        ),
        ScenarioSpec(
            "bradycardia",
            "HR falls 68 -> 42 bpm, holds, recovers",
            Timing(onset_s=30, ramp_s=30, hold_s=60, recover_s=30),
            hr_base=68,
            hr_peak=42,
        ),
        ScenarioSpec(
            "artifact",
            "motion artifact bursts on ECG and pleth, normal physiology (HR ~75, SpO2 ~97)",
            Timing(onset_s=30, hold_s=240),
            hr_base=75,
            spo2_base=97.0,
            condition=Condition.ARTIFACT,
        ),
        ScenarioSpec(
            "probe-off",
            "SpO2 probe falls off (pleth flat, SpO2/PR null), put back on later",
            Timing(onset_s=30, hold_s=60),
            hr_base=74,
            condition=Condition.PROBE_OFF,
        ),
        ScenarioSpec(
            "leads-off",
            "ECG electrodes off (ECG flat, HR null), reattached later",
            Timing(onset_s=30, hold_s=60),
            hr_base=74,
            condition=Condition.LEADS_OFF,
        ),
        ScenarioSpec(
            "dropout",
            "monitor drops off the network ungracefully (broker publishes its last will), reconnects later",
            Timing(onset_s=30, hold_s=30),
            hr_base=70,
            condition=Condition.OFFLINE,
        ),
        ScenarioSpec(
            "asystole",
            "sinus rhythm, then 8 s of asystole (no QRS, no pulse), then sinus again",
            Timing(onset_s=30, hold_s=8),
            hr_base=70,
            hr_peak=0,
            condition=Condition.ASYSTOLE,
            hr_wobble=1.0,
        ),
        ScenarioSpec(
            "vtach",
            "sinus rhythm, then 20 s of monomorphic ventricular tachycardia at ~170 bpm",
            Timing(onset_s=30, hold_s=20),
            hr_base=78,
            hr_peak=170,
            perfusion_peak=0.35,
            condition=Condition.VTACH,
            hr_wobble=1.0,
        ),
        ScenarioSpec(
            "afib",
            "sinus rhythm, then 3 min of atrial fibrillation (irregular RR, no P waves), ~112 bpm",
            Timing(onset_s=30, hold_s=180),
            hr_base=82,
            hr_peak=112,
            condition=Condition.AFIB,
        ),
    )
}


def scenario_names() -> list[str]:
    """Names of the single-bed scenarios."""
    return list(SCENARIOS)


def get_scenario(name: str, *, seed: int = 0, params: Mapping[str, float | None] | None = None) -> Scenario:
    """The scenario ``name`` with timing overrides from ``params`` (``onset_s``, ``ramp_s``, ``hold_s``,
    ``recover_s``, ``repeat_s``); raises :class:`ConfigError` for an unknown name or parameter."""
    try:
        spec = SCENARIOS[name]
    except KeyError:
        raise ConfigError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
    overrides = {k: v for k, v in (params or {}).items() if v is not None or k == "repeat_s"}
    unknown = set(overrides) - set(TIMING_PARAMS)
    if unknown:
        raise ConfigError(f"unknown scenario parameter(s): {', '.join(sorted(unknown))}")
    timing = replace(spec.timing, **overrides) if overrides else spec.timing
    return Scenario(spec, timing=timing, seed=seed)


class Scenario:
    """The true timeline of one bed: implements :class:`~simulators.physiology.Physiology`."""

    def __init__(self, spec: ScenarioSpec, *, timing: Timing | None = None, seed: int = 0) -> None:
        self.spec = spec
        self.timing = timing if timing is not None else spec.timing
        self.seed = seed
        rng = np.random.default_rng([seed, 0x5CE7])
        self._phases = tuple(float(p) for p in rng.uniform(0, 2 * math.pi, 4))
        self._bursts = self._make_bursts(rng) if spec.condition is Condition.ARTIFACT else []

    @property
    def name(self) -> str:
        return self.spec.name

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, {self.timing}, seed={self.seed})"

    def describe(self) -> str:
        """One line: what happens and when (for humans)."""
        spec, t = self.spec, self.timing
        changes = []
        if spec.hr_peak is not None:
            changes.append(f"HR {spec.hr_base:g} -> {spec.hr_peak:g} bpm")
        if spec.spo2_peak is not None and abs(spec.spo2_peak - spec.spo2_base) >= 2:
            changes.append(f"SpO2 {spec.spo2_base:g} -> {spec.spo2_peak:g} %")
        if spec.condition is not None:
            changes.append(str(spec.condition))
        if not changes:
            return f"no event (HR ~{spec.hr_base:g}, SpO2 ~{spec.spo2_base:g})"
        repeat = f", repeat every {t.repeat_s:g} s" if t.repeat_s else ""
        return (
            f"{', '.join(changes)}: onset {t.onset_s:g} s, ramp {t.ramp_s:g} s, hold {t.hold_s:g} s, "
            f"recover {t.recover_s:g} s{repeat}"
        )

    # -- Physiology ---------------------------------------------------------------------------------

    def hr(self, t: float) -> float:
        if self.rhythm(t) is Rhythm.ASYSTOLE:
            return 0.0
        spec = self.spec
        peak = spec.hr_base if spec.hr_peak is None else spec.hr_peak
        p = self._phases
        wobble = 0.6 * math.sin(2 * math.pi * t / 71.0 + p[0]) + 0.4 * math.sin(2 * math.pi * t / 23.0 + p[1])
        return spec.hr_base + (peak - spec.hr_base) * self.timing.envelope(t) + spec.hr_wobble * wobble

    def spo2(self, t: float) -> float:
        spec = self.spec
        peak = spec.spo2_base if spec.spo2_peak is None else spec.spo2_peak
        p = self._phases
        wobble = 0.6 * math.sin(2 * math.pi * t / 53.0 + p[2]) + 0.4 * math.sin(2 * math.pi * t / 17.0 + p[3])
        value = spec.spo2_base + (peak - spec.spo2_base) * self.timing.envelope(t) + spec.spo2_wobble * wobble
        return min(value, 100.0)

    def perfusion(self, t: float) -> float:
        peak = 1.0 if self.spec.perfusion_peak is None else self.spec.perfusion_peak
        return 1.0 + (peak - 1.0) * self.timing.envelope(t)

    def resp_rate(self, t: float) -> float:
        return self.spec.resp_rate

    def rhythm(self, t: float) -> Rhythm:
        condition = self.spec.condition
        if condition in _RHYTHM_OF and in_windows(self.windows(condition, t, t), t):
            return _RHYTHM_OF[condition]
        return Rhythm.SINUS

    def windows(self, condition: Condition, t0: float, t1: float) -> list[Window]:
        if condition is not self.spec.condition:
            return []
        t1 = max(t1, t0 + 1e-9)
        base = self._bursts if condition is Condition.ARTIFACT else [(self.timing.hold_start_s, self.timing.hold_end_s)]
        return self.timing.repeat([w for w in base if w[1] > w[0]], t0, t1)

    # -- conveniences -------------------------------------------------------------------------------

    def has(self, condition: Condition, t: float) -> bool:
        return in_windows(self.windows(condition, t, t), t)

    def online(self, t: float) -> bool:
        return not self.has(Condition.OFFLINE, t)

    def first_time(
        self,
        predicate: Callable[[float], bool],
        *,
        start: float = 0.0,
        stop: float | None = None,
        step: float = 0.05,
    ) -> float | None:
        """First scenario time in ``[start, stop]`` at which ``predicate(t)`` holds (to 1 ms), else None."""
        stop = self.timing.end_s + 60.0 if stop is None else stop
        if predicate(start):
            return start
        n = math.ceil((stop - start) / step)
        previous = start
        for i in range(1, n + 1):
            t = min(start + i * step, stop)
            if predicate(t):
                lo, hi = previous, t
                while hi - lo > 1e-3:
                    mid = 0.5 * (lo + hi)
                    lo, hi = (lo, mid) if predicate(mid) else (mid, hi)
                return hi
            previous = t
        return None

    def first_time_hr_above(self, bpm: float, **kw: float) -> float | None:
        """When the true HR first exceeds ``bpm`` (e.g. the tachycardia limit 120)."""
        return self.first_time(lambda t: self.hr(t) > bpm, **kw)

    def first_time_hr_below(self, bpm: float, **kw: float) -> float | None:
        """When the true HR first falls below ``bpm`` (e.g. the bradycardia limit 50)."""
        return self.first_time(lambda t: self.hr(t) < bpm, **kw)

    def first_time_spo2_below(self, percent: float, **kw: float) -> float | None:
        """When the true SpO2 first falls below ``percent`` (e.g. 90 or 85)."""
        return self.first_time(lambda t: self.spo2(t) < percent, **kw)

    def _make_bursts(self, rng: np.random.Generator) -> list[Window]:
        """Motion bursts of 2-8 s separated by 6-20 s, inside the hold phase."""
        start, end = self.timing.hold_start_s, self.timing.hold_end_s
        bursts: list[Window] = []
        t = start
        while t < end:
            length = float(rng.uniform(2.0, 8.0))
            bursts.append((round(t, 3), round(min(t + length, end), 3)))
            t += length + float(rng.uniform(6.0, 20.0))
        return bursts
