"""Export a session: WFDB (waveforms, 1 Hz numerics, alarms and notes as annotations) and CSV.

Waveforms are placed on each stream's own sample grid (device clock: exact spacing; a gap is NaN, which WFDB
stores as its "invalid sample" value), starting at the station time of the stream's first sample. ECG is
written at 200 adu/mV (the recording's 5 µV), pleth at 512 adu/unit (its 1/512 unit), so nothing is lost.

WFDB records written into ``out_dir``: ``ecg`` (all ECG leads of the first ECG sampling rate), ``pleth``,
``numerics`` (HR, SpO2, PR at 1 Hz, from the recorded derived values) and the annotation file ``ecg.alarm``
(alarm onsets and nurse annotations, as WFDB comment annotations with the text in ``aux_note``).
CSV files: ``vitals.csv``, ``events.csv`` (alarm and session events), ``annotations.csv`` and one
``wave_<stream>[_<lead>].csv`` per waveform.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import RecordError
from monitor.messages import WaveChunk
from store.codec import ECG_QUANTUM_MV, PLETH_QUANTUM
from store.recording import SessionStore

__all__ = ["Track", "tracks", "export_wfdb", "export_csv"]


@dataclass
class Track:
    """One waveform of a session on its sample grid: ``t0`` is the station time of ``samples[0]``."""

    stream: str
    lead: str
    fs: float
    t0: float
    samples: np.ndarray

    @property
    def name(self) -> str:
        return self.lead if self.stream == "ecg" else "PLETH"


def tracks(store: SessionStore, session_id: str, t0: float | None = None, t1: float | None = None) -> list[Track]:
    """The session's waveforms (between station times ``t0`` and ``t1`` when given)."""
    chunks: dict[tuple[str, str, float], list[tuple[float, WaveChunk]]] = defaultdict(list)
    for arrival, item in store.entries(session_id, None if t0 is None else t0 - 2.0, None if t1 is None else t1 + 2.0):
        if isinstance(item, WaveChunk):
            chunks[(item.stream, item.lead if item.stream == "ecg" else "", item.fs)].append((arrival, item))
    out = []
    for (stream, lead, fs), items in sorted(chunks.items()):
        first_arrival, first = items[0]
        ts0 = first.ts
        offset = first_arrival - len(first.samples) / fs - ts0  # device time -> station time
        n = max(round((c.ts - ts0) * fs) + len(c.samples) for _, c in items)
        x = np.full(n, np.nan)
        for _, c in items:
            i = round((c.ts - ts0) * fs)
            if i >= 0:
                x[i : i + len(c.samples)] = c.samples[: max(0, n - i)]
        track = Track(stream, lead, fs, ts0 + offset, x)
        if t0 is not None or t1 is not None:
            lo = 0 if t0 is None else max(0, int(np.floor((t0 - track.t0) * fs)))
            hi = n if t1 is None else min(n, int(np.ceil((t1 - track.t0) * fs)))
            track = Track(stream, lead, fs, track.t0 + lo / fs, x[lo:hi] if hi > lo else x[:0])
        out.append(track)
    return out


def _base(t: float) -> tuple[Any, Any]:
    dt = datetime.fromtimestamp(t, UTC)
    return dt.time(), dt.date()


