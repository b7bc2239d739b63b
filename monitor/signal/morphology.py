"""Beat morphology: is a QRS complex like the patient's dominant beat, or wide and different (ventricular)?

:class:`BeatClassifier` keeps a template of the patient's dominant beat on one lead (the 1-30 Hz ECG from
80 ms before to 120 ms after the R peak) and compares every new beat with it: correlation, amplitude
ratio and relative QRS width (``Beat.width_s`` of the detector). A beat is

* ``"N"`` (dominant) when it correlates >= ``match_corr`` with the template, its amplitude is within
  ``amplitude_range`` of the template's and it is not much wider (< ``width_ratio`` x the template's width),
* ``"V"`` (ventricular) when it differs from the template (correlation < ``ventricular_corr``, amplitude
  outside ``amplitude_range``, or width >= ``width_ratio`` x the template's) and it is wide (width >=
  ``wide_s``, or >= the template's width + ``wider_s``); or when its shape is opposite (correlation <
  ``opposite_corr``, e.g. an inverted complex) and it is not narrower than the template,
* ``"Q"`` (unclassified) otherwise, and ``"?"`` while the template is being learnt.

Learning: the template is the medoid (the beat most like the others) of the first ``learn_beats`` beats;
afterwards it follows matching beats slowly (exponential average, ``adapt``). If ``relearn_beats``
consecutive beats do not match and they come at a normal rate (< ``relearn_max_bpm``: a lead moved, not
a ventricular tachycardia), the template is learnt again. The classifier is streaming and keeps only the
template and a few numbers; the caller passes each beat's snippet.

The width used is the *energy width* of the snippet: the time between 10 % and 90 % of the cumulative
energy of its first difference (the QRS slopes). Unlike a threshold on the slope it does not jump when a
secondary deflection hovers around the threshold: on MIT-BIH lead MLII it is 28-42 ms for normal beats
(5th-95th percentile over records 100, 106, 201, 208, 210, 232), 58-89 ms (median) for PVCs, 69 ms for
right bundle branch block and 133 ms for paced beats.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from monitor.errors import ConfigError

__all__ = ["MorphologyConfig", "BeatShape", "BeatClassifier", "energy_width"]


@dataclass(frozen=True)
class MorphologyConfig:
    pre_s: float = 0.08
    post_s: float = 0.12
    learn_beats: int = 8
    adapt: float = 0.1
    match_corr: float = 0.85
    ventricular_corr: float = 0.8
    opposite_corr: float = 0.3
    amplitude_range: tuple[float, float] = (0.55, 1.8)
    width_ratio: float = 1.35
    wide_s: float = 0.07
    wider_s: float = 0.015
    relearn_beats: int = 12
    relearn_max_bpm: float = 100.0

    def __post_init__(self) -> None:
        if self.pre_s <= 0 or self.post_s <= 0 or self.learn_beats < 3 or not 0 < self.adapt < 1:
            raise ConfigError("bad morphology configuration")
        if not -1.0 <= self.opposite_corr <= self.ventricular_corr <= self.match_corr <= 1.0:
            raise ConfigError("need opposite_corr <= ventricular_corr <= match_corr")


@dataclass(frozen=True, slots=True)
class BeatShape:
    """How one beat compares with the template: ``label`` N, V or Q; ``corr`` and ``ratio`` vs the template;
    ``width_s`` the beat's energy width; ``prev_corr`` its correlation with the previous beat;
    ``ectopic_corr`` (non-dominant beats) its correlation with the previous non-dominant beat: ectopic beats
    from one focus repeat their shape, artefact "beats" do not."""

    label: str
    corr: float
    ratio: float
    width_s: float
    prev_corr: float = 0.0  # correlation with the previous beat's snippet (consistency of a run)
    ectopic_corr: float = 1.0  # for a non-dominant beat: correlation with the previous non-dominant beat


class BeatClassifier:
    def __init__(self, fs: float, config: MorphologyConfig | None = None) -> None:
        self.config = cfg = config or MorphologyConfig()
        self.fs = float(fs)
        self.pre = max(1, int(round(cfg.pre_s * fs)))
        self.post = max(1, int(round(cfg.post_s * fs)))
        self.length = self.pre + self.post
        self.template: np.ndarray | None = None
        self.template_width = 0.0
        self._norm = 0.0
        self._learning: list[tuple[np.ndarray, float]] = []
        self._mismatch: deque[float] = deque(maxlen=cfg.relearn_beats)
        self._last_t: float | None = None
        self._prev: np.ndarray | None = None  # the previous beat's snippet, unit energy
        self._ectopic: np.ndarray | None = None  # the previous non-dominant beat's snippet, unit energy

    def reset(self) -> None:
        self._ectopic = None
        self.template = None
        self._learning.clear()
        self._mismatch.clear()
        self._last_t = None

    def classify(self, snippet: np.ndarray | None, t: float) -> BeatShape:
        """Classify a beat at time ``t`` (s) from its snippet (``length`` samples of the 1-30 Hz ECG)."""
        cfg = self.config
        rr = None if self._last_t is None else t - self._last_t
        self._last_t = t
        if snippet is None or snippet.size != self.length:
            return BeatShape("Q", 0.0, 0.0, 0.0)
        x = snippet - float(snippet.sum()) / snippet.size
        energy = float(np.dot(x, x))
        width_s = energy_width(x, self.fs)
        if energy <= 1e-12 or width_s <= 0.0:
            self._prev = None
            return BeatShape("Q", 0.0, 0.0, width_s)
        unit = x / math.sqrt(energy)
        prev_corr = float(np.dot(unit, self._prev)) if self._prev is not None else 0.0
        self._prev = unit
        if self.template is None:
            self._learning.append((x, width_s))
            if len(self._learning) >= cfg.learn_beats:
                self._learn()
            return BeatShape("?", 0.0, 0.0, width_s, prev_corr)
        corr = float(np.dot(x, self.template)) / math.sqrt(energy * self._norm)
        ratio = math.sqrt(energy / self._norm)
        lo, hi = cfg.amplitude_range
        similar_size = lo <= ratio <= hi
        not_wider = width_s < cfg.width_ratio * self.template_width
        if corr >= cfg.match_corr and similar_size and not_wider:
            label = "N"
            self.template += cfg.adapt * (x - self.template)
            self._norm = float(np.dot(self.template, self.template))
            self.template_width = (1.0 - cfg.adapt) * self.template_width + cfg.adapt * width_s
            self._mismatch.clear()
        else:
            wide = width_s >= cfg.wide_s or width_s >= self.template_width + cfg.wider_s
            different = corr < cfg.ventricular_corr or not similar_size or not not_wider
            opposite = corr < cfg.opposite_corr and width_s >= self.template_width
            label = "V" if (different and wide) or opposite else "Q"
            self._mismatch.append(60.0 / rr if rr else 0.0)
            ectopic_corr = float(np.dot(unit, self._ectopic)) if self._ectopic is not None else 0.0
            self._ectopic = unit
            if len(self._mismatch) == cfg.relearn_beats and max(self._mismatch) < cfg.relearn_max_bpm:
                self.reset()  # the lead's morphology changed for good at a normal rate: learn it again
            return BeatShape(label, corr, ratio, width_s, prev_corr, ectopic_corr)
        return BeatShape(label, corr, ratio, width_s, prev_corr)

    def _learn(self) -> None:
        snippets = np.array([s for s, _ in self._learning])
        norms = np.sqrt(np.einsum("ij,ij->i", snippets, snippets))
        unit = snippets / norms[:, None]
        corr = unit @ unit.T
        medoid = int(np.argmax(np.median(corr, axis=1)))
        self.template = snippets[medoid].copy()
        self._norm = float(np.dot(self.template, self.template))
        self.template_width = self._learning[medoid][1]
        self._learning.clear()


def energy_width(x: np.ndarray, fs: float, lo: float = 0.1, hi: float = 0.9) -> float:
    """Seconds between ``lo`` and ``hi`` of the cumulative energy of ``x``'s first difference."""
    d = x[1:] - x[:-1]
    c = np.cumsum(d * d)
    total = float(c[-1]) if c.size else 0.0
    if total <= 0.0:
        return 0.0
    a, b = np.searchsorted(c, (lo * total, hi * total))
    return float(b - a) / fs
