"""The recording codec: canonical values, exact block round trips, varints, vitals, corrupt input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import RecordError
from monitor.messages import Numerics, Status, WaveChunk
from store.codec import (
    ECG_QUANTUM_MV,
    FAST,
    PLETH_QUANTUM,
    SMALL,
    Marker,
    canonical,
    canonical_time,
    decode_entries,
    decode_vitals,
    encode_entries,
    encode_vitals,
)
from store.varint import delta_decode, delta_encode, unzigzag, varint_decode, varint_encode, zigzag


def same(a: object, b: object) -> bool:
    if isinstance(a, WaveChunk) and isinstance(b, WaveChunk):
        return (a.bed, a.stream, a.ts, a.fs, a.seq, a.lead) == (b.bed, b.stream, b.ts, b.fs, b.seq, b.lead) and \
            a.samples.dtype == b.samples.dtype and np.array_equal(a.samples, b.samples)
    return a == b


def entries_equal(xs: list, ys: list) -> bool:
    return len(xs) == len(ys) and all(ta == tb and same(a, b) for (ta, a), (tb, b) in zip(xs, ys, strict=True))


@given(st.lists(st.integers(-(2**62), 2**62), max_size=300))
def test_varints_round_trip(values: list[int]) -> None:
    a = np.array(values, dtype=np.int64)
    assert np.array_equal(unzigzag(varint_decode(varint_encode(zigzag(a)), len(a))), a)
    for order in (0, 1, 2):
        if len(a) and np.abs(a).max() < 2**40:
            assert np.array_equal(delta_decode(delta_encode(a, order), order), a)


def test_canonical_values_are_at_the_documented_resolution_and_idempotent() -> None:
    chunk = WaveChunk("b1", "ecg", 1764085200.123456, 250.0, np.array([0.0123, -1.23456, 2.0]), 7, "II")
    c = canonical(chunk)
    assert c.ts == 1764085200.1235
    assert np.allclose(c.samples / ECG_QUANTUM_MV, np.rint(c.samples / ECG_QUANTUM_MV))
    assert np.array_equal(canonical(c).samples, c.samples) and canonical(c).ts == c.ts
    pleth = canonical(WaveChunk("b1", "pleth", 1.0, 125.0, np.array([0.51, 0.77])))
    assert np.array_equal(pleth.samples * 512, np.rint(pleth.samples * 512)) and PLETH_QUANTUM == 1 / 512
    n = canonical(Numerics("b1", 10.00004, hr=72.36, spo2=None, pr=71.04))
    assert (n.ts, n.hr, n.spo2, n.pr) == (10.0, 72.4, None, 71.0)
    assert canonical_time(100.0004) == 100.0 and canonical_time(canonical_time(5.4321)) == canonical_time(5.4321)


def _entries(seed: int = 1, n: int = 200) -> list:
    rng = np.random.default_rng(seed)
    out = []
    t = 1764085200.0
    ts = {"ecg": 1764085100.0, "pleth": 1764085100.0}
    for k in range(n):
        t += float(rng.uniform(0, 0.3))
        r = rng.random()
        if r < 0.45:
            size = int(rng.integers(1, 251))
            msg = WaveChunk("bed-1", "ecg", ts["ecg"], 250.0, rng.normal(0, 0.5, size), k if r < 0.4 else None,
                            "II" if r < 0.3 else "V")
            ts["ecg"] += size / 250.0 + (0.3 if rng.random() < 0.05 else 0.0)
        elif r < 0.8:
            size = int(rng.integers(1, 126))
            msg = WaveChunk("bed-1", "pleth", ts["pleth"], 125.0, rng.normal(1, 0.3, size), k)
            ts["pleth"] += size / 125.0
        elif r < 0.9:
            msg = Numerics("bed-1", t - 0.5, hr=float(rng.integers(40, 160)) if rng.random() < 0.9 else None,
                           spo2=float(rng.integers(80, 100)), pr=None)
        else:
            msg = Status("bed-1", bool(rng.random() < 0.8), None if rng.random() < 0.5 else t - 0.1,
                         [None, True, False][int(rng.integers(3))], [None, True, False][int(rng.integers(3))],
                         bool(rng.random() < 0.2))
        out.append((canonical_time(t), canonical(msg)))
        if rng.random() < 0.03:
            out.append((t + 0.0001234, Marker("bed-1", "ack", t + 0.0001234, {"type": "tachycardia", "user": "x"})))
    return out


@pytest.mark.parametrize("compressor", [FAST, SMALL])
def test_entries_round_trip_exactly(compressor: int) -> None:
    entries = _entries()
    assert entries_equal(decode_entries(encode_entries(entries, compressor)), entries)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 80))
def test_entries_round_trip_property(seed: int, n: int) -> None:
    entries = _entries(seed, n)
    assert entries_equal(decode_entries(encode_entries(entries)), entries)


def test_empty_and_marker_only_blocks() -> None:
    assert decode_entries(encode_entries([])) == []
    m = [(5.0, Marker("b", "tick", 5.000123, {}))]
    assert decode_entries(encode_entries(m)) == [(5.000123, Marker("b", "tick", 5.000123, {}))]


def test_vitals_round_trip() -> None:
    rows = [
        {"t": 100.001 + i, "hr": None if i % 7 == 0 else 60.0 + i % 9, "hr_source": ["ecg", "device", None][i % 3],
         "spo2": 97.5, "pr": 61.2, "rhythm": "sinus", "ecg_quality": "good", "leads_off": i % 5 == 0, "extra": [1, 2],
         "pi": round(i * 0.37 % 5, 2), "ratio": round(i * 0.0123, 3), "leads": {"II": "good"}}
        for i in range(300)
    ]
    rows = [{**r, "t": canonical_time(r["t"])} for r in rows]
    assert decode_vitals(encode_vitals(rows)) == rows


def test_corrupt_blocks_raise_record_error() -> None:
    blob = encode_entries(_entries(n=30))
    with pytest.raises(RecordError):
        decode_entries(b"nope" + blob)
    with pytest.raises(RecordError):
        decode_entries(blob[:-20])
