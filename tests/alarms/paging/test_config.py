"""The paging config file: a documented example loads; mistakes are refused with a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from alarms.catalog import Priority
from alarms.paging.config import load_paging_config, parse_paging_config
from monitor.errors import ConfigError

EXAMPLE = Path(__file__).parents[3] / "deploy" / "paging.example.toml"


def test_the_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDWATCH_WEBHOOK_SECRET", "x" * 32)
    monkeypatch.setenv("WARDWATCH_SMTP_PASSWORD", "y" * 12)
    monkeypatch.setenv("WARDWATCH_PAGER_MQTT_PASSWORD", "z" * 12)
    config = load_paging_config(EXAMPLE)
    assert config.enabled and set(config.tiers) == {"primary", "charge"}
    rule = config.policy().rule(Priority.HIGH)
    assert [(s.tier, s.after_s) for s in rule.steps] == [("primary", 0), ("charge", 60)]
    assert {c.type for c in config.channels.values()} == {"webhook", "smtp", "mqtt", "hl7-mllp"}
    assert "secret" not in str(config.summary()).lower()


def test_missing_secret_env_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    path = tmp_path / "paging.toml"
    path.write_text(
        '[tiers]\nprimary = ["hook"]\n[channels.hook]\ntype = "webhook"\nurl = "http://x/"\n'
        'secret_env = "NO_SUCH_SECRET"\n'
    )
    with pytest.raises(ConfigError, match="NO_SUCH_SECRET"):
        load_paging_config(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tiers": {"primary": ["nope"]}}, "unknown channel"),
        (
            {
                "tiers": {"primary": ["h"]},
                "rules": {"high": {"steps": [{"tier": "charge", "after_s": 0}]}},
                "channels": {"h": {"type": "webhook", "url": "http://x/"}},
            },
            "does not define",
        ),
        ({"tiers": {"primary": ["h"]}, "channels": {"h": {"type": "webhook", "url": "ftp://x/"}}}, "url"),
        ({"tiers": {"primary": ["h"]}, "channels": {"h": {"type": "carrier-pigeon"}}}, "type"),
        (
            {
                "tiers": {"primary": ["h"], "charge": ["h"]},
                "rules": {"high": {"steps": [{"tier": "charge", "after_s": 60}, {"tier": "primary", "after_s": 0}]}},
                "channels": {"h": {"type": "webhook", "url": "http://x/"}},
            },
            "back in time",
        ),
        ({"tiers": {"primary": ["m"]}, "channels": {"m": {"type": "mqtt", "topic": "pager/#"}}}, "wildcards"),
    ],
)
def test_bad_configs_are_refused(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_paging_config(data)


def test_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[tiers\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_paging_config(path)


def test_default_rules_use_only_the_tiers_defined() -> None:
    config = parse_paging_config(
        {"tiers": {"primary": ["h"]}, "channels": {"h": {"type": "webhook", "url": "http://x/"}}}
    )
    assert [s.tier for s in config.policy().rule(Priority.HIGH).steps] == ["primary"]
