"""SpO2 alarm timing on real desaturations: the UW induced-hypoxemia study (1 Hz SpO2 from four oximeters).

:func:`read_reference` reads ``uw-phone-oximetry/gt/<subject>.csv`` (clock time, ``SpO2 n``, ``Pulse n``; 0 =
not recorded, a BOM, an empty first header cell in one file, a closing ``Collection Halted`` row).
:func:`replay_oximeter` sends one oximeter's readings as 1 Hz ``numerics`` messages through a fresh ``Ward``
(the live path) and returns when each SpO2 alarm was raised; :func:`spo2_timing` compares that with the first
second SpO2 read below the limit, for the fixed alarm-condition delay and for SatSeconds-style settings.

Data: Hoffman JS et al., Smartphone camera oximetry in an induced hypoxemia study, npj Digital Medicine 5:146
(2022); MIT licence (``uw-phone-oximetry/LICENSE``).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from alarms.manager import AlarmManager
from monitor.errors import RecordError
from monitor.limits import Limits, apply_overrides
from monitor.messages import Numerics
from monitor.records import physionet_dir
from monitor.sources import DEFAULT_START
from monitor.ward import Ward

__all__ = ["OXIMETERS", "Reference", "AlarmTiming", "read_reference", "replay_oximeter", "spo2_timing"]

#: Oximeter number -> device (gt/metadata.csv). Oximeter 3 was not recorded.
OXIMETERS = {1: "3900P", 2: "Nellcor N-600X", 4: "Nellcor N-600X", 5: "Masimo Radical-7"}


@dataclass(frozen=True)
class Reference:
    subject: str
    spo2: dict[int, list[float | None]]  # oximeter -> one value per second (None: not recorded)
    pulse: dict[int, list[float | None]]

    @property
    def seconds(self) -> int:
        return max((len(v) for v in self.spo2.values()), default=0)


def _dir() -> Path:
    return physionet_dir() / "uw-phone-oximetry" / "gt"


def subjects() -> list[str]:
    return sorted(p.stem for p in _dir().glob("1000*.csv"))


def read_reference(subject: str | os.PathLike[str]) -> Reference:
    path = Path(subject)
    if not path.is_file():
        path = _dir() / f"{subject}.csv"
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise RecordError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise RecordError(f"{path}: empty")
    header = [h.strip() for h in rows[0]]
    spo2: dict[int, list[float | None]] = {n: [] for n in OXIMETERS}
    pulse: dict[int, list[float | None]] = {n: [] for n in OXIMETERS}
    cols = {f"{kind} {n}": header.index(f"{kind} {n}") for kind in ("SpO2", "Pulse") for n in OXIMETERS
            if f"{kind} {n}" in header}
    for row in rows[1:]:
        if not row or not row[0].strip() or row[0].strip().lower().startswith("collection"):
            continue
        for n in OXIMETERS:
            for kind, out in (("SpO2", spo2), ("Pulse", pulse)):
                col = cols.get(f"{kind} {n}")
                value = _number(row[col]) if col is not None and col < len(row) else None
                out[n].append(value if value else None)  # 0 = not recorded
    return Reference(path.stem, spo2, pulse)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class AlarmTiming:
    subject: str
    oximeter: int
    setting: str  # "fixed 15 s" or "SatSeconds 25" ...
    limit: float
    first_below: float | None  # seconds from the start: first reading below the limit
    raised: float | None  # the first alarm of that type
    alarms: int  # how many alarms of that type over the whole recording
    alarm_type: str

    @property
    def delay(self) -> float | None:
        if self.first_below is None or self.raised is None:
            return None
        return self.raised - self.first_below


def replay_oximeter(ref: Reference, oximeter: int, limits: Limits) -> dict[str, list[float]]:
    """Raise times (seconds from the start) of every alarm type, feeding oximeter ``oximeter``'s readings as
    1 Hz numerics (arriving 20 ms after their timestamp) through the live pipeline."""
    ward = Ward(limits, alarms=AlarmManager(new_id=_ids()))
    raised: dict[str, list[float]] = {}
    spo2, pulse = ref.spo2[oximeter], ref.pulse[oximeter]
    for k, value in enumerate(spo2):
        ts = DEFAULT_START + k
        msg = Numerics(f"uw-{ref.subject}", ts, hr=None, spo2=value, pr=pulse[k] if k < len(pulse) else None)
        for event in ward.feed(msg, ts + 0.02).alarms:
            if event.event == "raised":
                raised.setdefault(event.alarm["type"], []).append(round(event.alarm["raised_at"] - DEFAULT_START, 2))
    return raised


def _ids():  # type: ignore[no-untyped-def]
    counter = iter(range(1, 1 << 30))
    return lambda: f"o{next(counter):05d}"


SETTINGS: dict[str, dict[str, float]] = {
    "fixed 15 s": {},
    "SatSeconds 25": {"spo2.satseconds": 25},
    "SatSeconds 50": {"spo2.satseconds": 50},
    "SatSeconds 100": {"spo2.satseconds": 100},
}


def spo2_timing(subject: str, oximeters: tuple[int, ...] = (1, 2, 4, 5)) -> list[AlarmTiming]:
    ref = read_reference(subject)
    out: list[AlarmTiming] = []
    for n in oximeters:
        values = ref.spo2[n]
        if not any(v is not None for v in values):
            continue
        for name, overrides in SETTINGS.items():
            limits = apply_overrides(Limits(), overrides) if overrides else Limits()
            raised = replay_oximeter(ref, n, limits)
            for kind, limit in (("spo2_low", limits.spo2.low), ("desaturation", limits.spo2.desat)):
                if kind == "desaturation" and name != "fixed 15 s":
                    continue  # desaturation has no delay in any setting
                first = next((k + 0.02 for k, v in enumerate(values) if v is not None and v < limit), None)
                times = raised.get(kind, [])
                out.append(AlarmTiming(ref.subject, n, name if kind == "spo2_low" else "no delay", limit, first,
                                       times[0] if times else None, len(times), kind))
    return out
