"""Storage per bed-hour: the live recorder on simulated beds, and real PhysioNet signals through the same codec.

Simulated: each scenario runs for ``--hours`` through the real station ingest path (``Station.handle_raw`` on a
virtual clock, the recorder on: canonical values, hot blocks every tick, 5-minute LZMA blocks, 1 Hz vitals,
alarm events) with ECG 250 Hz + pleth 125 Hz (250 ms chunks, jittered arrivals) + numerics 1 Hz. Reported:
the stored bytes (blocks + vitals + events) per bed-hour, and the SQLite pages of the recording's tables and
indexes per bed-hour (``dbstat``: what the file really needs, row and page overhead included).

Real: challenge-2015 records cut to the budget's configuration (ECG lead II 250 Hz + PLETH decimated to
125 Hz, 5 min each) and mitdb records as they are (2 ECG leads, 360 Hz), imported as sessions.
Budget (issue 5): <= 1 MB per bed-hour for ECG 250 Hz + pleth 125 Hz + numerics 1 Hz.

    .venv/bin/python benchmarks/recording_size.py [--hours 1] [--json benchmarks/results/recording_size.json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from monitor.importing import import_record
from monitor.service import Station
from monitor.settings import Settings
from monitor.sources import WfdbSource, _Wave
from simulators.bed import BedConfig, BedStream
from simulators.scenarios import get_scenario
from store.recording import SessionStore

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "recording_size.json"
BUDGET = 1_000_000
SCENARIOS = ("stable", "ketamine-tachycardia", "artifact")
CHALLENGE = ("a103l", "t406s", "t567l", "v636s", "f545l", "b659l")
T0 = 1764085200.0


def _used_bytes(db: Path, prefix: str = "") -> int:
    """Bytes of the pages in use: all of them, or those of the tables/indexes named ``prefix...``."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    return int(sum(size for name, size in rows if name.startswith(prefix) or
                   (prefix and name.startswith(f"sqlite_autoindex_{prefix}"))))


def simulated(scenario: str, hours: float, tmp: Path) -> dict[str, object]:
    data = tmp / scenario
    now = [T0]
    st = Station(Settings(data_dir=data, admin_password="benchmark-password"), clock=lambda: now[0])
    assert st.recorder is not None
    st.recorder.open()
    base = _used_bytes(data / "wardwatch.sqlite", "rec_")
    rng = np.random.default_rng(1)
    stream = BedStream(BedConfig(bed="bed-01", start_ts=T0), get_scenario(scenario, seed=2), 2)
    t = T0
    started = time.perf_counter()
    while stream.tick_end(stream.index) <= hours * 3600:
        tick = stream.next_tick()
        for m in tick.messages:
            now[0] = T0 + tick.t1 + float(rng.uniform(0.001, 0.03))
            st.handle_raw(m.topic, m.payload, m.retain, now[0])
        t = T0 + tick.t1 + 0.05
        now[0] = t
        st.recorder.tick(t)
        st.publish(st.ward.advance(t))
    st.recorder.discharge("bed-01", "benchmark")
    st.recorder.close()  # waits for the encoder and the writer (fed faster than real time, they lag)
    st.desk.close()
    store = SessionStore.open(st.settings.database_url)
    (s,) = store.sessions()
    size = store.size(s.id)
    events = store.db.query_one("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM rec_events WHERE session_id = ?",
                                (s.id,))
    store.close()
    used = _used_bytes(data / "wardwatch.sqlite", "rec_") - base  # the recording's tables and indexes only
    stored = size["data_bytes"] + size["vitals_bytes"] + int(events[0] if events else 0)
    return {
        "scenario": scenario, "hours": hours, "blocks": size["blocks"],
        "waveform_bytes_per_h": round(size["data_bytes"] / hours),
        "vitals_bytes_per_h": round(size["vitals_bytes"] / hours),
        "stored_bytes_per_h": round(stored / hours), "sqlite_used_bytes_per_h": round(used / hours),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def real(record: str, tmp: Path, budget_config: bool) -> dict[str, object]:
    store = SessionStore.open(f"sqlite:///{tmp}/real.sqlite")
    src = WfdbSource(record)
    if budget_config:
        ecg = next(w for w in src.waves if w.stream == "ecg")
        pleth = next(w for w in src.waves if w.stream == "pleth")
        src.waves = [ecg, _Wave("pleth", pleth.lead, pleth.fs / 2, pleth.samples[::2])]
    import monitor.importing as importing

    original = importing.WfdbSource
    importing.WfdbSource = lambda *a, **k: src  # type: ignore[assignment,misc]
    try:
        s = import_record(store, record, reference=False)
    finally:
        importing.WfdbSource = original  # type: ignore[misc]
    size = store.size(s.id)
    hours = src.duration_s / 3600
    store.close()
    return {
        "record": record, "streams": [[w.stream, w.lead, w.fs] for w in src.waves], "hours": round(hours, 4),
        "stored_bytes_per_h": round((size["data_bytes"] + size["vitals_bytes"]) / hours),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        sims = []
        for name in SCENARIOS:
            r = simulated(name, args.hours, tmp)
            sims.append(r)
            print(f"simulated {name:<22} stored {r['stored_bytes_per_h']:>9,} B/bed-h (waveforms "
                  f"{r['waveform_bytes_per_h']:,}, vitals {r['vitals_bytes_per_h']:,}); SQLite used "
                  f"{r['sqlite_used_bytes_per_h']:>9,} B/bed-h; {r['wall_s']} s")
        reals = []
        for rec in CHALLENGE:
            r = real(f"challenge-2015/{rec}", tmp, budget_config=True)
            reals.append(r)
            print(f"real {r['record']:<24} ECG 250 + PLETH 125 Hz: {r['stored_bytes_per_h']:>9,} B/bed-h")
        for rec in ("mitdb/100", "mitdb/210"):
            r = real(rec, tmp, budget_config=False)
            reals.append(r)
            print(f"real {r['record']:<24} 2 ECG leads 360 Hz:     {r['stored_bytes_per_h']:>9,} B/bed-h")
    worst_sim = max(int(r["sqlite_used_bytes_per_h"]) for r in sims)
    budget_real = [int(r["stored_bytes_per_h"]) for r in reals if r["record"].startswith("challenge")]
    ok = worst_sim <= BUDGET and max(budget_real) <= BUDGET
    print(f"worst simulated (SQLite pages): {worst_sim:,} B/bed-h; real (budget config) mean "
          f"{int(np.mean(budget_real)):,}, max {max(budget_real):,}; budget {BUDGET:,}: {'OK' if ok else 'OVER'}")
    payload = {"benchmark": "recording_size", "budget_bytes_per_bed_hour": BUDGET, "simulated": sims, "real": reals,
               "worst_simulated_sqlite_bytes_per_h": worst_sim, "real_budget_config_max_bytes_per_h": max(budget_real),
               "ok": ok, "python": sys.version.split()[0]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
