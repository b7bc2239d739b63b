"""The MQTT contract at the edge: raw topic + bytes -> validated message, or a ``ContractError``.

Every check of docs/mqtt.md lives here so that nothing invalid reaches the core. Reasons are the stable
strings counted in ``wardwatch_messages_invalid_total{reason=...}``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

import numpy as np
import orjson

from monitor.errors import ContractError
from monitor.messages import Message, Numerics, Status, WaveChunk

__all__ = [
    "CONTRACT_VERSION",
    "MAX_PAYLOAD_BYTES",
    "REASONS",
    "BED_ID_RE",
    "parse_topic",
    "parse_message",
]

CONTRACT_VERSION: Final = "1.0"
MAX_PAYLOAD_BYTES: Final = 64 * 1024
BED_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")
_LEAD_RE: Final = re.compile(r"[A-Za-z0-9]{1,8}")
_NONFINITE_RE: Final = re.compile(rb"\b(NaN|-?Infinity)\b|infinity", re.IGNORECASE)
REASONS: Final = (
    "bad_topic",
    "bad_bed_id",
    "unknown_stream",
    "oversized",
    "bad_json",
    "missing_field",
    "wrong_type",
    "non_finite",
    "out_of_range",
    "bad_unit",
)
TS_MAX: Final = 1e11
FS_MIN: Final = 100.0
FS_MAX: Final = 1000.0
ECG_LIMIT_MV: Final = 50.0
PLETH_LIMIT: Final = 1e6
RATE_MAX: Final = 350.0


def parse_topic(topic: str, root: str) -> tuple[str, str]:
    """Split ``<root>/<bed>/<stream>`` into (bed, stream)."""
    prefix = root.rstrip("/") + "/"
    if not topic.startswith(prefix):
        raise ContractError("bad_topic", f"topic {topic!r} is not under {prefix!r}")
    parts = topic[len(prefix) :].split("/")
    if len(parts) != 2:
        raise ContractError("bad_topic", f"topic {topic!r} must be {prefix}<bed>/<stream>")
    bed, stream = parts
    if not BED_ID_RE.fullmatch(bed):
        raise ContractError("bad_bed_id", f"bed id {bed[:40]!r} must match [A-Za-z0-9_-]{{1,32}}")
    if stream not in ("ecg", "pleth", "numerics", "status"):
        raise ContractError("unknown_stream", f"stream {stream[:40]!r} is not ecg, pleth, numerics or status")
    return bed, stream


def parse_message(topic: str, payload: bytes, root: str = "vitals", retained: bool = False) -> Message:
    """Validate one MQTT message; raises ``ContractError(reason, detail)`` when it breaks the contract."""
    bed, stream = parse_topic(topic, root)
    body = _decode(payload)
    if stream == "numerics":
        return _numerics(bed, body)
    if stream == "status":
        return _status(bed, body, retained)
    return _wave(bed, stream, body)


def _decode(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("oversized", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        if _NONFINITE_RE.search(payload) or "infinity" in str(exc):
            raise ContractError("non_finite", "NaN or Infinity in payload") from exc
        raise ContractError("bad_json", f"not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ContractError("bad_json", f"payload must be a JSON object, not {type(body).__name__}")
    return body


def _number(body: dict[str, Any], key: str, *, required: bool, lo: float, hi: float) -> float | None:
    if key not in body or body[key] is None:
        if required:
            raise ContractError("missing_field", f"{key!r} is required")
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ContractError("wrong_type", f"{key!r} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ContractError("non_finite", f"{key!r} is not finite")
    if not lo <= value <= hi:
        raise ContractError("out_of_range", f"{key!r}={value:g} outside [{lo:g}, {hi:g}]")
    return value


def _flag(body: dict[str, Any], key: str, *, required: bool) -> bool | None:
    if key not in body or body[key] is None:
        if required:
            raise ContractError("missing_field", f"{key!r} is required")
        return None
    value = body[key]
    if not isinstance(value, bool):
        raise ContractError("wrong_type", f"{key!r} must be true or false, not {type(value).__name__}")
    return value


def _ts(body: dict[str, Any], *, required: bool = True) -> float | None:
    return _number(body, "ts", required=required, lo=0.0, hi=TS_MAX)


def _numerics(bed: str, body: dict[str, Any]) -> Numerics:
    ts = _ts(body)
    assert ts is not None
    return Numerics(
        bed=bed,
        ts=ts,
        hr=_number(body, "hr", required=False, lo=0.0, hi=RATE_MAX),
        spo2=_number(body, "spo2", required=False, lo=0.0, hi=100.0),
        pr=_number(body, "pr", required=False, lo=0.0, hi=RATE_MAX),
    )


def _status(bed: str, body: dict[str, Any], retained: bool) -> Status:
    online = _flag(body, "online", required=True)
    assert online is not None
    return Status(
        bed=bed,
        online=online,
        ts=_ts(body, required=False),
        leads_off=_flag(body, "leads_off", required=False),
        probe_off=_flag(body, "probe_off", required=False),
        retained=retained,
    )


def _wave(bed: str, stream: str, body: dict[str, Any]) -> WaveChunk:
    ts = _ts(body)
    fs = _number(body, "fs", required=True, lo=-math.inf, hi=math.inf)
    assert ts is not None and fs is not None
    if not FS_MIN <= fs <= FS_MAX:
        raise ContractError("out_of_range", f"'fs'={fs:g} outside [{FS_MIN:g}, {FS_MAX:g}] Hz")
    samples = _samples(body, fs, ECG_LIMIT_MV if stream == "ecg" else PLETH_LIMIT)
    seq = body.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        raise ContractError("wrong_type", f"'seq' must be an integer, not {type(seq).__name__}")
    if seq is not None and seq < 0:
        raise ContractError("out_of_range", f"'seq'={seq} must be >= 0")
    lead = "II"
    if stream == "ecg":
        lead = _ecg_lead(body)
    return WaveChunk(bed=bed, stream=stream, ts=ts, fs=fs, samples=samples, seq=seq, lead=lead)  # type: ignore[arg-type]


def _ecg_lead(body: dict[str, Any]) -> str:
    unit = body.get("unit", "mV")
    if unit is None:
        unit = "mV"
    if not isinstance(unit, str):
        raise ContractError("wrong_type", f"'unit' must be a string, not {type(unit).__name__}")
    if unit != "mV":
        raise ContractError("bad_unit", f"'unit'={unit[:16]!r}; only 'mV' is accepted")
    lead = body.get("lead", "II")
    if lead is None:
        lead = "II"
    if not isinstance(lead, str):
        raise ContractError("wrong_type", f"'lead' must be a string, not {type(lead).__name__}")
    if not _LEAD_RE.fullmatch(lead):
        raise ContractError("out_of_range", f"'lead'={lead[:16]!r} must match [A-Za-z0-9]{{1,8}}")
    return lead


def _samples(body: dict[str, Any], fs: float, limit: float) -> np.ndarray:
    if "samples" not in body or body["samples"] is None:
        raise ContractError("missing_field", "'samples' is required")
    raw = body["samples"]
    if not isinstance(raw, list):
        raise ContractError("wrong_type", f"'samples' must be an array, not {type(raw).__name__}")
    if not raw:
        raise ContractError("out_of_range", "'samples' is empty")
    if len(raw) > math.floor(fs + 1e-9):
        raise ContractError("out_of_range", f"chunk of {len(raw)} samples is longer than 1 s at {fs:g} Hz")
    for value in raw:
        if type(value) is not float and type(value) is not int:
            raise ContractError("wrong_type", f"'samples' must hold numbers, found {type(value).__name__}")
    samples = np.asarray(raw, dtype=np.float64)
    peak = float(np.max(np.abs(samples)))
    if not math.isfinite(peak):
        raise ContractError("non_finite", "a sample is not finite")
    if peak > limit:
        raise ContractError("out_of_range", f"a sample of magnitude {peak:g} exceeds {limit:g}")
    return samples
