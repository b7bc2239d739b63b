"""Capacity and latency of the whole pipeline under a full ward (docs/performance.md).

    python benchmarks/capacity.py --beds 128 --duration 60 --clients 10 --json benchmarks/results/capacity.json
    python benchmarks/capacity.py --search                      # largest N sustained in real time

What runs, each in its own process: a private Mosquitto; the WardWatch service (`wardwatch serve`, recording on,
as deployed); a load generator publishing N-P simulated beds at full rate (ECG 250 Hz + pleth 125 Hz in 250 ms
chunks, numerics 1 Hz, `mixed` scenarios); and this process, which publishes P probe beds at full rate too and
holds K websocket dashboard clients.

The probe beds' waveforms are the simulator's; their numerics are scripted: every 12 s SpO2 drops from 97 to 80
for 4 s (a desaturation alarm: high priority, no alarm-condition delay), and the pulse rate counts up by one
each second. So this process knows when it published the message that completed an alarm condition, and which
vitals value came from which message:
- alarm latency = websocket `alarm raised` frame received - publish of the first numerics with SpO2 < 85;
- vitals latency = websocket `vitals` frame showing a probe's new PR value - publish of the numerics carrying it.
Both are measured on every client; the configured clinical delay is excluded because desaturation has none.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.broker import BrokerUrl, free_port  # noqa: E402
from tests.brokers import MosquittoBroker, mosquitto_path  # noqa: E402

PROBES = 8
CYCLE_S = 12.0
LOW_S = 4.0
TOPIC_ROOT = "vitals"


# -- load generator (runs in a child process) ---------------------------------------------------------------
def run_load(args: argparse.Namespace) -> None:
    import logging

    from simulators.publisher import run_ward
    from simulators.stats import WardStats

    logging.basicConfig(level=logging.WARNING)
    stats = WardStats()
    asyncio.run(
        run_ward(args.broker, args.beds, "mixed", bed_prefix="load-", duration=args.duration, stats=stats, seed=11)
    )
    Path(args.out).write_text(json.dumps(stats.summary()))


# -- probe beds (this process) ------------------------------------------------------------------------------
@dataclass
class Probe:
    alarm_triggers: dict[str, list[float]] = field(default_factory=dict)  # bed -> publish times of SpO2 < 85
    pr_published: dict[tuple[str, int], float] = field(default_factory=dict)
    published: int = 0


async def run_probes(broker: str, beds: list[str], duration: float, probe: Probe) -> None:
    import aiomqtt

    from simulators.bed import BedConfig, BedStream
    from simulators.scenarios import get_scenario

    url = BrokerUrl.parse(broker)

    async def one(index: int, bed: str) -> None:
        start = time.time() + 0.5 + 0.25 * index / len(beds)
        stream = BedStream(
            BedConfig(bed=bed, topic_root=TOPIC_ROOT, start_ts=start), get_scenario("stable", seed=index), index
        )
        was_low = False
        async with aiomqtt.Client(url.host, url.port, identifier=f"probe-{bed}") as client:
            while True:
                tick = stream.next_tick()
                due = start + tick.t1
                if tick.t1 > duration:
                    return
                await asyncio.sleep(max(0.0, due - time.time()))
                for message in tick.messages:
                    payload = message.payload
                    if message.topic.endswith("/numerics"):
                        t = tick.t0
                        low = (t % CYCLE_S) >= CYCLE_S - LOW_S
                        pr = 60 + int(t) % 40
                        payload = orjson.dumps({"ts": start + t, "hr": 72, "spo2": 80 if low else 97, "pr": pr})
                        now = time.time()
                        probe.pr_published.setdefault((bed, pr), now)
                        if low and not was_low:
                            probe.alarm_triggers.setdefault(bed, []).append(now)
                        was_low = low
                    await client.publish(message.topic, payload, qos=message.qos, retain=message.retain)
                    probe.published += 1

    await asyncio.gather(*(one(i, bed) for i, bed in enumerate(beds)))


# -- websocket clients (this process) -----------------------------------------------------------------------
@dataclass
class Client:
    alarms: list[tuple[float, str]] = field(default_factory=list)  # (received, bed) of desaturation raised
    vitals: dict[tuple[str, int], float] = field(default_factory=dict)  # first time a probe's PR value was seen
    frames: int = 0
    bytes: int = 0


async def run_client(port: int, probes: set[str], client: Client, stop: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            received = time.time()
            client.frames += 1
            client.bytes += len(raw)
            head = raw[:24] if isinstance(raw, str) else raw[:24].decode(errors="replace")
            if '"type":"alarm"' in head:
                frame = orjson.loads(raw)
                alarm = frame["alarm"]
                if frame["event"] == "raised" and alarm["type"] == "desaturation" and alarm["bed"] in probes:
                    client.alarms.append((received, alarm["bed"]))
            elif '"type":"vitals"' in head:
                for bed in orjson.loads(raw)["beds"]:
                    pr = (bed.get("vitals") or {}).get("pr")
                    if bed["bed"] in probes and pr is not None:
                        client.vitals.setdefault((bed["bed"], int(pr)), received)


# -- one run ------------------------------------------------------------------------------------------------
def percentiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}  # type: ignore[dict-item]
    arr = np.asarray(values) * 1000.0
    return {
        "p50": round(float(np.percentile(arr, 50)), 1),
        "p95": round(float(np.percentile(arr, 95)), 1),
        "p99": round(float(np.percentile(arr, 99)), 1),
        "max": round(float(arr.max()), 1),
        "n": len(values),
    }


def metric_values(text: str, name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key[len(name) :]] = float(value)
    return out


def histogram_quantile(text: str, name: str, q: float) -> float | None:
    """Upper bound of the bucket holding quantile ``q`` of a Prometheus histogram (seconds)."""
    buckets = []
    for key, value in metric_values(text, name + "_bucket").items():
        bound = key.split('le="')[1].split('"')[0]
        buckets.append((float("inf") if bound == "+Inf" else float(bound), value))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    for bound, count in buckets:
        if count >= q * buckets[-1][1]:
            return bound
    return None


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def summarise_profile(path: Path, top: int = 25) -> list[tuple[str, float, float]]:
    """(function, inclusive %, self %) from py-spy's collapsed stacks, most expensive first."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        total += count
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")" if " (" in f else f
            for f in stack.split(";")
        ]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    rows = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    return [(name, 100 * n / total, 100 * own.get(name, 0) / total) for name, n in rows]


