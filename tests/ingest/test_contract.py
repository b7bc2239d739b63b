"""The MQTT contract at the edge: valid messages parse, each rejection reason is recognised."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.contract import MAX_PAYLOAD_BYTES, REASONS, parse_message
from monitor.errors import ContractError
from monitor.messages import Numerics, Status, WaveChunk


def dumps(obj: object) -> bytes:
    return json.dumps(obj).encode()


def reason_of(topic: str, payload: bytes) -> str:
    with pytest.raises(ContractError) as info:
        parse_message(topic, payload)
    assert info.value.reason in REASONS
    return info.value.reason


def test_valid_ecg_chunk() -> None:
    msg = parse_message(
        "vitals/bed-7/ecg", dumps({"ts": 1.0e9, "fs": 250, "samples": [0.1] * 250, "seq": 3, "lead": "V", "unit": "mV"})
    )
    assert isinstance(msg, WaveChunk)
    assert (msg.bed, msg.stream, msg.lead, msg.seq, msg.fs, len(msg.samples)) == ("bed-7", "ecg", "V", 3, 250.0, 250)


def test_valid_pleth_numerics_status() -> None:
    pleth = parse_message("vitals/b1/pleth", dumps({"ts": 5, "fs": 125, "samples": [1, 2.5, 3]}))
    assert isinstance(pleth, WaveChunk) and pleth.stream == "pleth"
    num = parse_message("vitals/b1/numerics", dumps({"ts": 5, "hr": 72, "spo2": None, "extra": "ignored"}))
    assert num == Numerics("b1", 5.0, hr=72.0, spo2=None, pr=None)
    will = parse_message("vitals/b1/status", b'{"online": false}', retained=True)
    assert will == Status("b1", online=False, retained=True)


def test_custom_topic_root() -> None:
    msg = parse_message("site1/pacu/vitals/b1/numerics", dumps({"ts": 1, "pr": 80}), root="site1/pacu/vitals")
    assert isinstance(msg, Numerics) and msg.pr == 80.0


CASES = [
    ("vitals/b1", dumps({"ts": 1}), "bad_topic"),
    ("other/b1/numerics", dumps({"ts": 1}), "bad_topic"),
    ("vitals/b1/ecg/extra", dumps({"ts": 1}), "bad_topic"),
    ("vitals/bed 7/numerics", dumps({"ts": 1}), "bad_bed_id"),
    ("vitals/" + "x" * 33 + "/numerics", dumps({"ts": 1}), "bad_bed_id"),
    ("vitals/b1/temperature", dumps({"ts": 1}), "unknown_stream"),
    ("vitals/b1/ecg", b'{"ts": 1, "fs": 250, "samples": [' + b"0.1," * 20000 + b"0.1]}", "oversized"),
    ("vitals/b1/numerics", b"{not json", "bad_json"),
    ("vitals/b1/numerics", b"\xff\xfe", "bad_json"),
    ("vitals/b1/numerics", b"[1, 2]", "bad_json"),
    ("vitals/b1/numerics", dumps({"hr": 80}), "missing_field"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250}), "missing_field"),
    ("vitals/b1/status", dumps({"ts": 1}), "missing_field"),
    ("vitals/b1/numerics", dumps({"ts": 1, "hr": "fast"}), "wrong_type"),
    ("vitals/b1/numerics", dumps({"ts": 1, "hr": True}), "wrong_type"),
    ("vitals/b1/status", dumps({"online": "yes"}), "wrong_type"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": 5}), "wrong_type"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": [0.1, "x"]}), "wrong_type"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": [0.1, None]}), "wrong_type"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": [0.1], "seq": 1.5}), "wrong_type"),
    ("vitals/b1/numerics", b'{"ts": 1, "hr": NaN}', "non_finite"),
    ("vitals/b1/numerics", b'{"ts": 1, "spo2": Infinity}', "non_finite"),
    ("vitals/b1/ecg", b'{"ts": 1, "fs": 250, "samples": [1e999]}', "non_finite"),
    ("vitals/b1/numerics", dumps({"ts": 1, "hr": 900}), "out_of_range"),
    ("vitals/b1/numerics", dumps({"ts": 1, "spo2": 130}), "out_of_range"),
    ("vitals/b1/numerics", dumps({"ts": 1, "pr": -3}), "out_of_range"),
    ("vitals/b1/numerics", dumps({"ts": -5, "hr": 80}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 0, "samples": [0.1]}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": -250, "samples": [0.1]}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 5000, "samples": [0.1]}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": []}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 100, "samples": [0.1] * 101}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": [80.0]}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": [0.1], "seq": -1}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": [0.1], "lead": "lead II!"}), "out_of_range"),
    ("vitals/b1/ecg", dumps({"ts": 1, "fs": 250, "samples": [0.1], "unit": "uV"}), "bad_unit"),
]


@pytest.mark.parametrize(("topic", "payload", "reason"), CASES)
def test_rejections(topic: str, payload: bytes, reason: str) -> None:
    assert reason_of(topic, payload) == reason


def test_every_reason_is_tested() -> None:
    assert {reason for _, _, reason in CASES} == set(REASONS)


def test_payload_limit_is_64_kib() -> None:
    assert MAX_PAYLOAD_BYTES == 65536


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=8,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=st.sampled_from(["ecg", "pleth", "numerics", "status", "x"]),
    body=st.dictionaries(
        st.sampled_from(["ts", "fs", "samples", "hr", "spo2", "pr", "online", "seq", "lead", "unit"]), json_values
    ),
)
def test_anything_either_parses_or_is_a_contract_error(stream: str, body: dict[str, object]) -> None:
    try:
        parse_message(f"vitals/b1/{stream}", dumps(body))
    except ContractError as exc:
        assert exc.reason in REASONS


@given(st.binary(max_size=300))
def test_random_bytes_never_crash(payload: bytes) -> None:
    try:
        parse_message("vitals/b1/numerics", payload)
    except ContractError as exc:
        assert exc.reason in REASONS
