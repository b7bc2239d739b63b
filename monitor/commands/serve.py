"""`wardwatch serve`: the monitor and the dashboard against a real broker."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ingest.broker import BrokerUrl
from monitor.errors import ConfigError
from monitor.settings import Settings

__all__ = ["register", "add_station_options", "settings_from"]


def add_station_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="HTTP listen address (default 127.0.0.1, env WARDWATCH_HOST)")
    parser.add_argument("--port", type=int, help="HTTP port (default 8000, env WARDWATCH_PORT)")
    parser.add_argument("--topic-root", help="MQTT topic root (default vitals)")
    parser.add_argument("--profile", help="limits profile for new beds (default ketamine-infusion)")
    parser.add_argument("--data-dir", help="where the station keeps its files (default ./var)")
    parser.add_argument("--store", metavar="URL", help="database: sqlite:///path or postgresql://... "
                        "(default sqlite under --data-dir; env WARDWATCH_DATABASE)")
    parser.add_argument("--retention-h", type=float, help="keep recordings this many hours (default 96)")


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides = {
        key: value
        for key, value in {
            "broker": getattr(args, "broker", None),
            "host": args.host,
            "port": args.port,
            "topic_root": args.topic_root,
            "profile": args.profile,
            "data_dir": args.data_dir,
            "database": getattr(args, "store", None),
            "retention_h": getattr(args, "retention_h", None),
            **extra,
        }.items()
        if value is not None
    }
    try:
        return Settings(**overrides)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("serve", help="run the monitor and the nurse-station dashboard against a broker")
    parser.add_argument("--broker", help="mqtt://[user:pass@]HOST:PORT (env WARDWATCH_BROKER)")
    add_station_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from monitor.service import Station

    settings = settings_from(args)
    if not settings.broker:
        raise ConfigError("serve needs --broker mqtt://HOST:PORT (or WARDWATCH_BROKER); `wardwatch demo` embeds one")
    broker = BrokerUrl.parse(settings.broker)
    station = Station(settings)

    async def main() -> None:
        task = await station.start(broker)
        print(f"WardWatch station: http://{settings.host}:{station.http_port}/  (broker {broker})", flush=True)
        await task

    asyncio.run(main())
    return 0