async def run_once(
    beds: int, duration: float, clients: int, warmup: float = 8.0, profile: Path | None = None
) -> dict[str, Any]:
    if mosquitto_path() is None:
        raise SystemExit("mosquitto is not installed (apt-get install -y mosquitto)")
    probes = [f"probe-{i:02d}" for i in range(1, min(PROBES, beds) + 1)]
    load_beds = beds - len(probes)
    tmp = Path(tempfile.mkdtemp(prefix="wardwatch-capacity-"))
    broker = MosquittoBroker(extra_config="max_queued_messages 100000\nmax_inflight_messages 0")
    broker.start()
    port = free_port()
    env = {
        **os.environ,
        "WARDWATCH_OPEN_VIEWING": "true",
        "WARDWATCH_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "PYTHONUNBUFFERED": "1",
    }
    service_log = open(tmp / "service.log", "wb")
    service = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "serve", "--broker", broker.url, "--port", str(port),
         "--data-dir", str(tmp / "var")],
        cwd=ROOT, env=env, stdout=service_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    load: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                if json.loads(http_get(f"http://127.0.0.1:{port}/api/health"))["broker_connected"]:
                    break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"service did not start; see {tmp / 'service.log'}")
        proc = psutil.Process(service.pid)
        rss_idle = proc.memory_info().rss
        total = warmup + duration
        if load_beds:
            load = subprocess.Popen(
                [sys.executable, __file__, "--role", "load", "--broker", broker.url, "--beds", str(load_beds),
                 "--duration", str(total), "--out", str(tmp / "load.json")],
                cwd=ROOT, env=env,
            )  # fmt: skip
        probe = Probe()
        stop = asyncio.Event()
        ws_clients = [Client() for _ in range(clients)]
        client_tasks = [asyncio.create_task(run_client(port, set(probes), c, stop)) for c in ws_clients]
        probe_task = asyncio.create_task(run_probes(broker.url, probes, total, probe))
        await asyncio.sleep(warmup)
        measure_from = time.time()
        ingested0 = metric_values(http_get(f"http://127.0.0.1:{port}/metrics"), "wardwatch_messages_total")
        cpu0 = proc.cpu_times()
        others = {
            "load_generator": psutil.Process(load.pid) if load is not None else None,
            "bench_clients_probes": psutil.Process(),
            "mosquitto": psutil.Process(broker.pid),
        }
        others_cpu0 = {k: (p.cpu_times() if p is not None else None) for k, p in others.items()}
        machine0 = psutil.cpu_times()
        wall0 = time.monotonic()
        spy = None
        if profile is not None:
            spy = subprocess.Popen(
                ["py-spy", "record", "--nonblocking", "-p", str(service.pid), "-d", str(int(duration)),
                 "-r", "50", "-f", "raw", "-o", str(profile)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        rss_peak = 0
        while time.monotonic() - wall0 < duration:
            await asyncio.sleep(1.0)
            rss_peak = max(rss_peak, proc.memory_info().rss)
        cpu1 = proc.cpu_times()
        measure_to = time.time()  # latencies count for messages published inside the window (not the teardown)
        wall = time.monotonic() - wall0
        ingested1 = metric_values(http_get(f"http://127.0.0.1:{port}/metrics"), "wardwatch_messages_total")
        machine1 = psutil.cpu_times()
        other_cpu = {
            k: round((p.cpu_times().user + p.cpu_times().system - c.user - c.system) / wall * 100, 1)
            for k, p in others.items()
            if p is not None and (c := others_cpu0[k]) is not None
        }
        busy = sum(machine1) - sum(machine0)
        idle = (machine1.idle - machine0.idle) + (machine1.iowait - machine0.iowait)
        other_cpu["machine_busy_percent_of_all_cores"] = round(100 * (busy - idle) / busy, 1) if busy else 0.0
        if spy is not None:
            spy.wait(timeout=60)
        await probe_task
        if load is not None:
            load.wait(timeout=60)
        await asyncio.sleep(2.0)  # let the service drain
        stop.set()
        await asyncio.gather(*client_tasks, return_exceptions=True)
        metrics = http_get(f"http://127.0.0.1:{port}/metrics")
    finally:
        if load is not None and load.poll() is None:
            load.kill()
        service.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.wait(10)
        if service.poll() is None:
            service.kill()
        broker.cleanup()
        service_log.close()

    load_stats = json.loads((tmp / "load.json").read_text()) if load_beds else {"published": 0, "skipped_ticks": 0}
    published = int(load_stats["published"]) + probe.published
    valid = sum(metric_values(metrics, "wardwatch_messages_total").values())
    invalid = sum(metric_values(metrics, "wardwatch_messages_invalid_total").values())
    dropped = metric_values(metrics, "wardwatch_messages_dropped_total")
    gaps = sum(metric_values(metrics, "wardwatch_gaps_total").values())
    received = valid + invalid
    alarm_lat = []
    alarm_detail: list[tuple[float, str, float]] = []
    vitals_lat = []
    vitals_detail: list[tuple[float, str, int, float]] = []
    for c in ws_clients:
        for received_at, bed in c.alarms:
            if received_at < measure_from:
                continue
            before = [t for t in probe.alarm_triggers.get(bed, []) if t <= received_at]
            if before and before[-1] <= measure_to:
                alarm_lat.append(received_at - before[-1])
                alarm_detail.append((round(before[-1] - measure_from, 2), bed, round(received_at - before[-1], 3)))
        for (bed, pr), seen in c.vitals.items():
            sent = probe.pr_published.get((bed, pr))
            if sent is not None and seen >= measure_from and seen >= sent and sent <= measure_to:
                vitals_lat.append(seen - sent)
                vitals_detail.append((round(sent - measure_from, 2), bed, pr, round(seen - sent, 3)))
    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wall * 100.0
    rate = {k: (v - ingested0.get(k, 0.0)) / wall for k, v in ingested1.items()}  # valid messages/s by stream
    chunk_samples = {'{stream="ecg"}': 250 * 0.25, '{stream="pleth"}': 125 * 0.25}  # the load's 250 ms chunks
    return {
        "beds": beds,
        "duration_s": duration,
        "clients": clients,
        "messages_per_s": round(sum(rate.values()), 1),  # ingested (valid), measured over the window
        "samples_per_s": round(sum(rate.get(k, 0.0) * n for k, n in chunk_samples.items())),
        "messages_per_s_offered": beds * (4 + 4 + 1),  # ecg + pleth chunks of 250 ms, numerics
        "published": published,
        "received": int(received),
        "lost": max(0, int(published - received)),
        "late": int(dropped.get('{reason="late"}', 0.0)),
        "duplicates": int(dropped.get('{reason="duplicate"}', 0.0)),
        "gaps": int(gaps),
        "load_generator_skipped_ticks": int(load_stats["skipped_ticks"]),
        "service_transit_ms_bucket_p50": _ms(histogram_quantile(metrics, "wardwatch_transit_seconds", 0.5)),
        "service_transit_ms_bucket_p99": _ms(histogram_quantile(metrics, "wardwatch_transit_seconds", 0.99)),
        "service_loop_lag_ms_bucket_p99": _ms(histogram_quantile(metrics, "wardwatch_event_loop_lag_seconds", 0.99)),
        "service_processing_ms_bucket_p99": _ms(
            histogram_quantile(metrics, "wardwatch_pipeline_latency_seconds", 0.99)
        ),
        "cpu_percent": round(cpu, 1),
        "cpu_percent_others": other_cpu,
        "rss_mb": round(rss_peak / 2**20, 1),
        "rss_mb_per_bed": round(rss_peak / 2**20 / beds, 3),
        "rss_mb_per_bed_incremental": round((rss_peak - rss_idle) / 2**20 / beds, 3),
        "alarm_latency_ms": percentiles(alarm_lat),
        "slowest_alarms": sorted(alarm_detail, key=lambda x: -x[2])[:12],
        "vitals_latency_ms": percentiles(vitals_lat),
        "slowest_vitals": sorted(vitals_detail, key=lambda x: -x[3])[:12],
        "ws_frames_dropped": int(sum(metric_values(metrics, "wardwatch_ws_frames_dropped_total").values())),
        "ws_frames_per_client_per_s": round(np.mean([c.frames for c in ws_clients]) / total, 1) if clients else 0,
        "ws_kbytes_per_client_per_s": round(np.mean([c.bytes for c in ws_clients]) / total / 1000, 1) if clients else 0,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def sustained(result: dict[str, Any], bar_ms: float) -> bool:
    p99 = result["alarm_latency_ms"]["p99"]
    return result["lost"] == 0 and p99 is not None and p99 <= bar_ms and result["alarm_latency_ms"]["n"] > 0


def print_result(r: dict[str, Any]) -> None:
    a, v = r["alarm_latency_ms"], r["vitals_latency_ms"]
    print(
        f"beds {r['beds']:4d}  msgs/s {r['messages_per_s']:7.0f}  lost {r['lost']}  late {r['late']}  "
        f"cpu {r['cpu_percent']:5.1f} %  rss {r['rss_mb']:6.1f} MB ({r['rss_mb_per_bed']:.2f}/bed)  "
        f"alarm p50/p99/max {a['p50']}/{a['p99']}/{a['max']} ms (n={a['n']})  "
        f"vitals p50/p99 {v['p50']}/{v['p99']} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beds", type=int, default=128)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (after an 8 s warm-up)")
    parser.add_argument("--clients", type=int, default=10, help="websocket dashboard clients")
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/capacity.json"))
    parser.add_argument("--search", action="store_true", help="find the largest N sustained in real time")
    parser.add_argument("--bar-ms", type=float, default=200.0, help="p99 alarm latency bar for --search")
    parser.add_argument("--max-beds", type=int, default=1024)
    parser.add_argument("--profile", type=Path, help="also sample the service with py-spy into this file")
    parser.add_argument("--role", choices=["load"], help=argparse.SUPPRESS)
    parser.add_argument("--broker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "load":
        run_load(args)
        return
    runs: list[dict[str, Any]] = []
    if args.search:
        lo, hi = 0, None
        n = args.beds
        while True:
            result = asyncio.run(run_once(n, min(args.duration, 30.0), args.clients))
            print_result(result)
            runs.append(result)
            if sustained(result, args.bar_ms):
                lo = n
                n = n * 2 if hi is None else (lo + hi) // 2
            else:
                hi = n
                n = (lo + hi) // 2
            if n > args.max_beds or (hi is not None and hi - lo <= max(8, lo // 16)):
                break
        summary = {"largest_sustained_beds": lo, "bar_ms": args.bar_ms, "runs": runs}
        print(f"largest N sustained (no loss, p99 alarm latency <= {args.bar_ms:g} ms): {lo}")
    else:
        result = asyncio.run(run_once(args.beds, args.duration, args.clients, profile=args.profile))
        print_result(result)
        summary = result
        if args.profile is not None and args.profile.exists():
            print("service profile (py-spy; inclusive %, self %):")
            for name, inc, own in summarise_profile(args.profile):
                print(f"  {inc:5.1f} {own:5.1f}  {name}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
