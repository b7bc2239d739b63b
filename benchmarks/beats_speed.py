"""Speed of `wardwatch beats`-style streaming QRS detection on 30-minute 360 Hz records.

Feeds each record (channel 0) to a fresh detector in 1 s chunks on one core, best of ``--repeat``
runs (record reading excluded), and prints seconds and x real time; writes the figures as JSON.

    .venv/bin/python benchmarks/beats_speed.py [--json benchmarks/results/beats_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy

from monitor.records import read_record
from monitor.signal.qrs import QrsDetector

RECORDS = ("mitdb/100", "mitdb/208")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "beats_speed.json"
REQUIRED_X_REALTIME = 500.0


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def time_record(name: str, chunk_s: float, repeat: int) -> dict[str, float | int | str]:
    record = read_record(name)
    x = record.channel(0)
    step = max(1, round(chunk_s * record.fs))
    best = float("inf")
    n_beats = 0
    for _ in range(repeat):
        detector = QrsDetector(record.fs)
        start = time.perf_counter()
        n_beats = 0
        for i in range(0, x.size, step):
            n_beats += len(detector.process(x[i : i + step]))
        best = min(best, time.perf_counter() - start)
    duration = x.size / record.fs
    return {
        "record": name,
        "fs": record.fs,
        "duration_s": duration,
        "chunk_s": chunk_s,
        "beats": n_beats,
        "seconds": best,
        "x_realtime": duration / best,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"output JSON (default {DEFAULT_JSON})")
    parser.add_argument("--chunk-ms", type=float, default=1000.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    _pin_one_core()
    results = [time_record(name, args.chunk_ms / 1000.0, args.repeat) for name in RECORDS]
    for r in results:
        print(f"{r['record']:<10} {r['duration_s']:7.0f} s of ECG in {r['seconds']:.3f} s "
              f"= {r['x_realtime']:7.0f} x real time ({r['beats']} beats)")
    worst = min(float(r["x_realtime"]) for r in results)
    ok = worst >= REQUIRED_X_REALTIME
    print(f"slowest: {worst:.0f} x real time (required >= {REQUIRED_X_REALTIME:.0f}): {'OK' if ok else 'TOO SLOW'}")
    payload = {
        "benchmark": "beats_speed",
        "records": results,
        "min_x_realtime": worst,
        "required_x_realtime": REQUIRED_X_REALTIME,
        "ok": ok,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
