"""``wardwatch sessions ACTION``: list, show, import, export, report, pin and prune recorded sessions.

* ``sessions list [--bed B] [--open]`` / ``sessions show ID``
* ``sessions import RECORD [--bed B] [--label L] [--profile P] [--set K=V]`` (a WFDB record becomes a session)
* ``sessions export ID --format wfdb|csv --out DIR``
* ``sessions report ID --out FILE.pdf|FILE.png``
* ``sessions pin ID`` / ``sessions unpin ID`` (pinned sessions are kept beyond the retention)
* ``sessions prune [--retention-h H]``
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.commands.replay import add_store_option, open_store, parse_sets
from monitor.errors import ConfigError
from monitor.limits import PROFILES

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("sessions", help="recorded sessions: list, import, export, report, prune",
                            description="Recorded sessions (full disclosure): list, show, import a WFDB record, "
                            "export to WFDB/CSV, write a report, pin, prune.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = actions.add_parser("list", help="sessions, newest first")
    p.add_argument("--bed")
    p.add_argument("--open", action="store_true", help="only open sessions")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_list)

    p = actions.add_parser("show", help="one session: settings, size, alarms, annotations")
    p.add_argument("session")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_show)

    p = actions.add_parser("import", help="import a WFDB record as a session")
    p.add_argument("record", help="record path without extension (or relative to the PhysioNet dir)")
    p.add_argument("--bed", help="bed id (default from the record's name)")
    p.add_argument("--label", help="pseudonymous label")
    p.add_argument("--profile", default="adult-default", choices=sorted(PROFILES))
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a limit")
    p.add_argument("--start", help="start time, ISO 8601 (default: the record's own, else 2000-01-01)")
    p.add_argument("--no-pin", action="store_true", help="let the retention delete it (imports are kept by default)")
    p.add_argument("--no-reference", action="store_true", help="do not import the .atr rhythm annotations")
    p.set_defaults(handler=_import)

    p = actions.add_parser("export", help="export a session to WFDB or CSV")
    p.add_argument("session")
    p.add_argument("--format", choices=("wfdb", "csv"), default="wfdb")
    p.add_argument("--out", required=True, help="directory to write into")
    p.set_defaults(handler=_export)

    p = actions.add_parser("report", help="a session report (PDF or PNG)")
    p.add_argument("session")
    p.add_argument("--out", required=True, help="FILE.pdf or FILE.png")
    p.set_defaults(handler=_report)

    for name, value in (("pin", True), ("unpin", False)):
        what = "keep it beyond" if value else "back under"
        p = actions.add_parser(name, help=f"{name} a session ({what} the retention)")
        p.add_argument("session")
        p.set_defaults(handler=_pin, pinned=value)

    p = actions.add_parser("prune", help="delete recordings older than the retention now")
    p.add_argument("--retention-h", type=float, help="hours (default: the station setting, 96)")
    p.set_defaults(handler=_prune)

    for p in actions.choices.values():
        add_store_option(p)
    parser.set_defaults(func=lambda args: args.handler(args))


def _when(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _list(args: argparse.Namespace) -> int:
    store = open_store(args)
    sessions = store.sessions(bed=args.bed, open_only=args.open, limit=args.limit)
    counts = store.alarm_counts([s.id for s in sessions])
    if args.json:
        print(json.dumps([{**s.to_json(), "alarms": counts.get(s.id, {})} for s in sessions], indent=2))
        return 0
    print(f"{'session':<36} {'bed':<12} {'label':<18} {'opened (UTC)':<20} {'duration':>9} {'alarms H/M/L':>13}")
    for s in sessions:
        c = counts.get(s.id, {})
        dur = s.to_json()["duration_s"]
        dur_s = "open" if s.is_open else f"{(dur or 0) / 60:.0f} min"
        flag = " *" if s.pinned else ""
        print(f"{s.id:<36} {s.bed:<12} {(s.label or '')[:18]:<18} {_when(s.opened_at):<20} {dur_s:>9} "
              f"{c.get('high', 0):>5}/{c.get('medium', 0)}/{c.get('low', 0)}{flag}")
    return 0


def _show(args: argparse.Namespace) -> int:
    store = open_store(args)
    s = store.session(args.session)
    data: dict[str, Any] = {
        **s.to_json(),
        "size": store.size(s.id),
        "alarms": store.alarm_counts([s.id])[s.id],
        "annotations": store.annotations(s.id),
    }
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key in ("id", "bed", "label", "open_reason", "opened_by", "close_reason", "closed_by", "pinned"):
        print(f"{key:<14} {data[key]}")
    print(f"{'opened':<14} {_when(s.opened_at)}\n{'closed':<14} {_when(s.closed_at)}")
    size = data["size"]
    print(f"{'stored':<14} {size['data_bytes'] + size['vitals_bytes']:,} bytes in {size['blocks']} block(s)")
    print(f"{'alarms':<14} {data['alarms']}")
    for note in data["annotations"]:
        print(f"  {_when(note['t'])}  {note['user'] or ''}: {note['text']}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from monitor.importing import import_record

    start = None
    if args.start:
        try:
            dt = datetime.fromisoformat(args.start)
        except ValueError:
            raise ConfigError(f"--start must be ISO 8601, got {args.start!r}") from None
        start = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    store = open_store(args)
    t0 = time.perf_counter()
    s = import_record(store, args.record, bed=args.bed, label=args.label, profile=args.profile,
                      overrides=parse_sets(args.set), start=start, pinned=not args.no_pin,
                      reference=not args.no_reference)
    counts = store.alarm_counts([s.id])[s.id]
    print(f"imported {args.record} as session {s.id} (bed {s.bed}) in {time.perf_counter() - t0:.1f} s; "
          f"alarms raised: {sum(counts.values())} {counts}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from monitor.export import export_csv, export_wfdb

    store = open_store(args)
    out = Path(args.out)
    files = export_wfdb(store, args.session, out) if args.format == "wfdb" else export_csv(store, args.session, out)
    print("\n".join(str(f) for f in files))
    return 0


def _report(args: argparse.Namespace) -> int:
    from monitor.report import write_report

    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".png"):
        raise ConfigError("--out must end in .pdf or .png")
    print(write_report(open_store(args), args.session, out))
    return 0


def _pin(args: argparse.Namespace) -> int:
    store = open_store(args)
    store.session(args.session)
    with store.db.transaction() as cur:
        store.update_session(cur, args.session, pinned=args.pinned)
    print(f"{args.session}: {'pinned' if args.pinned else 'unpinned'}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    from monitor.settings import Settings

    hours = args.retention_h if args.retention_h is not None else Settings().retention_h
    store = open_store(args)
    with store.db.transaction() as cur:
        n = store.prune(cur, time.time() - hours * 3600)
    print(f"deleted {n} session(s) closed more than {hours:g} h ago")
    return 0
