"""Per-lead ECG analysis: QRS detection, beat morphology, heart rate, rhythm, signal quality and VF test.

Input is the gap-free ``Segment`` stream of ``monitor.stream`` for one lead. Samples are analysed in whole
blocks of ``BLOCK_S`` (1 s) of signal: the QRS detector, the block features (quality, fibrillation) and the
beat classifier all see the same block, once. Every component is chunk-invariant, so the beats, labels and
per-block states do not depend on how the monitor chunked its messages; only *when* they become known does
(at the arrival of the chunk that completes a block). Gaps flush the partial block to the detector and then
restart the filters (the detector re-learns, the RR history and the beat template are kept).

Times are kept in two clocks: the stream's own sample clock (``t`` in seconds = sample / fs: exact, for RR
intervals and windows) and the station clock (for alarm onsets), mapped through the arrival time of the
segment that completed the block.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from monitor.signal.features import BlockFeatures, EcgFeatureBank, envelope_floor, periodicity
from monitor.signal.filters import QrsFilterBank
from monitor.signal.heart_rate import HeartRateEstimator
from monitor.signal.morphology import BeatClassifier
from monitor.signal.qrs import QrsDetector
from monitor.signal.quality import Quality, QualityConfig, VfConfig, classify_block, vf_candidate, vf_like
from monitor.signal.rhythm import AfCriteria, RhythmTracker
from monitor.stream import Segment

__all__ = ["BLOCK_S", "EcgBeat", "EcgQuality", "EcgAnalyzer"]

BLOCK_S = 2.0
NOISE_WINDOW_S = 3.0
#: A lead must have been readable this long before its heart rate is shown (the median of 8 intervals).
HR_SETTLE_S = 6.0
#: ... and at most this many of its last 8 beats may be odd (artefact-like).
HR_MAX_ODD = 1
#: A non-dominant beat correlating less than this with the previous non-dominant beat is "odd" (artefact-like).
ODD_CORR = 0.5
#: A window is noisy when at least QualityConfig.odd_beats odd beats come with this share of non-dominant beats.
ODD_SHARE = 0.6
#: Regular dominant beats up to this rate are an organized rhythm, never fibrillation.
ORGANIZED_MAX_BPM = 180.0
ORGANIZED_MAX_CV = 0.35
#: AF evidence is judged every AF_EVERY_BLOCKS blocks; missing this many consecutive times ends the lead's AF flag.
AF_EVERY_BLOCKS = 2
AF_HOLD_BLOCKS = 4


@dataclass(frozen=True, slots=True)
class EcgBeat:
    sample: int
    t_stream: float
    t_station: float
    label: str = "Q"
    width_s: float = 0.0
    odd: bool = False  # not dominant and unlike the previous non-dominant beat: artefact-like


class EcgQuality:
    """Quality values as strings (docs/api.md ``ecg_quality``)."""

    GOOD = Quality.GOOD.value
    NOISY = Quality.NOISY.value
    FLAT = Quality.FLAT.value
    UNKNOWN = Quality.UNKNOWN.value


class EcgAnalyzer:
    """Beats, heart rate, rhythm and quality from one ECG lead."""

    def __init__(self, lead: str, quality: QualityConfig | None = None, vf: VfConfig | None = None) -> None:
        self.lead = lead
        self.fs = 0.0
        self._qcfg = quality or QualityConfig()
        self._vfcfg = vf or VfConfig()
        self._detector: QrsDetector | None = None
        self._features: EcgFeatureBank | None = None
        self._classifier: BeatClassifier | None = None
        self.rate = HeartRateEstimator()
        self.rhythm = RhythmTracker()
        self.beats: deque[EcgBeat] = deque(maxlen=64)
        self._beats_version = 0  # bumped whenever ``beats`` changes (keys the run-onset cache)
        self._onset_cache: dict[tuple[bool, float], tuple[int, float | None]] = {}
        self.quality: str = EcgQuality.UNKNOWN
        self.vf = False
        self.samples_seen = 0  # analysed so far (absolute index of the next sample to analyse)
        self.received = 0
        self.last_arrival: float | None = None
        self._arrival_end = 0  # absolute index one past the last sample received, at last_arrival
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._block = 1
        self.version = 0  # bumped whenever analysis results change
        self.blocks: deque[tuple[float, str, bool]] = deque(maxlen=32)  # (t_end, quality, vf) per block
        #: (t_end, quality) of the blocks judged in the last ~68 minutes (evaluation tools and tests)
        self.history: deque[tuple[float, str]] = deque(maxlen=2048)
        self.good_since: float | None = None  # stream time since which the lead has been good throughout
        self.bad_since: float | None = None  # ... noisy or flat throughout
        self.vf_since: float | None = None  # ... VF-like throughout
        self.unreadable_since: float | None = 0.0  # ... not readable (good for HR_SETTLE_S, or VF) throughout
        self.last_noisy: float | None = None  # stream time of the last noisy block
        self.features: BlockFeatures | None = None
        self.af = False  # AF evidence in this lead (with hysteresis: AF_HOLD_BLOCKS blocks without it end it)
        self._af_misses = 0
        self._af_blocks = 0
        self._af = AfCriteria()

    # ------------------------------------------------------------------------------------------- input
    def process(self, seg: Segment) -> list[EcgBeat]:
        if seg.restart or self._detector is None or seg.fs != self.fs:
            self._start(seg.fs)
        found: list[EcgBeat] = []
        if seg.gap:
            found.extend(self._flush_partial())
            assert self._detector is not None and self._features is not None
            self._detector.skip(seg.gap)
            self._features.skip(seg.gap)
            self.samples_seen += seg.gap
            self.rate.reset()
            self.rhythm.reset()
            self.good_since = self.bad_since = self.vf_since = None
            self.quality = EcgQuality.UNKNOWN
        self.received = seg.end
        self.last_arrival = seg.arrival
        self._arrival_end = seg.end
        self._pending.append(np.asarray(seg.samples, dtype=float))
        self._n_pending += len(seg.samples)
        if self._n_pending >= self._block:
            joined = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            take = (joined.size // self._block) * self._block
            rest = joined[take:]
            self._pending = [rest] if rest.size else []
            self._n_pending = rest.size
            found.extend(self._analyse(joined[:take]))
        return found

    def _start(self, fs: float) -> None:
        self.fs = fs
        self._detector = QrsDetector(fs)
        self._features = EcgFeatureBank(fs, block_s=BLOCK_S)
        self._classifier = BeatClassifier(fs)
        self._block = self._features.block
        self.rate.reset()
        self.rhythm.reset()
        self.beats.clear()
        self._beats_version += 1
        self.blocks.clear()
        self.history.clear()
        self._pending.clear()
        self._n_pending = 0
        self.samples_seen = self.received = 0
        self.quality = EcgQuality.UNKNOWN
        self.vf = False
        self.good_since = self.bad_since = self.vf_since = None
        self.unreadable_since, self.last_noisy = 0.0, None
        self.features = None
        self.af, self._af_misses = False, 0
        self.version += 1

    def _flush_partial(self) -> list[EcgBeat]:
        if not self._n_pending:
            return []
        x = np.concatenate(self._pending)
        self._pending.clear()
        self._n_pending = 0
        return self._analyse(x)

    # ---------------------------------------------------------------------------------------- analysis
    def _analyse(self, x: np.ndarray) -> list[EcgBeat]:
        """Analyse whole blocks one at a time (a block is judged on what was known at its end, so a chunk that
        carries several blocks gives the same judgments as several chunks), then a partial one if flushed."""
        found: list[EcgBeat] = []
        for i in range(0, x.size, self._block):
            found.extend(self._analyse_block(x[i : i + self._block]))
        self.version += 1
        return found

    def _analyse_block(self, x: np.ndarray) -> list[EcgBeat]:
        det, feats, cls = self._detector, self._features, self._classifier
        assert det is not None and feats is not None and cls is not None
        start = self.samples_seen
        raw = det.process(x)
        blocks = feats.process(x, det.rows(QrsFilterBank.HF, start, start + x.size)) if np.isfinite(x).all() else []
        self.samples_seen = start + x.size
        fs = self.fs
        found = []
        for b in raw:
            t = b.sample / fs
            lo = b.sample - cls.pre
            snippet = feats.wide_view(lo, b.sample + cls.post)
            shape = cls.classify(snippet if snippet.size == cls.length else None, t)
            odd = shape.label in ("V", "Q") and shape.ectopic_corr < ODD_CORR
            beat = EcgBeat(b.sample, t, self.station_time_of(b.sample), shape.label, shape.width_s, odd)
            found.append(beat)
            self.rate.update(t)
            self.rhythm.add(t, shape.label, shape.prev_corr)
        if found:
            self.beats.extend(found)
            self._beats_version += 1
        for f in blocks:
            self._judge(f)
        return found

    def _judge(self, f: BlockFeatures) -> None:
        det = self._detector
        assert det is not None
        t_end = f.end / self.fs
        level = det.signal_level
        # the detector decides a candidate up to max_latency_s after it: count what is decided by now
        until = f.end - int(det.config.max_latency_s * self.fs)
        since = until - int(NOISE_WINDOW_S * self.fs)
        ratio = self._qcfg.noise_peak_ratio
        noise = 0
        for s, peak, lvl in reversed(det.noise):  # newest first: stop at the window's start
            if s < since:
                break
            if s < until and peak >= ratio * lvl:
                noise += 1
        t_since, t_until = since / self.fs, until / self.fs
        recent = []
        for b in reversed(self.beats):
            if b.t_stream < t_since:
                break
            if b.t_stream < t_until:
                recent.append(b)
        odd = sum(1 for b in recent if b.odd)
        if odd and sum(1 for b in recent if b.label in ("V", "Q")) < ODD_SHARE * len(recent):
            odd = 0  # odd beats among mostly dominant ones: multiform ectopy, fusion beats, not artefact
        quality = classify_block(f, level, noise, self._qcfg, odd)
        vf = False
        if quality is not Quality.FLAT and vf_candidate(f, self._vfcfg) and not self._organized(t_end - 4.0):
            span = int(round(4.0 * self.fs))
            env = det.rows(QrsFilterBank.ENV, f.end - span, f.end)
            vf = vf_like(f, periodicity(env, self.fs), envelope_floor(env), self._vfcfg)
        if vf and quality is Quality.NOISY and f.rail <= self._vfcfg.max_rail:
            quality = Quality.GOOD if level is not None else Quality.UNKNOWN  # fibrillation, not noise
        self.features = f
        self.quality = quality.value
        self.vf = vf
        self.blocks.append((t_end, quality.value, vf))
        self.history.append((t_end, quality.value))
        window = min(2.0, len(self.blocks) * BLOCK_S)
        if quality is Quality.GOOD:
            if self.good_since is None:
                self.good_since = t_end - window
            self.bad_since = None
        else:
            self.good_since = None
            if quality in (Quality.NOISY, Quality.FLAT) and self.bad_since is None:
                self.bad_since = t_end - window
        self.vf_since = (self.vf_since if self.vf_since is not None else t_end - 4.0) if vf else None
        if quality is Quality.NOISY:
            self.last_noisy = t_end
        settled = vf or (
            quality is Quality.GOOD and self.good_since is not None and t_end - self.good_since >= HR_SETTLE_S
        )
        if settled:
            self.unreadable_since = None
        elif self.unreadable_since is None:
            self.unreadable_since = t_end - BLOCK_S
        self._af_blocks += 1
        if quality is not Quality.GOOD:
            self.af, self._af_misses = False, 0
        elif self._af_blocks % AF_EVERY_BLOCKS == 0:  # AF develops over tens of beats: judged every 4 s
            if self._af.holds(self.rhythm.irregularity()):
                self.af, self._af_misses = True, 0
            elif self.af:
                self._af_misses += 1
                self.af = self._af_misses < AF_HOLD_BLOCKS

    def _organized(self, since: float) -> bool:
        """Detected QRS complexes at a steady pace (RR coefficient of variation <= ORGANIZED_MAX_CV, which
        bigeminy still meets) and a rate a ventricle can conduct (<= ORGANIZED_MAX_BPM) since ``since``: a
        rhythm, however wide its complexes, not fibrillation."""
        rate = self.steady_rate(since)
        return rate is not None and rate <= ORGANIZED_MAX_BPM

    def steady_rate(self, since: float, until: float | None = None) -> float | None:
        """The mean rate (bpm) of the beats detected in ``[since, until]`` (stream time) if there are at least
        three and they come at a steady pace (RR coefficient of variation <= ORGANIZED_MAX_CV), else None."""
        times = [b.t_stream for b in self.beats if b.t_stream >= since and (until is None or b.t_stream <= until)]
        if len(times) < 3:
            return None
        rr = [b - a for a, b in zip(times, times[1:], strict=False)]
        mean = sum(rr) / len(rr)
        if mean <= 0:
            return None
        cv = (sum((r - mean) ** 2 for r in rr) / len(rr)) ** 0.5 / mean
        return 60.0 / mean if cv <= ORGANIZED_MAX_CV else None

    # ---------------------------------------------------------------------------------------- queries
    @property
    def t_end(self) -> float:
        """Stream time (s) up to which the lead has been analysed."""
        return self.samples_seen / self.fs if self.fs else 0.0

    def heart_rate(self) -> float | None:
        """HR in bpm (median of the last 8 RR intervals); ``None`` when the lead is not readable, has been
        readable for less than HR_SETTLE_S (its last intervals may still be noise), more than HR_MAX_ODD of
        its last 8 beats are odd, or beats stopped."""
        if self.quality != EcgQuality.GOOD or self.vf or self.good_since is None:
            return None
        if self.t_end - self.good_since < HR_SETTLE_S:
            return None
        if sum(1 for b in list(self.beats)[-8:] if b.odd) > HR_MAX_ODD:
            return None  # the intervals the rate is the median of include artefact "beats"
        return self.rate.rate_at(self.t_end)

    def rate_run_onset(self, faster: bool, limit_bpm: float) -> float | None:
        """Station time at which the beats began to come faster (``faster``) or slower than ``limit_bpm``.

        Walks back over the recent beats while the instantaneous rate, smoothed by a running median of
        three intervals (one ectopic beat does not end the run), stays beyond the limit. ``None`` when the
        latest beats are not beyond it.
        """
        key = (faster, limit_bpm)
        cached = self._onset_cache.get(key)
        if cached is not None and cached[0] == self._beats_version:
            return cached[1]  # asked after every message, but the answer changes only with a new beat
        onset = self._run_onset(faster, limit_bpm)
        self._onset_cache[key] = (self._beats_version, onset)
        return onset

    def _run_onset(self, faster: bool, limit_bpm: float) -> float | None:
        beats = list(self.beats)
        if len(beats) < 4:
            return None
        times = np.fromiter((b.t_stream for b in beats), dtype=float, count=len(beats))
        rates = 60.0 / np.maximum(np.diff(times), 1e-3)
        smooth = np.empty_like(rates)  # running median of three intervals (of two at either end)
        a, b, c = rates[:-2], rates[1:-1], rates[2:]
        smooth[1:-1] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
        smooth[0] = (rates[0] + rates[1]) / 2.0
        smooth[-1] = (rates[-2] + rates[-1]) / 2.0
        beyond = smooth > limit_bpm if faster else smooth < limit_bpm
        if not beyond[-1]:
            return None
        k = len(beyond) - 1
        while k > 0 and beyond[k - 1]:
            k -= 1
        return beats[k].t_station  # interval k runs from beat k to beat k+1

    def seconds_since_beat(self) -> float | None:
        """Seconds of analysed signal since the last detected beat (``None`` before any signal)."""
        if self.fs == 0.0:
            return None
        last = self.beats[-1].sample if self.beats else 0
        return (self.samples_seen - last) / self.fs

    def station_time_of(self, sample: int) -> float:
        """Station time of an absolute sample index (through the latest arrival)."""
        assert self.last_arrival is not None
        return self.last_arrival - (self._arrival_end - sample) / self.fs

    def station_time_at(self, t_stream: float) -> float:
        return self.station_time_of(int(round(t_stream * self.fs)))
