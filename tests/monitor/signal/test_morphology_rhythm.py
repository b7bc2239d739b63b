"""Beat morphology (dominant vs ventricular) against MIT-BIH labels, and the rhythm tracker's measures."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from monitor.records import physionet_dir, read_reference_beats
from monitor.signal.filters import SosFilter, design_bandpass
from monitor.signal.morphology import BeatClassifier, energy_width
from monitor.signal.qrs import detect_beats
from monitor.signal.rhythm import AfCriteria, RhythmTracker, af_evidence
from tests.monitor.signal.data import channel, require


def _labelled(record: str) -> tuple[list[str], list[str]]:
    """(our label, reference symbol) for each detected beat matched to a reference beat within 150 ms."""
    x, fs = channel(record, 0)
    wide = SosFilter(design_bandpass(fs, 1.0, 30.0)).process(x)
    ann = wfdb.rdann(str(physionet_dir() / record), "atr")
    ref = np.asarray(ann.sample)
    sym = np.asarray(ann.symbol)
    cls = BeatClassifier(fs)
    ours, theirs = [], []
    for b in detect_beats(x, fs):
        s = b.sample
        shape = cls.classify(wide[s - cls.pre : s + cls.post] if s >= cls.pre else None, s / fs)
        k = int(np.argmin(np.abs(ref - s)))
        if abs(ref[k] - s) <= 0.15 * fs and sym[k] in "NLRAaJSVF/":
            ours.append(shape.label)
            theirs.append(str(sym[k]))
    return ours, theirs


@pytest.mark.slow
@pytest.mark.parametrize(("record", "min_se", "min_ppv"), [("mitdb/208", 0.9, 0.9), ("mitdb/210", 0.7, 0.6),
                                                           ("mitdb/201", 0.8, 0.5)])
def test_ventricular_beats_are_told_from_dominant_ones(record: str, min_se: float, min_ppv: float) -> None:
    ours, theirs = _labelled(record)
    v_true = [t == "V" for t in theirs]
    v_ours = [o == "V" for o in ours]
    tp = sum(a and b for a, b in zip(v_true, v_ours, strict=True))
    se, ppv = tp / sum(v_true), tp / max(1, sum(v_ours))
    assert se >= min_se and ppv >= min_ppv, (record, se, ppv)
    normal_as_v = sum(1 for o, t in zip(ours, theirs, strict=True) if t == "N" and o == "V") / theirs.count("N")
    assert normal_as_v < 0.02


def test_energy_width_separates_narrow_and_wide_complexes() -> None:
    fs = 250.0
    t = np.arange(-0.08, 0.12, 1 / fs)
    narrow = np.exp(-0.5 * (t / 0.010) ** 2)
    wide = np.exp(-0.5 * (t / 0.030) ** 2)
    assert energy_width(narrow, fs) < 0.035 < 0.06 < energy_width(wide, fs)


def test_rate_run_and_ventricular_run() -> None:
    r = RhythmTracker()
    for i in range(10):
        r.add(i * 1.0, "N", 0.99)  # 60 bpm
    for i in range(6):
        r.add(10.0 + i * 0.4, "V", 0.95)  # 6 wide beats at 150 bpm
    run = r.ventricular_run()
    assert run is not None and run.n == 6 and run.bpm == pytest.approx(150.0) and run.consistency == pytest.approx(0.95)
    assert r.rate_run(5) is not None and r.rate_run(5).bpm == pytest.approx(150.0)  # type: ignore[union-attr]
    r.add(13.0, "N", 0.2)
    assert r.ventricular_run() is None
    longest = r.longest_rr_since(0.0)
    assert longest is not None and longest[0] == pytest.approx(1.0)


def test_af_criteria_on_synthetic_rr() -> None:
    rng = np.random.default_rng(5)
    af = AfCriteria()
    irregular = rng.uniform(0.45, 0.95, 32)  # AF: random intervals
    regular = 0.8 + 0.01 * rng.standard_normal(32)  # sinus
    bigeminy = np.tile([0.5, 1.1], 16)  # regularly irregular: alternating
    pauses = np.where(rng.random(32) < 0.2, 3.0, 1.0)  # sinus with long pauses (sick sinus)
    assert af.holds(af_evidence(irregular))
    assert not af.holds(af_evidence(regular))
    assert not af.holds(af_evidence(bigeminy))
    assert not af.holds(af_evidence(pauses))
    assert af_evidence(np.ones(5)) is None


def test_reference_beats_helper_is_available() -> None:
    require("mitdb/100")
    assert read_reference_beats("mitdb/100").size == 2273
