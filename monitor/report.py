"""A session report (PDF or PNG, matplotlib): trends with alarm markers, the alarm table, the events.

Page 1: HR, SpO2 and PR over the whole session; each alarm is a band from its announcement to its end, in
its priority colour (red high, yellow medium, cyan low) on the trend it is about (technical alarms on the
events lane), acknowledgements are triangles, nurse annotations dotted lines with their text. Then the alarm
table and the event list (session events, annotations); a PDF continues on further pages, a PNG grows taller.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.alarm_diff import episodes
from store.recording import SessionStore

__all__ = ["write_report", "PRIORITY_COLOURS", "LANE_OF"]

PRIORITY_COLOURS = {"high": "#d62728", "medium": "#e6b800", "low": "#17becf"}
#: Which trend an alarm is about; the rest go to the events lane.
LANE_OF = {
    "tachycardia": "hr", "bradycardia": "hr", "extreme_tachycardia": "hr", "extreme_bradycardia": "hr",
    "asystole": "hr", "ventricular_tachycardia": "hr", "ventricular_fibrillation": "hr", "atrial_fibrillation": "hr",
    "pause": "hr", "spo2_low": "spo2", "desaturation": "spo2",
}
_ROWS_PER_PAGE = 38


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def write_report(store: SessionStore, session_id: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    session = store.session(session_id)
    vitals = store.vitals(session_id)
    events = store.events(session_id)
    notes = store.annotations(session_id)
    alarms = episodes(e for e in events if e["kind"] == "alarm" and e["alarm"]["bed"] != "*")
    start = session.opened_at
    end = session.closed_at or (vitals[-1]["t"] if vitals else start + 1)
    alarm_rows, event_rows = _alarm_rows(alarms, end), _event_rows(events, notes)
    rows = alarm_rows + ([[""] * 6] if alarm_rows and event_rows else []) + event_rows
    pdf = out.suffix.lower() == ".pdf"
    pages = [rows[i : i + _ROWS_PER_PAGE] for i in range(0, len(rows), _ROWS_PER_PAGE)] or [[]]
    figs = []
    fig = _trend_page(plt, session, vitals, alarms, events, notes, start, end, table=None if pdf else rows)
    figs.append(fig)
    if pdf:
        for chunk in pages:
            figs.append(_table_page(plt, session, chunk))
        with PdfPages(out) as doc:
            for f in figs:
                doc.savefig(f)
    else:
        fig.savefig(out, dpi=110)
    for f in figs:
        plt.close(f)
    return out


def _trend_page(plt: Any, session: Any, vitals: list[dict[str, Any]], alarms: list[Any], events: list[dict[str, Any]],
                notes: list[dict[str, Any]], start: float, end: float, table: list[list[str]] | None) -> Any:
    extra = 0.0 if table is None else 0.22 * (len(table) + 2)
    fig = plt.figure(figsize=(11.69, 8.27 + extra))
    top = 8.27 + extra
    axes_h = 6.2 / top
    lanes = {"hr": ("HR (bpm)", (30, 200)), "spo2": ("SpO2 (%)", (70, 101)), "pr": ("PR (bpm)", (30, 200))}
    axes = {}
    y = 1 - 1.2 / top
    for i, key in enumerate(("hr", "spo2", "pr", "events")):
        h = axes_h * (0.27 if key != "events" else 0.12)
        y -= h + 0.02 * axes_h
        ax = fig.add_axes([0.08, y, 0.88, h], sharex=axes.get("hr"))
        axes[key] = ax
        if key in lanes:
            label, ylim = lanes[key]
            ts = [(v["t"] - start) / 60 for v in vitals if v.get(key) is not None]
            vs = [v[key] for v in vitals if v.get(key) is not None]
            ax.plot(ts, vs, color="#1f77b4" if key != "spo2" else "#2ca02c", lw=0.8)
            ax.set_ylabel(label)
            lo, hi = ylim
            if vs:
                lo, hi = min(lo, min(vs) - 5), max(hi, max(vs) + 5)
            ax.set_ylim(lo, hi)
        else:
            ax.set_yticks([])
            ax.set_ylabel("events")
        ax.grid(alpha=0.3)
        if i < 3:
            ax.tick_params(labelbottom=False)
    for a in alarms:
        ax = axes[LANE_OF.get(a.type, "events")]
        x0, x1 = (a.raised_at - start) / 60, (a.end_or(end) - start) / 60
        ax.axvspan(x0, max(x1, x0 + 0.05), color=PRIORITY_COLOURS.get(a.priority, "grey"), alpha=0.35, lw=0)
        if a.acknowledged_at is not None:
            ax.plot([(a.acknowledged_at - start) / 60], [ax.get_ylim()[1]], marker="v", color="black", ms=5)
    for n in notes:
        x = (n["t"] - start) / 60
        for ax in axes.values():
            ax.axvline(x, color="#555", ls=":", lw=0.8)
        axes["events"].text(x, 0.5, n["text"][:28], rotation=90, fontsize=6, va="center", ha="left",
                            transform=axes["events"].get_xaxis_transform())
    axes["events"].set_xlabel("minutes since the session started")
    axes["hr"].set_xlim(0, max((end - start) / 60, 1 / 60))
    title = f"WardWatch session {session.id} - bed {session.bed}" + (f" - {session.label}" if session.label else "")
    fig.text(0.08, 1 - 0.45 / top, title, fontsize=12, weight="bold")
    fig.text(0.08, 1 - 0.75 / top, f"{datetime.fromtimestamp(start, UTC):%Y-%m-%d %H:%M:%S} UTC, "
             f"{(end - start) / 60:.1f} min; {len(alarms)} alarms "
             f"(red high, yellow medium, cyan low; triangles = acknowledged; dotted = notes)", fontsize=8)
    if table is not None and table:
        _draw_table(fig, table, bottom=0.01, height=(0.22 * (len(table) + 1)) / top)
    return fig


def _table_page(plt: Any, session: Any, rows: list[list[str]]) -> Any:
    fig = plt.figure(figsize=(11.69, 8.27))
    fig.text(0.05, 0.95, f"Session {session.id} - alarms and events", fontsize=11, weight="bold")
    if rows:
        _draw_table(fig, rows, bottom=0.05, height=0.85)
    return fig


def _draw_table(fig: Any, rows: list[list[str]], bottom: float, height: float) -> None:
    ax = fig.add_axes([0.05, bottom, 0.9, height])
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=["time (UTC)", "what", "priority", "duration", "detail", "who"],
                     loc="upper left", cellLoc="left", colWidths=[0.1, 0.2, 0.08, 0.08, 0.42, 0.12])
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    for (r, c), cell in table.get_celld().items():
        if r > 0 and c == 2 and rows[r - 1][2] in PRIORITY_COLOURS:
            cell.set_facecolor(PRIORITY_COLOURS[rows[r - 1][2]])
            cell.set_alpha(0.5)


def _alarm_rows(alarms: list[Any], end: float) -> list[list[str]]:
    out = []
    for a in alarms:
        dur = a.end_or(end) - a.raised_at
        ack = "" if a.acknowledged_at is None else f"ack {_clock(a.acknowledged_at)}"
        out.append([_clock(a.raised_at), f"alarm {a.type}", a.priority, f"{dur:.0f} s", a.message[:70], ack])
    return out


def _event_rows(events: list[dict[str, Any]], notes: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for e in events:
        if e["kind"] == "session":
            rows.append((e["t"], [_clock(e["t"]), f"session {e['name']}", "", "", e.get("label") or e.get("reason")
                                  or "", e.get("user") or ""]))
    for n in notes:
        rows.append((n["t"], [_clock(n["t"]), "annotation", "", "", n["text"][:70], n["user"] or ""]))
    return [r for _, r in sorted(rows, key=lambda x: x[0])]
