"""One bed's ECG rhythm conditions, fused over its leads and cross-checked against the pleth pulse.

Each lead is analysed on its own (``monitor.ecg.EcgAnalyzer``); this module decides what the bed shows,
once per analysed block, as plain :class:`Finding` values (the bed turns them into alarm observations):

* **Only readable leads count.** A lead takes part when its quality is ``good`` (or, for VF, when its
  waveform is VF-like) over the condition's whole window. No readable lead: no ECG rhythm condition at all;
  instead ``ecg_signal_poor`` once the ECG has been unreadable for ``POOR_S``, or ``leads_off`` when every
  lead is a flat line (or the device says so). A lead is readable once it has been good for ``HR_SETTLE_S``
  (6 s, the heart-rate window), so noise that comes and goes keeps it unreadable.
* **Conditions that missed beats would fake** (asystole, pause, extreme bradycardia) must hold in *every*
  readable lead, and a noisy lead that still shows beats at a steady pace above the limit contradicts them;
  **conditions that extra detections would fake** (extreme tachycardia) must hold in every readable lead; a
  **ventricular run** may be seen in one readable lead, unless another readable lead sees at least two of
  the run's beats as dominant (``N``) ones; **VF** needs every readable or VF-like lead to be VF-like for ``vf_s``.
* **The pleth overrules** asystole, pause and extreme brady-/tachycardia when it is ``good`` (regular pulses
  of steady amplitude) over the same window and contradicts them: pulses during the ECG silence, or a pulse
  rate that is not beyond the limit. It never overrules VT (a pulse can persist in VT) and overrules VF only
  when it shows a good regular pulse during the whole VF window. VF needs *every* lead that is not a flat
  line to be VF-like at the same time: a lead with a readable rhythm, or with noise that is not VF-like,
  contradicts it (most VF alarms of bedside monitors are artefact in one lead).

Times: per-lead windows use each lead's own sample clock; comparisons across leads and with the pleth use
station time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.ecg import BLOCK_S, EcgAnalyzer, EcgQuality
from monitor.limits import Limits
from monitor.pleth import PlethAnalyzer

__all__ = ["Finding", "RhythmState", "assess", "POOR_S", "FLAT_S"]

#: The ECG must be unreadable (no lead good for 6 s, one noisy recently) this long before ``ecg_signal_poor``.
POOR_S = 5.0
#: Every lead must be a flat line this long before ``leads_off`` (when the device does not say so itself).
FLAT_S = 2.0
#: A lead must have been readable this long before a silence too (after noise the detector's levels settle).
SETTLE_S = 2.0
#: ... or this long, when the silence began in noise: the QRS detector re-learns its levels after 8 s without a
#: beat, and the asystole limit (4 s) must then pass again.
RELEARNT_S = 12.0
#: Pleth pulse rate must be at least this far (bpm) inside a rate limit to overrule the ECG.
PLETH_MARGIN_BPM = 8.0
#: A fast run must be mostly dominant beats, or beats that repeat their shape (median correlation of each
#: beat with the previous one), to count as a tachycardia; a ventricular run must repeat its shape.
MIN_DOMINANT = 0.6
MIN_CONSISTENCY = 0.75
#: A lead whose RR intervals are this regular (nRMSSD) contradicts AF seen in another lead.
AF_REGULAR = 0.05
#: Two leads' heart rates differing by more than this fraction cannot both be right.
LEAD_DISAGREEMENT = 0.25


@dataclass(frozen=True, slots=True)
class Finding:
    present: bool
    value: float | None = None
    limit: float | None = None
    message: str = ""
    onset: float | None = None  # station time the condition began


ABSENT = Finding(False)


@dataclass(frozen=True, slots=True)
class RhythmState:
    findings: dict[str, Finding]
    rhythm: str | None
    hr: float | None  # the ECG heart rate WardWatch trusts (None: no readable lead)
    lead: str | None  # the lead it comes from
    quality: str | None  # the bed's ECG quality: good if a lead is good, else the best of the others


def _readable(lead: EcgAnalyzer, since: float) -> bool:
    """Good throughout ``[since, t_end]`` (lead stream time)."""
    return lead.quality == EcgQuality.GOOD and not lead.vf and lead.good_since is not None and lead.good_since <= since


def _pleth_good_since(pleth: PlethAnalyzer | None, station_t0: float) -> bool:
    if pleth is None or pleth.fs == 0.0 or pleth.quality != "good" or pleth.good_since is None:
        return False
    return pleth.station_time_at(pleth.good_since) <= station_t0


def _pulses_between(pleth: PlethAnalyzer, station_t0: float, station_t1: float) -> int:
    return sum(1 for t in pleth.pulses if station_t0 <= pleth.station_time_at(t) <= station_t1)


def assess(
    leads: Sequence[EcgAnalyzer], pleth: PlethAnalyzer | None, limits: Limits, device_leads_off: bool
) -> RhythmState:
    hr_lim, arr = limits.hr, limits.arrhythmia
    f: dict[str, Finding] = {}
    live = [a for a in leads if a.fs and a.last_arrival is not None]
    good = [a for a in live if a.quality == EcgQuality.GOOD and not a.vf]
    flat = [a for a in live if a.quality == EcgQuality.FLAT]

    # -- technical ----------------------------------------------------------------------------------------
    all_flat = bool(live) and len(flat) == len(live) and all(
        a.bad_since is not None and a.t_end - a.bad_since >= FLAT_S for a in flat
    )
    f["leads_off"] = Finding(device_leads_off or all_flat, message="ECG leads off")
    informative = [a for a in live if a.quality != EcgQuality.FLAT]
    poor = bool(informative) and not all_flat and all(
        a.unreadable_since is not None and a.t_end - a.unreadable_since >= POOR_S for a in informative
    ) and any(a.last_noisy is not None and a.t_end - a.last_noisy <= POOR_S for a in informative)
    f["ecg_signal_poor"] = Finding(poor and not device_leads_off, message="ECG signal poor")

    if device_leads_off or not live:
        return RhythmState(f, None, None, None, _bed_quality(live))

    # -- ventricular fibrillation -------------------------------------------------------------------------
    vf_since = {a: a.vf_since for a in live if a.vf and a.vf_since is not None}
    unexplained = [a for a in live if a.quality != EcgQuality.FLAT and not a.vf]  # a good or noisy lead, not VF
    vf = bool(vf_since) and not unexplained and all(a.t_end - t >= arr.vf_s for a, t in vf_since.items())
    vf_leads = list(vf_since)
    if vf:
        start = max(a.station_time_at(t) for a, t in vf_since.items())
        end = max(a.station_time_at(a.t_end) for a in vf_leads)
        if _pleth_good_since(pleth, start) and pleth is not None and _pulses_between(pleth, start, end) >= 3:
            vf = False
        f["ventricular_fibrillation"] = Finding(vf, arr.vf_s, arr.vf_s, "VF/flutter waveform", start if vf else None)

    # -- per-lead beat conditions over the readable leads ---------------------------------------------------
    noisy = [a for a in live if a.quality == EcgQuality.NOISY and not a.vf]
    f["asystole"] = _vetoed(_asystole(good, pleth, arr.asystole_s), noisy, 60.0 / arr.asystole_s)
    f["pause"] = _vetoed(_pause(good, pleth, arr.pause_s), noisy, 60.0 / arr.pause_s)
    f["extreme_bradycardia"] = _vetoed(
        _rate(good, pleth, hr_lim.extreme_low, hr_lim.extreme_low_beats, faster=False), noisy, hr_lim.extreme_low
    )
    f["extreme_tachycardia"] = _rate(good, pleth, hr_lim.extreme_high, hr_lim.extreme_high_beats, faster=True)
    f["ventricular_tachycardia"] = _vt(good, arr.vt_beats, arr.vt_rate)
    f["atrial_fibrillation"] = _af(good)

    hr, lead = _heart_rate(good, live, pleth)
    rhythm = _rhythm(f, hr, limits) if good or vf else None
    return RhythmState(f, rhythm, hr, lead, _bed_quality(live))


def _vetoed(finding: Finding, noisy: list[EcgAnalyzer], min_bpm: float) -> Finding:
    """A slow condition (asystole, pause, bradycardia) is contradicted by a lead that, though noisy, shows
    beats at a steady pace above ``min_bpm`` since the condition began: noise seldom keeps a steady pace, a
    lead that lost its small QRS complexes in the other lead's noise often does."""
    if not finding.present or finding.onset is None:
        return finding
    for a in noisy:
        since = finding.onset - (a.station_time_at(a.t_end) - a.t_end)  # the onset in this lead's stream time
        rate = a.steady_rate(since)
        if rate is not None and rate > min_bpm:
            return ABSENT
    return finding


