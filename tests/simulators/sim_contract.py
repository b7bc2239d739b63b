"""A small, independent check of MQTT contract 1.0 payloads (docs/mqtt.md) for the simulator tests.

Deliberately separate from ``ingest/contract.py`` (written independently), so the two can cross-check.
``check(topic, payload, root)`` returns the list of violations (empty when the message is valid).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["check"]

_BED = re.compile(r"[A-Za-z0-9_-]{1,32}")
_LEAD = re.compile(r"[A-Za-z0-9]{1,8}")
_MAX_BYTES = 64 * 1024


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite literal {name}")


def check(topic: str, payload: bytes, root: str = "vitals") -> list[str]:
    errors: list[str] = []
    if not topic.startswith(root + "/"):
        return [f"topic {topic!r} outside root {root!r}"]
    rest = topic[len(root) + 1 :].split("/")
    if len(rest) != 2:
        return [f"topic {topic!r}: expected <root>/<bed>/<stream>"]
    bed, stream = rest
    if not _BED.fullmatch(bed):
        errors.append(f"bad bed id {bed!r}")
    if stream not in ("ecg", "pleth", "numerics", "status"):
        return [*errors, f"unknown stream {stream!r}"]
    if len(payload) > _MAX_BYTES:
        errors.append(f"oversized: {len(payload)} bytes")
    try:
        body = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        return [*errors, f"bad json: {exc}"]
    if not isinstance(body, dict):
        return [*errors, "payload is not an object"]
    if stream in ("ecg", "pleth"):
        errors += _check_waveform(stream, body)
    elif stream == "numerics":
        errors += _check_numerics(body)
    else:
        errors += _check_status(body)
    return errors


def _check_ts(body: dict[str, Any], required: bool) -> list[str]:
    if "ts" not in body:
        return ["missing ts"] if required else []
    ts = body["ts"]
    return [] if _number(ts) and 0 <= ts < 1e11 else [f"bad ts {ts!r}"]


def _check_waveform(stream: str, body: dict[str, Any]) -> list[str]:
    errors = _check_ts(body, required=True)
    fs, samples = body.get("fs"), body.get("samples")
    if not _number(fs) or not 100 <= fs <= 1000:
        errors.append(f"bad fs {fs!r}")
    if not isinstance(samples, list) or not samples:
        errors.append("samples must be a non-empty array")
    else:
        if _number(fs) and len(samples) > fs:
            errors.append(f"chunk longer than 1 s: {len(samples)} samples at {fs} Hz")
        limit = 50.0 if stream == "ecg" else 1e6
        if not all(_number(x) and abs(x) <= limit for x in samples):
            errors.append("a sample is not a finite number within range")
    if "seq" in body and (not isinstance(body["seq"], int) or isinstance(body["seq"], bool) or body["seq"] < 0):
        errors.append(f"bad seq {body['seq']!r}")
    if stream == "ecg":
        if "lead" in body and not (isinstance(body["lead"], str) and _LEAD.fullmatch(body["lead"])):
            errors.append(f"bad lead {body['lead']!r}")
        if "unit" in body and body["unit"] != "mV":
            errors.append(f"bad unit {body['unit']!r}")
    return errors


def _check_numerics(body: dict[str, Any]) -> list[str]:
    errors = _check_ts(body, required=True)
    for name, hi in (("hr", 350), ("spo2", 100), ("pr", 350)):
        value = body.get(name)
        if value is not None and not (_number(value) and 0 <= value <= hi):
            errors.append(f"bad {name} {value!r}")
    return errors


def _check_status(body: dict[str, Any]) -> list[str]:
    errors = _check_ts(body, required=False)
    if not isinstance(body.get("online"), bool):
        errors.append(f"online must be a boolean, got {body.get('online')!r}")
    for name in ("leads_off", "probe_off"):
        if name in body and not isinstance(body[name], bool):
            errors.append(f"{name} must be a boolean")
    return errors
