"""``wardwatch evaluate TARGET ...``: score WardWatch components against reference annotations.

Targets are nested sub-commands; each one is a ``_register_<target>(targets)`` function listed in
``_TARGETS`` that adds its parser and sets ``handler`` to a callable ``(args) -> int``.

* ``evaluate qrs RECORD... [--json] [--channel N]``: stream each whole record through the QRS
  detector and print an ANSI/AAMI EC57 beat-by-beat table (TP FP FN Se +P, gross and average).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np

from monitor.evaluate import MATCH_WINDOW_S, QrsScore, Summary, score_record, summarize
from monitor.records import read_record, read_reference_beats
from monitor.signal.qrs import detect_beats

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "evaluate",
        help="score a component against reference annotations (e.g. 'evaluate qrs')",
        description="Score WardWatch components against reference annotations.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for add_target in _TARGETS:
        add_target(targets)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


# ---------------------------------------------------------------------------- qrs
def _register_qrs(targets: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = targets.add_parser(
        "qrs",
        help="EC57 beat-by-beat scoring of the streaming QRS detector",
        description="Run the streaming, causal QRS detector over each whole record (1 s chunks) and score it "
        f"against the reference beat annotations (.atr), ANSI/AAMI EC57 style: {MATCH_WINDOW_S * 1000:.0f} ms "
        "match window, beat codes only.",
    )
    parser.add_argument("records", nargs="+", metavar="RECORD",
                        help="WFDB record paths without extension (or relative to the PhysioNet dir)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--channel", type=int, default=0, metavar="N", help="channel index (default 0)")
    parser.set_defaults(handler=_run_qrs)


def _run_qrs(args: argparse.Namespace) -> int:
    scores = [_score_qrs(name, args.channel) for name in args.records]
    summary = summarize(scores)
    if args.json:
        payload = {"target": "qrs", "channel": args.channel, "match_window_s": MATCH_WINDOW_S, **summary.as_dict()}
        print(json.dumps(payload, indent=2))
    else:
        print(_qrs_table(summary))
    return 0


def _score_qrs(name: str, channel: int) -> QrsScore:
    record = read_record(name)
    reference = read_reference_beats(name)
    beats = detect_beats(record.channel(channel), record.fs)
    detected = np.fromiter((b.sample for b in beats), dtype=np.int64, count=len(beats))
    return score_record(name, reference, detected, record.fs)


def _qrs_table(summary: Summary) -> str:
    width = max(12, *(len(s.record) for s in summary.records))
    head = f"{'record':<{width}} {'TP':>7} {'FP':>6} {'FN':>6} {'Se %':>7} {'+P %':>7}"
    lines = [head, "-" * len(head)]
    for s in (*summary.records, summary.gross):
        if s is summary.gross:
            lines.append("-" * len(head))
        lines.append(f"{s.record:<{width}} {s.tp:>7} {s.fp:>6} {s.fn:>6} {100 * s.se:>7.2f} {100 * s.ppv:>7.2f}")
    lines.append(f"{'average':<{width}} {'':>7} {'':>6} {'':>6} {100 * summary.average_se:>7.2f} "
                 f"{100 * summary.average_ppv:>7.2f}")
    return "\n".join(lines)


_TARGETS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_register_qrs,)  # type: ignore[type-arg]
