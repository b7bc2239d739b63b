"""``wardwatch evaluate TARGET ...``: score WardWatch components against reference annotations.

Targets are nested sub-commands; each one is a ``_register_<target>(targets)`` function listed in
``_TARGETS`` that adds its parser and sets ``handler`` to a callable ``(args) -> int``.

* ``evaluate qrs RECORD... [--json] [--channel N]``: stream each whole record through the QRS
  detector and print an ANSI/AAMI EC57 beat-by-beat table (TP FP FN Se +P, gross and average).
* ``evaluate spo2 [SUBJECT...] [--json]``: the UW induced-hypoxemia study's 1 Hz SpO2 replayed as numerics;
  when the SpO2 alarms fire relative to the first reading below the limit, fixed delay vs SatSeconds.
* ``evaluate noise [--records ...] [--noise bw ma em] [--snr 6 0] [--json]``: noise stress test (clean MIT-BIH
  records + MIT-BIH Noise Stress Test noise in 2-minute blocks): QRS Se/+P, and the alarms the noisy stretches
  raise through the live pipeline (``monitor.noise_stress``).
* ``evaluate challenge RECORD... [--json]``: PhysioNet/CinC Challenge 2015 false-alarm records, each cut at the
  bedside alarm (300 s) and run through the live pipeline; per-record verdicts (does WardWatch alarm the same
  condition in the last minute?) and the challenge score (``monitor.challenge``).
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


# ---------------------------------------------------------------------------- challenge
def _register_challenge(targets: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = targets.add_parser(
        "challenge",
        help="PhysioNet/CinC 2015 false-alarm records: verdicts and score",
        description="Cut each PhysioNet/CinC Challenge 2015 record at its bedside alarm (300 s), run it through "
        "the live pipeline (ECG leads and pleth only) and compare: WardWatch agrees with the alarm when it alarms "
        "the same condition within the last minute (an alarm of that type present in [240, 300] s and raised by "
        "300 s). Score = 100 (TP+TN) / (TP+TN+FP+5 FN). The strict reading (raised inside the window) is shown too.",
    )
    parser.add_argument("records", nargs="+", metavar="RECORD",
                        help="challenge-2015 record paths without extension (or relative to the PhysioNet dir)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="records analysed in parallel (default 1)")
    parser.set_defaults(handler=_run_challenge)


def _run_challenge(args: argparse.Namespace) -> int:
    from monitor.challenge import judge_record, score

    names = list(args.records)
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            verdicts = [v for v, _ in pool.map(judge_record, names)]
    else:
        verdicts = [judge_record(name)[0] for name in names]
    result = score(verdicts)
    if args.json:
        print(json.dumps({"target": "challenge", **result.to_json()}, indent=2))
        return 0
    head = f"{'record':<8} {'alarm':<24} {'label':<6} {'WardWatch':<9} {'outcome':<7} {'raised s':>8}  other alarms"
    lines = [head, "-" * len(head)]
    for v in result.verdicts:
        raised = "-" if v.raised is None else f"{v.raised:.1f}"
        lines.append(f"{v.record:<8} {v.alarm:<24} {'true' if v.true_alarm else 'false':<6} "
                     f"{'alarms' if v.agrees else 'quiet':<9} {v.outcome:<7} {raised:>8}  {', '.join(v.others)}")
    c, strict = result.counts(), result.counts(strict=True)
    lines.append("-" * len(head))
    lines.append(f"TP {c['TP']}  TN {c['TN']}  FP {c['FP']}  FN {c['FN']}   score {result.score():.1f}")
    lines.append(f"strict (raised inside the last minute): TP {strict['TP']}  TN {strict['TN']}  FP {strict['FP']}  "
                 f"FN {strict['FN']}   score {result.score(strict=True):.1f}")
    print("\n".join(lines))
    return 0


# ---------------------------------------------------------------------------- spo2
def _register_spo2(targets: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = targets.add_parser(
        "spo2",
        help="SpO2 alarm timing on real induced desaturations (fixed delay vs SatSeconds)",
        description="Replay each oximeter's 1 Hz SpO2 of the UW induced-hypoxemia study (uw-phone-oximetry) as "
        "numerics through the live pipeline and report when spo2_low (SpO2 < 90 %: fixed 15 s delay, or "
        "SatSeconds 25/50/100) and desaturation (< 85 %, no delay) are raised, relative to the first reading "
        "below the limit.",
    )
    parser.add_argument("subjects", nargs="*", metavar="SUBJECT", help="subject ids (default: all six)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_run_spo2)


def _run_spo2(args: argparse.Namespace) -> int:
    from statistics import median

    from monitor.oximetry import OXIMETERS, spo2_timing, subjects

    rows = [t for subject in (args.subjects or subjects()) for t in spo2_timing(subject)]
    by_setting: dict[str, list[float]] = {}
    for t in rows:
        if t.delay is not None:
            by_setting.setdefault(f"{t.alarm_type} {t.setting}", []).append(t.delay)
    summary = {k: {"n": len(v), "median_s": median(v), "min_s": min(v), "max_s": max(v)} for k, v in by_setting.items()}
    if args.json:
        payload = {"target": "spo2", "rows": [{**t.__dict__, "delay": t.delay, "device": OXIMETERS[t.oximeter]}
                                              for t in rows], "summary": summary}
        print(json.dumps(payload, indent=2))
        return 0
    head = (f"{'subject':<8} {'ox':>2} {'device':<16} {'alarm':<12} {'setting':<15} {'first <lim s':>12} "
            f"{'raised s':>9} {'delay s':>8} {'alarms':>6}")
    lines = [head, "-" * len(head)]
    for t in rows:
        fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        lines.append(f"{t.subject:<8} {t.oximeter:>2} {OXIMETERS[t.oximeter]:<16} {t.alarm_type:<12} {t.setting:<15} "
                     f"{fmt(t.first_below):>12} {fmt(t.raised):>9} {fmt(t.delay):>8} {t.alarms:>6}")
    lines.append("-" * len(head))
    for key, v in summary.items():
        lines.append(f"{key:<30} n={v['n']:<3} delay median {v['median_s']:.1f} s "
                     f"(min {v['min_s']:.1f}, max {v['max_s']:.1f})")
    print("\n".join(lines))
    return 0


# ---------------------------------------------------------------------------- noise
def _register_noise(targets: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = targets.add_parser(
        "noise",
        help="noise stress test: QRS Se/+P and alarms with nstdb noise added to clean records",
        description="Add MIT-BIH Noise Stress Test noise (bw, ma, em) to clean records in 2-minute blocks from "
        "5 min on, at the given SNRs (nstdb convention: S = QRS peak-to-peak^2 / 8, N = noise mean square); "
        "score the QRS detector (channel 0) and list the alarms the live pipeline raises inside and outside "
        "the noise blocks, and how much of the noise time 'ECG signal poor' covered.",
    )
    parser.add_argument("--records", nargs="+", default=["mitdb/100", "mitdb/118"], metavar="RECORD")
    parser.add_argument("--noise", nargs="+", default=["bw", "ma", "em"], choices=["bw", "ma", "em"])
    parser.add_argument("--snr", nargs="+", type=float, default=[6.0, 0.0], metavar="DB")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="cases run in parallel (default 1)")
    parser.set_defaults(handler=_run_noise)


def _noise_case(case: tuple[str, str, float | None]) -> object:
    from monitor.noise_stress import stress

    return stress(*case)


def _run_noise(args: argparse.Namespace) -> int:
    cases: list[tuple[str, str, float | None]] = [(r, "-", None) for r in args.records]
    cases += [(r, k, snr) for r in args.records for k in args.noise for snr in args.snr]
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_noise_case, cases))
    else:
        results = [_noise_case(c) for c in cases]
    if args.json:
        print(json.dumps({"target": "noise", "cases": [r.to_json() for r in results]}, indent=2))  # type: ignore[attr-defined]
        return 0
    head = (f"{'record':<10} {'noise':<5} {'SNR':>4}  {'Se %':>6} {'+P %':>6}  {'Se/+P in noise %':>16}  "
            f"{'poor':>5}  physiological alarms in noise / outside")
    lines = [head, "-" * len(head)]
    for r in results:
        snr = "-" if r.snr_db is None else f"{r.snr_db:g}"  # type: ignore[attr-defined]
        inside = ", ".join(f"{t}@{s:.0f}" for t, s in r.alarms_in_noise) or "none"  # type: ignore[attr-defined]
        outside = ", ".join(f"{t}@{s:.0f}" for t, s in r.alarms_clean) or "none"  # type: ignore[attr-defined]
        o, n = r.overall, r.in_noise  # type: ignore[attr-defined]
        lines.append(f"{r.record:<10} {r.noise:<5} {snr:>4}  {100 * o.se:>6.2f} {100 * o.ppv:>6.2f}  "  # type: ignore[attr-defined]
                     f"{100 * n.se:>7.2f}/{100 * n.ppv:<8.2f}  {100 * r.poor_covered:>4.0f}%  {inside} / {outside}")  # type: ignore[attr-defined]
    print("\n".join(lines))
    return 0


_TARGETS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (  # type: ignore[type-arg]
    _register_qrs,
    _register_challenge,
    _register_spo2,
    _register_noise,
)
