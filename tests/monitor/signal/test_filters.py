"""The filter design, state and window maximum match scipy's exactly (the station does not import scipy.signal
or scipy.ndimage: ~115 MB of resident memory for a handful of functions)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import signal
from scipy.ndimage import maximum_filter1d

from monitor.errors import ConfigError
from monitor.signal.filters import (
    SosFilter,
    design_bandpass,
    forward_max,
    group_delay_samples,
    sosfilt_zi,
)

RATES = [100.0, 125.0, 128.0, 173.3, 250.0, 256.0, 360.0, 500.0, 1000.0]
BANDS = [(0.5, 8.0), (1.0, 30.0), (2.0, 9.0), (5.0, 15.0), (10.0, 40.0), (20.0, 60.0), (0.3, 400.0)]


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("band", BANDS)
def test_design_is_scipy_butter_bit_for_bit(fs: float, band: tuple[float, float]) -> None:
    high = min(band[1], 0.45 * fs)
    ref = signal.butter(2, [band[0], high], btype="bandpass", fs=fs, output="sos")
    sos = design_bandpass(fs, *band)
    assert np.array_equal(sos, ref)
    assert np.array_equal(sosfilt_zi(sos), signal.sosfilt_zi(ref))
    b, a = signal.sos2tf(ref)
    assert group_delay_samples(sos, 10.0, fs) == pytest.approx(signal.group_delay((b, a), w=[10.0], fs=fs)[1][0])


def test_unusable_band_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        design_bandpass(100.0, 50.0, 60.0)  # above 0.45 fs
    with pytest.raises(ConfigError):
        design_bandpass(250.0, 1.0, 30.0, order=3)


def test_streaming_filter_equals_scipy_sosfilt() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3000)) + 1.5
    sos = design_bandpass(250.0, 5.0, 15.0)
    f = SosFilter(sos)
    out = np.concatenate([f.process(x[:, i : i + 37]) for i in range(0, x.shape[1], 37)], axis=1)
    ref = np.stack([signal.sosfilt(sos, row, zi=signal.sosfilt_zi(sos) * row[0])[0] for row in x])
    assert np.array_equal(out, ref)


@pytest.mark.parametrize("width", [1, 2, 3, 8, 51, 100])
@pytest.mark.parametrize("n", [0, 1, 7, 400])
def test_forward_max_is_ndimage_maximum_filter(width: int, n: int) -> None:
    x = np.random.default_rng(width * 1000 + n).normal(size=n)
    ref = maximum_filter1d(x, width, origin=-(width // 2), mode="constant", cval=-np.inf) if n else x
    assert np.array_equal(forward_max(x, width), ref)


def test_station_does_not_load_scipy_signal_or_ndimage() -> None:
    code = (
        "import sys, monitor.service, monitor.commands.serve, dashboard.app\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('scipy.signal', 'scipy.ndimage', 'scipy.stats'))\n"
        "               and m != 'scipy.signal._sosfilt')  # the compiled kernel alone\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
