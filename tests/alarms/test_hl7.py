"""ORU^R40 (IHE PCD-04): built, then parsed back field by field; ACKs; MLLP framing in any chunking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alarms import hl7

ALARM = {
    "id": "3f9c2a7e41d04b7c",
    "bed": "bed-03",
    "type": "tachycardia",
    "label": "Tachycardia",
    "priority": "medium",
    "kind": "physiological",
    "state": "active",
    "onset": 1764085231.2,
    "raised_at": 1764085236.2,
    "value": 131.0,
    "limit": 120.0,
    "message": "HR 131 > 120 bpm | odd^chars~&",
    "acknowledged_at": None,
}


def page(phase: str = "start", **alarm: object) -> dict:
    return {"id": "3f9c2a7e41d04b7c-000", "phase": phase, "t": 1764085236.2, "alarm": {**ALARM, **alarm}}


def test_oru_r40_parses_back() -> None:
    raw = hl7.build_oru_r40(page(), control_id="3f9c-000.am", now=1764085236.5)
    msg = hl7.parse_message(raw)
    assert msg.field("MSH", 9) == "ORU^R40^ORU_R40"
    assert msg.field("MSH", 10) == "3f9c-000.am"
    assert msg.field("MSH", 12) == "2.6"
    assert msg.field("MSH", 21).startswith("IHE_PCD_ACM_001")
    assert msg.segment("PID")[3].startswith("bed-03^")
    obx1 = msg.obx("196616")
    assert obx1[5].startswith("196648^MDC_EVT_HI^MDC^tachycardia")
    assert obx1[8] == "PM~SP"  # OBX-8: priority ~ source
    measure = msg.obx("147842")
    assert (measure[5], measure[6].split("^")[1], measure[7]) == ("131", "/min", "120")
    assert msg.obx("68481")[5] == "start"
    assert msg.obx("68482")[5] == "active"
    assert msg.obx("68484")[5] == "PM" and msg.obx("68485")[5] == "SP"
    text = hl7.unescape(msg.obx("68546")[5])
    assert "odd^chars~&" in text and "|" in text  # delimiters escaped, then restored
    assert raw.endswith(b"\r") and b"\n" not in raw


@pytest.mark.parametrize(
    ("priority", "kind", "flags"),
    [("high", "physiological", "PH~SP"), ("medium", "technical", "PM~ST"), ("low", "technical", "PL~ST")],
)
def test_obx8_priority_and_source(priority: str, kind: str, flags: str) -> None:
    msg = hl7.parse_message(hl7.build_oru_r40(page(priority=priority, kind=kind), control_id="x", now=0))
    assert msg.obx("196616")[8] == flags


@pytest.mark.parametrize("phase", ["start", "escalate", "continue", "end"])
def test_event_phase_and_end_state(phase: str) -> None:
    msg = hl7.parse_message(hl7.build_oru_r40(page(phase), control_id="x", now=0))
    assert msg.obx("68481")[5] == phase
    assert msg.obx("68482")[5] == ("inactive" if phase == "end" else "active")


def test_technical_alarm_without_value_has_no_measurement() -> None:
    msg = hl7.parse_message(
        hl7.build_oru_r40(page(type="probe_off", kind="technical", value=None, limit=None), control_id="x", now=0)
    )
    assert msg.obx("196616")[5].startswith("196616^MDC_EVT_ALARM^MDC^probe_off")
    assert [s[4] for s in msg.all("OBX")] == [f"1.0.0.0.{i}" for i in (1, 3, 4, 5, 6, 7, 8)]


def test_ack_round_trip_and_refusals() -> None:
    msg = hl7.parse_message(hl7.build_oru_r40(page(), control_id="c-1", now=0))
    hl7.parse_ack(hl7.build_ack(msg, "AA"), "c-1")
    with pytest.raises(hl7.Hl7Error, match="refused"):
        hl7.parse_ack(hl7.build_ack(msg, "AE", "bad bed"), "c-1")
    with pytest.raises(hl7.Hl7Error, match="expected"):
        hl7.parse_ack(hl7.build_ack(msg, "AA"), "c-2")
    with pytest.raises(hl7.Hl7Error):
        hl7.parse_ack(b"garbage", "c-1")


@given(cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=30), n=st.integers(min_value=1, max_value=4))
def test_mllp_decoder_any_chunking(cuts: list[int], n: int) -> None:
    messages = [hl7.build_oru_r40(page(), control_id=f"c{i}", now=0) for i in range(n)]
    stream = b"noise" + b"".join(hl7.frame(m) for m in messages)
    decoder = hl7.MllpDecoder()
    out: list[bytes] = []
    pos = 0
    for cut in cuts:
        out += decoder.feed(stream[pos : pos + cut])
        pos += cut
    out += decoder.feed(stream[pos:])
    assert out == messages
