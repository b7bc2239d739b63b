"""SatSeconds-style SpO2 alarm integral and the artefact hold."""

from __future__ import annotations

import pytest

from monitor.errors import ConfigError
from monitor.signal.spo2 import ArtefactHold, SatSeconds


def _feed(sat: SatSeconds, values: list[float | None], limit: float = 90.0) -> list[bool]:
    return [sat.update(float(t), v, limit).present for t, v in enumerate(values)]


def test_area_is_points_below_times_seconds() -> None:
    sat = SatSeconds(25)
    present = _feed(sat, [95, 89, 88, 87, 86, 85, 85, 85])  # 1 + 2 + 3 + 4 + 5 + 5 + 5 = 25 SatSeconds
    assert present == [False, False, False, False, False, False, False, True]
    assert sat.state.onset == 1.0


def test_back_above_the_limit_restarts_the_sum() -> None:
    sat = SatSeconds(10)
    assert not any(_feed(sat, [88, 88, 88, 95] + [88, 88, 88, 95]))  # 6 SatSeconds each, never 10 in one go


def test_three_violations_within_a_minute_alarm_whatever_the_sum() -> None:
    sat = SatSeconds(100)
    values: list[float | None] = [89, 95, 95, 95, 89, 95, 95, 95, 89]
    assert _feed(sat, values)[-1] is True
    assert sat.state.violations == 3
    slow = SatSeconds(100)  # the same dips 40 s apart: the first has left the 60 s window by the third
    seq: list[float | None] = [89] + [95] * 39 + [89] + [95] * 39 + [89]
    assert _feed(slow, seq)[-1] is False


def test_no_reading_ends_the_violation() -> None:
    sat = SatSeconds(8)
    assert _feed(sat, [85, None, 85]) == [False, False, False]  # 5 + 5 SatSeconds, but not in one violation


def test_bad_settings() -> None:
    with pytest.raises(ConfigError):
        SatSeconds(0)


def test_artefact_hold_keeps_the_last_good_value_for_a_while() -> None:
    hold = ArtefactHold(max_hold_s=10)
    assert hold.value(0.0, 97.0, artefact=False) == 97.0
    assert hold.value(1.0, 80.0, artefact=True) == 97.0  # motion: a reading that cannot be trusted
    assert hold.value(9.0, 80.0, artefact=True) == 97.0
    assert hold.value(12.0, 80.0, artefact=True) == 80.0  # motion for longer than the hold: believe it
    assert hold.value(13.0, 81.0, artefact=False) == 81.0