def _asystole(good: list[EcgAnalyzer], pleth: PlethAnalyzer | None, limit_s: float) -> Finding:
    if not good:
        return ABSENT
    silences = []
    for a in good:
        last = a.rhythm.last_beat
        since = a.t_end - (last if last is not None else 0.0)
        if since >= limit_s:  # still silent
            t0, t1 = a.t_end - since, a.t_end
            # readable since before the silence began; or, if the silence began in noise (whose inflated levels
            # can hide the next QRS complexes), long enough for the detector to have re-learnt since
            readable_from = min(t0 - SETTLE_S, a.t_end - RELEARNT_S)
        else:  # a silence that a beat ended within the last block: it was an asystole all the same
            ended = a.rhythm.longest_rr_since(a.t_end - BLOCK_S - 0.5)
            if ended is None or ended[0] < limit_s:
                return ABSENT
            since, t0 = ended
            t1, readable_from = t0 + since, t0 - SETTLE_S
        if not _readable(a, readable_from):
            return ABSENT
        silences.append((since, a.station_time_at(t0), a.station_time_at(t1)))
    since = min(s for s, _, _ in silences)
    start = max(s0 for _, s0, _ in silences)
    end = min(s1 for _, _, s1 in silences)
    if pleth is not None and _pleth_good_since(pleth, start) and _pulses_between(pleth, start + 0.5, end) >= 2:
        return ABSENT  # the pulse goes on: the ECG lost the QRS complexes, the heart did not stop
    return Finding(True, round(since, 1), limit_s, f"no QRS for {since:.1f} s", start)


