"""``wardwatch analyze RECORD [--json]``: the alarms the live pipeline would raise on a recording."""

from __future__ import annotations

import argparse
import json
import sys

from monitor.analyze import analyze_record
from monitor.errors import ConfigError
from monitor.limits import Limits, apply_overrides

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "analyze",
        help="run a WFDB record through the live pipeline and list the alarms it would raise",
        description="Feed all ECG leads and the pleth of a WFDB record through the live pipeline (Ward.feed on a "
        "virtual clock, 0.25 s chunks arriving 20 ms after their last sample; other channels are left out, as "
        "the MQTT contract carries only ECG and pleth) and print the alarms it would raise: type, priority, "
        "onset and raise time in seconds of record time, one line per announcement (a latched alarm whose "
        "condition comes back is announced again: 'again' in the table, \"reactivated\": true in JSON).",
    )
    parser.add_argument("record", help="WFDB record path without extension (or relative to the PhysioNet dir)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--cut", type=float, default=None, metavar="SECONDS",
                        help="analyse only the first SECONDS of the record")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a limit, e.g. --set hr.high=130 (repeatable)")
    parser.add_argument("--all", action="store_true", help="also list technical alarms")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    limits = Limits()
    if args.set:
        overrides = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"--set needs KEY=VALUE, got {item!r}")
            overrides[key.strip()] = float(value)
        limits = apply_overrides(limits, overrides)
    analysis = analyze_record(args.record, cut_s=args.cut, limits=limits)
    alarms = analysis.alarms if args.all or args.json else [a for a in analysis.alarms if a.kind == "physiological"]
    if args.json:
        print(json.dumps({**analysis.to_json(), "alarms": [a.to_json() for a in alarms]}, indent=2))
        return 0
    out = sys.stdout
    out.write(f"{analysis.record}: {analysis.duration_s:.1f} s analysed, {len(alarms)} alarm(s)\n")
    if alarms:
        out.write(f"{'type':<26} {'priority':<8} {'onset s':>9} {'raised s':>9} {'ended s':>9}  message\n")
    for a in alarms:
        ended = "-" if a.ended is None else f"{a.ended:.1f}"
        again = "again: " if a.reactivated else ""
        out.write(f"{a.type:<26} {a.priority:<8} {a.onset:>9.1f} {a.raised:>9.1f} {ended:>9}  {again}{a.message}\n")
    return 0
