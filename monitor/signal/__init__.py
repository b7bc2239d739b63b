"""Signal core: causal, streaming ECG and pleth processing (QRS detection, heart rate, block features and
quality, beat morphology, rhythm measures, pleth pulses, SpO2 alarm integral). See docs/algorithms.md."""

from monitor.signal.features import BlockFeatures, EcgFeatureBank, envelope_floor, periodicity
from monitor.signal.heart_rate import HeartRateConfig, HeartRateEstimator
from monitor.signal.morphology import BeatClassifier, BeatShape, MorphologyConfig, energy_width
from monitor.signal.pulse import PlethAssessment, Pulse, PulseConfig, PulseDetector
from monitor.signal.qrs import Beat, QrsConfig, QrsDetector, detect_beats
from monitor.signal.quality import Quality, QualityConfig, VfConfig, classify_block, vf_candidate, vf_like
from monitor.signal.rhythm import AfCriteria, AfEvidence, RateRun, RhythmTracker, VentricularRun, af_evidence
from monitor.signal.spo2 import ArtefactHold, SatSeconds, SatState

__all__ = [
    "AfCriteria",
    "AfEvidence",
    "ArtefactHold",
    "Beat",
    "BeatClassifier",
    "BeatShape",
    "BlockFeatures",
    "EcgFeatureBank",
    "HeartRateConfig",
    "HeartRateEstimator",
    "MorphologyConfig",
    "PlethAssessment",
    "Pulse",
    "PulseConfig",
    "PulseDetector",
    "QrsConfig",
    "QrsDetector",
    "Quality",
    "QualityConfig",
    "RateRun",
    "RhythmTracker",
    "SatSeconds",
    "SatState",
    "VentricularRun",
    "VfConfig",
    "af_evidence",
    "classify_block",
    "detect_beats",
    "energy_width",
    "envelope_floor",
    "periodicity",
    "vf_candidate",
    "vf_like",
]