def _pause(good: list[EcgAnalyzer], pleth: PlethAnalyzer | None, limit_s: float) -> Finding:
    if not good:
        return ABSENT
    found = []
    for a in good:
        last = a.rhythm.last_beat
        ongoing = a.t_end - last if last is not None else 0.0
        best = a.rhythm.longest_rr_since(a.t_end - 2.0)  # a pause that ended within the last block or two
        rr, t0 = (ongoing, last) if last is not None and ongoing >= limit_s else (best if best else (0.0, 0.0))
        if rr < limit_s or not _readable(a, t0):
            return ABSENT
        found.append((rr, a.station_time_at(t0), a.station_time_at(t0 + rr)))
    rr = min(r for r, _, _ in found)
    start = max(s for _, s, _ in found)
    end = min(e for _, _, e in found)
    if pleth is not None and _pleth_good_since(pleth, start) and _pulses_between(pleth, start + 0.5, end - 0.2) >= 1:
        return ABSENT
    return Finding(True, round(rr, 1), limit_s, f"pause of {rr:.1f} s", start)


def _rate(good: list[EcgAnalyzer], pleth: PlethAnalyzer | None, limit: float, beats: int, *, faster: bool) -> Finding:
    if not good:
        return ABSENT
    rates = []
    for a in good:
        run = a.rhythm.rate_run(beats)
        # tachycardia: the mean rate over the run (CinC 2015's "HR > 140 for 17 beats"; AF's scattered short
        # intervals do not make it); bradycardia: the median interval (one extra detection does not hide it)
        bpm = run.mean_bpm if run is not None and faster else (run.bpm if run is not None else 0.0)
        if run is None or not (bpm > limit if faster else bpm < limit) or not _readable(a, run.first):
            return ABSENT
        if faster and run.dominant < MIN_DOMINANT and run.consistency < MIN_CONSISTENCY:
            return ABSENT  # fast "beats" of changing shape: spikes of artefact, not a tachycardia
        if not faster and a.t_end - run.last > 60.0 / limit * 1.5:
            pass  # beats stopped after the run: still bradycardic (asystole is judged separately)
        rates.append((bpm, a.station_time_at(run.first)))
    bpm = min(r for r, _ in rates) if faster else max(r for r, _ in rates)
    start = max(s for _, s in rates)
    if pleth is not None and _pleth_good_since(pleth, start) and pleth.rate is not None:
        inside = pleth.rate < limit - PLETH_MARGIN_BPM if faster else pleth.rate > limit + PLETH_MARGIN_BPM
        if inside:
            return ABSENT  # a regular pulse at a rate within the limit: the ECG over- or under-counts
    sign = ">" if faster else "<"
    return Finding(True, round(bpm, 1), limit, f"HR {bpm:.0f} {sign} {limit:g} bpm for {beats} beats", start)


