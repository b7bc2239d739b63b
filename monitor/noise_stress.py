"""Noise stress test: clean MIT-BIH records with real MIT-BIH Noise Stress Test Database noise added.

Noise (``nstdb``): baseline wander (``bw``), muscle artefact (``ma``) and electrode motion (``em``, recovered
as ``118e00 - 118``: the database's own em noise as added to record 118 at 0 dB, in mV). It is added the way
``nst`` does it: in 2-minute blocks from 5 minutes on (300-420 s, 540-660 s, ... as in ``118e00``), scaled per
channel so that ``SNR = 10 log10(S / N)`` with ``S = A^2 / 8`` (``A``: the median QRS peak-to-peak amplitude
of the clean channel, measured 50 ms around each reference beat: the power of a sine wave of that
peak-to-peak amplitude) and ``N`` the noise power as ``nst`` measures it, the mean over 1 s frames of the mean
squared deviation from the frame's mean. (With this definition the em noise of ``118e00`` channel 1 is
-0.1 dB on record 118, as labelled; on channel 0 it is -5.5 dB, because ``nst`` measured that polyphasic
RBBB lead's QRS amplitude differently, so the real ``118e00`` is also reported on its own.)

:func:`stress` scores the QRS detector (channel 0, EC57 beat by beat, overall and inside the noise blocks) and
runs both leads through the live pipeline (``monitor.analyze``) to list the alarms raised inside and outside
the noise blocks and how much of the noise time ``ecg_signal_poor`` covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitor.analyze import analyze_messages, array_messages
from monitor.evaluate import QrsScore, score_record
from monitor.records import read_record, read_reference_beats
from monitor.signal.qrs import detect_beats
from monitor.sources import DEFAULT_START

__all__ = ["NOISE_BLOCKS", "noise_signal", "add_noise", "StressResult", "stress"]

#: Seconds during which noise is on (nstdb: 2-minute blocks after the first 5 minutes).
NOISE_BLOCKS = ((300, 420), (540, 660), (780, 900), (1020, 1140), (1260, 1380), (1500, 1620), (1740, 1805))


def noise_signal(kind: str) -> np.ndarray:
    """The noise record (n_samples, 2) in mV, 360 Hz: ``bw``, ``ma`` or ``em``."""
    if kind == "em":
        noisy = read_record("nstdb/118e00").signals
        clean = read_record("mitdb/118").signals
        n = min(len(noisy), len(clean))
        return noisy[:n] + 5.12 - clean[:n]  # 118e00 stores its samples 1024 units (5.12 mV) lower
    return read_record(f"nstdb/{kind}").signals


def qrs_amplitude(x: np.ndarray, beats: np.ndarray, fs: float) -> float:
    half = int(round(0.05 * fs))
    amps = [np.ptp(x[max(0, b - half) : b + half]) for b in beats if half <= b < len(x) - half]
    return float(np.median(amps)) if amps else float(np.ptp(x))


def frame_power(x: np.ndarray, fs: float, frame_s: float = 1.0) -> float:
    """Mean over ``frame_s`` frames of the mean squared deviation from each frame's mean."""
    step = max(1, int(round(frame_s * fs)))
    k = len(x) // step
    if k == 0:
        return float(np.var(x))
    frames = x[: k * step].reshape(k, step)
    return float(np.mean(np.var(frames, axis=1)))


def block_mask(n: int, fs: float) -> np.ndarray:
    t = np.arange(n) / fs
    mask = np.zeros(n, dtype=bool)
    for a, b in NOISE_BLOCKS:
        mask |= (t >= a) & (t < b)
    return mask


def add_noise(record: str, kind: str, snr_db: float) -> tuple[np.ndarray, float, np.ndarray]:
    """``record``'s signals with ``kind`` noise at ``snr_db`` in the noise blocks; returns (signals, fs, mask)."""
    rec = read_record(record)
    beats = read_reference_beats(record)
    noise = noise_signal(kind)
    n = min(rec.n_samples, len(noise))
    out = rec.signals[:n].copy()
    mask = block_mask(n, rec.fs)
    for ch in range(min(out.shape[1], noise.shape[1])):
        amplitude = qrs_amplitude(out[:, ch], beats, rec.fs)
        nz = noise[:n, ch] - float(np.mean(noise[:n, ch]))
        power = frame_power(nz, rec.fs)
        scale = np.sqrt(amplitude**2 / 8.0 / 10 ** (snr_db / 10.0) / power) if power > 0 else 0.0
        out[:, ch] += np.where(mask, scale * nz, 0.0)
    return out, rec.fs, mask


@dataclass
class StressResult:
    record: str
    noise: str
    snr_db: float | None
    overall: QrsScore
    in_noise: QrsScore
    alarms_in_noise: list[tuple[str, float]] = field(default_factory=list)  # physiological (type, raised s)
    alarms_clean: list[tuple[str, float]] = field(default_factory=list)
    poor_covered: float = 0.0  # fraction of the noise time with ecg_signal_poor (or leads_off) active
    technical: list[tuple[str, float, float | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"record": self.record, "noise": self.noise, "snr_db": self.snr_db,
                "overall": self.overall.as_dict(), "in_noise": self.in_noise.as_dict(),
                "alarms_in_noise": self.alarms_in_noise, "alarms_clean": self.alarms_clean,
                "ecg_signal_poor_share_of_noise": round(self.poor_covered, 3)}


def _in_blocks(t: float, margin: float = 0.0) -> bool:
    return any(a <= t < b + margin for a, b in NOISE_BLOCKS)


def stress(record: str, kind: str, snr_db: float | None) -> StressResult:
    """One stress case; ``snr_db=None`` runs the clean record (the baseline)."""
    if snr_db is None:
        rec = read_record(record)
        signals, fs = rec.signals, rec.fs
        mask = block_mask(rec.n_samples, fs)
    else:
        signals, fs, mask = add_noise(record, kind, snr_db)
    ref = read_reference_beats(record)
    ref = ref[ref < len(signals)]
    det = np.array([b.sample for b in detect_beats(signals[:, 0], fs)], dtype=np.int64)
    overall = score_record(record, ref, det, fs)
    in_noise = score_record(record, ref[mask[ref]], det[mask[det]] if det.size else det, fs)
    leads = {("MLII" if i == 0 else "V"): signals[:, i] for i in range(min(2, signals.shape[1]))}
    analysis = analyze_messages(array_messages(leads, fs, bed="stress"), name=record, start=DEFAULT_START,
                                duration_s=len(signals) / fs, latency_s=0.02)
    result = StressResult(record, kind, snr_db, overall, in_noise)
    covered = 0.0
    for a in analysis.alarms:
        if a.kind == "physiological":
            (result.alarms_in_noise if _in_blocks(a.raised, 5.0) else result.alarms_clean).append((a.type, a.raised))
        elif a.type in ("ecg_signal_poor", "leads_off"):
            result.technical.append((a.type, a.onset, a.ended))
            for s0, s1 in a.stretches:
                end = s1 if s1 is not None else len(signals) / fs
                covered += sum(max(0.0, min(end, b) - max(s0, a0)) for a0, b in NOISE_BLOCKS)
    total = sum(min(b, len(signals) / fs) - a for a, b in NOISE_BLOCKS if a < len(signals) / fs)
    result.poor_covered = covered / total if total else 0.0
    return result
