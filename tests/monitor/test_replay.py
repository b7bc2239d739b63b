"""Replay: a recorded session gives exactly the live alarms; other limits give a reasoned difference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.alarm_diff import compare, episodes, event_key, same_events
from monitor.cli import main as cli
from monitor.replay import ReplaySettings, replay
from monitor.sources import SessionSource, SimulatedSource, WfdbSource
from store.codec import Marker
from store.recording import SessionStore
from tests.monitor.virtual import T0, VirtualStation, simulated_payloads


def _live_events(store: SessionStore, sid: str) -> list[dict]:
    session = store.session(sid)
    first = next(iter(store.entries(sid)))[0]
    ids = {a["id"] for a in session.settings.get("open_alarms", [])}
    return [e for e in store.events(sid, "alarm")
            if e["alarm"]["bed"] == session.bed and (e["t"] >= first or e["alarm"]["id"] in ids)]


def _replay_session(store: SessionStore, sid: str, settings: ReplaySettings | None = None) -> list:
    src = SessionSource(store, sid, markers=True)
    chosen = settings or ReplaySettings.of_session(src.session.settings)
    return replay(src.entries(), chosen, bed=src.bed, end=src.end).events


@pytest.fixture
def virtual(tmp_path: Path):
    vs = VirtualStation(tmp_path / "var")
    yield vs
    vs.close()


def test_live_and_replay_agree_event_for_event(virtual: VirtualStation) -> None:
    """Jitter, late chunks (reorder buffer, ticks), an acknowledgement, a limit change and an alarm switched off
    and on: the replay of the recording raises, acknowledges and clears the same alarms at the same times."""
    bed = "bed-01"
    payloads = simulated_payloads("ketamine-tachycardia", bed, 240, params={"onset_s": 15, "ramp_s": 20},
                                  late_fraction=0.03, drop_fraction=0.02)
    ecg = [i for i, p in enumerate(payloads) if p[1].endswith("/ecg")]
    del payloads[ecg[-2]]  # the last ECG chunk waits for this one, until a tick gives up on it
    payloads += simulated_payloads("midazolam-desaturation", "bed-02", 240, seed=9, params={"onset_s": 20})
    payloads.sort(key=lambda p: p[0])
    desk = virtual.station.desk

    def ack_all(vs: VirtualStation) -> None:
        for alarm in vs.station.ward.alarms.open_alarms(bed):
            vs.station.acknowledge(alarm.id, "nurse-a")

    virtual.run(payloads, T0 + 260, at={
        T0 + 70: ack_all,
        T0 + 100: lambda vs: desk.set_bed_limits(bed, None, {"hr.high": 135}, "nurse-a"),
        T0 + 140: lambda vs: desk.switch(bed, "tachycardia", False, "charge-b", "patient known tachycardic"),
        T0 + 170: lambda vs: desk.switch(bed, "tachycardia", True, "charge-b"),
        T0 + 180: lambda vs: desk.set_bed_limits(bed, None, {}, "nurse-a"),
    })
    virtual.recorder.flush()
    store = virtual.recorder.store
    assert store is not None
    by_bed = {s.bed: s for s in store.sessions()}
    assert set(by_bed) == {"bed-01", "bed-02"}
    for session in by_bed.values():
        live = _live_events(store, session.id)
        kinds = {(e["name"], e["alarm"]["type"]) for e in live}
        assert ("raised", "tachycardia" if session.bed == bed else "spo2_low") in kinds
        markers = [m for _, m in store.entries(session.id) if isinstance(m, Marker)]
        if session.bed == bed:
            assert {"ack", "limits", "switch", "tick"} <= {m.kind for m in markers}
            assert ("acknowledged", "tachycardia") in kinds
        replayed = _replay_session(store, session.id)
        assert sorted(map(event_key, replayed)) == sorted(map(event_key, live))


def test_what_if_limits_report_fewer_alarms(virtual: VirtualStation) -> None:
    bed = "bed-07"
    virtual.run(simulated_payloads("midazolam-desaturation", bed, 300, params={"onset_s": 20}), T0 + 310)
    virtual.recorder.flush()
    store = virtual.recorder.store
    sid = store.sessions()[0].id
    live = _live_events(store, sid)
    src = SessionSource(store, sid, markers=True)
    recorded = ReplaySettings.of_session(src.session.settings)
    stricter = _replay_session(store, sid, recorded.with_limits(overrides={"spo2.low": 80, "spo2.desat": 70}))
    cmp = compare(live, stricter, end=src.end)
    assert not cmp.identical
    spo2 = {t.type: t for t in cmp.types}
    assert spo2["spo2_low"].baseline >= 1 and spo2["spo2_low"].candidate < spo2["spo2_low"].baseline
    delayed = _replay_session(store, sid, recorded.with_limits(overrides={"spo2.low_delay_s": 30}))
    d = {t.type: t for t in compare(live, delayed, end=src.end).types}["spo2_low"]
    if d.matched:
        assert d.delay_shift_s is not None and d.delay_shift_s >= 10


def test_replay_cli_reproduces_a_session_and_prints_json(
    virtual: VirtualStation, capsys: pytest.CaptureFixture[str]
) -> None:
    virtual.run(simulated_payloads("bradycardia", "bed-03", 120, params={"onset_s": 10}), T0 + 130)
    virtual.recorder.flush()
    sid = virtual.recorder.store.sessions()[0].id
    url = virtual.station.settings.database_url
    assert cli(["replay", sid, "--store", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reproduces_live"] is True
    assert {a["type"] for a in out["alarms"]} >= {"bradycardia"}
    assert cli(["replay", sid, "--store", url, "--set", "hr.low=40", "--set", "hr.extreme_low=30"]) == 0
    text = capsys.readouterr().out
    assert "compared with live" in text and "bradycardia" in text


def test_wfdb_record_replay_equals_replay_of_its_import(tmp_path: Path) -> None:
    from monitor.importing import import_record

    store = SessionStore.open(f"sqlite:///{tmp_path}/w.sqlite")
    src = WfdbSource("mitdb/100", bed="m100")
    direct = replay(src, ReplaySettings(), bed="m100", end=src.end)
    session = import_record(store, "mitdb/100", bed="m100")
    again = _replay_session(store, session.id)
    assert same_events(direct.events, again)
    assert same_events(store.events(session.id, "alarm"), again)
    assert len(store.vitals(session.id)) >= 1800


def test_simulated_source_is_deterministic_and_ordered() -> None:
    a = list(SimulatedSource("afib", 30, jitter_s=0.05))
    b = list(SimulatedSource("afib", 30, jitter_s=0.05))
    assert [t for t, _ in a] == [t for t, _ in b] and all(x[0] <= y[0] for x, y in zip(a, a[1:], strict=False))
    assert episodes(replay(a).events) == episodes(replay(b).events)


def test_speed_paces_the_virtual_clock_and_progress_is_reported() -> None:
    entries = list(SimulatedSource("stable", 20))
    seen: list[tuple[float, float]] = []
    result = replay(entries, speed=50.0, progress=lambda done, total: seen.append((done, total)))
    assert 20 / 50 * 0.95 <= result.wall_s <= 1.5  # 20 s of data at 50x: 0.4 s
    assert seen and seen[-1][0] == pytest.approx(seen[-1][1]) and seen[-1][1] >= 19.0
