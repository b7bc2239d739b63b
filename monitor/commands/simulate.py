"""``wardwatch simulate``: publish simulated bedside monitors to an MQTT broker (see docs/simulators.md)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from monitor.errors import ConfigError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="publish simulated bedside monitors (ECG, pleth, numerics, status) to an MQTT broker",
        description="Publish realistic simulated bedside monitors to an MQTT broker, following docs/mqtt.md. "
        "Each bed has its own connection and last will. Runs until --duration or Ctrl-C.",
    )
    parser.add_argument(
        "--broker",
        default="mqtt://127.0.0.1:1883",
        metavar="URL",
        help="mqtt://[user[:password]@]host[:port] (default %(default)s)",
    )
    parser.add_argument("--beds", type=int, default=1, metavar="N", help="number of beds (default %(default)s)")
    parser.add_argument(
        "--scenario",
        default="stable",
        metavar="NAME",
        help="a scenario, or 'mixed' for a ward of different scenarios (see --list-scenarios)",
    )
    parser.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--topic-root", default="vitals", help="topic root (default %(default)s)")
    parser.add_argument("--bed-prefix", default="bed-", help="bed ids are <prefix><NN> (default %(default)s)")
    parser.add_argument("--chunk-ms", type=int, default=250, help="waveform chunk length, 100-1000 ms (default 250)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until interrupted)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    timing = parser.add_argument_group("scenario timing (seconds; defaults per scenario)")
    timing.add_argument("--onset", type=float, default=None, help="when the event starts")
    timing.add_argument("--ramp", type=float, default=None, help="how long the change takes")
    timing.add_argument("--hold", type=float, default=None, help="how long the event holds")
    timing.add_argument("--recover", type=float, default=None, help="how long recovery takes")
    timing.add_argument("--repeat", type=float, default=None, help="repeat the timeline with this period")
    parser.add_argument("--leads", default="II", help="ECG leads, comma separated: II or II,V (default II)")
    parser.add_argument("--waveform-qos", type=int, choices=(0, 1), default=0, help="QoS of ecg/pleth (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ingest.broker import BrokerUrl
    from simulators.bed import BedConfig
    from simulators.scenarios import SCENARIOS
    from simulators.ward import MIXED_CYCLE, WARD_MIXES, plan_ward, ward_scenario_names

    if args.list_scenarios:
        _list_scenarios(SCENARIOS, MIXED_CYCLE)
        return 0
    if args.scenario not in ward_scenario_names():
        raise ConfigError(f"unknown scenario {args.scenario!r}; known: {', '.join(ward_scenario_names())}")
    if args.scenario in WARD_MIXES and any(v is not None for v in (args.ramp, args.hold, args.recover)):
        print("note: --ramp/--hold/--recover apply to every scenario of the mix", file=sys.stderr)
    params = {
        "onset_s": args.onset,
        "ramp_s": args.ramp,
        "hold_s": args.hold,
        "recover_s": args.recover,
        "repeat_s": args.repeat,
    }
    leads = tuple(lead.strip() for lead in args.leads.split(",") if lead.strip())
    address = BrokerUrl.parse(args.broker)
    plans = plan_ward(args.beds, args.scenario, bed_prefix=args.bed_prefix, seed=args.seed, scenario_params=params)
    BedConfig(
        bed=plans[0].bed,
        topic_root=args.topic_root,
        chunk_ms=args.chunk_ms,
        leads=leads,
        waveform_qos=args.waveform_qos,
    )  # validates the rest before anything is printed
    if args.duration is not None and args.duration <= 0:
        raise ConfigError(f"--duration must be > 0, got {args.duration}")

    until = f"for {args.duration:g} s" if args.duration else "until interrupted (Ctrl-C)"
    print(f"wardwatch simulate: {len(plans)} bed(s) -> {address}, topics {args.topic_root}/<bed>/<stream>, {until}")
    print(
        f"  per bed: ECG lead {'+'.join(leads)} 250 Hz and pleth 125 Hz in {args.chunk_ms} ms chunks "
        f'(QoS {args.waveform_qos}), numerics 1 Hz, status retained, last will {{"online": false}}'
    )
    for plan in plans:
        print(f"  {plan.bed:<12} {plan.scenario.name:<24} {plan.scenario.describe()}")
    sys.stdout.flush()
    return asyncio.run(_simulate(args, params, leads))


async def _simulate(args: argparse.Namespace, params: dict[str, float | None], leads: tuple[str, ...]) -> int:
    from simulators.publisher import run_ward
    from simulators.stats import WardStats

    stats = WardStats()
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    code = 0
    try:
        await run_ward(
            args.broker,
            args.beds,
            args.scenario,
            topic_root=args.topic_root,
            bed_prefix=args.bed_prefix,
            chunk_ms=args.chunk_ms,
            duration=args.duration,
            seed=args.seed,
            scenario_params=params,
            leads=leads,
            waveform_qos=args.waveform_qos,
            stats=stats,
        )
    except asyncio.CancelledError:
        code = 130
    finally:
        summary = stats.summary()
        print("wardwatch simulate: " + ", ".join(f"{k} {v}" for k, v in summary.items()), flush=True)
    return code


def _list_scenarios(scenarios: dict[str, Any], mixed: tuple[str, ...]) -> None:
    from simulators.scenarios import get_scenario

    for name, spec in scenarios.items():
        print(f"{name:<24} {spec.summary}")
        print(f"{'':<24} {get_scenario(name).describe()}")
    cycle = ", ".join(f"{i + 1}: {name}" for i, name in enumerate(mixed))
    print(f"{'mixed':<24} a ward: bed {cycle}; then repeating")