def _vt(good: list[EcgAnalyzer], min_beats: int, min_bpm: float) -> Finding:
    best = None
    for a in good:
        run = a.rhythm.ventricular_run()
        if run is None or run.n < min_beats or run.bpm <= min_bpm or not _readable(a, run.first):
            continue
        if run.consistency < MIN_CONSISTENCY:
            continue  # the "ventricular beats" do not repeat their shape: artefact
        start = a.station_time_at(run.first)
        times = [a.station_time_at(t) for t in run.times]
        normal_elsewhere = any(
            sum(1 for t in times if any(b.label == "N" and abs(b.t_station - t) <= 0.1 for b in o.beats)) >= 2
            for o in good
            if o is not a
        )
        if normal_elsewhere:
            continue  # another readable lead sees these same beats as dominant ones: not ventricular
        if best is None or run.n > best[0]:
            best = (run.n, run.bpm, start)
    if best is None:
        return ABSENT
    n, bpm, start = best
    return Finding(True, round(bpm, 1), min_bpm, f"{n} ventricular beats at {bpm:.0f} bpm", start)


def _af(good: list[EcgAnalyzer]) -> Finding:
    """AF in a readable lead (its AF flag, see ``EcgAnalyzer.af``), unless another readable lead's intervals are
    regular (nRMSSD < AF_REGULAR): the RR intervals are the same in every lead, so a lead that finds them
    regular has the better beat detection."""
    flagged = [a for a in good if a.af]
    if not flagged:
        return ABSENT
    for a in good:
        ev = a.rhythm.irregularity()
        if ev is not None and ev.nrmssd < AF_REGULAR:
            return ABSENT
    values = [ev.nrmssd for a in flagged if (ev := a.rhythm.irregularity()) is not None]
    return Finding(True, round(min(values), 3) if values else None, None, "irregularly irregular rhythm")


def _heart_rate(
    good: list[EcgAnalyzer], live: list[EcgAnalyzer], pleth: PlethAnalyzer | None
) -> tuple[float | None, str | None]:
    """The ECG heart rate: from the readable leads; when they disagree by more than LEAD_DISAGREEMENT the
    one closest to a good pleth's pulse rate, or none at all; none either when another lead shows beats at a
    steady pace clearly faster (the chosen lead misses beats, e.g. small normal QRS complexes in V1)."""
    rates = [(r, a.lead) for a in good if (r := a.heart_rate()) is not None]
    if not rates:
        return None, None
    pleth_rate = pleth.rate if pleth is not None and pleth.quality == "good" else None
    lo, hi = min(r for r, _ in rates), max(r for r, _ in rates)
    if hi > (1.0 + LEAD_DISAGREEMENT) * lo:
        if pleth_rate is None:
            return None, None
        return min(rates, key=lambda x: abs(x[0] - pleth_rate))
    chosen = rates[0] if pleth_rate is None else min(rates, key=lambda x: abs(x[0] - pleth_rate))
    for a in live:
        steady = a.steady_rate(a.t_end - 8.0) if a.quality != EcgQuality.FLAT else None
        if steady is not None and steady > (1.0 + LEAD_DISAGREEMENT) * chosen[0]:
            return None, None
    return chosen


def _rhythm(f: dict[str, Finding], hr: float | None, limits: Limits) -> str | None:
    for kind, name in (
        ("ventricular_fibrillation", "ventricular_fibrillation"),
        ("ventricular_tachycardia", "ventricular_tachycardia"),
        ("asystole", "asystole"),
        ("atrial_fibrillation", "atrial_fibrillation"),
    ):
        if f.get(kind, ABSENT).present:
            return name
    if hr is None:
        return None
    if hr > limits.hr.high:
        return "sinus_tachycardia"
    if hr < limits.hr.low:
        return "sinus_bradycardia"
    return "sinus"


def _bed_quality(live: list[EcgAnalyzer]) -> str | None:
    if not live:
        return None
    order = (EcgQuality.GOOD, EcgQuality.NOISY, EcgQuality.UNKNOWN, EcgQuality.FLAT)
    qualities = {EcgQuality.GOOD if a.vf else a.quality for a in live}
    return next(q for q in order if q in qualities)
