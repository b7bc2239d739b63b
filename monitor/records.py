"""Reading WFDB records (signals in mV and reference beat annotations).

The shared PhysioNet recordings live outside the repository; :func:`physionet_dir` finds them
(env ``WARDWATCH_PHYSIONET_DIR`` or ``<repo>/../shared/data/physionet``). wfdb and I/O errors are
translated into :class:`monitor.errors.RecordError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wfdb

from monitor.errors import RecordError

__all__ = [
    "BEAT_CODES",
    "Record",
    "physionet_dir",
    "resolve_record_path",
    "read_record",
    "read_reference_beats",
]

#: Annotation codes that count as beats in ANSI/AAMI EC57 QRS-detection scoring.
BEAT_CODES: frozenset[str] = frozenset("NLRBAaJSVrFejnE/fQ?")

_ENV_VAR = "WARDWATCH_PHYSIONET_DIR"


@dataclass(frozen=True)
class Record:
    """One WFDB record: ``signals`` is (n_samples, n_channels) float64, in mV for ECG channels."""

    name: str
    fs: float
    signals: np.ndarray
    channel_names: tuple[str, ...]
    units: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[0])

    def channel(self, index: int) -> np.ndarray:
        """One channel as a contiguous 1-D array; RecordError if there is no such channel."""
        if not 0 <= index < self.signals.shape[1]:
            raise RecordError(f"{self.name}: no channel {index} (has {self.signals.shape[1]})")
        return np.ascontiguousarray(self.signals[:, index])


def physionet_dir() -> Path:
    """Directory of the shared PhysioNet recordings."""
    env = os.environ.get(_ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "physionet"


#: Extensions of a WFDB record's files; a path ending in one of them names the record.
WFDB_SUFFIXES = (".hea", ".dat", ".atr", ".mat", ".qrs")


def resolve_record_path(record: str | os.PathLike[str]) -> Path:
    """``record`` (a path without extension; a WFDB file name such as ``100.hea`` or ``a103l.mat`` is taken
    for its record) as given, or else relative to :func:`physionet_dir`."""
    path = Path(record)
    if path.suffix in WFDB_SUFFIXES and not path.with_name(path.name + ".hea").is_file():
        path = path.with_suffix("")
    if path.with_name(path.name + ".hea").is_file():
        return path
    if not path.is_absolute():
        shared = physionet_dir() / path
        if shared.with_name(shared.name + ".hea").is_file():
            return shared
    raise RecordError(f"no WFDB record {str(record)!r} (looked for {path}.hea and in {physionet_dir()})")


def read_record(record: str | os.PathLike[str]) -> Record:
    """Read all channels of a WFDB record in physical units."""
    path = resolve_record_path(record)
    try:
        rec = wfdb.rdrecord(str(path))
    except Exception as exc:  # wfdb raises many kinds (ValueError, OSError, ...)
        raise RecordError(f"cannot read record {path}: {exc}") from exc
    if rec.p_signal is None:
        raise RecordError(f"record {path} has no physical signal")
    return Record(
        name=str(record),
        fs=float(rec.fs),
        signals=np.asarray(rec.p_signal, dtype=float),
        channel_names=tuple(rec.sig_name or ()),
        units=tuple(rec.units or ()),
    )


def read_reference_beats(record: str | os.PathLike[str], extension: str = "atr") -> np.ndarray:
    """Sample indices of the reference beat annotations (EC57 beat codes only), sorted."""
    path = resolve_record_path(record)
    try:
        ann = wfdb.rdann(str(path), extension)
    except Exception as exc:
        raise RecordError(f"cannot read annotations {path}.{extension}: {exc}") from exc
    samples = np.asarray(ann.sample, dtype=np.int64)
    keep = np.fromiter((s in BEAT_CODES for s in ann.symbol), dtype=bool, count=len(ann.symbol))
    return np.sort(samples[keep])