def export_wfdb(store: SessionStore, session_id: str, out_dir: Path) -> list[Path]:
    import wfdb

    session = store.session(session_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    all_tracks = tracks(store, session_id)
    ecg = [t for t in all_tracks if t.stream == "ecg"]
    if ecg:
        fs = ecg[0].fs
        ecg = [t for t in ecg if t.fs == fs]
        start = min(t.t0 for t in ecg)
        n = max(round((t.t0 - start) * fs) + len(t.samples) for t in ecg)
        sig = np.full((n, len(ecg)), np.nan)
        for j, t in enumerate(ecg):
            i = round((t.t0 - start) * fs)
            sig[i : i + len(t.samples), j] = t.samples
        _write(wfdb, out_dir, "ecg", fs, sig, [t.lead for t in ecg], ["mV"] * len(ecg), 1 / ECG_QUANTUM_MV, "16",
               start, session)
        written.append(out_dir / "ecg.hea")
        marks = _annotation_marks(store, session_id)
        samples = [max(0, round((t - start) * fs)) for t, _ in marks]
        keep = [(s, text) for s, (_, text) in zip(samples, marks, strict=True) if s < n]
        if keep:
            wfdb.wrann("ecg", "alarm", np.array([s for s, _ in keep]), symbol=['"'] * len(keep),
                       aux_note=[text for _, text in keep], fs=fs, write_dir=str(out_dir))
            written.append(out_dir / "ecg.alarm")
    pleth = next((t for t in all_tracks if t.stream == "pleth"), None)
    if pleth is not None:
        _write(wfdb, out_dir, "pleth", pleth.fs, pleth.samples[:, None], ["PLETH"], ["NU"], 1 / PLETH_QUANTUM, "32",
               pleth.t0, session)
        written.append(out_dir / "pleth.hea")
    vitals = store.vitals(session_id)
    if vitals:
        start = vitals[0]["t"]
        n = round(vitals[-1]["t"] - start) + 1
        sig = np.full((n, 3), np.nan)
        for v in vitals:
            i = round(v["t"] - start)
            for j, key in enumerate(("hr", "spo2", "pr")):
                if v.get(key) is not None:
                    sig[i, j] = v[key]
        _write(wfdb, out_dir, "numerics", 1.0, sig, ["HR", "SpO2", "PR"], ["bpm", "%", "bpm"], 10.0, "16", start,
               session)
        written.append(out_dir / "numerics.hea")
    if not written:
        raise RecordError(f"session {session_id} has no waveforms or vitals to export")
    return written


def _write(wfdb: Any, out_dir: Path, name: str, fs: float, sig: np.ndarray, names: list[str], units: list[str],
           gain: float, fmt: str, start: float, session: Any) -> None:
    base_time, base_date = _base(start)
    invalid = -(2 ** (int(fmt) - 1))
    d = np.where(np.isfinite(sig), np.rint(np.nan_to_num(sig) * gain), invalid).astype(np.int64)
    wfdb.wrsamp(
        name,
        fs=fs,
        units=units,
        sig_name=names,
        d_signal=d,
        fmt=[fmt] * sig.shape[1],
        adc_gain=[gain] * sig.shape[1],
        baseline=[0] * sig.shape[1],
        write_dir=str(out_dir),
        base_time=base_time,
        base_date=base_date,
        comments=[f"WardWatch session {session.id}, bed {session.bed}", f"label: {session.label or ''}"],
    )


def _annotation_marks(store: SessionStore, session_id: str) -> list[tuple[float, str]]:
    marks = []
    for e in store.events(session_id, "alarm"):
        if e["name"] == "raised":
            a = e["alarm"]
            marks.append((a["raised_at"], f"ALARM {a['priority']} {a['type']}: {a.get('message', '')}"))
    for note in store.annotations(session_id):
        marks.append((note["t"], f"NOTE {note['user'] or ''}: {note['text']}"))
    return sorted(marks)


def export_csv(store: SessionStore, session_id: str, out_dir: Path) -> list[Path]:
    store.session(session_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    vitals = store.vitals(session_id)
    keys = sorted({k for v in vitals for k in v if k != "t"})
    written.append(_csv(out_dir / "vitals.csv", ["t", "time_utc", *keys],
                        ([v["t"], _iso(v["t"]), *[v.get(k) for k in keys]] for v in vitals)))
    rows = []
    for e in store.events(session_id):
        a = e.get("alarm") or {}
        rows.append([e["t"], _iso(e["t"]), e["kind"], e["name"], a.get("type", ""), a.get("priority", ""),
                     a.get("message", ""), e.get("user") or ""])
    written.append(_csv(out_dir / "events.csv", ["t", "time_utc", "kind", "event", "alarm", "priority", "message",
                                                 "user"], rows))
    notes = store.annotations(session_id)
    written.append(_csv(out_dir / "annotations.csv", ["t", "time_utc", "user", "text"],
                        ([n["t"], _iso(n["t"]), n["user"] or "", n["text"]] for n in notes)))
    for tr in tracks(store, session_id):
        suffix = f"_{tr.lead}" if tr.stream == "ecg" else ""
        times = tr.t0 + np.arange(len(tr.samples)) / tr.fs
        written.append(_csv(out_dir / f"wave_{tr.stream}{suffix}.csv", ["t", tr.name],
                            ((f"{t:.4f}", "" if not np.isfinite(x) else f"{x:.4f}")
                             for t, x in zip(times, tr.samples, strict=True))))
    return written


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


def _csv(path: Path, head: list[str], rows: Any) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        w.writerows(rows)
    return path
