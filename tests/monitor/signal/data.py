"""Shared helpers for tests on the shared PhysioNet recordings: skip on a laptop without them, fail in CI."""

from __future__ import annotations

import os
from functools import cache

import numpy as np
import pytest

from monitor.records import physionet_dir, read_record

__all__ = ["require", "channel"]


def require(*records: str) -> None:
    missing = [r for r in records if not (physionet_dir() / f"{r}.hea").is_file()]
    if missing:
        message = f"PhysioNet records {missing} not found under {physionet_dir()} (set WARDWATCH_PHYSIONET_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@cache
def channel(record: str, index: int = 0, seconds: float | None = None) -> tuple[np.ndarray, float]:
    require(record)
    rec = read_record(record)
    x = rec.channel(index)
    if seconds is not None:
        x = x[: int(seconds * rec.fs)]
    return x, rec.fs
