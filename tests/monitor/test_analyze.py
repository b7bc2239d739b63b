"""Whole-recording regressions through the live pipeline: the CinC 2015 false-alarm records, MIT-BIH rhythms
(AF, pauses, bradycardia, VT runs), noise stress, SpO2 timing, and the analyze/evaluate commands."""

from __future__ import annotations

import glob
import json
import os
from concurrent.futures import ProcessPoolExecutor
from functools import cache

import pytest

from monitor.analyze import Analysis, analyze_record
from monitor.challenge import judge_record, score
from monitor.cli import main
from monitor.noise_stress import stress
from monitor.oximetry import spo2_timing
from monitor.records import physionet_dir
from tests.monitor.signal.data import require

pytestmark = pytest.mark.slow


def _challenge_records() -> list[str]:
    require("challenge-2015/a103l")
    headers = glob.glob(str(physionet_dir() / "challenge-2015" / "*.hea"))
    return sorted(f"challenge-2015/{os.path.basename(p)[:-4]}" for p in headers)


def test_challenge_2015_score_meets_the_bar() -> None:
    records = _challenge_records()
    with ProcessPoolExecutor(2) as pool:
        verdicts = [v for v, _ in pool.map(judge_record, records)]
    result = score(verdicts)
    counts = result.counts()
    print("CHALLENGE", counts, round(result.score(), 1), [(v.record, v.outcome) for v in verdicts])
    assert result.score() >= 85.0, [(v.record, v.outcome) for v in verdicts]
    assert counts["FN"] == 0
    # read strictly ("an alarm announced inside the last minute"), a condition that comes back within the
    # minute is announced again (reactivation), so the strict reading stays close
    print("CHALLENGE strict", result.counts(strict=True), round(result.score(strict=True), 1))
    assert result.counts(strict=True)["FP"] == 0 and result.counts(strict=True)["FN"] <= 1


@cache
def _mitdb(record: str) -> Analysis:
    require(f"mitdb/{record}")
    return analyze_record(f"mitdb/{record}")


def test_af_is_found_in_201_and_210() -> None:
    for record, episodes in (("201", [(0.2, 378.4), (477.3, 514.1), (1596.5, 1787.3)]), ("210", [(0.0, 1805.0)])):
        af = _mitdb(record).of_type("atrial_fibrillation")
        assert af, record
        start, end = episodes[0]
        assert any(start <= a.raised <= end for a in af)
    stretches = [s for a in _mitdb("210").of_type("atrial_fibrillation") for s in a.stretches]
    covered = sum(min(s1 or 1805.0, 1805.0) - s0 for s0, s1 in stretches)
    assert covered > 0.6 * 1805.0


def test_pauses_and_bradycardia_are_found_in_232() -> None:
    a = _mitdb("232")
    assert len(a.of_type("pause")) >= 25  # its reference has 31 RR intervals > 3 s (14 > 4 s)
    assert a.of_type("extreme_bradycardia") or a.of_type("bradycardia")
    assert not a.of_type("atrial_fibrillation") and not a.of_type("ventricular_tachycardia")


def test_vt_runs() -> None:
    vt210 = _mitdb("210").of_type("ventricular_tachycardia")  # 6-beat runs at 421 s (150 bpm) and 1083 s (117 bpm)
    assert vt210 and abs(vt210[0].onset - 421.2) < 1.0
    assert any(abs(s0 - 1083.0) < 5.0 for a in vt210 for s0, _ in a.stretches)
    # the second run reactivates the latched alarm: the same alarm, announced again, its own entry
    again = [a for a in vt210 if a.reactivated]
    assert again and again[0].id == vt210[0].id and abs(again[0].raised - 1083.0) < 6.0
    assert not _mitdb("106").of_type("ventricular_tachycardia")  # its "VT" is a 3-beat run: not VT (>= 5 beats)
    assert not _mitdb("208").of_type("ventricular_tachycardia")  # couplets and triplets only


def test_noise_stretches_give_ecg_signal_poor_not_arrhythmia() -> None:
    require("mitdb/100", "nstdb/118e00", "nstdb/ma")
    for case in (("mitdb/100", "em", 0.0), ("mitdb/100", "ma", 0.0), ("mitdb/118", "em", 0.0)):
        r = stress(*case)
        assert r.alarms_in_noise == [], (case, r.alarms_in_noise)
        assert r.poor_covered >= 0.5, (case, r.poor_covered)


def test_spo2_alarm_timing_on_real_desaturations() -> None:
    if not (physionet_dir() / "uw-phone-oximetry" / "gt" / "100005.csv").is_file():
        pytest.skip("uw-phone-oximetry not found")
    rows = spo2_timing("100005")  # a smooth desaturation to 67 %
    fixed = [r for r in rows if r.alarm_type == "spo2_low" and r.setting == "fixed 15 s"]
    sat = [r for r in rows if r.alarm_type == "spo2_low" and r.setting == "SatSeconds 25"]
    desat = [r for r in rows if r.alarm_type == "desaturation"]
    assert all(r.delay == pytest.approx(15.0) for r in fixed)
    assert all(r.delay is not None and 15.0 < r.delay < 60.0 for r in sat)  # a slow decline takes longer
    assert all(r.delay == 0.0 for r in desat)


def test_analyze_command_prints_the_vt_alarm(capsys: pytest.CaptureFixture[str]) -> None:
    require("challenge-2015/v636s")
    assert main(["analyze", "challenge-2015/v636s", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    vt = [a for a in out["alarms"] if a["type"] == "ventricular_tachycardia"]
    assert vt and vt[0]["priority"] == "high" and 296.0 <= vt[0]["onset"] <= 299.0 and vt[0]["raised"] <= 300.0
    assert main(["analyze", "challenge-2015/v636s"]) == 0
    assert "ventricular_tachycardia" in capsys.readouterr().out


def test_evaluate_challenge_command(capsys: pytest.CaptureFixture[str]) -> None:
    require("challenge-2015/a103l", "challenge-2015/t406s")
    assert main(["evaluate", "challenge", "challenge-2015/a103l", "challenge-2015/t406s", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"TP": 1, "TN": 1, "FP": 0, "FN": 0} and out["score"] == 100.0
