"""``wardwatch replay SESSION_ID|WFDB_RECORD``: a recording through the live pipeline on a virtual clock.

Without ``--profile``/``--set``, a recorded session replays under the settings it was recorded under and the
command says whether it reproduced the live alarms exactly. With them, it shows how the alarms would differ
(count and timing, per alarm type) from the live ones (a session) or from the default settings (a record).
``--to-broker URL --bed NAME`` republishes the recording to MQTT as a virtual bed instead, in real time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from monitor.alarm_diff import compare, episodes, same_events
from monitor.errors import ConfigError, RecordError
from monitor.limits import PROFILES, profile
from monitor.replay import ReplayResult, ReplaySettings, replay

__all__ = ["register", "parse_sets", "add_store_option", "open_store"]


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL", help="recordings database: sqlite:///path or postgresql://... "
                        "(default: WARDWATCH_DATABASE, else sqlite under --data-dir)")
    parser.add_argument("--data-dir", help="the station's data dir (default ./var)")


def open_store(args: argparse.Namespace) -> Any:
    from monitor.settings import Settings
    from store.recording import SessionStore

    extra = {"data_dir": args.data_dir} if getattr(args, "data_dir", None) else {}
    url = args.store or Settings(**extra).database_url
    return SessionStore.open(url)


def parse_sets(values: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set wants KEY=VALUE (e.g. spo2.low=88), got {item!r}")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "replay",
        help="replay a recorded session or a WFDB record through the pipeline (what-if limits)",
        description="Feed a recorded session (by id) or a PhysioNet/WFDB record through the same pipeline as live, "
        "on a virtual clock, and report its alarms; with --profile/--set, how they would differ.",
    )
    parser.add_argument("target", metavar="SESSION_ID|WFDB_RECORD")
    parser.add_argument("--speed", default="max", help="1, 10, any factor, or max (default max)")
    parser.add_argument("--profile", choices=sorted(PROFILES), help="replay under this limits profile instead")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a limit, e.g. spo2.low=88")
    parser.add_argument("--json", action="store_true", help="print the alarms (and comparison) as JSON")
    parser.add_argument("--bed", help="bed id of a WFDB record (default from its name); with --to-broker, required")
    parser.add_argument("--to-broker", metavar="URL", help="republish to MQTT as a virtual bed (real time)")
    parser.add_argument("--topic-root", default="vitals", help="topic root for --to-broker (default vitals)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (default: on a terminal)")
    parser.add_argument("--progress", action="store_true", help="progress bar on stderr even when not a terminal")
    add_store_option(parser)
    parser.set_defaults(func=run)


def _speed(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value.rstrip("x"))
    except ValueError:
        raise ConfigError(f"--speed must be a number or max, got {value!r}") from None
    if speed <= 0:
        raise ConfigError("--speed must be > 0")
    return speed


def _target(args: argparse.Namespace) -> dict[str, Any]:
    """A session in the store, or else a WFDB record."""
    from monitor.records import resolve_record_path
    from monitor.sources import SessionSource, WfdbSource

    try:
        resolve_record_path(args.target)
        is_record = True
    except RecordError:
        is_record = False
    if is_record:
        from monitor.importing import bed_for_record

        src = WfdbSource(args.target, bed=args.bed or bed_for_record(args.target))
        return {"kind": "record", "source": src, "entries": src, "bed": src.bed, "start": src.start,
                "end": src.end, "settings": None, "live": None, "name": args.target}
    store = open_store(args)
    try:
        src = SessionSource(store, args.target, markers=True)
    except RecordError:
        raise RecordError(f"{args.target!r} is neither a session in {store.db} nor a WFDB record") from None
    session = src.session
    live = [e for e in store.events(session.id, "alarm") if e["alarm"]["bed"] == session.bed]
    first = next(iter(store.entries(session.id)), None)
    if first is not None:
        live = [e for e in live if e["t"] >= first[0] or e["alarm"]["id"] in
                {a["id"] for a in session.settings.get("open_alarms", [])}]
    return {"kind": "session", "source": src, "entries": src.entries(), "bed": session.bed,
            "start": session.opened_at, "end": src.end, "settings": ReplaySettings.of_session(session.settings),
            "live": live, "name": session.id, "session": session.to_json()}


def run(args: argparse.Namespace) -> int:
    speed = _speed(args.speed)
    sets = parse_sets(args.set)
    target = _target(args)
    if args.to_broker:
        from monitor.republish import republish

        if not args.bed:
            raise ConfigError("--to-broker needs --bed NAME (the virtual bed's id)")
        republish(target["entries"], args.to_broker, args.bed, topic_root=args.topic_root, speed=speed or 1.0)
        return 0
    recorded: ReplaySettings = target["settings"] or ReplaySettings(limits=profile("adult-default"))
    what_if = bool(args.profile or sets)
    chosen = recorded.with_limits(profile(args.profile) if args.profile else None, sets) if what_if else recorded
    total = (target["end"] or 0) - (target["start"] or 0)
    show = args.progress or (sys.stderr.isatty() and not args.no_progress)
    bar = _ProgressBar(total) if show else None
    result = replay(target["entries"], chosen, bed=target["bed"], end=target["end"], speed=speed,
                    progress=bar, total_s=total)
    if bar is not None:
        bar.done()
    baseline = target["live"]
    base_name = "live"
    if baseline is None and what_if:  # a record: compare with the default settings
        again = type(target["source"])(args.target, bed=target["bed"])
        baseline = replay(again, recorded, bed=target["bed"], end=target["end"]).events
        base_name = "default"
    report = _report(target, chosen, result, baseline, base_name, what_if)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(_text(report, result))
    return 0


def _report(target: dict[str, Any], chosen: ReplaySettings, result: ReplayResult, baseline: list[Any] | None,
            base_name: str, what_if: bool) -> dict[str, Any]:
    report: dict[str, Any] = {
        "source": {"kind": target["kind"], "name": target["name"], "bed": target["bed"],
                   "start": target["start"], "end": target["end"]},
        "settings": chosen.describe(),
        "alarms": [e.to_json() for e in episodes(result.events)],
        "events": [e.to_json() for e in result.events],
        "what_if": what_if,
        "stats": {"messages": result.messages, "virtual_s": round(result.virtual_s, 3),
                  "wall_s": round(result.wall_s, 3), "x_realtime": round(result.speedup, 1)},
    }
    if baseline is not None:
        cmp = compare(baseline, result.events, end=target["end"])
        report["baseline"] = base_name
        report["comparison"] = cmp.to_json()
        if target["kind"] == "session" and not what_if:
            report["reproduces_live"] = same_events(baseline, result.events)
    return report


def _clock(t: float, start: float | None) -> str:
    rel = t - (start or t)
    h, rem = divmod(int(rel), 3600)
    return f"+{h}:{rem // 60:02d}:{rem % 60:02d}"


def _text(report: dict[str, Any], result: ReplayResult) -> str:
    src, st = report["source"], report["stats"]
    lines = [
        f"{src['kind']} {src['name']} (bed {src['bed']}): {st['messages']} messages, {st['virtual_s']:.0f} s "
        f"replayed in {st['wall_s']:.2f} s ({st['x_realtime']:.0f}x real time)",
    ]
    if report["what_if"]:
        lines.append(f"settings: {json.dumps(report['settings']['overrides']) or ''} "
                     f"(recorded limit changes {report['settings']['recorded_limit_changes']})")
    alarms = report["alarms"]
    lines.append(f"\n{len(alarms)} alarm(s):")
    for a in alarms:
        end = "open" if a["ended_at"] is None else f"{a['ended_at'] - a['raised_at']:.0f} s"
        lines.append(f"  {_clock(a['raised_at'], src['start'])}  {a['priority']:<6} {a['type']:<26} {end:>8}  "
                     f"{a['message']}")
    if "reproduces_live" in report:
        verdict = "yes, event for event" if report["reproduces_live"] else "NO (see --json)"
        lines.append(f"\nreproduces the live alarms: {verdict}")
    if "comparison" in report and report["what_if"]:
        from monitor.alarm_diff import Comparison, TypeDiff

        c = report["comparison"]
        table = Comparison(c["identical"], [TypeDiff(**t) for t in c["types"]])
        lines.append(f"\ncompared with {report['baseline']} "
                     f"({c['baseline_alarms']} -> {c['candidate_alarms']} alarms):")
        lines.append(table.table(report["baseline"], "replay"))
    return "\n".join(lines)


class _ProgressBar:
    """``[#####.....]  45%  1:48:00 / 4:00:00  2150x`` on stderr (for replays longer than a minute)."""

    def __init__(self, total_s: float, width: int = 30) -> None:
        self.total = total_s
        self.width = width
        self.enabled = total_s >= 60.0
        self.t0 = time.perf_counter()
        self.shown = False

    def __call__(self, done_s: float, total_s: float) -> None:
        if not self.enabled:
            return
        total = self.total or total_s or 1.0
        frac = min(1.0, max(0.0, done_s / total))
        filled = int(frac * self.width)
        wall = max(time.perf_counter() - self.t0, 1e-9)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {frac * 100:3.0f}%  "
                         f"{_hms(done_s)} / {_hms(total)}  {done_s / wall:.0f}x ")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
