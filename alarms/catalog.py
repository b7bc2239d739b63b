"""The alarm conditions WardWatch knows, with their default priority, kind and latching."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from monitor.errors import WardWatchError

__all__ = ["Priority", "Kind", "AlarmSpec", "CATALOG", "spec", "STATION"]

#: The bed id of station-wide technical alarms (not a valid bed id, so it cannot collide with one).
STATION = "*"


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for high, 1 for medium, 2 for low: sorts the most urgent first."""
        return ("high", "medium", "low").index(self.value)


class Kind(StrEnum):
    PHYSIOLOGICAL = "physiological"
    TECHNICAL = "technical"


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    type: str
    label: str
    priority: Priority
    kind: Kind
    latching: bool = False


_P, _T = Kind.PHYSIOLOGICAL, Kind.TECHNICAL
_H, _M, _L = Priority.HIGH, Priority.MEDIUM, Priority.LOW

CATALOG: dict[str, AlarmSpec] = {
    s.type: s
    for s in (
        AlarmSpec("asystole", "Asystole", _H, _P, latching=True),
        AlarmSpec("ventricular_fibrillation", "VFib/VFlutter", _H, _P, latching=True),
        AlarmSpec("ventricular_tachycardia", "V-Tach", _H, _P, latching=True),
        AlarmSpec("extreme_tachycardia", "Extreme Tachy", _H, _P, latching=True),
        AlarmSpec("extreme_bradycardia", "Extreme Brady", _H, _P, latching=True),
        AlarmSpec("desaturation", "Desat", _H, _P),
        AlarmSpec("tachycardia", "Tachycardia", _M, _P),
        AlarmSpec("bradycardia", "Bradycardia", _M, _P),
        AlarmSpec("spo2_low", "SpO2 Low", _M, _P),
        AlarmSpec("pause", "Pause", _M, _P),
        AlarmSpec("atrial_fibrillation", "AFib", _L, _P),
        AlarmSpec("leads_off", "ECG Leads Off", _M, _T),
        AlarmSpec("probe_off", "SpO2 Probe Off", _M, _T),
        AlarmSpec("ecg_signal_poor", "ECG Signal Poor", _L, _T),
        AlarmSpec("pleth_signal_poor", "SpO2 Signal Poor", _L, _T),
        AlarmSpec("bed_silent", "No Data From Bed", _M, _T),
        AlarmSpec("device_offline", "Monitor Offline", _M, _T),
        AlarmSpec("broker_lost", "Station Lost Broker", _H, _T),
        # A page that could not be delivered (ECRI 2018 hazard #4). Latching: a missed page must be seen even
        # when the channel has recovered since. Station-wide (bed "*"), raised by the paging dispatcher.
        AlarmSpec("paging_failed", "Paging Failed", _M, _T, latching=True),
    )
}


def spec(alarm_type: str) -> AlarmSpec:
    try:
        return CATALOG[alarm_type]
    except KeyError:
        raise WardWatchError(f"unknown alarm type {alarm_type!r}") from None
