"""Signal core: causal, streaming ECG processing (QRS detection, heart rate)."""

from monitor.signal.heart_rate import HeartRateConfig, HeartRateEstimator
from monitor.signal.qrs import Beat, QrsConfig, QrsDetector, detect_beats

__all__ = [
    "Beat",
    "HeartRateConfig",
    "HeartRateEstimator",
    "QrsConfig",
    "QrsDetector",
    "detect_beats",
]
