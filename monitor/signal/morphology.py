"""Beat morphology: is a QRS complex like the patient's dominant beat, or wide and different (ventricular)?

:class:`BeatClassifier` keeps a template of the patient's dominant beat on one lead (the 1-30 Hz ECG from
80 ms before to 120 ms after the R peak) and compares every new beat with it: correlation, amplitude
ratio and relative QRS width (``Beat.width_s`` of the detector). A beat is

* ``"N"`` (dominant) when it correlates >= ``match_corr`` with the template,
* ``"V"`` (ventricular) when its shape differs (correlation < ``ventricular_corr``) and it is wide
  (width >= ``wide_s`` and >= the template's width + ``wider_s``), or its shape is very different
  (correlation < ``opposite_corr``, e.g. an inverted complex) and it is not narrower than the template,
* ``"Q"`` (unclassified) otherwise, and while the template is being learnt.

Learning: the template is the medoid (the beat most like the others) of the first ``learn_beats`` beats;
afterwards it follows matching beats slowly (exponential average, ``adapt``). If ``relearn_beats``
consecutive beats do not match and they come at a normal rate (< ``relearn_max_bpm``: a lead moved, not
a ventricular tachycardia), the template is learnt again. The classifier is streaming and keeps only the
template and a few numbers; the caller passes each beat's snippet.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from monitor.errors import ConfigError

__all__ = ["MorphologyConfig", "BeatShape", "BeatClassifier"]


@dataclass(frozen=True)
class MorphologyConfig:
    pre_s: float = 0.08
    post_s: float = 0.12
    learn_beats: int = 8
    adapt: float = 0.1
    match_corr: float = 0.85
    ventricular_corr: float = 0.8
    opposite_corr: float = 0.3
    wide_s: float = 0.125
    wider_s: float = 0.02
    relearn_beats: int = 12
    relearn_max_bpm: float = 100.0

    def __post_init__(self) -> None:
        if self.pre_s <= 0 or self.post_s <= 0 or self.learn_beats < 3 or not 0 < self.adapt < 1:
            raise ConfigError("bad morphology configuration")
        if not -1.0 <= self.opposite_corr <= self.ventricular_corr <= self.match_corr <= 1.0:
            raise ConfigError("need opposite_corr <= ventricular_corr <= match_corr")


@dataclass(frozen=True, slots=True)
class BeatShape:
    """How one beat compares with the template: ``label`` N, V or Q; ``corr`` and ``ratio`` vs the template."""

    label: str
    corr: float
    ratio: float
    width_s: float


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

    def reset(self) -> None:
        self.template = None
        self._learning.clear()
        self._mismatch.clear()
        self._last_t = None

    def classify(self, snippet: np.ndarray | None, width_s: float, t: float) -> BeatShape:
        """Classify a beat at time ``t`` (s) from its snippet (``length`` samples of the 1-30 Hz ECG)."""
        cfg = self.config
        rr = None if self._last_t is None else t - self._last_t
        self._last_t = t
        if snippet is None or snippet.size != self.length:
            return BeatShape("Q", 0.0, 0.0, width_s)
        x = snippet - snippet.mean()
        energy = float(np.dot(x, x))
        if energy <= 1e-12:
            return BeatShape("Q", 0.0, 0.0, width_s)
        if self.template is None:
            self._learning.append((x, width_s))
            if len(self._learning) >= cfg.learn_beats:
                self._learn()
            return BeatShape("Q", 0.0, 0.0, width_s)
        corr = float(np.dot(x, self.template)) / np.sqrt(energy * self._norm)
        ratio = float(np.sqrt(energy / self._norm))
        if corr >= cfg.match_corr and 0.5 <= ratio <= 2.0:
            label = "N"
            self.template = (1.0 - cfg.adapt) * self.template + cfg.adapt * x
            self._norm = float(np.dot(self.template, self.template))
            self.template_width = (1.0 - cfg.adapt) * self.template_width + cfg.adapt * width_s
            self._mismatch.clear()
        else:
            wide = width_s >= cfg.wide_s and width_s >= self.template_width + cfg.wider_s
            different = corr < cfg.ventricular_corr
            opposite = corr < cfg.opposite_corr and width_s >= self.template_width
            label = "V" if (different and wide) or opposite else "Q"
            self._mismatch.append(60.0 / rr if rr else 0.0)
            if len(self._mismatch) == cfg.relearn_beats and max(self._mismatch) < cfg.relearn_max_bpm:
                self.reset()  # the lead's morphology changed for good at a normal rate: learn it again
        return BeatShape(label, corr, ratio, width_s)

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
