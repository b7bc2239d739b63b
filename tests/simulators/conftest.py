"""Fixtures for the simulator tests: a private Mosquitto per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.brokers import MosquittoBroker, private_mosquitto, require_mosquitto


@pytest.fixture
def mosquitto() -> Iterator[MosquittoBroker]:
    require_mosquitto()
    with private_mosquitto() as broker:
        yield broker
