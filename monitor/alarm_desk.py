"""The alarm desk: the station's alarm shell around the pure core. Persistence, audit trail, operator
actions (acknowledge, audio pause, alarm off, limits), escalation and paging, restore after a restart.

It listens to every alarm event of the station (``Station.listeners``): each event is persisted and audited
through the batching writer and handed to the escalator, whose pages go to the paging dispatcher's queue.
Nothing here blocks the alarm path: database writes happen in the writer thread, deliveries in the
dispatcher's tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alarms.catalog import STATION
from alarms.conditions import ConditionEdge
from alarms.controls import Controls, audio_signal
from alarms.escalation import DEFAULT_POLICY, Escalator, PageRequest
from alarms.model import AlarmEvent, Observation
from alarms.paging.channel import OutgoingPage
from alarms.paging.config import PagingConfig, load_paging_config
from alarms.paging.dispatcher import DeliveryResult, Dispatcher
from alarms.paging.tokens import AckClaim, sign
from alarms.state import AlarmState
from monitor.errors import ConfigError
from monitor.limits import Limits
from monitor.limits_book import BedSetting, LimitsBook
from monitor.ward import Output
from store.accounts import Accounts
from store.alarm_store import AlarmStore, BedLimitsRecord
from store.audit import AuditLog
from store.db import Database, Writer

if TYPE_CHECKING:
    from monitor.service import Station

__all__ = ["AlarmDesk", "station_secret"]

log = logging.getLogger(__name__)

TICK_S = 0.25
BEDS_SEEN_EVERY_S = 5.0


def station_secret(settings: Any) -> bytes:
    """The secret that signs pager links: from the settings/environment, else generated once into
    ``<data_dir>/secret.key`` with 0600 permissions."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret.key"
    if path.exists():
        value = path.read_text().strip()
        if len(value) >= 32:
            return value.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.chmod(path, 0o600)
    return value.encode()


