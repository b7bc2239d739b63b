"""Replay speed: a recorded 4-hour session of one bed through the full pipeline at --speed max, on one core.

The session (ECG 250 Hz + pleth 125 Hz in 250 ms chunks, numerics 1 Hz; simulator scenario
``ketamine-tachycardia``) is written to a temporary SQLite store as the recorder writes it (5-minute LZMA
blocks), then replayed with ``monitor.replay.replay`` from the store, pinned to one core, best of ``--repeat``.
Also timed: reading and decoding the blocks alone (the recording's share), and a profile of where the rest goes.
Bar (issue 5): >= 1000x real time, i.e. 4 hours in <= 15 s.

    .venv/bin/python benchmarks/replay_speed.py [--hours 4] [--json benchmarks/results/replay_speed.json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

from monitor.replay import ReplaySettings, replay
from monitor.sources import SessionSource, SimulatedSource
from store.recording import BLOCK_S, Session, SessionStore, new_session_id

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "replay_speed.json"
REQUIRED_X_REALTIME = 1000.0


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def record_session(store: SessionStore, hours: float) -> str:
    source = SimulatedSource("ketamine-tachycardia", hours * 3600, bed="bench-01", jitter_s=0.02,
                             params={"repeat_s": 1800.0})
    session = Session(id=new_session_id("bench-01", source.start), bed="bench-01", opened_at=source.start,
                      closed_at=source.end, station="bench", open_reason="import",
                      settings={"limits": ReplaySettings().limits.model_dump(), "reorder_window_s": 0.5})
    with store.db.transaction() as cur:
        store.insert_session(cur, session)
    block: list = []
    seq = 0
    t_block = source.start
    for entry in source:
        if entry[0] >= t_block + BLOCK_S and block:
            with store.db.transaction() as cur:
                store.write_block(cur, session.id, seq, block, [])
            seq, block, t_block = seq + 1, [], t_block + BLOCK_S
        block.append(entry)
    with store.db.transaction() as cur:
        store.write_block(cur, session.id, seq, block, [])
    return session.id


def hotspots(store: SessionStore, sid: str, top: int = 12) -> list[dict[str, object]]:
    src = SessionSource(store, sid, markers=True)
    prof = cProfile.Profile()
    prof.enable()
    replay(src.entries(), ReplaySettings.of_session(src.session.settings), bed=src.bed, end=src.end)
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(file).name}:{line}({name})", "cumulative_s": ct, "own_s": tt})
    rows.sort(key=lambda r: -float(r["cumulative_s"]))  # type: ignore[arg-type]
    keep = [r for r in rows if any(k in str(r["function"]) for k in (
        "ward.py", "bed.py", "ecg.py", "pleth.py", "qrs.py", "filters.py", "heart_rate.py", "rhythm", "stream.py",
        "conditions.py", "codec.py", "recording.py", "manager.py"))]
    return [{**r, "share": round(float(r["cumulative_s"]) / total, 3)} for r in keep[:top]] if total else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    _pin_one_core()
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore.open(f"sqlite:///{tmp}/bench.sqlite")
        t = time.perf_counter()
        sid = record_session(store, args.hours)
        print(f"recorded a {args.hours:g} h session in {time.perf_counter() - t:.1f} s ({store.size(sid)})")
        t = time.perf_counter()
        n_entries = sum(1 for _ in store.entries(sid))
        decode_s = time.perf_counter() - t
        best = None
        for _ in range(args.repeat):
            src = SessionSource(store, sid, markers=True)
            result = replay(src.entries(), ReplaySettings.of_session(src.session.settings), bed=src.bed, end=src.end)
            best = result if best is None or result.wall_s < best.wall_s else best
        assert best is not None
        virtual = args.hours * 3600
        speed = virtual / best.wall_s
        print(f"read+decode alone: {n_entries} messages in {decode_s:.2f} s ({virtual / decode_s:.0f}x real time)")
        print(f"replay (full pipeline): {best.messages} messages, {virtual:.0f} s in {best.wall_s:.2f} s = "
              f"{speed:.0f}x real time; {len(best.events)} alarm events")
        ok = speed >= REQUIRED_X_REALTIME
        print(f"required >= {REQUIRED_X_REALTIME:.0f}x ({virtual / REQUIRED_X_REALTIME:.1f} s): "
              f"{'OK' if ok else 'TOO SLOW'}")
        spots = [] if args.no_profile else hotspots(store, sid)
        for r in spots:
            print(f"  {r['share']:6.1%}  {r['function']}")
        store.close()
    payload = {
        "benchmark": "replay_speed",
        "hours": args.hours,
        "messages": best.messages,
        "replay_s": round(best.wall_s, 3),
        "x_realtime": round(speed, 1),
        "decode_s": round(decode_s, 3),
        "decode_x_realtime": round(virtual / decode_s, 1),
        "required_x_realtime": REQUIRED_X_REALTIME,
        "ok": ok,
        "hotspots": spots,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
