"""The live service (imperative shell): MQTT ingest -> ward (pure core) -> websocket hub, plus the HTTP server.

Structured concurrency: one ``asyncio.TaskGroup`` with named tasks (ingest, ticker, vitals, waves, http).
Everything time-dependent in the core gets the wall clock from here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from alarms.model import AlarmEvent
from ingest.broker import BrokerUrl
from ingest.contract import parse_message
from ingest.subscriber import Subscriber
from monitor.alarm_desk import AlarmDesk
from monitor.errors import ConfigError, ContractError
from monitor.limits import profile
from monitor.messages import WaveChunk
from monitor.metrics import Metrics
from monitor.recorder import Recorder
from monitor.settings import Settings
from monitor.ward import Output, Ward

__all__ = ["Station", "RejectLog"]

log = logging.getLogger(__name__)

#: Beds with new numerics or status have their vitals pushed to dashboards within this many seconds.
VITALS_PUSH_S = 0.1


@dataclass
class RejectLog:
    """Logs rejected messages with topic, reason and a truncated payload, at most ``burst`` per reason per
    ``window`` seconds (a flood of garbage must not flood the log); every one is still counted."""

    burst: int = 20
    window: float = 10.0
    _seen: dict[str, tuple[float, int]] = field(default_factory=dict)

    def __call__(self, topic: str, reason: str, detail: str, payload: bytes, now: float) -> None:
        start, count = self._seen.get(reason, (now, 0))
        if now - start >= self.window:
            if count > self.burst:
                log.warning("rejected %d more messages with reason %s", count - self.burst, reason)
            start, count = now, 0
        count += 1
        self._seen[reason] = (start, count)
        if count <= self.burst:
            log.warning("rejected message on %s: %s: %s; payload=%r", topic[:200], reason, detail, payload[:200])


class Station:
    """Owns the ward, the metrics and the websocket hub; runs ingest and the periodic tasks."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        from dashboard.hub import Hub  # the hub is the dashboard's; the station only feeds it

        self.settings = settings
        self.clock = clock
        self.metrics = Metrics()
        self.ward = Ward(
            profile(settings.profile),
            reorder_window=settings.reorder_window_s,
            limits_for=lambda bed: self.desk.limits_for(bed),
        )
        self.hub = Hub(self.metrics, settings.ws_queue)
        self.broker_connected = False
        self.broker_changed_at: float | None = None
        self.started_at = clock()
        self.reject_log = RejectLog()
        self._waves: list[dict[str, Any]] = []
        self._vitals_dirty: set[str] = set()
        self.listeners: list[Callable[[AlarmEvent], None]] = []
        self.http_port: int | None = None
        # alarm persistence, operators, escalation and paging (monitor/alarm_desk.py); restores state
        self.desk = AlarmDesk(self)
        self.desk.bootstrap()
        # full disclosure: every session recorded for replay and review (monitor/recorder.py, docs/review.md)
        self.recorder = Recorder(self) if settings.record else None

    # -- ingest path (synchronous, called for every message) ---------------------------------------------
    def handle_raw(self, topic: str, payload: bytes, retained: bool, arrival: float) -> None:
        try:
            msg = parse_message(topic, payload, self.settings.topic_root, retained)
        except ContractError as exc:
            self.metrics.invalid.inc(reason=exc.reason)
            self.reject_log(topic, exc.reason, exc.detail, payload, arrival)
            return
        stream = topic.rsplit("/", 1)[-1]
        self.metrics.messages.inc(stream=stream)
        if self.recorder is not None:
            msg, arrival = self.recorder.ingest(msg, arrival)
        self.publish(self.ward.feed(msg, arrival))
        if not isinstance(msg, WaveChunk):
            self._vitals_dirty.add(msg.bed)  # new numerics or status: push them within VITALS_PUSH_S
        self.metrics.latency.observe(max(0.0, self.clock() - arrival))
        ts = msg.ts + msg.duration if isinstance(msg, WaveChunk) else msg.ts
        if ts is not None:
            self.metrics.transit.observe(max(0.0, arrival - ts))

    def publish(self, out: Output) -> None:
        for event in out.alarms:
            self._alarm(event)
        for frame in out.frames:
            self._waves.append(frame.to_json())
        for stream, reason in out.drops:
            if reason == "gap":
                self.metrics.gaps.inc(stream=stream)
            else:
                self.metrics.dropped.inc(reason=reason)

    def _alarm(self, event: AlarmEvent) -> None:
        alarm = event.alarm
        if event.event == "raised":
            self.metrics.alarms_raised.inc(type=alarm["type"], priority=alarm["priority"])
        log.info(
            "alarm %s bed=%s type=%s id=%s at=%.3f", event.event, alarm["bed"], alarm["type"], alarm["id"], event.t
        )
        self.hub.urgent(event.to_json())
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("alarm listener failed")

    def on_connection(self, connected: bool) -> None:
        self.broker_connected = connected
        self.broker_changed_at = self.clock()
        self.metrics.broker_connected.set(1.0 if connected else 0.0)
        self.hub.urgent(
            {"type": "connection", "broker_connected": connected, "broker_changed_at": self.broker_changed_at}
        )
        for event in self.ward.broker(connected, self.clock()):
            self._alarm(event)

    # -- operator actions ----------------------------------------------------------------------------------
    def acknowledge(self, alarm_id: str, user: str) -> dict[str, Any]:
        """Acknowledge an alarm (idempotent); raises ``UnknownAlarm`` or ``IllegalTransition``."""
        event = self.ward.acknowledge(alarm_id, user, self.clock())
        if event is not None:
            self._alarm(event)
        return self.ward.alarms.get(alarm_id).to_json()

    # -- views ---------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "type": "snapshot",
            "server_time": now,
            "broker_connected": self.broker_connected,
            "broker_changed_at": self.broker_changed_at,
            "beds": self.ward.beds_view(now),
            "alarms": [a.to_json() for a in self._open_sorted()],
            "controls": self.desk.controls_json(),
        }

    def _open_sorted(self) -> list[Any]:
        return sorted(self.ward.alarms.open_alarms(), key=lambda a: (a.priority.rank, -a.raised_at))

    def health(self) -> dict[str, Any]:
        from monitor import __version__

        return {
            "status": "ok",
            "broker_connected": self.broker_connected,
            "beds": len(self.ward.beds),
            "open_alarms": len(self.ward.alarms.open_alarms()),
            "version": __version__,
            "uptime_s": round(self.clock() - self.started_at, 1),
        }

    # -- periodic tasks ------------------------------------------------------------------------------------
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_s)
            now = self.clock()
            if self.recorder is not None:
                self.recorder.tick(now)
            self.publish(self.ward.advance(now))
            self.metrics.beds.set(len(self.ward.beds))

    async def _vitals(self) -> None:
        """Vitals of beds with new numerics or status within VITALS_PUSH_S; every bed every vitals_period_s
        (that full frame doubles as the heartbeat clients watch for)."""
        last_full = self.clock()
        while True:
            await asyncio.sleep(VITALS_PUSH_S)
            now = self.clock()
            if now - last_full >= self.settings.vitals_period_s:
                last_full = now
                chosen = list(self.ward.beds.values())
            elif self._vitals_dirty:
                chosen = [self.ward.beds[b] for b in self._vitals_dirty if b in self.ward.beds]
            else:
                continue
            self._vitals_dirty.clear()
            beds = [
                {"bed": b.bed, "online": b.online, "last_seen": b.last_seen, "vitals": b.vitals(now)} for b in chosen
            ]
            self.hub.vitals({"type": "vitals", "t": now, "beds": beds})

    async def _loop_watch(self) -> None:
        """Measures event-loop lag: a 50 ms sleep that wakes up late means something held the loop."""
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.05)
            self.metrics.loop_lag.observe(max(0.0, time.perf_counter() - start - 0.05))

    async def _wave_flusher(self) -> None:
        while True:
            await asyncio.sleep(self.settings.wave_period_s)
            if self._waves:
                frames, self._waves = self._waves, []
                self.hub.waves({"type": "wave", "frames": frames})

    # -- running -------------------------------------------------------------------------------------------
    async def run(self, broker: BrokerUrl, *, http: bool = True, ready: asyncio.Event | None = None) -> None:
        """Run until cancelled (or until the HTTP server is told to exit by a signal)."""
        subscriber = Subscriber(
            broker, self.settings.topic_root, self.handle_raw, self.on_connection, client_id=self.settings.client_id
        )
        # what is alive at start-up lives for good: full garbage collections then skip it (otherwise one takes
        # ~60 ms, inside whichever message happens to trigger it; benchmarks/recording_overhead.py)
        gc.freeze()
        async with asyncio.TaskGroup() as tg:
            tasks = [
                tg.create_task(subscriber.run(), name="ingest"),
                tg.create_task(self._ticker(), name="ticker"),
                tg.create_task(self._vitals(), name="vitals"),
                tg.create_task(self._wave_flusher(), name="waves"),
                tg.create_task(self._loop_watch(), name="loop-watch"),
                tg.create_task(self.desk.run(), name="alarm-desk"),
                *([tg.create_task(self.recorder.run(), name="recorder")] if self.recorder is not None else []),
            ]
            if http:
                server = self._http_server()
                await server.serve_started(ready)
                await server.wait()
                for task in tasks:
                    task.cancel()
            else:
                if ready is not None:
                    ready.set()
                await asyncio.gather(*tasks)

    async def start(self, broker: BrokerUrl, *, http: bool = True) -> asyncio.Task[None]:
        """Start ``run`` in a task and return once the station is serving (or raise why it could not)."""
        ready = asyncio.Event()
        task = asyncio.create_task(self.run(broker, http=http, ready=ready), name="station")
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            exc = task.exception()
            if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
                raise exc.exceptions[0]
            raise exc or ConfigError("station stopped during start-up")
        return task

    def _http_server(self) -> _HttpServer:
        return _HttpServer(self)


