"""Contract payload builders: shape, rounding, topics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import ConfigError
from simulators.messages import numerics_message, status_message, topic, waveform_message, will_message
from tests.simulators.sim_contract import check


def test_ecg_chunk() -> None:
    m = waveform_message("vitals", "bed-01", "ecg", ts=1764085200.0, fs=250, samples=[0.123456, -1.5, 2], seq=7)
    assert m.topic == "vitals/bed-01/ecg" and m.qos == 0 and m.retain is False
    body = json.loads(m.payload)
    assert body == {"ts": 1764085200.0, "fs": 250, "samples": [0.1235, -1.5, 2.0], "seq": 7, "lead": "II", "unit": "mV"}
    assert check(m.topic, m.payload) == []


def test_pleth_chunk_has_no_lead_or_unit() -> None:
    m = waveform_message("site1/pacu/vitals", "bed_2", "pleth", ts=1.0, fs=125, samples=np.ones(31), seq=0, qos=1)
    body = json.loads(m.payload)
    assert "lead" not in body and "unit" not in body and m.qos == 1
    assert check(m.topic, m.payload, root="site1/pacu/vitals") == []


def test_ecg_is_clipped_to_the_contract_range_and_nan_refused() -> None:
    m = waveform_message("vitals", "b", "ecg", ts=1.0, fs=250, samples=[80.0, -99.0], seq=0)
    assert json.loads(m.payload)["samples"] == [50.0, -50.0]
    with pytest.raises(ValueError):
        waveform_message("vitals", "b", "ecg", ts=1.0, fs=250, samples=[math.nan], seq=0)


def test_numerics_and_nulls() -> None:
    m = numerics_message("vitals", "bed-03", ts=1764085200.5, hr=128, spo2=None, pr=127)
    assert m.qos == 1 and not m.retain
    assert json.loads(m.payload) == {"ts": 1764085200.5, "hr": 128, "spo2": None, "pr": 127}
    assert check(m.topic, m.payload) == []


def test_status_and_will() -> None:
    m = status_message("vitals", "bed-03", online=True, ts=5.0, leads_off=False, probe_off=True)
    assert m.qos == 1 and m.retain
    assert json.loads(m.payload) == {"online": True, "ts": 5.0, "leads_off": False, "probe_off": True}
    will = will_message("vitals", "bed-03")
    assert will.topic == "vitals/bed-03/status" and will.retain and will.qos == 1
    assert json.loads(will.payload) == {"online": False}
    assert check(will.topic, will.payload) == [] and check(m.topic, m.payload) == []


@pytest.mark.parametrize(
    "root, bed", [("vitals", "bed 7"), ("vitals", "x" * 33), ("vitals/", "b"), ("a/+", "b"), ("", "b"), ("vitals", "")]
)
def test_bad_topics_are_refused(root: str, bed: str) -> None:
    with pytest.raises(ConfigError):
        topic(root, bed, "ecg")


@given(
    st.lists(st.floats(-60, 60, allow_nan=False), min_size=1, max_size=250),
    st.floats(0, 1e10),
    st.integers(0, 2**40),
    st.sampled_from(["ecg", "pleth"]),
)
def test_any_finite_chunk_gives_a_valid_payload(samples: list[float], ts: float, seq: int, stream: str) -> None:
    m = waveform_message("vitals", "bed-01", stream, ts=ts, fs=250, samples=samples, seq=seq)  # type: ignore[arg-type]
    assert check(m.topic, m.payload) == []
    decoded = json.loads(m.payload)["samples"]
    assert len(decoded) == len(samples)
    limit = 50 if stream == "ecg" else 1e6
    assert np.allclose(decoded, np.clip(samples, -limit, limit), atol=5e-5)


def test_the_checker_itself_catches_violations() -> None:
    assert check("vitals/bed-01/ecg", b'{"ts": 1, "fs": 250, "samples": [NaN]}')
    assert check("vitals/bed-01/ecg", b'{"ts": 1, "fs": 250, "samples": [80.0]}')
    assert check("vitals/bed-01/ecg", b'{"ts": 1, "fs": 100, "samples": ' + json.dumps([0] * 101).encode() + b"}")
    assert check("vitals/bed-01/numerics", b'{"hr": 70}')
    assert check("vitals/bed-01/numerics", b'{"ts": 1, "spo2": 130}')
    assert check("vitals/bed-01/status", b'{"online": "yes"}')
    assert check("vitals/bed 1/status", b'{"online": true}')
    assert check("vitals/bed-01/temperature", b"{}")
