"""The notifier protocol: one ``send`` per page, raising ``DeliveryError`` when the page did not arrive."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from alarms.escalation import PageRequest
from monitor.errors import WardWatchError

__all__ = ["Channel", "DeliveryError", "OutgoingPage", "page_text", "page_subject"]


class DeliveryError(WardWatchError):
    """The receiver did not confirm the page (refused, unreachable, timed out)."""


@dataclass(frozen=True, slots=True)
class OutgoingPage:
    """A planned page plus what the receiver needs to act on it."""

    request: PageRequest
    station: str = "WardWatch"
    ack_url: str | None = None  # signed, expiring link that acknowledges the alarm at the station
    ack_token: str | None = None

    @property
    def id(self) -> str:
        return self.request.id

    def to_json(self) -> dict[str, Any]:
        """The JSON body of webhook and MQTT pages (documented in docs/alarms.md)."""
        req = self.request
        alarm = req.alarm
        return {
            "version": 1,
            "page_id": req.id,
            "station": self.station,
            "phase": req.phase,
            "tier": req.tier,
            "reason": req.reason,
            "t": req.t,
            "bed": alarm.get("bed"),
            "priority": alarm.get("priority"),
            "kind": alarm.get("kind"),
            "type": alarm.get("type"),
            "label": alarm.get("label"),
            "message": alarm.get("message"),
            "text": page_text(self),
            "alarm": alarm,
            "ack_url": self.ack_url if req.phase != "end" else None,
            "ack_token": self.ack_token if req.phase != "end" else None,
        }


def page_subject(page: OutgoingPage) -> str:
    req = page.request
    alarm = req.alarm
    bed = "Station" if alarm.get("bed") == "*" else alarm.get("bed")
    prefix = {"start": "", "escalate": "ESCALATED ", "continue": "REMINDER ", "end": "ALL CLEAR "}[req.phase]
    prio = str(alarm.get("priority", "")).upper()
    return f"{prefix}{prio} {bed}: {alarm.get('label', alarm.get('type'))}"


def page_text(page: OutgoingPage) -> str:
    req = page.request
    alarm = req.alarm
    when = time.strftime("%H:%M:%S", time.localtime(float(alarm.get("onset") or req.t)))
    lines = [page_subject(page), f"{alarm.get('message') or ''} (onset {when})".strip()]
    if req.phase == "end":
        lines.append("The alarm has ended.")
    else:
        lines.append(f"Paged to {req.tier}: {req.reason}.")
        if page.ack_url:
            lines.append(f"Acknowledge: {page.ack_url}")
    return "\n".join(lines)


@runtime_checkable
class Channel(Protocol):
    """A notifier. ``send`` returns when the receiver has confirmed the page, or raises ``DeliveryError``.
    It may be called concurrently for different pages; ``aclose`` releases connections."""

    name: str

    async def send(self, page: OutgoingPage) -> str: ...

    async def aclose(self) -> None: ...
