"""Heart rate from RR intervals: robustness to ectopy and missed beats, step response, decay."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import ConfigError
from monitor.signal.heart_rate import HeartRateConfig, HeartRateEstimator


def _train(rate_bpm: float, seconds: float, start: float = 0.0) -> list[float]:
    return list(start + np.arange(0.0, seconds, 60.0 / rate_bpm))


def step_response_s(before_bpm: float, after_bpm: float, display_period_s: float = 0.1) -> float:
    """IEC 60601-2-27 style: time from a step in rate until the displayed rate (sampled every
    ``display_period_s``) enters and stays within +-5 % of the new rate."""
    beats = _train(before_bpm, 60.0)
    step = beats[-1] + 60.0 / before_bpm  # first beat of the new rhythm, one old interval later
    beats += _train(after_bpm, 30.0, start=step)
    hr = HeartRateEstimator()
    t_grid = np.arange(30.0, beats[-1], display_period_s)
    shown: list[float | None] = []
    i = 0
    for t in t_grid:
        while i < len(beats) and beats[i] <= t:
            hr.update(beats[i])
            i += 1
        shown.append(hr.rate_at(t))
    outside = [t for t, r in zip(t_grid, shown, strict=True)
               if t >= step and (r is None or abs(r - after_bpm) > 0.05 * after_bpm)]
    settled = outside[-1] + display_period_s if outside else step
    return settled - step


def test_steady_rate() -> None:
    hr = HeartRateEstimator()
    rates = [hr.update(t) for t in _train(72.0, 10.0)]
    assert rates[:3] == [None, None, None]  # three intervals needed
    assert rates[-1] == pytest.approx(72.0)


def test_isolated_ectopic_beat_does_not_move_the_rate() -> None:
    beats = _train(60.0, 20.0)
    beats[12] -= 0.4  # a premature beat: one short and one long interval
    hr = HeartRateEstimator()
    rates = [hr.update(t) for t in beats]
    assert all(r == pytest.approx(60.0) for r in rates[4:] if r is not None)


def test_missed_and_extra_beats_do_not_move_the_rate() -> None:
    beats = _train(75.0, 30.0)
    del beats[15]  # a missed beat: one double interval
    beats.insert(25, beats[24] + 0.3)  # a false detection: two short intervals
    hr = HeartRateEstimator()
    rates = [hr.update(t) for t in beats]
    assert all(r == pytest.approx(75.0) for r in rates[4:] if r is not None)


@pytest.mark.parametrize(("before", "after", "limit"), [(80.0, 120.0, 4.0), (80.0, 40.0, 11.0)])
def test_step_response_within_iec_typical(before: float, after: float, limit: float) -> None:
    assert step_response_s(before, after) <= limit


def test_rate_decays_when_beats_stop_then_disappears() -> None:
    hr = HeartRateEstimator(HeartRateConfig(timeout_s=6.0))
    for t in _train(60.0, 10.0):
        hr.update(t)
    last = _train(60.0, 10.0)[-1]
    assert hr.rate_at(last + 1.0) == pytest.approx(60.0)
    assert hr.rate_at(last + 1.5) == pytest.approx(60.0)  # 1.5 intervals: still the same
    assert hr.rate_at(last + 3.0) == pytest.approx(30.0)  # overdue: falls as 1 / elapsed
    assert hr.rate_at(last + 6.5) is None


def test_implausible_intervals() -> None:
    hr = HeartRateEstimator()
    for t in _train(60.0, 6.0):
        hr.update(t)
    assert hr.update(5.1) == pytest.approx(60.0)  # 100 ms after a beat: ignored
    assert hr.update(30.0) is None  # a gap longer than max_rr_s starts afresh
    assert hr.rate_at(30.5) is None
    hr.reset()
    assert hr.rate is None and hr.rate_at(0.0) is None


@settings(max_examples=50, deadline=None)
@given(rr=st.lists(st.floats(min_value=0.25, max_value=3.0), min_size=4, max_size=40))
def test_rate_stays_within_the_interval_range(rr: list[float]) -> None:
    hr = HeartRateEstimator()
    t = 0.0
    hr.update(t)
    for interval in rr:
        t += interval
        rate = hr.update(t)
        if rate is not None:
            assert 60.0 / max(rr) - 1e-9 <= rate <= 60.0 / min(rr) + 1e-9


def test_bad_config_raises() -> None:
    for kwargs in ({"window": 0}, {"min_intervals": 9}, {"min_rr_s": 2.0, "max_rr_s": 1.0}, {"timeout_s": 0.0}):
        with pytest.raises(ConfigError):
            HeartRateConfig(**kwargs)  # type: ignore[arg-type]


def test_non_finite_beat_time_raises() -> None:
    with pytest.raises(ValueError):
        HeartRateEstimator().update(float("nan"))
