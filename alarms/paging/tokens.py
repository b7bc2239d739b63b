"""Signed, expiring acknowledge tokens for pagers: ``<payload>.<signature>``, both base64url.

The payload names the alarm, the page and the tier, and when the token expires; the signature is
HMAC-SHA256 with the station secret. ``verify`` checks the signature in constant time, then the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from monitor.errors import WardWatchError

__all__ = ["AckClaim", "TokenError", "sign", "verify"]


class TokenError(WardWatchError):
    """The token is malformed, forged or expired."""


@dataclass(frozen=True, slots=True)
class AckClaim:
    alarm_id: str
    page_id: str
    tier: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, b"wardwatch-pager-ack:" + payload.encode(), hashlib.sha256).digest())


def sign(secret: bytes, claim: AckClaim) -> str:
    body = {"a": claim.alarm_id, "p": claim.page_id, "r": claim.tier, "e": round(claim.expires, 3)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str, now: float) -> AckClaim:
    if not isinstance(token, str) or len(token) > 1000 or token.count(".") != 1:
        raise TokenError("malformed acknowledge token")
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, payload).encode()):
        raise TokenError("invalid acknowledge token")
    try:
        body = json.loads(_unb64(payload))
        claim = AckClaim(str(body["a"]), str(body["p"]), str(body["r"]), float(body["e"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("malformed acknowledge token") from exc
    if now >= claim.expires:
        raise TokenError("acknowledge link has expired")
    return claim
