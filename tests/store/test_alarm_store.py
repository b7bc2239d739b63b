"""Alarm state persistence on SQLite and PostgreSQL: alarms, pauses, alarms off, limits, profiles, pages."""

from __future__ import annotations

from alarms.controls import AudioPause, ConditionOff
from alarms.escalation import Escalator
from alarms.model import AlarmEvent
from store.alarm_store import AlarmStore, BedLimitsRecord
from store.db import Database, Writer

ALARM = {
    "id": "a1",
    "bed": "bed-1",
    "type": "asystole",
    "priority": "high",
    "kind": "physiological",
    "latching": True,
    "state": "active",
    "onset": 9.0,
    "raised_at": 10.0,
    "value": 4.2,
    "limit": 4.0,
    "message": "no QRS for 4.2 s",
    "ended_at": None,
    "acknowledged_at": None,
    "acknowledged_by": None,
    "label": "Asystole",
}


def test_alarms_upsert_and_open_alarms(db: Database) -> None:
    writer = Writer(db, interval=0.01)
    store = AlarmStore(db, writer)
    store.save_alarm(ALARM, 10.0)
    store.save_alarm({**ALARM, "state": "latched", "ended_at": 12.0}, 12.0)
    store.save_alarm({**ALARM, "id": "a2", "type": "tachycardia", "latching": False, "state": "cleared"}, 13.0)
    writer.flush()
    (alarm,) = store.open_alarms()
    assert alarm.id == "a1" and alarm.state.value == "latched" and alarm.ended_at == 12.0
    assert alarm.to_json() == {**ALARM, "state": "latched", "ended_at": 12.0}
    assert store.alarm("a2")["state"] == "cleared"
    writer.close()


def test_controls_and_limits(db: Database) -> None:
    writer = Writer(db, interval=0.01)
    store = AlarmStore(db, writer)
    store.save_pause(AudioPause("bed-1", 1.0, 121.0, "ann"))
    store.save_pause(AudioPause("bed-1", 5.0, 125.0, "bob"))  # replaces
    store.save_off(ConditionOff("bed-2", "tachycardia", 3.0, "cn", "known"))
    store.save_bed_limits(BedLimitsRecord("bed-1", "ketamine-infusion", {"hr.high": 130}, 4.0, "ann"))
    store.save_profile("site-a", {"hr": {"high": 125}}, 6.0, "cn")
    store.save_beds_seen({"bed-1": 100.0, "bed-2": 50.0})
    writer.flush()
    assert store.pauses() == [AudioPause("bed-1", 5.0, 125.0, "bob")]
    assert store.conditions_off() == [ConditionOff("bed-2", "tachycardia", 3.0, "cn", "known")]
    assert store.bed_limits()[0].overrides == {"hr.high": 130}
    assert store.profiles()[0][:2] == ("site-a", {"hr": {"high": 125}})
    assert store.beds_seen(60.0) == {"bed-1": 100.0}
    store.delete_pause("bed-1")
    store.delete_off("bed-2", "tachycardia")
    store.delete_profile("site-a")
    writer.flush()
    assert store.pauses() == [] and store.conditions_off() == [] and store.profiles() == []
    writer.close()


def test_pages_outbox(db: Database) -> None:
    writer = Writer(db, interval=0.01)
    store = AlarmStore(db, writer)
    esc = Escalator()
    pages = esc.on_event(AlarmEvent("raised", 10.0, ALARM)) + esc.advance(70.0)
    store.save_pages([(p, ["hook", "mail"]) for p in pages], 70.0)
    store.save_pages([(pages[0], ["hook", "mail"])], 71.0)  # idempotent
    writer.flush()
    assert len(store.pending_deliveries()) == 2 * len(pages)
    store.set_delivery(pages[0].id, "hook", "delivered", 1, None, 72.0)
    store.set_delivery(pages[0].id, "mail", "failed", 3, "SMTP down", 73.0)
    writer.flush()
    assert [p.id for p in store.pages_of(["a1"])["a1"]] == [p.id for p in pages]
    listed = {p["id"]: p for p in store.list_pages(alarm_id="a1")}
    first = {d["channel"]: d for d in listed[pages[0].id]["deliveries"]}
    assert first["hook"]["status"] == "delivered" and first["hook"]["delivered_at"] == 72.0
    assert first["mail"]["status"] == "failed" and first["mail"]["last_error"] == "SMTP down"
    assert len(store.pending_deliveries()) == 2 * len(pages) - 2
    writer.close()
