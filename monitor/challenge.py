"""PhysioNet/CinC Challenge 2015 scoring of WardWatch's alarms ("Reducing false arrhythmia alarms in the ICU").

Each challenge record ends with (or, for ``...l`` records, continues 30 s after) a bedside-monitor alarm at
300 s, labelled true or false by experts (header comments: alarm type, ``True alarm``/``False alarm``). The
record is cut at 300 s and run through the live pipeline (``monitor.analyze``). WardWatch *agrees* with the
bedside alarm when it is alarming the same condition in the last minute before it: an alarm of the mapped
type whose condition was present at some time in ``[300 - window_s, 300]`` s (``window_s`` = 60) and that
was raised by 300 s. That covers an alarm raised inside the window and one raised earlier that is still
sounding in it (a condition that lasted the whole record, e.g. a tachycardia at 170 bpm from the first
second, raises its latching alarm once, early). The stricter reading "raised inside the window" is reported
alongside (``raised_in_window``).

Score = 100 (TP + TN) / (TP + TN + FP + 5 FN), the challenge's real-time score.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import wfdb

from monitor.analyze import Analysis, analyze_record
from monitor.errors import RecordError
from monitor.limits import Limits
from monitor.records import resolve_record_path

__all__ = ["ALARM_TYPES", "Verdict", "ChallengeScore", "judge_record", "score"]

ALARM_TYPES = {
    "Asystole": "asystole",
    "Bradycardia": "extreme_bradycardia",
    "Tachycardia": "extreme_tachycardia",
    "Ventricular_Tachycardia": "ventricular_tachycardia",
    "Ventricular_Flutter_Fib": "ventricular_fibrillation",
}
ALARM_AT_S = 300.0
WINDOW_S = 60.0


@dataclass(frozen=True)
class Verdict:
    record: str
    alarm: str  # the challenge's alarm type
    wardwatch_type: str
    true_alarm: bool
    agrees: bool  # WardWatch alarms this condition in the last minute
    raised_in_window: bool  # ... with an alarm raised inside the last minute
    raised: float | None  # when WardWatch's alarm was raised (record time, s)
    onset: float | None
    others: tuple[str, ...]  # other physiological alarms open in the last minute

    @property
    def outcome(self) -> str:
        if self.true_alarm:
            return "TP" if self.agrees else "FN"
        return "FP" if self.agrees else "TN"

    def to_json(self) -> dict[str, object]:
        return {"record": self.record, "alarm": self.alarm, "type": self.wardwatch_type, "true_alarm": self.true_alarm,
                "agrees": self.agrees, "raised_in_window": self.raised_in_window, "raised": self.raised,
                "onset": self.onset, "outcome": self.outcome, "others": list(self.others)}


@dataclass(frozen=True)
class ChallengeScore:
    verdicts: tuple[Verdict, ...]

    def counts(self, strict: bool = False) -> dict[str, int]:
        out = {"TP": 0, "TN": 0, "FP": 0, "FN": 0}
        for v in self.verdicts:
            agrees = v.raised_in_window if strict else v.agrees
            out[("TP" if agrees else "FN") if v.true_alarm else ("FP" if agrees else "TN")] += 1
        return out

    def score(self, strict: bool = False) -> float:
        c = self.counts(strict)
        den = c["TP"] + c["TN"] + c["FP"] + 5 * c["FN"]
        return 100.0 * (c["TP"] + c["TN"]) / den if den else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "records": [v.to_json() for v in self.verdicts],
            "counts": self.counts(), "score": round(self.score(), 2),
            "strict": {"counts": self.counts(strict=True), "score": round(self.score(strict=True), 2)},
            "rule": f"alarm of the same type present in [{ALARM_AT_S - WINDOW_S:g}, {ALARM_AT_S:g}] s and raised by "
                    f"{ALARM_AT_S:g} s (strict: raised inside the window)",
        }


def read_label(record: str | os.PathLike[str]) -> tuple[str, bool]:
    path = resolve_record_path(record)
    try:
        comments = wfdb.rdheader(str(path)).comments
    except Exception as exc:  # wfdb raises many kinds
        raise RecordError(f"cannot read header {path}: {exc}") from exc
    alarm = next((c.strip() for c in comments if c.strip() in ALARM_TYPES), None)
    verdict = next((c.strip() for c in comments if c.strip() in ("True alarm", "False alarm")), None)
    if alarm is None or verdict is None:
        raise RecordError(f"{path}: not a challenge-2015 record (header comments {comments!r})")
    return alarm, verdict == "True alarm"


def judge(name: str, alarm: str, true_alarm: bool, analysis: Analysis) -> Verdict:
    kind = ALARM_TYPES[alarm]
    lo, hi = ALARM_AT_S - WINDOW_S, ALARM_AT_S + 1e-6
    agrees, strict = False, False
    raised = onset = None
    for a in analysis.of_type(kind):
        if a.raised > hi:
            continue
        in_window = any(s0 <= hi and (s1 is None or s1 >= lo) for s0, s1 in a.stretches)
        if in_window and not agrees:
            agrees, raised, onset = True, a.raised, a.onset
        if lo <= a.raised <= hi:
            strict = True
    others = tuple(sorted({
        a.type for a in analysis.alarms
        if a.kind == "physiological" and a.type != kind and a.raised <= hi
        and any(s0 <= hi and (s1 is None or s1 >= lo) for s0, s1 in a.stretches)
    }))
    return Verdict(name, alarm, kind, true_alarm, agrees, strict, raised, onset, others)


def judge_record(record: str, limits: Limits | None = None) -> tuple[Verdict, Analysis]:
    alarm, true_alarm = read_label(record)
    analysis = analyze_record(record, cut_s=ALARM_AT_S, limits=limits)
    return judge(resolve_record_path(record).name, alarm, true_alarm, analysis), analysis


def score(verdicts: Iterable[Verdict]) -> ChallengeScore:
    return ChallengeScore(tuple(verdicts))
