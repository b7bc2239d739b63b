"""`wardwatch demo`: an embedded broker, a simulated ward, the monitor and the dashboard in one process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from ingest.broker import BrokerUrl, EmbeddedBroker
from monitor.commands.serve import add_station_options, settings_from

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "demo",
        help="run a simulated ward with an embedded broker, the monitor and the dashboard",
        description="Starts an in-process MQTT broker (unless --broker is given), simulated bedside monitors, "
        "the monitor and the nurse-station dashboard, and prints the URL.",
    )
    parser.add_argument("--broker", help="use this broker instead of the embedded one (mqtt://HOST:PORT)")
    parser.add_argument("--beds", type=int, default=8, help="simulated beds (default 8)")
    parser.add_argument("--scenario", default="mixed", help="simulator scenario (default mixed)")
    parser.add_argument("--onset", type=float, default=None, help="seconds before the scenarios' events begin")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    add_station_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.port is None:
        args.port = 8000
    # The demo's own data directory; the station page is viewable without signing in (actions need the
    # demo login printed at start).
    settings = settings_from(args, open_viewing=True, **({} if args.data_dir else {"data_dir": "var/demo"}))
    asyncio.run(_demo(args, settings))
    return 0


async def _demo(args: argparse.Namespace, settings: object) -> None:
    from monitor.service import Station
    from simulators.publisher import run_ward

    embedded: EmbeddedBroker | None = None
    if args.broker:
        broker_url = args.broker
    else:
        embedded = EmbeddedBroker()
        await embedded.start()
        broker_url = embedded.url
    settings = settings.model_copy(update={"broker": broker_url})  # type: ignore[attr-defined]
    _demo_paging(settings)
    station = Station(settings)  # type: ignore[arg-type]
    login = _demo_login(station)
    params = {"onset_s": args.onset} if args.onset is not None else None
    try:
        station_task = await station.start(BrokerUrl.parse(broker_url))
        sim_task = asyncio.create_task(
            run_ward(
                broker_url,
                args.beds,
                args.scenario,
                topic_root=station.settings.topic_root,
                scenario_params=params,
            ),
            name="simulator",
        )
        host = station.settings.host
        print(f"WardWatch demo: {args.beds} simulated beds ({args.scenario}), broker {broker_url}", flush=True)
        print(f"Nurse station:  http://{host}:{station.http_port}/   (Ctrl-C to stop)", flush=True)
        print(f"Demo login:     user {login[0]!r}, password {login[1]!r} (charge nurse)", flush=True)
        if station.desk.paging is not None:
            print("Pages:          MQTT topics pager/primary and pager/charge on the demo broker", flush=True)
        data_dir = station.settings.data_dir
        print(f"Recordings:     {data_dir} (review at /review; or `wardwatch sessions list --data-dir {data_dir}`, "
              f"then `wardwatch replay SESSION_ID --data-dir {data_dir}`)", flush=True)
        waiters = {station_task, sim_task}
        if args.duration:
            waiters.add(asyncio.create_task(asyncio.sleep(args.duration)))
        done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in pending | done:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        if embedded is not None:
            await embedded.stop()


DEMO_USER = "demo"


def _demo_login(station: object) -> tuple[str, str]:
    """A charge-nurse account for the demo with a fresh random password (printed at start)."""
    import secrets
    import time

    accounts = station.desk.accounts  # type: ignore[attr-defined]
    password = secrets.token_urlsafe(9)
    if accounts.get(DEMO_USER) is None:
        accounts.create_user(DEMO_USER, "charge_nurse", password, by="demo", now=time.time())
    else:
        accounts.update(DEMO_USER, password=password, disabled=False)
    return DEMO_USER, password


def _demo_paging(settings: object) -> None:
    """Without a paging config of its own, the demo pages to MQTT topics on its broker (pager/primary,
    pager/charge; the channels use the station's broker): `mosquitto_sub -t 'pager/#'` shows them."""
    from pathlib import Path

    if getattr(settings, "paging_config", None) is not None:
        return
    path = Path(settings.data_dir) / "paging.toml"  # type: ignore[attr-defined]
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `wardwatch demo`: pages go to MQTT topics on the demo broker (docs/alarms.md).\n"
        'station = "WardWatch demo"\n\n[tiers]\nprimary = ["primary-pager"]\ncharge = ["charge-pager"]\n\n'
        '[channels.primary-pager]\ntype = "mqtt"\ntopic = "pager/primary"\n\n'
        '[channels.charge-pager]\ntype = "mqtt"\ntopic = "pager/charge"\n'
    )
