"""Does recording slow the live path? The station's ingest path timed with the recorder off and on.

``--beds`` simulated monitors (ECG 250 Hz + pleth 125 Hz in 250 ms chunks, numerics 1 Hz) are fed in real
time to ``Station.handle_raw`` for ``--seconds``, with the ticker's work (``recorder.tick`` + ``Ward.advance``)
every 250 ms, once with recording off and once on (the encoder and writer threads running, compaction
included when the run is longer than 5 minutes). Reported per message: the time spent in ``handle_raw``
(median, p99, max) and per tick; the difference is what recording costs the live path, GIL contention from
the background threads included.

    .venv/bin/python benchmarks/recording_overhead.py [--beds 16] [--seconds 60]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from monitor.service import Station
from monitor.settings import Settings
from simulators.bed import BedConfig, BedStream
from simulators.ward import plan_ward

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "recording_overhead.json"


def payloads(beds: int, seconds: float) -> list[tuple[float, str, bytes, bool]]:
    out = []
    for plan in plan_ward(beds, "mixed"):
        stream = BedStream(BedConfig(bed=plan.bed), plan.scenario, plan.seed)
        offset = plan.index * 0.25 / beds
        while stream.tick_end(stream.index) <= seconds:
            tick = stream.next_tick()
            out.extend((tick.t1 + offset, m.topic, m.payload, False) for m in tick.messages)
    out.sort(key=lambda p: p[0])
    return out


def run(record: bool, msgs: list[tuple[float, str, bytes, bool]], seconds: float, tmp: Path) -> dict[str, float]:
    st = Station(Settings(data_dir=tmp / ("on" if record else "off"), record=record,
                          admin_password="benchmark-password"))
    if st.recorder is not None:
        st.recorder.open()
    gc.freeze()  # as Station.run does
    ingest: list[float] = []
    ticks: list[float] = []
    start = time.time() + 0.5
    next_tick = start + 0.25
    i = 0
    while i < len(msgs) or time.time() < start + seconds:
        due = start + msgs[i][0] if i < len(msgs) else start + seconds
        while next_tick <= due:
            delay = next_tick - time.time()
            if delay > 0:
                time.sleep(delay)
            t = time.perf_counter()
            now = time.time()
            if st.recorder is not None:
                st.recorder.tick(now)
            st.publish(st.ward.advance(now))
            ticks.append(time.perf_counter() - t)
            next_tick += 0.25
        if i >= len(msgs):
            break
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        _, topic, payload, retained = msgs[i]
        t = time.perf_counter()
        st.handle_raw(topic, payload, retained, time.time())
        ingest.append(time.perf_counter() - t)
        i += 1
    if st.recorder is not None:
        st.recorder.close()
    st.desk.close()
    a, b = np.array(ingest) * 1e3, np.array(ticks) * 1e3
    return {"messages": len(ingest), "ingest_ms_median": float(np.median(a)),
            "ingest_ms_p99": float(np.percentile(a, 99)),
            "ingest_ms_max": float(a.max()), "ingest_ms_mean": float(a.mean()), "tick_ms_median": float(np.median(b)),
            "tick_ms_p99": float(np.percentile(b, 99)), "tick_ms_max": float(b.max())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beds", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    msgs = payloads(args.beds, args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        off = run(False, msgs, args.seconds, Path(tmp))
        on = run(True, msgs, args.seconds, Path(tmp))
    for name, r in (("recording off", off), ("recording on", on)):
        print(f"{name:<14} {r['messages']} messages: handle_raw median {r['ingest_ms_median']:.3f} ms, "
              f"p99 {r['ingest_ms_p99']:.3f} ms, max {r['ingest_ms_max']:.2f} ms; tick median "
              f"{r['tick_ms_median']:.3f} ms, p99 {r['tick_ms_p99']:.3f} ms, max {r['tick_ms_max']:.2f} ms")
    extra = on["ingest_ms_mean"] - off["ingest_ms_mean"]
    print(f"recording adds {extra * 1000:.0f} us per message on average "
          f"({extra / off['ingest_ms_mean']:+.1%} of the ingest path), "
          f"{on['tick_ms_median'] - off['tick_ms_median']:+.3f} ms per tick (median)")
    payload = {"benchmark": "recording_overhead", "beds": args.beds, "seconds": args.seconds, "off": off, "on": on,
               "extra_us_per_message": round(extra * 1000, 1), "python": sys.version.split()[0]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
