"""HL7 v2.6 ORU^R40 alarm reports (IHE PCD ACM, transaction PCD-04) and MLLP framing. Pure: bytes in/out.

One message per page. The alarm is one OBR with its facets as OBX segments, sub-ids ``1.0.0.0.<facet>``:

OBX 1 ``196616^MDC_EVT_ALARM^MDC``: the event (e.g. ``196648^MDC_EVT_HI^MDC^tachycardia^Tachycardia^WARDWATCH``),
**OBX-8 = priority~source** (``PH``/``PM``/``PL`` ~ ``SP``/``ST``); OBX 2: the measurement (value, OBX-6 unit,
OBX-7 limit; only when the alarm has a value); then ``68481`` event phase (start/escalate/continue/end),
``68482`` alarm state (active/latched/inactive), ``68483`` inactivation state (enabled/alert-acknowledged),
``68484`` priority, ``68485`` source (SP/ST), ``68546`` alert text. Full table: docs/alarms.md.

PID carries the bed as identifier only (no patient name: WardWatch never has one); PV1-3 the location.
MSH-10 (control id) is ``<page id>.<channel>``: a page re-sent after a restart keeps its control id, so the
alert manager can recognise it. The receiver must answer an ACK (MSA-1 ``AA``/``CA``; ``AE``/``AR`` = refused).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.errors import WardWatchError

__all__ = [
    "Hl7Error",
    "build_oru_r40",
    "build_ack",
    "parse_message",
    "parse_ack",
    "frame",
    "MllpDecoder",
    "EVENT_CODES",
    "VT",
    "FS",
    "CR",
]

VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"
PRIORITY_CODE = {"high": "PH", "medium": "PM", "low": "PL"}
SOURCE_CODE = {"physiological": "SP", "technical": "ST"}

_HI = "196648^MDC_EVT_HI^MDC"
_LO = "196670^MDC_EVT_LO^MDC"
_ARRHY = "199874^MDC_EVT_ECG_ARRHY^MDC"
_ALARM = "196616^MDC_EVT_ALARM^MDC"
#: alarm type -> MDC event (the WardWatch type is added as the CWE alternate code)
EVENT_CODES: dict[str, str] = {
    "tachycardia": _HI,
    "extreme_tachycardia": _HI,
    "bradycardia": _LO,
    "extreme_bradycardia": _LO,
    "spo2_low": _LO,
    "desaturation": "199854^MDC_EVT_DESAT^MDC",
    "asystole": "199684^MDC_EVT_ECG_ASYSTOLE^MDC",
    "ventricular_tachycardia": _ARRHY,
    "ventricular_fibrillation": _ARRHY,
    "atrial_fibrillation": _ARRHY,
    "pause": _ARRHY,
    "leads_off": "196680^MDC_EVT_LEAD_OFF^MDC",
}
_HR = ("147842^MDC_ECG_HEART_RATE^MDC", "264864^/min^MDC")
_SPO2 = ("150456^MDC_PULS_OXIM_SAT_O2^MDC", "262688^%^MDC")
_MEASURE = {
    "tachycardia": _HR,
    "extreme_tachycardia": _HR,
    "bradycardia": _HR,
    "extreme_bradycardia": _HR,
    "spo2_low": _SPO2,
    "desaturation": _SPO2,
}
_STATE = {"active": "active", "latched": "latched", "acknowledged": "active", "cleared": "inactive"}


class Hl7Error(WardWatchError):
    """A message or an ACK that cannot be built or read."""


def hl7_time(t: float) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}+0000"


def escape(text: Any) -> str:
    """HL7 escaping of the delimiters in free text (and no segment breaks)."""
    s = "" if text is None else str(text)
    s = s.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\").replace("~", "\\R\\")
    return s.replace("\r", " ").replace("\n", " ")


def unescape(text: str) -> str:
    return (
        text.replace("\\F\\", "|")
        .replace("\\S\\", "^")
        .replace("\\T\\", "&")
        .replace("\\R\\", "~")
        .replace("\\E\\", "\\")
    )


def build_oru_r40(
    page: Mapping[str, Any],
    *,
    control_id: str,
    now: float,
    sending_application: str = "WARDWATCH",
    sending_facility: str = "PACU",
    receiving_application: str = "AM",
    receiving_facility: str = "",
) -> bytes:
    """The ORU^R40 for one page (``PageRequest.to_json()``), as UTF-8 bytes with CR segment separators."""
    alarm = page["alarm"]
    kind = str(alarm.get("type", ""))
    priority = PRIORITY_CODE.get(str(alarm.get("priority")), "PL")
    source = SOURCE_CODE.get(str(alarm.get("kind")), "ST")
    phase = str(page["phase"])
    state = "inactive" if phase == "end" else _STATE.get(str(alarm.get("state")), "active")
    inactivation = "alert-acknowledged" if alarm.get("acknowledged_at") else "enabled"
    bed = escape(alarm.get("bed", ""))
    observed = hl7_time(float(page.get("t") or now))
    event = f"{EVENT_CODES.get(kind, _ALARM)}^{escape(kind)}^{escape(alarm.get('label', kind))}^WARDWATCH"
    segs = [
        "|".join(
            [
                "MSH",
                "^~\\&",
                escape(sending_application),
                escape(sending_facility),
                escape(receiving_application),
                escape(receiving_facility),
                hl7_time(now),
                "",
                "ORU^R40^ORU_R40",
                escape(control_id),
                "P",
                "2.6",
                "",
                "",
                "AL",
                "NE",
                "",
                "UNICODE UTF-8",
                "",
                "",
                "IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4^ISO",
            ]
        ),
        f"PID|||{bed}^^^WARDWATCH^PI",
        f"PV1||I|{escape(sending_facility)}^^{bed}",
        f"OBR|1|{escape(page['id'])}^WARDWATCH|{escape(alarm.get('id'))}^WARDWATCH|{_ALARM}|||"
        f"{hl7_time(float(alarm.get('onset') or now))}",
        f"OBX|1|CWE|{_ALARM}|1.0.0.0.1|{event}|||{priority}~{source}|||F|||{observed}",
    ]
    n = 2
    value = alarm.get("value")
    if value is not None:
        ident, unit = _MEASURE.get(kind, ("0^MDC_UNKNOWN^MDC", ""))
        limit = alarm.get("limit")
        segs.append(
            f"OBX|{n}|NM|{ident}|1.0.0.0.2|{float(value):g}|{unit}|{'' if limit is None else f'{float(limit):g}'}"
            f"||||F|||{observed}"
        )
        n += 1
    text = f"{alarm.get('label', kind)}: {alarm.get('message', '')} ({alarm.get('bed')})"
    facets = [
        ("68481^MDC_ATTR_EVENT_PHASE^MDC", "3", phase),
        ("68482^MDC_ATTR_ALARM_STATE^MDC", "4", state),
        ("68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC", "5", inactivation),
        ("68484^MDC_ATTR_ALARM_PRIORITY^MDC", "6", priority),
        ("68485^MDC_ATTR_ALERT_TYPE^MDC", "7", source),
        ("68546^MDC_ATTR_ALERT_TEXT^MDC", "8", escape(text)),
    ]
    for ident, facet, val in facets:
        segs.append(f"OBX|{n}|ST|{ident}|1.0.0.0.{facet}|{val}||||||F")
        n += 1
    return ("\r".join(segs) + "\r").encode("utf-8")


@dataclass(frozen=True, slots=True)
class Hl7Message:
    segments: list[list[str]]

    def segment(self, name: str) -> list[str]:
        for seg in self.segments:
            if seg[0] == name:
                return seg
        raise Hl7Error(f"no {name} segment")

    def all(self, name: str) -> list[list[str]]:
        return [s for s in self.segments if s[0] == name]

    def field(self, name: str, number: int) -> str:
        """``field("MSH", 10)``: HL7 numbering (MSH-1 is the field separator itself)."""
        seg = self.segment(name)
        index = number - 1 if name == "MSH" else number
        return seg[index] if index < len(seg) else ""

    def obx(self, code: str) -> list[str]:
        """The OBX whose OBX-3 starts with ``code`` (e.g. "68481")."""
        for seg in self.all("OBX"):
            if len(seg) > 3 and seg[3].split("^")[0] == code:
                return seg
        raise Hl7Error(f"no OBX {code}")


def parse_message(data: bytes | str) -> Hl7Message:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    lines = [line for line in text.replace("\n", "\r").split("\r") if line]
    if not lines or not lines[0].startswith("MSH|"):
        raise Hl7Error("not an HL7 v2 message (no MSH)")
    return Hl7Message([line.split("|") for line in lines])


def build_ack(message: Hl7Message, code: str = "AA", text: str = "", now: float | None = None) -> bytes:
    msh = message.segment("MSH")
    control = message.field("MSH", 10)
    stamp = hl7_time(time.time() if now is None else now)
    ack = [
        f"MSH|^~\\&|{msh[4] if len(msh) > 4 else ''}|{msh[5] if len(msh) > 5 else ''}|"
        f"{msh[2]}|{msh[3]}|{stamp}||ACK^R40^ACK|ACK{control}|P|2.6",
        f"MSA|{code}|{control}|{escape(text)}",
    ]
    return ("\r".join(ack) + "\r").encode("utf-8")


def parse_ack(data: bytes, control_id: str) -> None:
    """Raise ``Hl7Error`` unless ``data`` accepts the message ``control_id``."""
    msg = parse_message(data)
    try:
        msa = msg.segment("MSA")
    except Hl7Error as exc:
        raise Hl7Error("ACK without MSA") from exc
    code = msa[1] if len(msa) > 1 else ""
    acked = msa[2] if len(msa) > 2 else ""
    if acked != control_id:
        raise Hl7Error(f"ACK for {acked!r}, expected {control_id!r}")
    if code not in ("AA", "CA"):
        detail = unescape(msa[3]) if len(msa) > 3 else ""
        raise Hl7Error(f"message refused: MSA {code} {detail}".strip())


def frame(message: bytes) -> bytes:
    """MLLP: <VT> message <FS><CR>."""
    return VT + message + FS + CR


class MllpDecoder:
    """Incremental MLLP de-framing: ``feed(bytes)`` returns the complete messages received so far."""

    def __init__(self, max_size: int = 1 << 20) -> None:
        self._buf = bytearray()
        self._max = max_size

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while True:
            start = self._buf.find(VT)
            if start < 0:
                self._buf.clear()
                return out
            end = self._buf.find(FS + CR, start)
            if end < 0:
                if len(self._buf) - start > self._max:
                    raise Hl7Error("MLLP frame too large")
                del self._buf[:start]
                return out
            out.append(bytes(self._buf[start + 1 : end]))
            del self._buf[: end + 2]
