"""Import a WFDB record as a session: through the live pipeline (alarms, 1 Hz vitals), then stored as if recorded.

The record becomes the messages a monitor would have sent (``monitor.sources.WfdbSource``), is replayed under
the chosen limits, and is written like a recorded session: compacted blocks with the 1 Hz derived values, the
alarm events, and, when the record has reference annotations (``.atr``), its rhythm changes and
ventricular flutter/fibrillation episodes as annotations by ``reference``, so the review shows what the
annotators saw next to what WardWatch raised. Replaying the imported session gives the same alarms again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitor import __version__
from monitor.limits import profile as get_profile
from monitor.replay import ReplaySettings, replay
from monitor.sources import WfdbSource
from store.codec import Entry
from store.recording import BLOCK_S, Session, SessionStore, new_session_id

__all__ = ["import_record", "reference_annotations", "bed_for_record"]

_RHYTHMS = {
    "(N": "normal sinus rhythm",
    "(AFIB": "atrial fibrillation",
    "(AFL": "atrial flutter",
    "(B": "ventricular bigeminy",
    "(T": "ventricular trigeminy",
    "(VT": "ventricular tachycardia",
    "(SVTA": "supraventricular tachyarrhythmia",
    "(NOD": "nodal (junctional) rhythm",
    "(P": "paced rhythm",
    "(SBR": "sinus bradycardia",
    "(IVR": "idioventricular rhythm",
    "(VFL": "ventricular flutter",
    "(BII": "2nd degree heart block",
    "(PREX": "pre-excitation (WPW)",
}


def bed_for_record(record: str) -> str:
    """``mitdb/210`` -> ``mitdb-210`` (a valid bed id)."""
    parts = Path(str(record)).parts[-2:]
    return re.sub(r"[^A-Za-z0-9_-]", "-", "-".join(parts))[-32:].strip("-") or "wfdb"


def reference_annotations(record: str, start: float) -> list[tuple[float, str]]:
    """Rhythm changes and VF/flutter episodes of the record's ``.atr`` file, as (station time, text)."""
    import wfdb

    from monitor.records import resolve_record_path

    path = resolve_record_path(record)
    if not path.with_name(path.name + ".atr").is_file():
        return []
    try:
        ann = wfdb.rdann(str(path), "atr")
    except Exception:  # a broken annotation file must not stop the import
        return []
    fs = float(ann.fs or wfdb.rdheader(str(path)).fs)
    out: list[tuple[float, str]] = []
    for sample, symbol, aux in zip(ann.sample, ann.symbol, ann.aux_note or [""] * len(ann.sample), strict=False):
        aux = (aux or "").replace("\x00", "").strip()
        t = start + float(sample) / fs
        if symbol == "+" and aux.startswith("("):
            out.append((t, f"reference rhythm: {_RHYTHMS.get(aux, aux.lstrip('('))}"))
        elif symbol == "[":
            out.append((t, "reference: ventricular flutter/fibrillation starts"))
        elif symbol == "]":
            out.append((t, "reference: ventricular flutter/fibrillation ends"))
    return out


def import_record(
    store: SessionStore,
    record: str,
    *,
    bed: str | None = None,
    label: str | None = None,
    profile: str = "adult-default",
    overrides: dict[str, Any] | None = None,
    start: float | None = None,
    user: str | None = None,
    pinned: bool = True,
    reference: bool = True,
) -> Session:
    """Import ``record``; returns the new (closed) session."""
    bed = bed or bed_for_record(record)
    source = WfdbSource(record, bed=bed, start=start)
    assert source.start is not None
    settings = ReplaySettings(limits=get_profile(profile)).with_limits(overrides=overrides) if overrides else \
        ReplaySettings(limits=get_profile(profile))
    entries: list[Entry] = list(source)
    result = replay(entries, settings, bed=bed, end=source.end, vitals_every=1.0)
    session = Session(
        id=new_session_id(bed, source.start),
        bed=bed,
        opened_at=source.start,
        station="import",
        label=label or f"import {source.name}",
        closed_at=source.end,
        last_data_at=entries[-1][0] if entries else source.start,
        open_reason="import",
        opened_by=user,
        close_reason="import",
        closed_by=user,
        pinned=pinned,
        settings={
            "limits": settings.limits.model_dump(),
            "conditions": {},
            "open_alarms": [],
            "reorder_window_s": settings.reorder_window_s,
            "profile": profile,
            "overrides": overrides or {},
            "source": {"wfdb": str(record), "duration_s": source.duration_s,
                       "streams": [[w.stream, w.lead, w.fs] for w in source.waves],
                       "numerics": sorted(source.numerics)},
            "wardwatch": __version__,
        },
    )
    notes = reference_annotations(record, source.start) if reference else []
    with store.db.transaction() as cur:
        store.insert_session(cur, session)
        store.insert_event(cur, session.id, session.opened_at, "session", "imported",
                           {"user": user, "label": session.label, "record": str(record)})
        seq = 0
        t_block = source.start
        block: list[Entry] = []
        vitals = result.vitals
        vi = 0
        for entry in entries:
            if entry[0] >= t_block + BLOCK_S and block:
                vj = _vitals_until(vitals, vi, t_block + BLOCK_S)
                store.write_block(cur, session.id, seq, block, vitals[vi:vj])
                seq, vi, block = seq + 1, vj, []
                while entry[0] >= t_block + BLOCK_S:
                    t_block += BLOCK_S
            block.append(entry)
        if block or vi < len(vitals):
            store.write_block(cur, session.id, seq, block, vitals[vi:])
        for event in result.events:
            store.insert_event(cur, session.id, event.t, "alarm", event.event,
                               {"alarm": event.alarm, "user": event.user})
        for t, text in notes:
            store.insert_annotation(cur, session.id, bed, t, text, "reference", t)
        store.insert_event(cur, session.id, session.closed_at or source.start, "session", "closed",
                           {"user": user, "reason": "import"})
    return session


def _vitals_until(vitals: list[dict[str, Any]], i: int, t: float) -> int:
    while i < len(vitals) and vitals[i]["t"] < t:
        i += 1
    return i