class AlarmDesk:
    def __init__(self, station: Station) -> None:
        self.station = station
        settings = station.settings
        self.settings = settings
        self.clock = station.clock
        self.db = Database.open(settings.database_url)
        self.writer = Writer(self.db, interval=0.1, on_error=self._write_failed)
        self.audit = AuditLog(self.db, self.writer)
        self.store = AlarmStore(self.db, self.writer)
        self.accounts = Accounts(self.db)
        self.secret = station_secret(settings)
        self.controls = Controls()
        self.limits = LimitsBook(settings.profile)
        self.paging = self._load_paging(settings)
        self.escalator = Escalator(self.paging.policy() if self.paging else DEFAULT_POLICY)
        self.dispatcher: Dispatcher | None = None
        self._paging_failed = False
        self._failing: set[str] = set()
        self._beds_saved_at = 0.0
        self.first_admin_password: str | None = None

    # -- start-up --------------------------------------------------------------------------------------------
    @staticmethod
    def _load_paging(settings: Any) -> PagingConfig | None:
        path = settings.paging_config
        if path is None:
            default = Path(settings.data_dir) / "paging.toml"
            path = default if default.exists() else None
        if path is None:
            log.warning(
                "paging is not configured (no %s): no pages will be sent", Path(settings.data_dir) / "paging.toml"
            )
            return None
        config = load_paging_config(Path(path))
        log.info("paging: %d channel(s) from %s", len(config.channels), path)
        return config if config.enabled else None

    def bootstrap(self) -> None:
        """Create the first admin, then bring back everything that was persisted (called once, at start)."""
        now = self.clock()
        admin = self.settings.admin_password.get_secret_value() if self.settings.admin_password else None
        generated = self.accounts.ensure_admin(admin, now=now)
        if generated is not None:
            self.first_admin_password = generated
            print(
                f"WardWatch: created the first admin account. Sign in as 'admin' with password: {generated}\n"
                "           (shown once; change it under Users, or set WARDWATCH_ADMIN_PASSWORD on a fresh install)",
                file=sys.stderr,
                flush=True,
            )
        self._restore(now)
        if self.paging is not None:
            from alarms.paging.factory import build_channels

            channels = build_channels(self.paging, default_broker=self.settings.broker)
            self.dispatcher = Dispatcher(
                self.paging,
                channels,
                store=self.store,
                on_result=self._delivered,
                decorate=self._outgoing,
                clock=self.clock,
            )
            self.dispatcher.resume(self.store.pending_deliveries())
        self.station.listeners.append(self.on_alarm_event)

    def _restore(self, now: float) -> None:
        ward = self.station.ward
        for name, data, _t, _actor in self.store.profiles():
            with contextlib.suppress(ConfigError):
                self.limits.save_profile(name, data)
        for rec in self.store.bed_limits():
            try:
                setting = self.limits.resolve(rec.bed, rec.profile, rec.overrides)
            except ConfigError as exc:
                log.error("stored limits of %s no longer valid (%s); using the default profile", rec.bed, exc)
                continue
            self.limits.put(
                BedSetting(rec.bed, setting.profile, setting.overrides, setting.limits, rec.updated_at, rec.actor)
            )
        for entry in self.store.conditions_off():
            self.controls.off[(entry.bed, entry.type)] = entry
            ward.switch_condition(entry.bed, entry.type, False, now)
        for pause in self.store.pauses():
            if pause.ends_at > now:
                self.controls.pauses[pause.bed] = pause
            else:
                self.store.delete_pause(pause.bed)
                self.audit.append(
                    pause.ends_at,
                    "audio_pause_ended",
                    bed=pause.bed,
                    actor="system",
                    payload={"started_at": pause.started_at, "by": pause.by},
                )
        alarms = self.store.open_alarms()
        beds = self.store.beds_seen(now - self.settings.restore_beds_s) if self.settings.restore_beds_s else {}
        ward.restore(alarms, beds, now)
        for bed in beds:
            if bed in ward.beds:
                ward.set_limits(bed, self.limits.limits_for(bed))
        pages = self.store.pages_of(a.id for a in alarms)
        for alarm in alarms:
            self.escalator.restore(alarm.to_json(), pages.get(alarm.id, []))
            if alarm.type == "paging_failed" and alarm.state in (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED):
                self._paging_failed = True
        self.audit.append(
            now,
            "station_started",
            actor="system",
            payload={
                "open_alarms": len(alarms),
                "pauses": len(self.controls.pauses),
                "conditions_off": len(self.controls.off),
                "beds": sorted(beds),
            },
        )
        if alarms:
            log.info(
                "restored %d open alarm(s), %d pause(s), %d alarm(s) off",
                len(alarms),
                len(self.controls.pauses),
                len(self.controls.off),
            )

    # -- alarm events ----------------------------------------------------------------------------------------
    def on_alarm_event(self, event: AlarmEvent) -> None:
        alarm = event.alarm
        self.store.save_alarm(alarm, event.t)
        self.audit.append(
            event.t, f"alarm_{event.event}", bed=alarm["bed"], actor=event.user, alarm_id=alarm["id"], payload=alarm
        )
        if self.dispatcher is not None:
            pages = self.escalator.on_event(event)
            if pages:
                self.dispatcher.submit(pages)

    def _outgoing(self, page: PageRequest) -> OutgoingPage:
        if page.phase == "end":
            return OutgoingPage(page, station=self.paging.station if self.paging else "WardWatch")
        assert self.paging is not None
        claim = AckClaim(page.alarm_id, page.id, page.tier, self.clock() + self.paging.ack_link_ttl_s)
        token = sign(self.secret, claim)
        base = (self.paging.public_url or self.settings.public_url or self._own_url()).rstrip("/")
        return OutgoingPage(
            page, station=self.paging.station, ack_url=f"{base}/api/pager/ack?token={token}", ack_token=token
        )

    def _own_url(self) -> str:
        host = self.settings.host if self.settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.station.http_port or self.settings.port}"

    def _delivered(self, result: DeliveryResult) -> None:
        page = result.page
        now = self.clock()
        self.audit.append(
            result.t,
            "page_delivered" if result.ok else "page_failed",
            bed=page.bed,
            actor="system",
            alarm_id=page.alarm_id,
            payload={
                "page_id": page.id,
                "tier": page.tier,
                "phase": page.phase,
                "channel": result.channel,
                "attempts": result.attempts,
                "error": result.error,
                "detail": result.detail,
            },
        )
        self.station.hub.urgent(
            {
                "type": "page",
                "page_id": page.id,
                "alarm_id": page.alarm_id,
                "tier": page.tier,
                "phase": page.phase,
                "channel": result.channel,
                "ok": result.ok,
                "error": result.error,
                "t": result.t,
            }
        )
        if result.ok:
            self._failing.discard(result.channel)
            if self._paging_failed and not self._failing:
                self._paging_condition(False, now, "")
            return
        self._failing.add(result.channel)
        label = page.alarm.get("label", page.alarm.get("type"))
        why = f"page to {page.tier} ({page.bed}, {label}) failed on {result.channel}"
        self._paging_condition(True, now, why)
        if self.dispatcher is not None:
            self.dispatcher.submit(self.escalator.on_failed(page, now, f"{result.channel}: {result.error}"))

    def _paging_condition(self, present: bool, now: float, message: str) -> None:
        if present == self._paging_failed and not present:
            return
        self._paging_failed = present
        obs = Observation(STATION, "paging_failed", present, now, message=message)
        events = self.station.ward.alarms.on_edge(ConditionEdge(present, now, obs))
        if events:
            self.station.publish(Output(alarms=events))

    def _write_failed(self, exc: Exception) -> None:
        log.error("alarm records could not be written: %s", exc)

    # -- operator actions --------------------------------------------------------------------------------------
    def pause(self, bed: str, by: str, duration_s: float | None = None) -> dict[str, Any]:
        now = self.clock()
        pause = self.controls.pause(bed, by, now, duration_s or self.settings.audio_pause_s)
        self.store.save_pause(pause)
        self.audit.append(now, "audio_paused", bed=bed, actor=by, payload=pause.to_json())
        self.broadcast_controls()
        return pause.to_json()

    def resume(self, bed: str, by: str) -> dict[str, Any] | None:
        now = self.clock()
        pause = self.controls.resume(bed)
        if pause is None:
            return None
        self.store.delete_pause(bed)
        self.audit.append(now, "audio_resumed", bed=bed, actor=by, payload=pause.to_json())
        self.broadcast_controls()
        return pause.to_json()

    def switch(self, bed: str, alarm_type: str, enabled: bool, by: str, reason: str = "") -> dict[str, Any]:
        now = self.clock()
        if enabled:
            entry = self.controls.switch_on(bed, alarm_type)
            if entry is None:
                return {"bed": bed, "type": alarm_type, "enabled": True}
            self.station.ward.switch_condition(bed, alarm_type, True, now)
            self.store.delete_off(bed, alarm_type)
            self.audit.append(
                now, "condition_on", bed=bed, actor=by, payload={"type": alarm_type, "was": entry.to_json()}
            )
        else:
            entry = self.controls.switch_off(bed, alarm_type, by, reason, now)
            events = self.station.ward.switch_condition(bed, alarm_type, False, now)
            self.store.save_off(entry)
            self.audit.append(now, "condition_off", bed=bed, actor=by, payload=entry.to_json())
            if events:
                self.station.publish(Output(alarms=events))
        self.broadcast_controls()
        return {"bed": bed, "type": alarm_type, "enabled": enabled, **({} if enabled else {"off": entry.to_json()})}

    def set_bed_limits(self, bed: str, profile: str | None, overrides: dict[str, Any] | None, by: str) -> BedSetting:
        now = self.clock()
        before = self.limits.setting(bed)
        resolved = self.limits.resolve(bed, profile, overrides)
        setting = BedSetting(bed, resolved.profile, resolved.overrides, resolved.limits, now, by)
        self.limits.put(setting)
        if bed in self.station.ward.beds:
            self.station.ward.set_limits(bed, setting.limits)
        self.store.save_bed_limits(BedLimitsRecord(bed, setting.profile, setting.overrides, now, by))
        self.audit.append(
            now,
            "limits_changed",
            bed=bed,
            actor=by,
            payload={
                "profile": setting.profile,
                "overrides": setting.overrides,
                "limits": setting.limits.model_dump(),
                "before": {
                    "profile": before.profile,
                    "overrides": before.overrides,
                    "limits": before.limits.model_dump(),
                },
            },
        )
        return setting

    def save_profile(self, name: str, data: dict[str, Any], by: str) -> Limits:
        now = self.clock()
        limits = self.limits.save_profile(name, data)
        self.store.save_profile(name, limits.model_dump(), now, by)
        self.audit.append(now, "profile_saved", actor=by, payload={"name": name, "limits": limits.model_dump()})
        return limits

    def delete_profile(self, name: str, by: str) -> None:
        now = self.clock()
        self.limits.delete_profile(name)
        self.store.delete_profile(name)
        self.audit.append(now, "profile_deleted", actor=by, payload={"name": name})

    def limits_for(self, bed: str) -> Limits:
        return self.limits.limits_for(bed)

    # -- views -------------------------------------------------------------------------------------------------
    def controls_json(self) -> dict[str, Any]:
        return self.controls.to_json()

    def broadcast_controls(self) -> None:
        self.station.hub.urgent({"type": "controls", "t": self.clock(), **self.controls.to_json()})

    def audio_of(self, alarm: dict[str, Any]) -> str:
        return audio_signal(alarm, self.controls, self.clock())

    def paging_summary(self) -> dict[str, Any]:
        if self.paging is None:
            return {"enabled": False, "channels": {}, "tiers": {}, "rules": {}, "health": {}}
        summary = self.paging.summary()
        summary["health"] = self.dispatcher.health() if self.dispatcher else {}
        summary["failing"] = sorted(self._failing)
        return summary

    # -- running ---------------------------------------------------------------------------------------------
    async def run(self) -> None:
        """The desk's tasks (in the station's TaskGroup): ticker and paging dispatcher."""
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._ticker(), name="alarm-desk")
                if self.dispatcher is not None:
                    tg.create_task(self.dispatcher.run(), name="paging")
        finally:
            await asyncio.to_thread(self.close)

    def tick(self, now: float) -> None:
        for pause in self.controls.expire(now):
            self.store.delete_pause(pause.bed)
            self.audit.append(
                pause.ends_at, "audio_pause_ended", bed=pause.bed, actor="system", payload=pause.to_json()
            )
            self.broadcast_controls()
        if self.dispatcher is not None:
            pages = self.escalator.advance(now)
            if pages:
                self.dispatcher.submit(pages)
        if now - self._beds_saved_at >= BEDS_SEEN_EVERY_S:
            self._beds_saved_at = now
            seen = {b.bed: b.last_seen for b in self.station.ward.beds.values() if b.last_seen is not None}
            self.store.save_beds_seen(seen)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.tick(self.clock())
            except Exception:
                log.exception("alarm desk tick failed")

    def close(self) -> None:
        seen = {b.bed: b.last_seen for b in self.station.ward.beds.values() if b.last_seen is not None}
        self.store.save_beds_seen(seen)
        self.writer.flush()
        self.writer.close()
        self.db.close()
