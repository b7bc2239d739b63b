"""The bedside monitor's own numerics and status, derived from the true physiology.

The device reports what a decent monitor would: HR from its ECG analysis ~ the true HR with small noise
(null with leads off, 0 in asystole), SpO2 and pulse rate from the oximeter (null with the probe off).
During motion artifact the numerics stay truthful but are sometimes null (the device withholds a value it
cannot trust). Values are integers, drawn from a generator seeded by (seed, time), so
any second can be asked for in any order.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulators.physiology import Condition, Physiology, Rhythm, in_windows

__all__ = ["DeviceModel", "DeviceStatus", "Numerics"]

_NULL_IN_ARTIFACT = {"hr": 0.15, "spo2": 0.25, "pr": 0.25}  # chance of a null during a motion burst


@dataclass(frozen=True, slots=True)
class Numerics:
    """One numerics message; ``None`` means "not available"."""

    hr: int | None
    spo2: int | None
    pr: int | None


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    leads_off: bool
    probe_off: bool


class DeviceModel:
    """Numerics and status of the simulated bedside monitor."""

    def __init__(self, physiology: Physiology, seed: int, *, hr_noise: float = 0.6, spo2_noise: float = 0.35) -> None:
        self._phys = physiology
        self._seed = seed
        self._hr_noise, self._spo2_noise = hr_noise, spo2_noise

    def status(self, t: float) -> DeviceStatus:
        return DeviceStatus(leads_off=self._has(Condition.LEADS_OFF, t), probe_off=self._has(Condition.PROBE_OFF, t))

    def numerics(self, t: float) -> Numerics:
        """The numerics the device reports at scenario time ``t`` (seconds)."""
        phys = self._phys
        rng = random.Random(self._seed * 1_000_003 + math.floor(t * 1000))  # cheap, seeded per instant
        z_hr, z_spo2, z_pr = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
        drop = (rng.random(), rng.random(), rng.random())
        status = self.status(t)
        artifact = self._has(Condition.ARTIFACT, t)
        asystole = phys.rhythm(t) is Rhythm.ASYSTOLE
        true_hr = phys.hr(t)

        hr: int | None = None
        if not status.leads_off:
            hr = 0 if asystole else _clip_round(true_hr + self._hr_noise * z_hr, 0, 350)
        spo2: int | None = None
        pr: int | None = None
        if not status.probe_off:
            spo2 = _clip_round(phys.spo2(t) + self._spo2_noise * z_spo2, 0, 100)
            pr = 0 if asystole else _clip_round(true_hr + 0.8 * z_pr, 0, 350)
        if artifact:
            hr = None if drop[0] < _NULL_IN_ARTIFACT["hr"] else hr
            spo2 = None if drop[1] < _NULL_IN_ARTIFACT["spo2"] else spo2
            pr = None if drop[2] < _NULL_IN_ARTIFACT["pr"] else pr
        return Numerics(hr=hr, spo2=spo2, pr=pr)

    def _has(self, condition: Condition, t: float) -> bool:
        return in_windows(self._phys.windows(condition, t, t + 1e-9), t)


def _clip_round(value: float, lo: int, hi: int) -> int:
    return int(min(max(round(value), lo), hi))
