"""``wardwatch review``: the review pages (and the station API) over a recordings store, without a broker.

For reviewing at a desk, or a copy of a station's database: ``/review`` lists the sessions, ``/review/<id>``
opens one. Sign-in as at the station (the same accounts, when the store is the station's database).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor.commands.serve import settings_from
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.service import Station

__all__ = ["register", "serve_review"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("review", help="serve the review pages over a recordings store (no broker needed)")
    parser.add_argument("--store", metavar="URL", help="database URL (default WARDWATCH_DATABASE, else sqlite under "
                        "--data-dir)")
    parser.add_argument("--host", help="HTTP listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (default 8000)")
    parser.add_argument("--data-dir", help="data dir (default ./var)")
    parser.add_argument("--open-viewing", action="store_true", help="anyone on the network may view (no sign-in)")
    parser.set_defaults(func=run, topic_root=None, profile=None)


def run(args: argparse.Namespace) -> int:
    extra = {"database": args.store} if args.store else {}
    if args.open_viewing:
        extra["open_viewing"] = True
    settings = settings_from(args, client_id="wardwatch-review", **extra)
    asyncio.run(serve_review(settings))
    return 0


async def serve_review(settings: object, on_started: Callable[[Station], None] | None = None) -> None:
    """Serve until cancelled; ``on_started(station)`` once it listens (``station.http_port``)."""
    from monitor.service import Station

    station = Station(settings)  # type: ignore[arg-type]
    if station.recorder is None:
        raise ConfigError("review needs recording on (WARDWATCH_RECORD=true)")
    await asyncio.to_thread(station.recorder.open)
    server = station._http_server()
    try:
        await server.serve_started(None)
        print(f"WardWatch review: http://{station.settings.host}:{station.http_port}/review", flush=True)
        if on_started is not None:
            on_started(station)
        await server.wait()
    finally:
        await asyncio.to_thread(station.recorder.close)
        await asyncio.to_thread(station.desk.close)
