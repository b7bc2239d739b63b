"""The recorder: session life cycle, annotations, background retention, and a crash (kill -9) while recording."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.recorder import NoSession, SessionConflict
from monitor.settings import Settings
from store.codec import Marker
from store.recording import Session, SessionStore, new_session_id
from tests.brokers import private_mosquitto, require_mosquitto
from tests.monitor.virtual import T0, VirtualStation, simulated_payloads


@pytest.fixture
def virtual(tmp_path: Path):
    vs = VirtualStation(tmp_path / "var", settings={"session_idle_close_s": 60})
    yield vs
    vs.close()


def test_sessions_open_claim_discharge_and_close_when_idle(virtual: VirtualStation) -> None:
    rec = virtual.recorder
    first = simulated_payloads("stable", "bed-01", 30)
    virtual.run(first, T0 + 31)
    live = rec.live["bed-01"]
    assert live.session.open_reason == "auto" and live.started
    claimed = rec.admit("bed-01", "visit 12", "nurse-a")  # claims the automatic session
    assert claimed.id == live.session.id and claimed.open_reason == "admit" and claimed.label == "visit 12"
    with pytest.raises(SessionConflict):
        rec.admit("bed-01", None, "nurse-a")
    note = rec.annotate(None, "bed-01", "midazolam 1 mg", "nurse-a")
    assert note["session_id"] == claimed.id
    rec.discharge("bed-01", "nurse-a")
    assert "bed-01" not in rec.live
    with pytest.raises(NoSession):
        rec.discharge("bed-01", "nurse-a")
    # the monitor keeps sending after discharge: no new session until it has been silent
    virtual.run(simulated_payloads("stable", "bed-01", 10, start=T0 + 31.0), T0 + 42)
    assert "bed-01" not in rec.live
    virtual.run(simulated_payloads("stable", "bed-01", 10, start=T0 + 60.0), T0 + 71)
    second = rec.live["bed-01"].session
    assert second.id != claimed.id and second.open_reason == "auto"
    # no data for session_idle_close_s (60 s): closed as idle
    virtual.run([], T0 + 140)
    assert "bed-01" not in rec.live
    rec.flush()
    store = rec.store
    s1, s2 = store.session(claimed.id), store.session(second.id)
    assert (s1.close_reason, s1.closed_by, s1.label, s1.opened_by) == ("discharge", "nurse-a", "visit 12", "nurse-a")
    assert s2.close_reason == "idle" and s2.last_data_at is not None and s2.last_data_at < T0 + 71
    assert [n["text"] for n in store.annotations(s1.id)] == ["midazolam 1 mg"]
    names = [e["name"] for e in store.events(s1.id, "session")]
    assert names == ["opened", "admitted", "discharged"]
    # every block of a closed session is compacted; the vitals were sampled at 1 Hz
    levels = store.db.query("SELECT DISTINCT level FROM rec_blocks WHERE session_id = ?", (s1.id,))
    assert levels == [(1,)]
    assert 28 <= len(store.vitals(s1.id)) <= 33


def test_admit_before_data_and_annotation_checks(virtual: VirtualStation) -> None:
    rec = virtual.recorder
    s = rec.admit("bed-05", "pt-5", "nurse-a")
    assert s.open_reason == "admit" and not rec.live["bed-05"].started
    virtual.run(simulated_payloads("stable", "bed-05", 5, start=T0 + 2), T0 + 8)
    assert rec.live["bed-05"].session.id == s.id and rec.live["bed-05"].started
    with pytest.raises(SessionConflict):
        rec.annotate(s.id, None, "   ", "nurse-a")
    with pytest.raises(SessionConflict):
        rec.annotate(s.id, None, "too early", "nurse-a", t=T0 - 3600)
    with pytest.raises(SessionConflict):
        rec.admit("bed 5", None, "nurse-a")
    with pytest.raises(NoSession):
        rec.annotate(None, "bed-99", "x", "nurse-a")


def test_retention_prunes_in_the_background(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/var/wardwatch.sqlite"
    (tmp_path / "var").mkdir()
    store = SessionStore.open(url)
    old = Session(id=new_session_id("bed-9", T0 - 100 * 3600), bed="bed-9", opened_at=T0 - 100 * 3600,
                  closed_at=T0 - 99 * 3600, station="x")
    keep = Session(id=new_session_id("bed-8", T0 - 10 * 3600), bed="bed-8", opened_at=T0 - 10 * 3600,
                   closed_at=T0 - 9 * 3600, station="x")
    with store.db.transaction() as cur:
        store.insert_session(cur, old)
        store.insert_session(cur, keep)
    store.close()
    vs = VirtualStation(tmp_path / "var", settings={"retention_h": 48})
    try:
        vs.run([], T0 + 1)  # the first tick schedules pruning
        vs.recorder.flush()
        ids = {s.id for s in vs.recorder.store.sessions()}
        assert ids == {keep.id}
    finally:
        vs.close()


def _blocks_max_arrival(path: Path) -> tuple[list[str], dict[str, float]]:
    store = SessionStore.open(f"sqlite:///{path}")
    try:
        sessions = store.sessions()
        last = {}
        for s in sessions:
            times = [t for t, item in store.entries(s.id) if not isinstance(item, Marker)]
            last[s.bed] = max(times)
        return [s.id for s in sessions if s.is_open], last
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "max_loss_s"), [(signal.SIGKILL, 1.0), (signal.SIGTERM, 0.5)], ids=["kill-9", "sigterm"]
)
def test_kill_while_recording_loses_at_most_the_last_second(tmp_path: Path, how: int, max_loss_s: float) -> None:
    """kill -9: the store opens and loses at most the last second. SIGTERM (systemctl/docker stop, Ctrl-C):
    a clean stop, exit code 0, everything received is recorded (the last chunk arrived < 0.5 s before)."""
    require_mosquitto()
    data = tmp_path / "var"
    db = data / "wardwatch.sqlite"
    env = {**os.environ, "WARDWATCH_ADMIN_PASSWORD": "crash-test-password", "PYTHONUNBUFFERED": "1"}
    exe = [sys.executable, "-m", "monitor.cli"]
    with private_mosquitto() as broker:
        serve = subprocess.Popen([*exe, "serve", "--broker", broker.url, "--data-dir", str(data), "--port", "0"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sim = subprocess.Popen([*exe, "simulate", "--broker", broker.url, "--beds", "3", "--scenario", "stable"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(0.5)
                try:
                    with sqlite3.connect(db, timeout=1) as conn:
                        row = conn.execute("SELECT MAX(t1) - MIN(t0), COUNT(DISTINCT session_id) FROM rec_blocks")
                        span, beds = row.fetchone()
                    if span and span > 8 and beds == 3:
                        break
                except sqlite3.Error:
                    continue
            else:
                pytest.fail("the station did not record three beds within 60 s")
            time.sleep(2.3)
            killed_at = time.time()
            os.kill(serve.pid, how)
            code = serve.wait(30)
        finally:
            sim.terminate()
            sim.wait(10)
            if serve.poll() is None:
                serve.kill()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    open_ids, last = _blocks_max_arrival(db)
    assert len(open_ids) == 3 and len(last) == 3
    if how == signal.SIGTERM:
        assert code == 0
    for bed, t in last.items():
        print(f"{signal.Signals(how).name}: {bed} last recorded data {killed_at - t:.3f} s before the signal")
        assert t >= killed_at - max_loss_s, f"{bed}: last recorded data {killed_at - t:.2f} s before the signal"
    # the next start closes the sessions left open at their last data, compacted, and they replay
    vs = VirtualStation(data, settings={"client_id": "wardwatch-station"})
    try:
        sessions = {s.id: s for s in vs.recorder.store.sessions()}
        assert all(sessions[i].close_reason == "restart" and sessions[i].closed_at is not None for i in open_ids)
        levels = vs.recorder.store.db.query("SELECT DISTINCT level FROM rec_blocks")
        assert levels == [(1,)]
    finally:
        vs.close()


def test_recording_can_be_switched_off(tmp_path: Path) -> None:
    from monitor.service import Station

    st = Station(Settings(data_dir=tmp_path / "var", record=False, admin_password="x-password-123"))
    try:
        assert st.recorder is None
    finally:
        st.desk.close()
