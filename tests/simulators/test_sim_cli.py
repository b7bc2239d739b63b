"""``wardwatch simulate`` and broker URLs."""

from __future__ import annotations

import asyncio

import pytest

from ingest.broker import BrokerUrl
from monitor.cli import main
from monitor.errors import ConfigError
from tests.brokers import MosquittoBroker


@pytest.mark.parametrize(
    "url, expected",
    [
        ("mqtt://127.0.0.1:1883", BrokerUrl("127.0.0.1", 1883)),
        ("mqtt://broker", BrokerUrl("broker", 1883)),
        ("mqtt://nurse:s%40cret@broker:2883", BrokerUrl("broker", 2883, "nurse", "s@cret")),
        ("mqtt://user@host", BrokerUrl("host", 1883, "user", None)),
        ("localhost:1884", BrokerUrl("localhost", 1884)),
        ("mqtt://[::1]:1883", BrokerUrl("::1", 1883)),
    ],
)
def test_broker_urls(url: str, expected: BrokerUrl) -> None:
    assert BrokerUrl.parse(url) == expected


@pytest.mark.parametrize("url", ["http://host", "mqtts://host", "mqtt://", "mqtt://host:99999", "mqtt://h/x"])
def test_bad_broker_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        BrokerUrl.parse(url)


def test_url_is_logged_without_the_password() -> None:
    assert str(BrokerUrl.parse("mqtt://nurse:secret@broker:2883")) == "mqtt://nurse@broker:2883"


def test_list_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--list-scenarios"]) == 0
    out = capsys.readouterr().out
    for name in (
        "stable",
        "ketamine-tachycardia",
        "midazolam-desaturation",
        "bradycardia",
        "artifact",
        "probe-off",
        "dropout",
        "mixed",
    ):
        assert name in out


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", "panic"]) == 2
    assert main(["simulate", "--broker", "http://x"]) == 2
    assert main(["simulate", "--chunk-ms", "5", "--duration", "1"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_simulate_publishes_and_prints_the_plan(mosquitto: MosquittoBroker, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "simulate",
            "--broker",
            mosquitto.url,
            "--beds",
            "8",
            "--scenario",
            "mixed",
            "--duration",
            "1.5",
            "--onset",
            "0.5",
            "--topic-root",
            "site1/pacu/vitals",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "8 bed(s)" in out and "site1/pacu/vitals/<bed>/<stream>" in out
    assert "bed-04" in out and "artifact" in out and "bed-08" in out
    assert "published" in out.splitlines()[-1]


def test_run_ward_is_usable_in_the_same_loop_as_other_code(mosquitto: MosquittoBroker) -> None:
    from simulators.publisher import run_ward

    async def together() -> int:
        ticks = 0

        async def other_work() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        other = asyncio.create_task(other_work())
        stats = await run_ward(mosquitto.url, 4, "stable", duration=1.0)
        other.cancel()
        assert stats.published > 0
        return ticks

    assert asyncio.run(together()) >= 15
