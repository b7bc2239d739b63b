"""The operator API over real HTTP: sign-in, roles, acknowledge, audio pause, alarm off, limits, profiles,
audit, users and tokens; bad input gives a 4xx with a message, never a 500."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.broker import BrokerUrl
from monitor.service import Station
from tests.conftest import base_url

PASSWORD = "test-password-1"


def client_for(station: Station, role: str | None) -> httpx.AsyncClient:
    headers = {}
    if role is not None:
        _, secret = station.desk.accounts.create_token(f"{role} test", role, by="test", now=time.time())
        headers["Authorization"] = f"Bearer {secret}"
    return httpx.AsyncClient(base_url=base_url(station), headers=headers, timeout=10)


@pytest_asyncio.fixture
async def nurse(station: Station) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(station, "nurse") as c:
        yield c


@pytest_asyncio.fixture
async def charge(station: Station) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(station, "charge_nurse") as c:
        yield c


async def raise_desat(station: Station, broker_url: str, topic_root: str, bed: str = "bed-1") -> str:
    url = BrokerUrl.parse(broker_url)
    async with aiomqtt.Client(url.host, url.port) as client:
        await client.publish(
            f"{topic_root}/{bed}/numerics", json.dumps({"ts": time.time(), "spo2": 80, "hr": 80}), qos=1
        )
    for _ in range(100):
        for alarm in station.ward.alarms.open_alarms(bed):
            return alarm.id
        await asyncio.sleep(0.05)
    raise AssertionError("no alarm raised")


async def test_sign_in_with_a_session_cookie(station: Station) -> None:
    station.desk.accounts.create_user("ann", "nurse", PASSWORD, by="test", now=time.time())
    async with httpx.AsyncClient(base_url=base_url(station)) as c:
        assert (await c.get("/api/auth/me")).json() == {"user": None, "open_viewing": True}
        bad = await c.post("/api/auth/login", json={"username": "ann", "password": "wrong"})
        assert bad.status_code == 401 and bad.json()["detail"] == "wrong username or password"
        ok = await c.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
        assert ok.status_code == 200 and ok.json()["user"]["role"] == "nurse"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert (await c.get("/api/auth/me")).json()["user"]["username"] == "ann"
        # a cookie-authenticated action from another origin is refused
        other = await c.post("/api/beds/bed-1/pause", json={}, headers={"Origin": "http://evil.example"})
        assert other.status_code == 403
        assert (await c.post("/api/auth/logout")).status_code == 200
        assert (await c.get("/api/auth/me")).json()["user"] is None


async def test_repeated_failed_sign_ins_are_slowed_down(station: Station) -> None:
    async with httpx.AsyncClient(base_url=base_url(station)) as c:
        codes = [
            (await c.post("/api/auth/login", json={"username": "mallory", "password": "x"})).status_code
            for _ in range(7)
        ]
    assert codes[:5] == [401] * 5 and 429 in codes[5:]


async def test_acknowledge_needs_a_clinician_and_records_who(
    station: Station, broker_url: str, topic_root: str, nurse: httpx.AsyncClient
) -> None:
    alarm_id = await raise_desat(station, broker_url, topic_root)
    async with client_for(station, None) as anon, client_for(station, "reviewer") as reviewer:
        assert (await anon.post(f"/api/alarms/{alarm_id}/ack")).status_code == 401
        assert (await reviewer.post(f"/api/alarms/{alarm_id}/ack")).status_code == 403
    r = await nurse.post(f"/api/alarms/{alarm_id}/ack", json={"user": "someone-else"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "token:nurse test"
    assert (await nurse.post("/api/alarms/nope/ack")).status_code == 404


async def test_pause_audio(station: Station, nurse: httpx.AsyncClient) -> None:
    r = await nurse.post("/api/beds/bed-7/pause")
    assert r.status_code == 200
    body = r.json()
    assert body["by"] == "token:nurse test" and body["ends_at"] - body["started_at"] == pytest.approx(120)
    assert (await nurse.get("/api/controls")).json()["pauses"][0]["bed"] == "bed-7"
    assert (await nurse.post("/api/beds/bed-7/pause", json={"duration_s": 3})).status_code == 422
    assert (await nurse.post("/api/beds/bed 7/pause")).status_code == 422
    assert (await nurse.delete("/api/beds/bed-7/pause")).status_code == 200
    assert (await nurse.delete("/api/beds/bed-7/pause")).status_code == 404


async def test_a_pause_ends_by_itself_and_is_audited(station: Station, nurse: httpx.AsyncClient) -> None:
    body = (await nurse.post("/api/beds/bed-8/pause", json={"duration_s": 10})).json()
    station.desk.tick(body["ends_at"] - 0.1)
    assert "bed-8" in station.desk.controls.pauses
    station.desk.tick(body["ends_at"] + 0.1)
    assert "bed-8" not in station.desk.controls.pauses
    entries = (await nurse.get("/api/audit", params={"bed": "bed-8"})).json()
    assert [(e["kind"], e["actor"]) for e in entries] == [
        ("audio_paused", "token:nurse test"),
        ("audio_pause_ended", "system"),
    ]
    assert entries[1]["t"] == body["ends_at"]


async def test_viewing_needs_a_sign_in_unless_open(station: Station) -> None:
    station.settings.open_viewing = False
    try:
        async with client_for(station, None) as anon, client_for(station, "reviewer") as reviewer:
            for path in ("/api/beds", "/api/alarms", "/api/controls", "/api/profiles", "/api/beds/bed-1/limits"):
                assert (await anon.get(path)).status_code == 401, path
                assert (await reviewer.get(path)).status_code == 200, path
            assert (await anon.get("/api/health")).status_code == 200
            assert (await anon.get("/metrics")).status_code == 200
            async with httpx.AsyncClient(
                base_url=base_url(station), headers={"Authorization": "Bearer wwt_forged"}
            ) as f:
                assert (await f.get("/api/beds")).status_code == 401
    finally:
        station.settings.open_viewing = True


async def test_alarm_off_needs_a_charge_nurse_and_a_reason(
    station: Station, nurse: httpx.AsyncClient, charge: httpx.AsyncClient
) -> None:
    path = "/api/beds/bed-3/conditions/tachycardia"
    assert (await nurse.put(path, json={"enabled": False, "reason": "known"})).status_code == 403
    r = await charge.put(path, json={"enabled": False, "reason": ""})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    assert (
        await charge.put("/api/beds/bed-3/conditions/bed_silent", json={"enabled": False, "reason": "x" * 5})
    ).status_code == 422
    assert (
        await charge.put("/api/beds/bed-3/conditions/nonsense", json={"enabled": False, "reason": "x" * 5})
    ).status_code == 422
    r = await charge.put(path, json={"enabled": False, "reason": "pacemaker patient"})
    assert r.status_code == 200 and r.json()["off"]["reason"] == "pacemaker patient"
    listed = {c["type"]: c for c in (await nurse.get("/api/beds/bed-3/conditions")).json()}
    assert listed["tachycardia"]["enabled"] is False and listed["bed_silent"]["switchable"] is False
    assert station.ward._trackers[("bed-3", "tachycardia")].enabled is False
    assert (await charge.put(path, json={"enabled": True})).status_code == 200
    assert station.ward._trackers[("bed-3", "tachycardia")].enabled is True


async def test_limits_validated_and_applied(station: Station, nurse: httpx.AsyncClient) -> None:
    r = await nurse.put("/api/beds/bed-2/limits", json={"profile": "adult-default", "overrides": {"hr.high": 130}})
    assert r.status_code == 200 and r.json()["limits"]["hr"]["high"] == 130
    assert station.desk.limits_for("bed-2").hr.high == 130
    cases = [
        ({"overrides": {"hr.high": 40}}, "hr"),
        ({"overrides": {"hr.low": 130, "hr.high": 125}}, "low"),
        ({"overrides": {"spo2.low": 20}}, "spo2.low"),
        ({"overrides": {"hr.nope": 1}}, "unknown limit"),
        ({"overrides": {"hr.high": "fast"}}, "overrides"),
        ({"profile": "no-such"}, "unknown profile"),
        ({"limits": {}}, "limits"),
    ]
    for body, needle in cases:
        bad = await nurse.put("/api/beds/bed-2/limits", json=body)
        assert bad.status_code == 422, (body, bad.text)
        assert needle in bad.json()["detail"], (body, bad.json())
    assert (await nurse.get("/api/beds/bed-2/limits")).json()["overrides"] == {"hr.high": 130}


async def test_profiles(station: Station, nurse: httpx.AsyncClient, charge: httpx.AsyncClient) -> None:
    names = {p["name"]: p for p in (await nurse.get("/api/profiles")).json()}
    assert names["ketamine-infusion"]["builtin"] and names["ketamine-infusion"]["limits"]["spo2"]["low_delay_s"] == 15
    body = {"hr": {"high": 125}}
    assert (await nurse.put("/api/profiles/site-a", json=body)).status_code == 403
    assert (await charge.put("/api/profiles/ketamine-infusion", json=body)).status_code == 409
    assert (await charge.put("/api/profiles/Bad Name", json=body)).status_code == 422
    assert (await charge.put("/api/profiles/site-a", json={"hr": {"high": 9}})).status_code == 422
    assert (await charge.put("/api/profiles/site-a", json=body)).status_code == 200
    assert (await nurse.put("/api/beds/bed-4/limits", json={"profile": "site-a"})).json()["limits"]["hr"]["high"] == 125
    assert (await charge.delete("/api/profiles/site-a")).status_code == 409  # in use
    assert (await charge.delete("/api/profiles/nope")).status_code == 404


async def test_audit_trail_reads_by_bed_and_time(station: Station, nurse: httpx.AsyncClient) -> None:
    t0 = time.time()
    await nurse.post("/api/beds/bed-5/pause")
    await nurse.put("/api/beds/bed-5/limits", json={"overrides": {"spo2.low": 88}})
    entries = (await nurse.get("/api/audit", params={"bed": "bed-5", "since": t0 - 1})).json()
    assert [e["kind"] for e in entries] == ["audio_paused", "limits_changed"]
    assert entries[1]["payload"]["before"]["limits"]["spo2"]["low"] == 90
    assert (await nurse.get("/api/audit", params={"kind": "bogus"})).status_code == 422
    assert (await nurse.get("/api/audit", params={"since": 10, "until": 5})).status_code == 422
    async with client_for(station, None) as anon:
        assert (await anon.get("/api/audit")).status_code == 401


async def test_users_and_tokens_are_for_admins(station: Station, nurse: httpx.AsyncClient) -> None:
    assert (await nurse.get("/api/users")).status_code == 403
    async with client_for(station, "admin") as admin:
        r = await admin.post("/api/users", json={"username": "bea", "role": "charge_nurse", "password": PASSWORD})
        assert r.status_code == 201 and "password" not in r.text
        assert (
            await admin.post("/api/users", json={"username": "bea", "role": "nurse", "password": PASSWORD})
        ).status_code == 409
        assert (
            await admin.post("/api/users", json={"username": "cy", "role": "pope", "password": PASSWORD})
        ).status_code == 422
        assert (
            await admin.post("/api/users", json={"username": "cy", "role": "nurse", "password": "short"})
        ).status_code == 422
        assert (await admin.patch("/api/users/bea", json={"role": "nurse"})).json()["role"] == "nurse"
        assert (await admin.patch("/api/users/ghost", json={"role": "nurse"})).status_code == 404
        t = (await admin.post("/api/tokens", json={"name": "gateway", "role": "nurse"})).json()
        async with httpx.AsyncClient(
            base_url=base_url(station), headers={"Authorization": f"Bearer {t['token']}"}
        ) as gw:
            assert (await gw.post("/api/beds/bed-1/pause")).status_code == 200
            assert (await admin.delete(f"/api/tokens/{t['id']}")).status_code == 200
            assert (await gw.post("/api/beds/bed-1/pause")).status_code == 401
        assert "token" not in (await admin.get("/api/tokens")).json()[0]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ROUTES = [
    ("POST", "/api/beds/bed-1/pause"),
    ("PUT", "/api/beds/bed-1/conditions/tachycardia"),
    ("PUT", "/api/beds/bed-1/limits"),
    ("PUT", "/api/profiles/site-x"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/users"),
    ("POST", "/api/tokens"),
    ("POST", "/api/pager/ack"),
    ("POST", "/api/alarms/x/ack"),
]


async def test_garbage_bodies_never_give_a_500(station: Station) -> None:
    async with client_for(station, "admin") as admin:
        results: list[tuple[str, int]] = []

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(route=st.sampled_from(ROUTES), body=JSONISH | st.binary(max_size=40))
        def probe(route: tuple[str, str], body: Any) -> None:
            results.append((json.dumps(body) if not isinstance(body, bytes) else body.hex(), 0))
            pending.append((route, body))

        pending: list[tuple[tuple[str, str], Any]] = []
        probe()
        for (method, path), body in pending:
            kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
            r = await admin.request(method, path, **kwargs)
            assert r.status_code < 500, (method, path, body, r.text)
            if r.status_code >= 400:
                assert isinstance(r.json().get("detail"), str)
