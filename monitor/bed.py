"""One bed's functional core: messages in (with station time), current vitals and condition observations out.

``BedMonitor`` owns the stream assemblers, one ``EcgAnalyzer`` per ECG lead, the ``PlethAnalyzer`` and the
latest numerics and status of one bed. The rhythm conditions are fused over the leads and cross-checked with
the pleth (``monitor.arrhythmia``) once per analysed block; SpO2 conditions follow the device numerics
(fixed delay in the alarm layer, or a SatSeconds-style integral here), held through pleth artefact.

``evaluate(now)`` is called after every message, so it is cheap: it returns the observations of the
conditions that are present or were present within the last ``HOLD_S`` seconds, and of every condition once
per ``SWEEP_S`` of station time and at every call during the bed's first ``HOLD_S`` (that is all the alarm
layer needs: a condition tracker only changes on a present observation, or on an absent one while its
condition is pending or confirmed, e.g. an alarm restored after a restart).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alarms.model import Observation
from monitor.arrhythmia import ABSENT, Finding, RhythmState, assess
from monitor.ecg import EcgAnalyzer
from monitor.limits import Limits
from monitor.messages import Numerics, Status, WaveChunk
from monitor.pleth import PlethAnalyzer
from monitor.signal.spo2 import ArtefactHold, SatSeconds
from monitor.stream import Drop, Segment, StreamAssembler

__all__ = ["WaveFrame", "BedMonitor", "NUMERICS_STALE_S", "CONDITIONS"]

#: Device numerics older than this (station time) are not used; nor is a waveform that stopped this long ago.
NUMERICS_STALE_S = 5.0
PREFERRED_LEADS = ("II", "I", "III", "MLII", "V", "V1", "V2", "V5", "MCL1", "MCL")
#: ECG and pleth pulse rate disagreeing by more than this fraction, with a good pleth: trust the pleth.
RATE_DISAGREEMENT = 0.25
#: The pleth must be noisy (or flat without probe-off) this long before ``pleth_signal_poor``.
PLETH_POOR_S = 10.0
HOLD_S = 10.0
SWEEP_S = 1.0

CONDITIONS = (
    "tachycardia", "bradycardia", "spo2_low", "desaturation", "asystole", "ventricular_fibrillation",
    "ventricular_tachycardia", "extreme_tachycardia", "extreme_bradycardia", "pause", "atrial_fibrillation",
    "leads_off", "ecg_signal_poor", "probe_off", "pleth_signal_poor", "device_offline",
)
_RHYTHM_KINDS = (
    "asystole", "ventricular_fibrillation", "ventricular_tachycardia", "extreme_tachycardia",
    "extreme_bradycardia", "pause", "atrial_fibrillation", "leads_off", "ecg_signal_poor",
)


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


_NO_RHYTHM = RhythmState({}, None, None, None, None)


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
    _rhythm: RhythmState = _NO_RHYTHM
    _rhythm_key: tuple[Any, ...] = ()
    _hold: ArtefactHold = field(default_factory=ArtefactHold)
    _sat: SatSeconds | None = None
    _spo2_alarm: float | None = None  # SpO2 to alarm on (held through pleth artefact)
    _recent: dict[str, float] = field(default_factory=dict)  # condition -> station time last present
    _last_sweep: float | None = None
    _table: dict[str, Finding] = field(default_factory=dict)
    _table_limits: Limits | None = None
    _probe_on_at: float | None = None  # station time the probe was last put (back) on
    _dirty: bool = True
    _recheck_at: float = float("-inf")

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
        self._update_spo2(now)
        self._dirty = True

    def on_status(self, msg: Status, now: float) -> None:
        self._dirty = True
        if not msg.retained:
            self._seen(now)
        self.online = msg.online
        if msg.leads_off is not None:
            self.leads_off = msg.leads_off
        if msg.probe_off is not None:
            if self.probe_off and not msg.probe_off:
                self._probe_on_at = now
            self.probe_off = msg.probe_off
            if msg.probe_off:
                self._update_spo2(now)

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
        deadline: float | None = None
        for a in self._assemblers.values():
            if a._pending:  # noqa: SLF001 - the common case (nothing held) must stay cheap
                d = a.deadline()
                if d is not None and (deadline is None or d < deadline):
                    deadline = d
        return deadline

    # -- derived values ----------------------------------------------------------------------------------
    @property
    def primary_ecg(self) -> EcgAnalyzer | None:
        if not self._ecg:
            return None
        lead = self._rhythm.lead
        if lead is not None and lead in self._ecg:
            return self._ecg[lead]
        for name in PREFERRED_LEADS:
            if name in self._ecg:
                return self._ecg[name]
        return next(iter(self._ecg.values()))

    @property
    def ecg_leads(self) -> dict[str, EcgAnalyzer]:
        return dict(self._ecg)

    @property
    def pleth(self) -> PlethAnalyzer:
        return self._pleth

    def rhythm_state(self, now: float) -> RhythmState:
        """The fused rhythm state, re-assessed only when every fresh lead has analysed more signal (or the set
        of fresh leads, the pleth's quality, the device's leads-off or the limits changed)."""
        stale = now - NUMERICS_STALE_S
        fresh = [a for a in self._ecg.values() if a.last_arrival is not None and a.last_arrival >= stale]
        p = self._pleth
        pleth = p if p.last_arrival is not None and p.last_arrival >= stale else None
        progress = min([a.samples_seen / a.fs for a in fresh if a.fs] or [0.0])
        key = (len(fresh), *map(id, fresh), progress, pleth is not None and (p.quality, p.good_since),
               self.leads_off, id(self.limits))
        if key != self._rhythm_key:
            self._rhythm_key = key
            self._rhythm = assess(fresh, pleth, self.limits, self.leads_off) if fresh else _NO_RHYTHM
        return self._rhythm

    def _fresh_numerics(self, now: float) -> _Latest:
        if self.numerics.at is None or now - self.numerics.at > NUMERICS_STALE_S:
            return _Latest()
        return self.numerics

    def _pleth_fresh(self, now: float) -> bool:
        return self._pleth.fs > 0 and self._fresh(self._pleth.last_arrival, now)

    def heart_rate(self, now: float, state: RhythmState | None = None) -> tuple[float | None, str | None]:
        """The heart rate WardWatch trusts now and where it comes from: ecg, device or pleth."""
        state = state if state is not None else self.rhythm_state(now)
        pleth_rate = None
        if self._pleth_fresh(now) and not self.probe_off and self._pleth.quality == "good":
            pleth_rate = self._pleth.rate
        if state.hr is not None and not self.leads_off:
            if pleth_rate is not None and abs(state.hr - pleth_rate) > RATE_DISAGREEMENT * pleth_rate:
                return pleth_rate, "pleth"  # a regular pulse contradicts the ECG count (double or missed beats)
            return state.hr, "ecg"
        num = self._fresh_numerics(now)
        if num.hr is not None and not self.leads_off:
            return num.hr, "device"
        if num.pr is not None and not self.probe_off:
            return num.pr, "pleth"
        if pleth_rate is not None:
            return pleth_rate, "pleth"
        return None, None

    def vitals(self, now: float) -> dict[str, Any]:
        hr, source = self.heart_rate(now)
        num = self._fresh_numerics(now)
        state = self.rhythm_state(now)
        pleth_on = self._pleth_fresh(now)
        return {
            "t": now,
            "hr": _round(hr),
            "hr_source": source,
            "spo2": _round(num.spo2) if not self.probe_off else None,
            "pr": _round(num.pr) if not self.probe_off else None,
            "rhythm": state.rhythm if source == "ecg" or state.rhythm in _LETHAL else None,
            "ecg_quality": state.quality if any(self._fresh(a.last_arrival, now) for a in self._ecg.values()) else None,
            "pleth_quality": self._pleth_quality(now) if pleth_on else None,
            "leads_off": self.leads_off,
            "probe_off": self.probe_off,
            "pleth_rate": _round(self._pleth.rate) if pleth_on and not self.probe_off else None,
            "pi": round(self._pleth.pi, 2) if pleth_on and not self.probe_off and self._pleth.pi is not None else None,
            "ecg_leads": {name: a.quality for name, a in self._ecg.items() if self._fresh(a.last_arrival, now)},
        }

    # -- conditions --------------------------------------------------------------------------------------
    def evaluate(self, now: float) -> Iterator[Observation]:
        """The conditions of this bed at station time ``now``: those present or recently present, and all of
        them once per ``SWEEP_S`` (see the module docstring)."""
        table = self._conditions(now)
        recent = self._recent
        starting = self.first_seen is None or now - self.first_seen <= HOLD_S  # e.g. alarms restored after a restart
        if starting or self._last_sweep is None or now - self._last_sweep >= SWEEP_S or now < self._last_sweep:
            self._last_sweep = now
            kinds: Iterable[str] = table
        elif recent:
            kinds = list(recent)
        else:
            return
        for kind in kinds:
            finding = table[kind]
            if finding.present:
                recent[kind] = now
            elif now - recent.get(kind, now) > HOLD_S:
                del recent[kind]
            yield Observation(
                self.bed, kind, finding.present, now, value=_round(finding.value), limit=finding.limit,
                message=finding.message, onset=finding.onset,
            )

    def _conditions(self, now: float) -> dict[str, Finding]:
        """Every condition's finding; recomputed only when an input changed or a freshness limit passed."""
        if not self._dirty and now < self._recheck_at and self._table_limits is self.limits:
            return self._table
        self._table = self._compute(now)
        self._table_limits = self.limits
        self._dirty = False
        for kind, finding in self._table.items():
            if finding.present:
                self._recent[kind] = now  # a condition that has just appeared is observed at once
        stale = [t + NUMERICS_STALE_S for t in (self.numerics.at, self._pleth.last_arrival,
                                                *(a.last_arrival for a in self._ecg.values())) if t is not None]
        self._recheck_at = min((t for t in stale if t >= now), default=float("inf"))
        return self._table

    def _compute(self, now: float) -> dict[str, Finding]:
        lim = self.limits
        state = self.rhythm_state(now)
        out: dict[str, Finding] = dict.fromkeys(CONDITIONS, ABSENT)
        for kind in _RHYTHM_KINDS:
            finding = state.findings.get(kind)
            if finding is not None:
                out[kind] = finding
        hr, source = self.heart_rate(now, state)
        if hr is not None:
            out["tachycardia"] = self._rate_finding(hr, source, lim.hr.high, faster=True)
            out["bradycardia"] = self._rate_finding(hr, source, lim.hr.low, faster=False)
        spo2 = self._spo2_alarm if self._fresh_numerics(now).at is not None else None
        if spo2 is not None and not self.probe_off:
            if self._sat is not None and lim.spo2.satseconds > 0:
                st = self._sat.state
                if st.present:
                    out["spo2_low"] = Finding(
                        True, spo2, lim.spo2.low,
                        f"SpO2 {spo2:.0f} < {lim.spo2.low:g} % ({st.integral:.0f} of {lim.spo2.satseconds:g} "
                        f"SatSeconds, {st.violations} dips in 60 s)", st.onset,
                    )
            elif spo2 < lim.spo2.low:
                out["spo2_low"] = Finding(True, spo2, lim.spo2.low, f"SpO2 {spo2:.0f} < {lim.spo2.low:g} %")
            if spo2 < lim.spo2.desat:
                out["desaturation"] = Finding(True, spo2, lim.spo2.desat, f"SpO2 {spo2:.0f} < {lim.spo2.desat:g} %")
        if not self.online:
            out["leads_off"] = out["ecg_signal_poor"] = ABSENT
            out["device_offline"] = _OFFLINE
        elif self.leads_off:
            out["leads_off"] = _LEADS_OFF
        if self.online and self.probe_off:
            out["probe_off"] = _PROBE_OFF
        out["pleth_signal_poor"] = self._pleth_poor(now)
        return out

    def _rate_finding(self, hr: float, source: str | None, limit: float, *, faster: bool) -> Finding:
        """Tachy-/bradycardia. The HR shown is a robust median over several beats, so it crosses a limit a
        couple of seconds after the beats did; with an ECG the condition's onset is dated back to the first
        beat of the run beyond the limit, so the alarm-condition delay counts from when it really began."""
        if not (hr > limit if faster else hr < limit):
            return ABSENT
        onset = None
        ecg = self.primary_ecg
        if source == "ecg" and ecg is not None:
            onset = ecg.rate_run_onset(faster, limit)
        sign = ">" if faster else "<"
        return Finding(True, hr, limit, f"HR {hr:.0f} {sign} {limit:g} bpm ({source})", onset)

    def pleth_follows_ecg(self, now: float) -> bool:
        """Whether the recent pleth pulses each follow an ECG beat of a readable lead by 0.05-0.6 s (pulse
        transit): an irregular pleth that is simply the pulse of an irregular rhythm (AF), not artefact."""
        p = self._pleth
        state = self.rhythm_state(now)
        lead = self._ecg.get(state.lead) if state.lead is not None else None
        if lead is None or not p.fs or p.last_arrival is None:
            return False
        t_end = p.t_end
        pulses = [p.station_time_at(t) for t in p.pulses if t >= t_end - 8.0]
        if len(pulses) < 4:
            return False
        beats = [b.t_station for b in lead.beats]
        matched = sum(1 for t in pulses if any(0.05 <= t - b <= 0.6 for b in beats))
        return matched >= 0.8 * len(pulses)

    def _pleth_poor(self, now: float) -> Finding:
        p = self._pleth
        if not self.online or self.probe_off or p.quality == "good" or not self._pleth_fresh(now):
            return ABSENT
        if self._probe_on_at is not None and now - self._probe_on_at < PLETH_POOR_S:
            return ABSENT  # the probe was just put back on: give the pleth time to settle
        bad = p.bad_since is not None and p.t_end - p.bad_since >= PLETH_POOR_S and not self.pleth_follows_ecg(now)
        flat = p.quality == "flat" and p.t_end >= PLETH_POOR_S
        return Finding(bad or flat, message="SpO2 signal poor" + (" (no pulse signal)" if flat else ""))

    def _pleth_quality(self, now: float) -> str:
        quality = self._pleth.quality
        if quality == "noisy" and self.pleth_follows_ecg(now):
            return "good"  # the pulse of an irregular rhythm
        return quality

    def _update_spo2(self, now: float) -> None:
        num = self.numerics
        spo2 = None if self.probe_off else num.spo2
        artefact = self._pleth_fresh(now) and self._pleth_quality(now) == "noisy"
        self._spo2_alarm = self._hold.value(now, spo2, artefact)
        area = self.limits.spo2.satseconds
        if area > 0:
            if self._sat is None or self._sat.area != area:
                self._sat = SatSeconds(area)
            self._sat.update(now, self._spo2_alarm, self.limits.spo2.low)

    # -- helpers -----------------------------------------------------------------------------------------
    def _fresh(self, last_arrival: float | None, now: float) -> bool:
        return last_arrival is not None and now - last_arrival <= NUMERICS_STALE_S

    def _ecg_fresh(self, ecg: EcgAnalyzer, now: float) -> bool:
        return self._fresh(ecg.last_arrival, now)

    def _seen(self, now: float) -> None:
        if self.first_seen is None:
            self.first_seen = now
        self.last_seen = now
        if not self.online:
            self.online = True
            self._dirty = True

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
                before = analyzer.version
                analyzer.process(item)
                self._dirty = self._dirty or analyzer.version != before or item.restart
            else:
                before = self._pleth.version
                self._pleth.process(item)
                self._dirty = self._dirty or self._pleth.version != before or item.restart
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


_LETHAL = frozenset({"ventricular_fibrillation", "ventricular_tachycardia", "asystole"})
_OFFLINE = Finding(True, message="monitor offline (last will)")
_LEADS_OFF = Finding(True, message="ECG leads off")
_PROBE_OFF = Finding(True, message="SpO2 probe off")


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
