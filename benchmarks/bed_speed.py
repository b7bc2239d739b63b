"""Speed of one bed's whole functional core: ``BedMonitor`` with ECG (250 Hz, one or two leads), pleth (125 Hz) and
1 Hz numerics, in the 0.25 s chunks a monitor sends, ``evaluate(now)`` after every message.

The messages (a simulated patient, ``monitor.sources.SimulatedSource``) are generated first; the timed part is
``on_wave``/``on_numerics``/``on_status`` + ``evaluate`` for every message, on one pinned core, best of
``--repeat`` runs. Also timed: the same through ``Ward.feed`` (alarm layer included). Prints x real time (wall
clock and process CPU time: on a shared machine the CPU figure is the one that does not depend on the
neighbours) and writes the figures as JSON.

    .venv/bin/python benchmarks/bed_speed.py [--seconds 600] [--json benchmarks/results/bed_speed.json]
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

from monitor.bed import BedMonitor
from monitor.messages import Numerics, Status, WaveChunk
from monitor.sources import SimulatedSource
from monitor.ward import Ward

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "bed_speed.json"
REQUIRED_X_REALTIME = 1500.0


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _bed_run(messages: list) -> None:  # type: ignore[type-arg]
    bed = BedMonitor("bench-01")
    for arrival, msg in messages:
        if isinstance(msg, WaveChunk):
            bed.on_wave(msg, arrival)
        elif isinstance(msg, Numerics):
            bed.on_numerics(msg, arrival)
        else:
            bed.on_status(msg, arrival)
        for _ in bed.evaluate(arrival):
            pass


def _ward_run(messages: list) -> None:  # type: ignore[type-arg]
    ward = Ward()
    for arrival, msg in messages:
        ward.feed(msg, arrival)


def _time(fn, messages: list, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def,type-arg]
    wall = cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn(messages)
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def measure(scenario: str, leads: tuple[str, ...], seconds: float, repeat: int) -> dict[str, object]:
    messages = list(SimulatedSource(scenario, duration_s=seconds, leads=leads, seed=11))
    assert not any(isinstance(m, Status) and not m.online for _, m in messages)
    bed_wall, bed_cpu = _time(_bed_run, messages, repeat)
    ward_wall, ward_cpu = _time(_ward_run, messages, repeat)
    return {
        "scenario": scenario,
        "leads": list(leads),
        "seconds": seconds,
        "messages": len(messages),
        "bed": {"wall_s": bed_wall, "cpu_s": bed_cpu, "x_realtime_wall": seconds / bed_wall,
                "x_realtime_cpu": seconds / bed_cpu, "us_per_message_cpu": 1e6 * bed_cpu / len(messages)},
        "ward": {"wall_s": ward_wall, "cpu_s": ward_cpu, "x_realtime_wall": seconds / ward_wall,
                 "x_realtime_cpu": seconds / ward_cpu},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="simulated seconds per run (default 600)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case; the best counts (default 5)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write results ({DEFAULT_JSON})")
    args = parser.parse_args(argv)
    _pin_one_core()
    cases = [("stable", ("II",)), ("stable", ("II", "V")), ("artifact", ("II", "V"))]
    results = [measure(s, leads, args.seconds, args.repeat) for s, leads in cases]
    print(f"{'scenario':<10} {'leads':<6} {'msgs':>6}  {'bed x rt (cpu / wall)':>22}  {'ward x rt (cpu / wall)':>22}")
    for r in results:
        bed, ward = r["bed"], r["ward"]  # type: ignore[index]
        print(f"{r['scenario']:<10} {len(r['leads']):<6} {r['messages']:>6}  "  # type: ignore[arg-type]
              f"{bed['x_realtime_cpu']:>10.0f} / {bed['x_realtime_wall']:<9.0f}  "
              f"{ward['x_realtime_cpu']:>10.0f} / {ward['x_realtime_wall']:<9.0f}")
    worst = min(r["bed"]["x_realtime_cpu"] for r in results)  # type: ignore[index]
    ok = worst >= REQUIRED_X_REALTIME
    verdict = "OK" if ok else "NOT MET"
    print(f"slowest bed case: {worst:.0f} x real time (CPU) - required >= {REQUIRED_X_REALTIME:.0f}: {verdict}")
    payload = {
        "benchmark": "bed_speed",
        "required_x_realtime": REQUIRED_X_REALTIME,
        "slowest_x_realtime_cpu": worst,
        "met": ok,
        "cases": results,
        "machine": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
                    "platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
