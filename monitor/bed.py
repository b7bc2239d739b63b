"""One bed's functional core: messages in (with station time), current vitals and condition observations out.

``BedMonitor`` owns the stream assemblers, the ECG and pleth analysers and the latest numerics and status of
one bed. After every input it evaluates every alarm condition and returns ``Observation`` objects; the alarm
layer (``alarms.conditions``) applies the alarm-condition delays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alarms.model import Observation
from monitor.ecg import EcgAnalyzer, EcgQuality
from monitor.limits import Limits
from monitor.messages import Numerics, Status, WaveChunk
from monitor.pleth import PlethAnalyzer
from monitor.stream import Drop, Segment, StreamAssembler

__all__ = ["WaveFrame", "BedMonitor", "NUMERICS_STALE_S"]

#: Device numerics older than this (station time) are not used.
NUMERICS_STALE_S = 5.0
PREFERRED_LEADS = ("II", "I", "III", "MLII", "V", "V1", "V2", "V5", "MCL1", "MCL")


@dataclass(frozen=True, slots=True, eq=False)
class WaveFrame:
    """Samples for the dashboard strips and the recorder: ``t0`` is the station time of the first sample."""

    bed: str
    stream: str
    lead: str | None
    t0: float
    fs: float
    samples: np.ndarray
    gap: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "bed": self.bed,
            "stream": self.stream,
            "lead": self.lead,
            "t0": round(self.t0, 4),
            "fs": self.fs,
            "gap": self.gap,
            "samples": np.round(self.samples, 4).tolist(),
        }


@dataclass
class _Latest:
    hr: float | None = None
    spo2: float | None = None
    pr: float | None = None
    ts: float | None = None
    at: float | None = None


@dataclass
class BedMonitor:
    bed: str
    limits: Limits = field(default_factory=Limits)
    reorder_window: float = 0.5
    first_seen: float | None = None
    last_seen: float | None = None
    online: bool = True
    leads_off: bool = False
    probe_off: bool = False
    numerics: _Latest = field(default_factory=_Latest)
    drops: list[tuple[str, str]] = field(default_factory=list)
    _assemblers: dict[tuple[str, str], StreamAssembler] = field(default_factory=dict)
    _ecg: dict[str, EcgAnalyzer] = field(default_factory=dict)
    _pleth: PlethAnalyzer = field(default_factory=PlethAnalyzer)
    _wave_base: dict[tuple[str, str], float] = field(default_factory=dict)

    # -- inputs ------------------------------------------------------------------------------------------
    def on_wave(self, chunk: WaveChunk, now: float) -> list[WaveFrame]:
        self._seen(now)
        key = (chunk.stream, chunk.lead if chunk.stream == "ecg" else "")
        assembler = self._assemblers.get(key)
        if assembler is None:
            assembler = self._assemblers[key] = StreamAssembler(reorder_window=self.reorder_window)
        return list(self._consume(key, assembler.offer(chunk, now)))

    def on_numerics(self, msg: Numerics, now: float) -> None:
        self._seen(now)
        if self.numerics.ts is not None and msg.ts <= self.numerics.ts:
            self.drops.append(("numerics", "duplicate" if msg.ts == self.numerics.ts else "late"))
            return
        self.numerics = _Latest(hr=msg.hr, spo2=msg.spo2, pr=msg.pr, ts=msg.ts, at=now)

    def on_status(self, msg: Status, now: float) -> None:
        if not msg.retained:
            self._seen(now)
        self.online = msg.online
        if msg.leads_off is not None:
            self.leads_off = msg.leads_off
        if msg.probe_off is not None:
            self.probe_off = msg.probe_off

    def flush(self, now: float) -> tuple[list[WaveFrame], float | None]:
        """Release waveform chunks held for reordering whose wait has expired by ``now``.

        Returns the frames and the station time at which the release was due (``None`` if nothing was).
        """
        frames: list[WaveFrame] = []
        due: float | None = None
        for key, assembler in self._assemblers.items():
            deadline = assembler.deadline()
            if deadline is not None and deadline <= now:
                frames.extend(self._consume(key, assembler.flush(now)))
                due = deadline if due is None else max(due, deadline)
        return frames, due

    def next_deadline(self) -> float | None:
        deadlines = [d for a in self._assemblers.values() if (d := a.deadline()) is not None]
        return min(deadlines) if deadlines else None

    # -- derived values ----------------------------------------------------------------------------------
    @property
    def primary_ecg(self) -> EcgAnalyzer | None:
        if not self._ecg:
            return None
        for lead in PREFERRED_LEADS:
            if lead in self._ecg:
                return self._ecg[lead]
        return next(iter(self._ecg.values()))

    def _fresh_numerics(self, now: float) -> _Latest:
        if self.numerics.at is None or now - self.numerics.at > NUMERICS_STALE_S:
            return _Latest()
        return self.numerics

    def heart_rate(self, now: float) -> tuple[float | None, str | None]:
        """The heart rate WardWatch trusts now and where it comes from: ecg, device or pleth."""
        ecg = self.primary_ecg
        if ecg is not None and not self.leads_off and self._ecg_fresh(ecg, now):
            rate = ecg.heart_rate()
            if rate is not None:
                return rate, "ecg"
        num = self._fresh_numerics(now)
        if num.hr is not None and not self.leads_off:
            return num.hr, "device"
        if num.pr is not None and not self.probe_off:
            return num.pr, "pleth"
        return None, None

    def vitals(self, now: float) -> dict[str, Any]:
        hr, source = self.heart_rate(now)
        num = self._fresh_numerics(now)
        ecg = self.primary_ecg
        return {
            "t": now,
            "hr": _round(hr),
            "hr_source": source,
            "spo2": _round(num.spo2) if not self.probe_off else None,
            "pr": _round(num.pr) if not self.probe_off else None,
            "rhythm": self._rhythm(hr, source),
            "ecg_quality": ecg.quality if ecg is not None and self._ecg_fresh(ecg, now) else None,
            "pleth_quality": self._pleth.quality if self._pleth.fs else None,
            "leads_off": self.leads_off,
            "probe_off": self.probe_off,
        }

    def evaluate(self, now: float) -> Iterator[Observation]:
        """Every condition of this bed, present or not, at station time ``now``."""
        lim = self.limits
        hr, source = self.heart_rate(now)
        num = self._fresh_numerics(now)
        spo2 = None if self.probe_off else num.spo2
        yield self._rate_obs("tachycardia", hr, source, lim.hr.high, faster=True, now=now)
        yield self._rate_obs("bradycardia", hr, source, lim.hr.low, faster=False, now=now)
        yield self._obs(
            "spo2_low",
            spo2 is not None and spo2 < lim.spo2.low,
            now,
            spo2,
            lim.spo2.low,
            f"SpO2 {spo2 or 0:.0f} < {lim.spo2.low:g} %",
        )
        yield self._obs(
            "desaturation",
            spo2 is not None and spo2 < lim.spo2.desat,
            now,
            spo2,
            lim.spo2.desat,
            f"SpO2 {spo2 or 0:.0f} < {lim.spo2.desat:g} %",
        )
        yield from self._asystole(now)
        ecg = self.primary_ecg
        ecg_fresh = ecg is not None and self._ecg_fresh(ecg, now)
        flat = ecg_fresh and ecg is not None and ecg.quality == EcgQuality.FLAT
        yield self._obs("leads_off", self.online and (self.leads_off or flat), now, message="ECG leads off")
        noisy = ecg_fresh and ecg is not None and ecg.quality == EcgQuality.NOISY and not self.leads_off
        yield self._obs("ecg_signal_poor", self.online and noisy, now, message="ECG signal poor")
        yield self._obs("probe_off", self.online and self.probe_off, now, message="SpO2 probe off")
        yield self._obs("device_offline", not self.online, now, message="monitor offline (last will)")

    def _asystole(self, now: float) -> Iterator[Observation]:
        ecg = self.primary_ecg
        lim = self.limits.arrhythmia
        if ecg is None or not self._ecg_fresh(ecg, now) or self.leads_off or ecg.quality != EcgQuality.GOOD:
            yield self._obs("asystole", False, now)
            return
        since = ecg.seconds_since_beat()
        present = since is not None and since >= lim.asystole_s and len(ecg.beats) > 0
        onset = ecg.station_time_of(ecg.beats[-1].sample) if present and ecg.beats else None
        yield Observation(
            self.bed,
            "asystole",
            present,
            now,
            value=since,
            limit=lim.asystole_s,
            message=f"no QRS for {since or 0:.1f} s",
            onset=onset,
        )

    # -- helpers -----------------------------------------------------------------------------------------
    def _rate_obs(
        self, kind: str, hr: float | None, source: str | None, limit: float, *, faster: bool, now: float
    ) -> Observation:
        """Tachy-/bradycardia. The HR shown is a robust median over several beats, so it crosses a limit a
        couple of seconds after the beats did; with an ECG the condition's onset is dated back to the first
        beat of the run beyond the limit, so the alarm-condition delay counts from when it really began."""
        present = hr is not None and (hr > limit if faster else hr < limit)
        onset = None
        ecg = self.primary_ecg
        if present and source == "ecg" and ecg is not None:
            onset = ecg.rate_run_onset(faster, limit)
        sign = ">" if faster else "<"
        message = f"HR {hr or 0:.0f} {sign} {limit:g} bpm ({source})"
        return Observation(self.bed, kind, present, now, value=_round(hr), limit=limit, message=message, onset=onset)

    def _obs(
        self,
        kind: str,
        present: bool,
        now: float,
        value: float | None = None,
        limit: float | None = None,
        message: str = "",
    ) -> Observation:
        return Observation(self.bed, kind, bool(present), now, value=_round(value), limit=limit, message=message)

    def _ecg_fresh(self, ecg: EcgAnalyzer, now: float) -> bool:
        return ecg.last_arrival is not None and now - ecg.last_arrival <= NUMERICS_STALE_S

    def _rhythm(self, hr: float | None, source: str | None) -> str | None:
        if source != "ecg" or hr is None:
            return None
        if hr > self.limits.hr.high:
            return "sinus_tachycardia"
        if hr < self.limits.hr.low:
            return "sinus_bradycardia"
        return "sinus"

    def _seen(self, now: float) -> None:
        if self.first_seen is None:
            self.first_seen = now
        self.last_seen = now
        self.online = True

    def _consume(self, key: tuple[str, str], items: list[Segment | Drop]) -> Iterator[WaveFrame]:
        stream, lead = key
        for item in items:
            if isinstance(item, Drop):
                self.drops.append((stream, item.reason))
                continue
            if stream == "ecg":
                analyzer = self._ecg.get(lead)
                if analyzer is None:
                    analyzer = self._ecg[lead] = EcgAnalyzer(lead)
                analyzer.process(item)
            else:
                self._pleth.process(item)
            if item.gap:
                self.drops.append((stream, "gap"))
            yield WaveFrame(self.bed, stream, lead or None, self._frame_t0(key, item), item.fs, item.samples, item.gap)

    def _frame_t0(self, key: tuple[str, str], seg: Segment) -> float:
        """Station time of a segment's first sample, continuous within a stream (device spacing, a fixed
        offset), so strips do not jitter with network delay; re-based when arrival drifts more than 2 s."""
        base = self._wave_base.get(key)
        by_arrival = seg.arrival - seg.end / seg.fs
        if seg.restart or base is None or abs(base - by_arrival) > 2.0:
            base = self._wave_base[key] = by_arrival
        return base + seg.start / seg.fs


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
