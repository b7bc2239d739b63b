"""BedStream: rates, sample-exact chunks, numerics, status transitions, offline ticks, device truthfulness."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from monitor.errors import ConfigError
from simulators.bed import BedConfig, BedStream, Tick
from simulators.scenarios import get_scenario
from tests.simulators.sim_contract import check

START = 1_764_085_200.0


def _run(
    name: str, seconds: float, *, chunk_ms: int = 250, seed: int = 1, leads: tuple[str, ...] = ("II",), **params: float
) -> tuple[BedStream, list[Tick]]:
    config = BedConfig(bed="bed-01", chunk_ms=chunk_ms, start_ts=START, leads=leads)
    bed = BedStream(config, get_scenario(name, seed=seed, params=params), seed)
    ticks = [bed.next_tick() for _ in range(round(seconds * 1000 / chunk_ms))]
    return bed, ticks


def _by_stream(ticks: list[Tick]) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    out: dict[str, list[dict]] = defaultdict(list)  # type: ignore[type-arg]
    for tick in ticks:
        for m in tick.messages:
            assert check(m.topic, m.payload) == [], m
            out[m.topic.rsplit("/", 1)[1]].append(json.loads(m.payload))
    return out


@pytest.mark.parametrize("chunk_ms", [100, 250, 300, 1000])
def test_rates_and_seamless_chunks(chunk_ms: int) -> None:
    _, ticks = _run("stable", 12, chunk_ms=chunk_ms)
    streams = _by_stream(ticks)
    for stream, fs in (("ecg", 250), ("pleth", 125)):
        chunks = streams[stream]
        assert len(chunks) == 12_000 // chunk_ms
        assert [c["seq"] for c in chunks] == list(range(len(chunks)))
        assert sum(len(c["samples"]) for c in chunks) == 12 * fs
        assert all(c["fs"] == fs for c in chunks)
        for a, b in zip(chunks, chunks[1:], strict=False):
            assert b["ts"] == pytest.approx(a["ts"] + len(a["samples"]) / fs, abs=2e-4)
        assert chunks[0]["ts"] == START
    assert [n["ts"] for n in streams["numerics"]] == [START + s for s in range(1, 13)]
    assert len(streams["status"]) == 1 and streams["status"][0]["online"] is True


def test_250ms_chunks_alternate_62_and_63_samples() -> None:
    _, ticks = _run("stable", 2)
    assert [len(c["samples"]) for c in _by_stream(ticks)["ecg"]][:4] == [62, 63, 62, 63]


def test_two_leads_share_the_topic() -> None:
    _, ticks = _run("stable", 1, leads=("II", "V"))
    ecg = _by_stream(ticks)["ecg"]
    assert [c["lead"] for c in ecg[:2]] == ["II", "V"] and ecg[0]["seq"] == ecg[1]["seq"]


def test_numerics_are_truthful_in_stable() -> None:
    bed, ticks = _run("stable", 60)
    for n in _by_stream(ticks)["numerics"]:
        t = n["ts"] - START
        assert abs(n["hr"] - bed.physiology.hr(t)) <= 3
        assert abs(n["pr"] - bed.physiology.hr(t)) <= 4
        assert 96 <= n["spo2"] <= 99


def test_artifact_numerics_stay_normal_sometimes_null() -> None:
    _, ticks = _run("artifact", 300)
    numerics = _by_stream(ticks)["numerics"]
    hr = [n["hr"] for n in numerics if n["hr"] is not None]
    spo2 = [n["spo2"] for n in numerics if n["spo2"] is not None]
    assert max(hr) < 85 and min(hr) > 65
    assert min(spo2) >= 95
    nulls = sum(n["hr"] is None for n in numerics)
    assert 0 < nulls < 0.1 * len(numerics)


def test_probe_off_status_and_null_oximetry() -> None:
    _, ticks = _run("probe-off", 30, onset_s=10, hold_s=10)
    streams = _by_stream(ticks)
    assert [(s["probe_off"], s["ts"] - START) for s in streams["status"]] == [(False, 0.0), (True, 10.0), (False, 20.0)]
    for n in streams["numerics"]:
        off = 10 <= n["ts"] - START < 20
        assert (n["spo2"] is None) is off and (n["pr"] is None) is off
        assert n["hr"] is not None
    assert len(streams["pleth"]) == 120  # the pleth keeps flowing (flat)


def test_leads_off_status_and_null_hr() -> None:
    _, ticks = _run("leads-off", 30, onset_s=10, hold_s=10)
    streams = _by_stream(ticks)
    assert [s["leads_off"] for s in streams["status"]] == [False, True, False]
    assert all((n["hr"] is None) is (10 <= n["ts"] - START < 20) for n in streams["numerics"])


def test_dropout_ticks_are_silent_and_seq_jumps() -> None:
    bed, ticks = _run("dropout", 30, onset_s=10, hold_s=5)
    offline = [t for t in ticks if not t.online]
    assert [t.t0 for t in offline] == [10 + 0.25 * i for i in range(20)]
    assert all(not t.messages for t in offline)
    seqs = [c["seq"] for c in _by_stream(ticks)["ecg"]]
    assert seqs[39] == 39 and seqs[40] == 60
    assert bed.online(9.9) and not bed.online(10) and bed.online(15)


def test_asystole_numerics_report_zero() -> None:
    _, ticks = _run("asystole", 30, onset_s=10, hold_s=8)
    numerics = {round(n["ts"] - START): n for n in _by_stream(ticks)["numerics"]}
    assert numerics[12]["hr"] == 0 and numerics[12]["pr"] == 0
    assert numerics[25]["hr"] > 60


def test_unrendered_ticks_advance_without_payloads() -> None:
    config = BedConfig(bed="b1", start_ts=START)
    a = BedStream(config, get_scenario("stable", seed=2), 2)
    b = BedStream(config, get_scenario("stable", seed=2), 2)
    for _ in range(8):
        assert a.next_tick(render=False).messages == ()
        b.next_tick()
    assert a.next_tick().messages[1:] == b.next_tick().messages  # a's first rendered tick adds a status


def test_connect_and_offline_messages() -> None:
    bed, _ = _run("probe-off", 0, onset_s=0, hold_s=5)
    (status,) = bed.connect_messages(1.0)
    assert status.retain and json.loads(status.payload) == {
        "online": True,
        "ts": START + 1.0,
        "leads_off": False,
        "probe_off": True,
    }
    assert json.loads(bed.offline_message(2.0).payload) == {"online": False, "ts": START + 2.0}
    assert json.loads(bed.will().payload) == {"online": False}


@pytest.mark.parametrize(
    "kwargs", [{"chunk_ms": 50}, {"chunk_ms": 2000}, {"bed": "bed 1"}, {"start_ts": -1.0}, {"topic_root": "a/#"}]
)
def test_bad_config_is_refused(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"bed": "bed-01", **kwargs}
    with pytest.raises(ConfigError):
        BedConfig(**args)  # type: ignore[arg-type]


def test_samples_are_rounded_and_within_range() -> None:
    _, ticks = _run("artifact", 60, onset_s=5)
    ecg = np.concatenate([c["samples"] for c in _by_stream(ticks)["ecg"]])
    assert np.all(np.abs(ecg) <= 50)
    assert np.allclose(ecg, np.round(ecg, 4))
