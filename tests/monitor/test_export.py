"""Import a WFDB record, export it to WFDB and CSV, write its report; republish a recording to MQTT."""

from __future__ import annotations

import asyncio
import csv
import itertools
from pathlib import Path

import aiomqtt
import numpy as np
import pytest
import wfdb

from ingest.broker import BrokerUrl
from ingest.contract import parse_message
from monitor.export import export_csv, export_wfdb, tracks
from monitor.importing import import_record
from monitor.records import read_record
from monitor.report import write_report
from monitor.republish import _republish
from monitor.sources import SessionSource
from store.recording import Session, SessionStore
from tests.brokers import private_mosquitto, require_mosquitto


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[SessionStore, Session]:
    tmp = tmp_path_factory.mktemp("export")
    store = SessionStore.open(f"sqlite:///{tmp}/x.sqlite")
    return store, import_record(store, "mitdb/100", bed="m100", label="MIT-BIH 100")


def test_import_keeps_the_signal_and_the_reference_annotations(imported: tuple[SessionStore, Session]) -> None:
    store, session = imported
    original = read_record("mitdb/100")
    (ml2, v5) = [t for t in tracks(store, session.id) if t.stream == "ecg"]
    assert (ml2.lead, v5.lead, ml2.fs) == ("MLII", "V5", 360.0)
    assert ml2.samples.size == original.n_samples
    assert np.allclose(ml2.samples, original.channel(0), atol=1e-9)  # MIT-BIH is 5 uV: nothing lost
    notes = store.annotations(session.id)
    assert notes and notes[0]["text"] == "reference rhythm: normal sinus rhythm" and notes[0]["user"] == "reference"
    assert session.pinned and session.open_reason == "import"


def test_wfdb_export_reads_back(imported: tuple[SessionStore, Session], tmp_path: Path) -> None:
    store, session = imported
    files = export_wfdb(store, session.id, tmp_path)
    assert {f.name for f in files} >= {"ecg.hea", "numerics.hea"}
    rec = wfdb.rdrecord(str(tmp_path / "ecg"))
    original = read_record("mitdb/100")
    assert rec.sig_name == ["MLII", "V5"] and rec.fs == 360
    assert np.allclose(rec.p_signal[:, 0], original.channel(0), atol=1e-9)
    num = wfdb.rdrecord(str(tmp_path / "numerics"))
    hr = num.p_signal[:, 0]
    assert num.fs == 1 and 60 < np.nanmedian(hr) < 90
    if (tmp_path / "ecg.alarm").exists():
        ann = wfdb.rdann(str(tmp_path / "ecg"), "alarm")
        assert all(note.startswith(("ALARM", "NOTE")) for note in ann.aux_note)


def test_csv_export_and_report(imported: tuple[SessionStore, Session], tmp_path: Path) -> None:
    store, session = imported
    files = {f.name: f for f in export_csv(store, session.id, tmp_path)}
    assert {"vitals.csv", "events.csv", "annotations.csv", "wave_ecg_MLII.csv", "wave_ecg_V5.csv"} <= set(files)
    with files["vitals.csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 1800 and "hr" in rows[0]
    for name in ("report.pdf", "report.png"):
        out = write_report(store, session.id, tmp_path / name)
        assert out.stat().st_size > 10_000
    assert (tmp_path / "report.pdf").read_bytes()[:4] == b"%PDF"


async def test_republish_to_a_broker_as_a_virtual_bed(imported: tuple[SessionStore, Session]) -> None:
    require_mosquitto()
    store, session = imported
    entries = list(itertools.islice(SessionSource(store, session.id), 40))  # the first ~3 s
    with private_mosquitto() as broker:
        url = BrokerUrl.parse(broker.url)
        got: list[object] = []

        async def listen() -> None:
            async with aiomqtt.Client(url.host, url.port) as client:
                await client.subscribe("vitals/#", qos=1)
                async for message in client.messages:
                    got.append(parse_message(str(message.topic), bytes(message.payload), "vitals", message.retain))

        task = asyncio.create_task(listen())
        await asyncio.sleep(0.3)
        sent = await _republish(entries, broker.url, "replay-9", "vitals", 10.0)
        await asyncio.sleep(0.5)
        task.cancel()
    waves = [m for m in got if getattr(m, "stream", None) == "ecg"]
    assert sent == len(entries) and len(waves) == sum(1 for _, m in entries if getattr(m, "stream", "") == "ecg")
    assert all(m.bed == "replay-9" for m in got)  # type: ignore[attr-defined]
    assert np.allclose(waves[0].samples, entries[0][1].samples, atol=1e-4)  # type: ignore[attr-defined]