def _graceful_server(config: Any) -> Any:
    """A uvicorn server whose SIGINT/SIGTERM only stop it, so that the station then shuts down cleanly (the
    recorder flushes every bed's buffers: nothing recorded is lost on `systemctl stop`, `docker stop` or Ctrl-C)
    and the process exits normally. uvicorn's own handler re-raises the signal once the server has stopped,
    which killed the process before the recorder could flush (the last half second of every session)."""
    import uvicorn

    class GracefulServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return GracefulServer(config)


class _HttpServer:
    """uvicorn inside our event loop, so the API sees the same objects as ingest (no locks, no copies)."""

    def __init__(self, station: Station) -> None:
        import uvicorn

        from dashboard.app import create_app

        self.station = station
        config = uvicorn.Config(
            create_app(station),
            host=station.settings.host,
            port=station.settings.port,
            log_level="warning",
            lifespan="off",
            ws_ping_interval=10,
            ws_per_message_deflate=False,  # compressing every frame once per client costs more than the bytes
            ws_ping_timeout=10,
        )
        self.server = _graceful_server(config)
        self._task: asyncio.Task[None] | None = None

    async def serve_started(self, ready: asyncio.Event | None) -> None:
        config = self.server.config
        try:  # bind here: uvicorn would sys.exit() from inside the event loop on a taken port
            sock = socket.create_server((config.host, config.port), reuse_port=False)
        except OSError as exc:
            raise ConfigError(f"cannot serve HTTP on {config.host}:{config.port}: {exc.strerror} (try --port)") from exc
        self.station.http_port = int(sock.getsockname()[1])
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]), name="http")
        while not self.server.started:
            if self._task.done():
                raise ConfigError("HTTP server stopped during start-up")
            await asyncio.sleep(0.02)
        if ready is not None:
            ready.set()

    async def wait(self) -> None:
        assert self._task is not None
        try:
            await self._task
        except asyncio.CancelledError:
            self.server.should_exit = True
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._task, 5)
            raise
