"""EC57 beat matching and scoring, the record helpers and `wardwatch evaluate qrs`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from monitor.cli import main
from monitor.errors import RecordError
from monitor.evaluate import QrsScore, match_beats, score_record, summarize
from monitor.records import BEAT_CODES, physionet_dir, read_record, read_reference_beats, resolve_record_path


def _require_data() -> None:
    if not (physionet_dir() / "mitdb" / "100.hea").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PhysioNet data missing at {physionet_dir()}")
        pytest.skip(f"PhysioNet data not found at {physionet_dir()} (set WARDWATCH_PHYSIONET_DIR)")


# ------------------------------------------------------------------ matcher
def _score(ref: list[int], det: list[int], window: int = 54) -> tuple[int, int, int]:
    r, d = match_beats(np.array(ref), np.array(det), window)
    return int(r.sum()), int(d.size - d.sum()), int(r.size - r.sum())


def test_perfect_match() -> None:
    assert _score([100, 500, 900], [100, 500, 900]) == (3, 0, 0)


def test_window_edge_is_inclusive() -> None:
    assert _score([1000], [1054]) == (1, 0, 0)
    assert _score([1000], [1055]) == (0, 1, 1)
    assert _score([1000], [946]) == (1, 0, 0)


def test_matching_is_one_to_one() -> None:
    # two detections near one reference beat: one TP, one FP
    assert _score([1000], [990, 1010]) == (1, 1, 0)
    # two reference beats near one detection: one TP, one FN
    assert _score([1000, 1040], [1020]) == (1, 0, 1)


def test_closest_pairs_win() -> None:
    ref, det = np.array([1000, 1100]), np.array([1050, 1105])
    r, d = match_beats(ref, det, 54)
    assert r.tolist() == [True, True] and d.tolist() == [True, True]  # 1000-1050 and 1100-1105
    r, d = match_beats(np.array([1000, 1100]), np.array([1090]), 54)
    assert r.tolist() == [False, True]  # 1090 is closer to 1100


def test_unsorted_input_and_empty_sides() -> None:
    r, d = match_beats(np.array([900, 100, 500]), np.array([505, 95]), 54)
    assert r.tolist() == [False, True, True] and d.tolist() == [True, True]
    assert _score([], [1, 2]) == (0, 2, 0)
    assert _score([1, 2], []) == (0, 0, 2)


def test_score_record_uses_150_ms_at_the_record_rate() -> None:
    s = score_record("r", np.array([1000, 2000]), np.array([1019, 2020]), fs=128.0)  # 19 samples = 148 ms
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)


def test_rates_and_summary() -> None:
    a = QrsScore("a", tp=98, fp=2, fn=0)
    b = QrsScore("b", tp=50, fp=0, fn=50)
    assert a.se == 1.0 and a.ppv == pytest.approx(0.98)
    summary = summarize([a, b])
    assert (summary.gross.tp, summary.gross.fp, summary.gross.fn) == (148, 2, 50)
    assert summary.gross.se == pytest.approx(148 / 198)
    assert summary.average_se == pytest.approx(0.75)
    assert summary.average_ppv == pytest.approx(0.99)
    assert QrsScore("empty", 0, 0, 0).se == 1.0
    assert json.loads(json.dumps(summary.as_dict()))["gross"]["fn"] == 50


# ------------------------------------------------------------------ records
def test_physionet_dir_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WARDWATCH_PHYSIONET_DIR", str(tmp_path))
    assert physionet_dir() == tmp_path
    monkeypatch.delenv("WARDWATCH_PHYSIONET_DIR")
    assert physionet_dir() == Path(__file__).resolve().parents[3] / "shared" / "data" / "physionet"


def test_missing_and_broken_records_raise_record_error(tmp_path: Path) -> None:
    with pytest.raises(RecordError):
        read_record(tmp_path / "nothing")
    (tmp_path / "bad.hea").write_text("this is not a header\n")
    with pytest.raises(RecordError):
        read_record(tmp_path / "bad")
    with pytest.raises(RecordError):
        read_reference_beats(tmp_path / "bad")


def test_reads_signals_in_mv_and_beat_annotations_only() -> None:
    _require_data()
    record = read_record("mitdb/100")
    assert record.fs == 360.0 and record.signals.shape == (650000, 2)
    assert record.channel_names == ("MLII", "V5") and record.units == ("mV", "mV")
    beats = read_reference_beats("mitdb/100")
    assert beats.size == 2273 and np.all(np.diff(beats) > 0)  # '+' rhythm labels dropped
    assert resolve_record_path("mitdb/100") == physionet_dir() / "mitdb" / "100"
    with pytest.raises(RecordError):
        record.channel(5)
    assert set("NLRV/") <= BEAT_CODES and "+" not in BEAT_CODES and "~" not in BEAT_CODES


# ------------------------------------------------------------------ CLI
def test_evaluate_qrs_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    _require_data()
    assert main(["evaluate", "qrs", "mitdb/100", "mitdb/232"]) == 0
    table = capsys.readouterr().out
    assert "mitdb/100" in table and "gross" in table and "average" in table
    assert main(["evaluate", "qrs", "mitdb/100", "mitdb/232", "--json", "--channel", "0"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["record"] for r in payload["records"]] == ["mitdb/100", "mitdb/232"]
    gross = payload["gross"]
    assert gross["tp"] == sum(r["tp"] for r in payload["records"])
    assert gross["se"] > 0.99 and gross["ppv"] > 0.99
    assert set(payload["average"]) == {"se", "ppv"}


def test_evaluate_needs_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate"])
    assert main(["evaluate", "qrs", "no/such/record"]) == 2
