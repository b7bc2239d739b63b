"""Pager acknowledge tokens: signed, expiring, tamper-evident."""

from __future__ import annotations

import pytest

from alarms.paging.tokens import AckClaim, TokenError, sign, verify

KEY = b"k" * 40


def test_round_trip() -> None:
    claim = AckClaim("a1", "a1-000", "primary", 1000.0)
    assert verify(KEY, sign(KEY, claim), 999.0) == claim


def test_expired_forged_and_malformed() -> None:
    token = sign(KEY, AckClaim("a1", "a1-000", "primary", 1000.0))
    with pytest.raises(TokenError, match="expired"):
        verify(KEY, token, 1000.0)
    with pytest.raises(TokenError, match="invalid"):
        verify(b"other" * 8, token, 0)
    payload, mac = token.split(".")
    forged = sign(KEY, AckClaim("a2", "a2-000", "primary", 1000.0)).split(".")[0] + "." + mac
    with pytest.raises(TokenError, match="invalid"):
        verify(KEY, forged, 0)
    for bad in ("", "abc", "a.b.c", "x" * 2000):
        with pytest.raises(TokenError):
            verify(KEY, bad, 0)
