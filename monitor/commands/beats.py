"""``wardwatch beats RECORD``: stream one channel of a WFDB record through the QRS detector."""

from __future__ import annotations

import argparse
import sys

from monitor.records import read_record
from monitor.signal.qrs import detect_beats

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "beats",
        help="detect QRS complexes in a WFDB record (streaming, causal)",
        description="Feed one channel of a WFDB record through the streaming QRS detector in fixed-size "
        "chunks and print the R-peak sample indices (the record's own numbering), one per line.",
    )
    parser.add_argument("record", help="WFDB record path without extension (or relative to the PhysioNet dir)")
    parser.add_argument("--channel", type=int, default=0, metavar="N", help="channel index (default 0)")
    parser.add_argument("--chunk-ms", type=float, default=1000.0, metavar="MS",
                        help="chunk length fed to the detector, in milliseconds (default 1000)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.chunk_ms <= 0:
        print("wardwatch beats: --chunk-ms must be > 0", file=sys.stderr)
        return 2
    record = read_record(args.record)
    beats = detect_beats(record.channel(args.channel), record.fs, chunk_s=args.chunk_ms / 1000.0)
    sys.stdout.write("".join(f"{b.sample}\n" for b in beats))
    return 0
