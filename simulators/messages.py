"""Contract payloads (docs/mqtt.md, version 1.0) as ``(topic, payload, qos, retain)`` tuples.

Pure functions: no MQTT here, so tests and replays can use them directly. Payloads are compact JSON
(orjson); waveform samples are rounded to 4 decimals to keep messages small.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import orjson

from monitor.errors import ConfigError

__all__ = [
    "BED_ID_RE",
    "Message",
    "numerics_message",
    "status_message",
    "topic",
    "waveform_message",
    "will_message",
]

BED_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
Stream = Literal["ecg", "pleth", "numerics", "status"]
_ECG_LIMIT_MV = 50.0
_PLETH_LIMIT = 1e6


class Message(NamedTuple):
    """One MQTT message to publish."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


@functools.lru_cache(maxsize=4096)
def topic(root: str, bed: str, stream: Stream) -> str:
    """``<root>/<bed>/<stream>``; raises :class:`ConfigError` for a bad root or bed id."""
    if not BED_ID_RE.fullmatch(bed):
        raise ConfigError(f"bad bed id {bed!r}: must match [A-Za-z0-9_-]{{1,32}}")
    if not root or root.startswith("/") or root.endswith("/") or any(c in root for c in "+#"):
        raise ConfigError(f"bad topic root {root!r}")
    return f"{root}/{bed}/{stream}"


def waveform_message(
    root: str,
    bed: str,
    stream: Literal["ecg", "pleth"],
    *,
    ts: float,
    fs: int,
    samples: np.ndarray | Sequence[float],
    seq: int,
    lead: str | None = None,
    qos: int = 0,
) -> Message:
    """A waveform chunk: ``ts`` is the device time of the first sample.

    Samples are clipped to the contract's range (an ECG amplifier rails at +-50 mV); a non-finite sample
    is a bug upstream and raises ``ValueError``.
    """
    values = np.asarray(samples, dtype=float)
    if not np.isfinite(values).all():
        raise ValueError(f"non-finite sample in {stream} chunk of {bed}")
    limit = _ECG_LIMIT_MV if stream == "ecg" else _PLETH_LIMIT
    body: dict[str, object] = {
        "ts": round(ts, 4),
        "fs": fs,
        "samples": np.round(np.clip(values, -limit, limit), 4).tolist(),
        "seq": seq,
    }
    if stream == "ecg":
        body["lead"] = lead or "II"
        body["unit"] = "mV"
    return Message(topic(root, bed, stream), orjson.dumps(body), qos, False)


def numerics_message(
    root: str, bed: str, *, ts: float, hr: float | None, spo2: float | None, pr: float | None
) -> Message:
    """Device numerics (QoS 1); ``None`` is sent as ``null`` ("not available")."""
    body = {"ts": round(ts, 3), "hr": hr, "spo2": spo2, "pr": pr}
    return Message(topic(root, bed, "numerics"), orjson.dumps(body), 1, False)


def status_message(
    root: str,
    bed: str,
    *,
    online: bool,
    ts: float | None = None,
    leads_off: bool | None = None,
    probe_off: bool | None = None,
) -> Message:
    """Device status, QoS 1, retained (so a station that starts later learns the last state)."""
    body: dict[str, object] = {"online": online}
    if ts is not None:
        body["ts"] = round(ts, 3)
    if leads_off is not None:
        body["leads_off"] = leads_off
    if probe_off is not None:
        body["probe_off"] = probe_off
    return Message(topic(root, bed, "status"), orjson.dumps(body), 1, True)


def will_message(root: str, bed: str) -> Message:
    """The last will every device registers: ``{"online": false}`` retained on its status topic."""
    return status_message(root, bed, online=False)
