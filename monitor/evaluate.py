"""ANSI/AAMI EC57-style scoring of QRS detections against reference beat annotations.

Each detection may match at most one reference beat and vice versa, and only when the two are at
most ``window_s`` (150 ms) apart. Pairs are matched greedily from the closest pair outward (ties go
to the earlier reference beat), which is the usual beat-by-beat comparison. Unmatched detections
are false positives, unmatched reference beats false negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MATCH_WINDOW_S",
    "QrsScore",
    "Summary",
    "match_beats",
    "score_record",
    "summarize",
]

MATCH_WINDOW_S = 0.150


@dataclass(frozen=True)
class QrsScore:
    """Beat-by-beat counts for one record."""

    record: str
    tp: int
    fp: int
    fn: int

    @property
    def se(self) -> float:
        """Sensitivity TP/(TP+FN); 1.0 when there are no reference beats."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def ppv(self) -> float:
        """Positive predictivity TP/(TP+FP); 1.0 when there are no detections."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def as_dict(self) -> dict[str, float | int | str]:
        return {"record": self.record, "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "se": self.se, "ppv": self.ppv}


@dataclass(frozen=True)
class Summary:
    """Per-record scores with gross (pooled counts) and average (mean of per-record rates) figures."""

    records: tuple[QrsScore, ...]
    gross: QrsScore
    average_se: float
    average_ppv: float

    def as_dict(self) -> dict[str, object]:
        return {
            "records": [r.as_dict() for r in self.records],
            "gross": self.gross.as_dict(),
            "average": {"se": self.average_se, "ppv": self.average_ppv},
        }


def match_beats(reference: np.ndarray, detected: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching within ``window`` samples.

    Returns ``(ref_matched, det_matched)``: boolean masks over ``reference`` and ``detected``.
    """
    ref = np.asarray(reference, dtype=np.int64)
    det = np.asarray(detected, dtype=np.int64)
    ref_ok = np.zeros(ref.size, dtype=bool)
    det_ok = np.zeros(det.size, dtype=bool)
    if ref.size == 0 or det.size == 0:
        return ref_ok, det_ok
    ref_order = np.argsort(ref, kind="stable")
    det_order = np.argsort(det, kind="stable")
    r = ref[ref_order]
    d = det[det_order]
    lo = np.searchsorted(d, r - window, side="left")
    hi = np.searchsorted(d, r + window, side="right")
    counts = hi - lo
    ri = np.repeat(np.arange(r.size), counts)
    if ri.size == 0:
        return ref_ok, det_ok
    offsets = np.arange(ri.size) - np.repeat(np.cumsum(counts) - counts, counts)
    di = np.repeat(lo, counts) + offsets
    dist = np.abs(r[ri] - d[di])
    order = np.lexsort((di, ri, dist))
    r_used = np.zeros(r.size, dtype=bool)
    d_used = np.zeros(d.size, dtype=bool)
    for k in order:  # pairs are few (about one per beat)
        a, b = ri[k], di[k]
        if not r_used[a] and not d_used[b]:
            r_used[a] = True
            d_used[b] = True
    ref_ok[ref_order] = r_used
    det_ok[det_order] = d_used
    return ref_ok, det_ok


def score_record(
    record: str, reference: np.ndarray, detected: np.ndarray, fs: float, window_s: float = MATCH_WINDOW_S
) -> QrsScore:
    """TP/FP/FN of ``detected`` against ``reference`` (both sample indices at rate ``fs``)."""
    window = int(round(window_s * fs))
    ref_ok, det_ok = match_beats(reference, detected, window)
    tp = int(ref_ok.sum())
    return QrsScore(record=record, tp=tp, fp=int(det_ok.size - det_ok.sum()), fn=int(ref_ok.size - tp))


def summarize(scores: Sequence[QrsScore]) -> Summary:
    """Gross (pooled) and average figures over records."""
    gross = QrsScore(
        record="gross",
        tp=sum(s.tp for s in scores),
        fp=sum(s.fp for s in scores),
        fn=sum(s.fn for s in scores),
    )
    n = len(scores)
    avg_se = sum(s.se for s in scores) / n if n else 1.0
    avg_ppv = sum(s.ppv for s in scores) / n if n else 1.0
    return Summary(records=tuple(scores), gross=gross, average_se=avg_se, average_ppv=avg_ppv)
