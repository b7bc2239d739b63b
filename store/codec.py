"""The recording codec: what the station saw, in arrival order, as compact blocks.

**Canonical values.** A recording is exact only if the live pipeline was fed the very numbers a replay will
feed it. So the recorder passes every validated message through :func:`canonical` before the ward sees it:

| quantity | resolution | note |
|----------|------------|------|
| ECG samples | 5 µV (``ECG_QUANTUM_MV``) | the MIT-BIH resolution (200 adu/mV) |
| pleth samples | 1/512 unit (``PLETH_QUANTUM``) | ~9 bits over a normal pulse (~1 unit) |
| numerics (HR, SpO2, PR) | 0.1 | |
| device time ``ts`` | 0.1 ms | |
| station arrival time | 1 ms | |

Decoding multiplies the stored integers by the same quanta, so live and replay see bit-identical floats.

**Blocks.** ``encode_entries`` takes ``(arrival, item)`` pairs, where ``item`` is a message
(``WaveChunk``/``Numerics``/``Status``) or a :class:`Marker` (something the station did between two messages:
a reorder flush on a tick, an acknowledgement, a limit change), and writes them column by column: kinds,
arrival deltas, per-stream sample deltas (first or second order, whichever is smaller, divided by their
common factor), zig-zag varints, then LZMA. Hot blocks (written live about every half second per bed,
replaced when a session's blocks are compacted) skip all that: a JSON index and the samples as raw int32
quanta. ``encode_vitals`` stores the 1 Hz derived values the same way (numbers with the decimals they have,
1 to 3; everything else through a string table).
"""

from __future__ import annotations

import json
import lzma
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from monitor.errors import RecordError
from monitor.messages import Message, Numerics, Status, WaveChunk
from store.varint import ByteReader, ByteWriter, delta_decode, delta_encode, varint_decode, varint_encode

__all__ = [
    "ECG_QUANTUM_MV",
    "PLETH_QUANTUM",
    "NUMERIC_QUANTUM",
    "Marker",
    "Item",
    "Entry",
    "canonical",
    "canonical_time",
    "encode_entries",
    "decode_entries",
    "encode_vitals",
    "decode_vitals",
    "FAST",
    "SMALL",
]

ECG_QUANTUM_MV = 0.005
PLETH_QUANTUM = 1.0 / 512.0
NUMERIC_QUANTUM = 0.1
_TS_PER_S = 10_000  # device time in units of 0.1 ms
_ARRIVAL_PER_S = 1_000  # station time in ms
_QUANTUM = {"ecg": ECG_QUANTUM_MV, "pleth": PLETH_QUANTUM}

_MAGIC = b"WWB1"
_HOT_MAGIC = b"WWH1"  #: hot blocks: a JSON index and raw int32 samples, no entropy coding
_RAW, _ZLIB, _LZMA, _HOT = 0, 1, 2, 3
FAST = _HOT  #: hot blocks (written about every half second per bed): cheap to make, replaced on compaction
SMALL = _LZMA  #: compacted blocks: small

_WAVE, _NUMERICS, _STATUS = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Marker:
    """Something the station did to a bed between two messages, kept in sequence for exact replays.

    ``kind``: ``tick`` (``Ward.advance`` released held chunks at ``t``), ``ack`` (data ``{"type", "user"}``),
    ``limits`` (data: the bed's full limits), ``enabled`` (data ``{"type", "enabled"}``). ``t`` is exact.
    """

    bed: str
    kind: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)


Item = Message | Marker
Entry = tuple[float, Item]


# -- canonical values --------------------------------------------------------------------------------------
def canonical_time(t: float) -> float:
    """Station time at 1 ms, as the recording keeps it."""
    return round(t * _ARRIVAL_PER_S) / _ARRIVAL_PER_S


def _ts(ts: float) -> float:
    return round(ts * _TS_PER_S) / _TS_PER_S


def _num(value: float | None) -> float | None:
    return None if value is None else round(value * 10) / 10


def _samples(stream: str, samples: np.ndarray) -> np.ndarray:
    q = _QUANTUM[stream]
    return np.rint(np.asarray(samples, dtype=np.float64) / q).astype(np.int64) * q


def canonical(msg: Message) -> Message:
    """The message at the recording's resolution (see the module docstring); idempotent."""
    if isinstance(msg, WaveChunk):
        return WaveChunk(msg.bed, msg.stream, _ts(msg.ts), msg.fs, _samples(msg.stream, msg.samples), msg.seq, msg.lead)
    if isinstance(msg, Numerics):
        return Numerics(msg.bed, _ts(msg.ts), _num(msg.hr), _num(msg.spo2), _num(msg.pr))
    return Status(
        msg.bed, msg.online, None if msg.ts is None else _ts(msg.ts), msg.leads_off, msg.probe_off, msg.retained
    )


# -- containers --------------------------------------------------------------------------------------------
def _pack(header: dict[str, Any], body: bytes, compressor: int) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    payload = ByteWriter()
    payload.section(head)
    payload.section(body)
    raw = payload.getvalue()
    if compressor == _ZLIB:
        data = zlib.compress(raw, 1)
    elif compressor == _LZMA:
        data = lzma.compress(raw, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}])
    else:
        data = raw
    return _MAGIC + bytes([compressor]) + data


def _unpack(blob: bytes) -> tuple[dict[str, Any], ByteReader]:
    blob = bytes(blob)
    if blob[:4] != _MAGIC or len(blob) < 5:
        raise RecordError("not a WardWatch recording block")
    compressor, data = blob[4], blob[5:]
    try:
        if compressor == _ZLIB:
            data = zlib.decompress(data)
        elif compressor == _LZMA:
            data = lzma.decompress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2}])
        elif compressor != _RAW:
            raise RecordError(f"unknown block compressor {compressor}")
    except (zlib.error, lzma.LZMAError) as exc:
        raise RecordError(f"corrupt recording block: {exc}") from exc
    outer = ByteReader(data)
    header = json.loads(bytes(outer.section()))
    return header, ByteReader(bytes(outer.section()))


def _ms(t: float) -> int:
    return round(t * _ARRIVAL_PER_S)


def _k_ts(ts: float) -> int:
    return round(ts * _TS_PER_S)


def _nullable(values: Sequence[float | None], quantum: float) -> np.ndarray:
    """0 = None, else zig-zag of the change from the previous present value, + 1 (one varint each)."""
    out = np.zeros(len(values), dtype=np.uint64)
    prev = 0
    for i, v in enumerate(values):
        if v is None:
            continue
        k = round(v / quantum)
        out[i] = _zz(k - prev) + 1
        prev = k
    return out


def _from_nullable(codes: np.ndarray, quantum_div: int) -> list[float | None]:
    out: list[float | None] = []
    prev = 0
    for code in codes.tolist():
        if code == 0:
            out.append(None)
            continue
        prev += _unzz(code - 1)
        out.append(prev / quantum_div)
    return out


def _zz(d: int) -> int:
    return d << 1 if d >= 0 else ((-d) << 1) - 1


def _unzz(z: int) -> int:
    return (z >> 1) ^ -(z & 1)


def _best_order(values: np.ndarray) -> tuple[int, np.ndarray]:
    """First- or second-order differences, whichever needs fewer bits."""
    if values.size < 8:
        return 1, delta_encode(values, 1)
    best: tuple[float, int, np.ndarray] | None = None
    for order in (1, 2):
        d = delta_encode(values, order)
        cost = float(np.log2(np.abs(d[order:]).astype(np.float64) + 1.0).sum())
        if best is None or cost < best[0]:
            best = (cost, order, d)
    assert best is not None
    return best[1], best[2]


# -- entries -----------------------------------------------------------------------------------------------
def encode_entries(entries: Sequence[Entry], compressor: int = SMALL) -> bytes:
    """Encode ``(arrival, item)`` pairs of one bed (messages canonical, arrivals at 1 ms) into a block."""
    if compressor == _HOT:
        return _encode_hot(entries)
    streams: dict[tuple[str, str, float], int] = {}
    markers: list[list[Any]] = []
    kinds: list[int] = []
    arrivals: list[int] = []
    w_stream: list[int] = []
    w_len: list[int] = []
    w_ts: list[int] = []
    w_seq: list[int] = []
    samples: dict[int, list[np.ndarray]] = {}
    last: dict[int, tuple[int, int, int | None, float]] = {}  # stream -> (k_ts, n, seq, fs)
    n_ts: list[int] = []
    n_vals: dict[str, list[float | None]] = {"hr": [], "spo2": [], "pr": []}
    s_flags: list[int] = []
    s_ts: list[int] = []
    prev_n_ts = 0
    for position, (arrival, item) in enumerate(entries):
        if isinstance(item, Marker):
            markers.append([position, item.kind, item.t, item.data])
            continue
        arrivals.append(_ms(arrival))
        if isinstance(item, WaveChunk):
            kinds.append(_WAVE)
            key = (item.stream, item.lead if item.stream == "ecg" else "", float(item.fs))
            idx = streams.setdefault(key, len(streams))
            k_ts = _k_ts(item.ts)
            n = len(item.samples)
            prev = last.get(idx)
            expected = 0
            if prev is None:
                w_ts.append(k_ts)
            else:
                p_ts, p_n, p_seq, fs = prev
                w_ts.append(k_ts - (p_ts + round(p_n * _TS_PER_S / fs)))
                expected = 0 if p_seq is None else p_seq + 1
            w_seq.append(0 if item.seq is None else _zz(item.seq - expected) + 1)
            last[idx] = (k_ts, n, item.seq, float(item.fs))
            w_stream.append(idx)
            w_len.append(n)
            q = _QUANTUM[item.stream]
            samples.setdefault(idx, []).append(np.rint(np.asarray(item.samples) / q).astype(np.int64))
        elif isinstance(item, Numerics):
            kinds.append(_NUMERICS)
            k_ts = _k_ts(item.ts)
            n_ts.append(k_ts - prev_n_ts - _TS_PER_S)
            prev_n_ts = k_ts
            n_vals["hr"].append(item.hr)
            n_vals["spo2"].append(item.spo2)
            n_vals["pr"].append(item.pr)
        elif isinstance(item, Status):
            kinds.append(_STATUS)
            tri = {None: 0, False: 1, True: 2}
            flags = (1 if item.online else 0) | (2 if item.retained else 0) | (4 if item.ts is not None else 0)
            flags |= tri[item.leads_off] << 3 | tri[item.probe_off] << 5
            s_flags.append(flags)
            if item.ts is not None:
                s_ts.append(_k_ts(item.ts) - _ms(arrival) * (_TS_PER_S // _ARRIVAL_PER_S))
        else:
            raise RecordError(f"cannot record {type(item).__name__}")
    bed = next((item.bed for _, item in entries), "")
    t0 = arrivals[0] if arrivals else 0
    body = ByteWriter()
    body.section(bytes(kinds))
    body.ints(np.diff(np.asarray(arrivals, dtype=np.int64), prepend=np.int64(0)))
    body.section(bytes(w_stream))
    body.ints(w_len)
    body.ints(w_ts)
    body.section(varint_encode(np.asarray(w_seq, dtype=np.uint64)))
    stream_meta = []
    for idx in range(len(streams)):
        values = np.concatenate(samples[idx]) if samples.get(idx) else np.zeros(0, dtype=np.int64)
        order, d = _best_order(values)
        rest = d[order:]
        g = int(np.gcd.reduce(np.abs(rest))) if rest.size else 1
        g = max(g, 1)
        body.ints(d[:order])
        body.ints(rest // g)
        stream_meta.append([order, g])
    body.ints(n_ts)
    for name in ("hr", "spo2", "pr"):
        body.section(varint_encode(_nullable(n_vals[name], NUMERIC_QUANTUM)))
    body.section(bytes(s_flags))
    body.ints(s_ts)
    header = {
        "bed": bed,
        "t0": t0,
        "streams": [[s, lead, fs, *meta] for (s, lead, fs), meta in zip(streams, stream_meta, strict=True)],
        "markers": markers,
    }
    return _pack(header, body.getvalue(), compressor)


def decode_entries(blob: bytes) -> list[Entry]:
    """The ``(arrival, item)`` pairs of a block, in their recorded order."""
    if bytes(blob[:4]) == _HOT_MAGIC:
        return _decode_hot(bytes(blob))
    header, body = _unpack(blob)
    bed = header["bed"]
    kinds = bytes(body.section())
    n = len(kinds)
    arrivals_ms = np.cumsum(body.ints(n), dtype=np.int64)
    arrivals = arrivals_ms.astype(np.float64) / _ARRIVAL_PER_S
    w_stream = bytes(body.section())
    n_wave = len(w_stream)
    w_len = body.ints(n_wave)
    w_ts = body.ints(n_wave)
    w_seq = varint_decode(body.section(), n_wave)
    stream_samples: list[np.ndarray] = []
    streams = header["streams"]
    for stream, _lead, _fs, order, g in streams:
        first = body.ints()
        rest = body.ints() * g
        values = delta_decode(np.concatenate([first, rest]), order)
        stream_samples.append(values.astype(np.int64) * _QUANTUM[stream])
    n_num = sum(1 for k in kinds if k == _NUMERICS)
    n_ts = body.ints(n_num)
    nums = {name: _from_nullable(varint_decode(body.section(), n_num), 10) for name in ("hr", "spo2", "pr")}
    s_flags = bytes(body.section())
    s_ts = body.ints()
    entries: list[Entry] = []
    offsets = [0] * len(streams)
    last: dict[int, tuple[int, int, int | None, float]] = {}
    wi = ni = si = sti = 0
    prev_n_ts = 0
    tri = (None, False, True)
    arr_list = arrivals.tolist()
    ms_list = arrivals_ms.tolist()
    for i, kind in enumerate(kinds):
        if kind == _WAVE:
            idx = w_stream[wi]
            stream, lead, fs = streams[idx][0], streams[idx][1], streams[idx][2]
            length = int(w_len[wi])
            code = int(w_seq[wi])
            prev = last.get(idx)
            expected = 0
            if prev is None:
                k_ts = int(w_ts[wi])
            else:
                p_ts, p_n, p_seq, _ = prev
                k_ts = int(w_ts[wi]) + p_ts + round(p_n * _TS_PER_S / fs)
                expected = 0 if p_seq is None else p_seq + 1
            seq = None if code == 0 else expected + _unzz(code - 1)
            last[idx] = (k_ts, length, seq, fs)
            start = offsets[idx]
            offsets[idx] = start + length
            chunk = stream_samples[idx][start : start + length]
            entries.append((arr_list[i], WaveChunk(bed, stream, k_ts / _TS_PER_S, fs, chunk, seq, lead or "II")))
            wi += 1
        elif kind == _NUMERICS:
            k_ts = int(n_ts[ni]) + prev_n_ts + _TS_PER_S
            prev_n_ts = k_ts
            entries.append(
                (arr_list[i], Numerics(bed, k_ts / _TS_PER_S, nums["hr"][ni], nums["spo2"][ni], nums["pr"][ni]))
            )
            ni += 1
        elif kind == _STATUS:
            flags = s_flags[si]
            ts = None
            if flags & 4:
                ts = (int(s_ts[sti]) + ms_list[i] * (_TS_PER_S // _ARRIVAL_PER_S)) / _TS_PER_S
                sti += 1
            status = Status(bed, bool(flags & 1), ts, tri[(flags >> 3) & 3], tri[(flags >> 5) & 3], bool(flags & 2))
            entries.append((arr_list[i], status))
            si += 1
        else:
            raise RecordError(f"corrupt block: unknown entry kind {kind}")
    for position, kind, t, data in header["markers"]:
        entries.insert(position, (t, Marker(bed, kind, t, data)))
    return entries


# -- hot blocks --------------------------------------------------------------------------------------------
# The live recorder writes one per bed about every half second (the crash bar: lose at most a second), so they
# must cost microseconds: a JSON index of the entries plus their samples as raw int32 quanta. Compaction
# (every BLOCK_S) decodes them and writes the small column-coded LZMA block that the storage budget counts.
def _encode_hot(entries: Sequence[Entry]) -> bytes:
    index: list[list[Any]] = []
    arrays: list[np.ndarray] = []
    for arrival, item in entries:
        if isinstance(item, WaveChunk):
            q = _QUANTUM[item.stream]
            arrays.append(np.rint(np.asarray(item.samples) / q).astype(np.int32))
            index.append(
                [arrival, _WAVE, item.bed, item.stream, item.lead, item.fs, item.ts, item.seq, len(item.samples)]
            )
        elif isinstance(item, Numerics):
            index.append([arrival, _NUMERICS, item.bed, item.ts, item.hr, item.spo2, item.pr])
        elif isinstance(item, Status):
            index.append(
                [arrival, _STATUS, item.bed, item.online, item.ts, item.leads_off, item.probe_off, item.retained]
            )
        elif isinstance(item, Marker):
            index.append([arrival, 3, item.bed, item.kind, item.t, item.data])
        else:
            raise RecordError(f"cannot record {type(item).__name__}")
    head = orjson.dumps(index)
    samples = np.concatenate(arrays).tobytes() if arrays else b""
    return _HOT_MAGIC + len(head).to_bytes(4, "little") + head + samples


def _decode_hot(blob: bytes) -> list[Entry]:
    try:
        size = int.from_bytes(blob[4:8], "little")
        index = orjson.loads(blob[8 : 8 + size])
        samples = np.frombuffer(blob[8 + size :], dtype=np.int32)
    except (orjson.JSONDecodeError, ValueError) as exc:
        raise RecordError(f"corrupt hot block: {exc}") from exc
    out: list[Entry] = []
    pos = 0
    for row in index:
        arrival, kind, bed = row[0], row[1], row[2]
        if kind == _WAVE:
            stream, lead, fs, ts, seq, n = row[3:]
            if pos + n > samples.size:
                raise RecordError("corrupt hot block: samples missing")
            data = samples[pos : pos + n].astype(np.int64) * _QUANTUM[stream]
            pos += n
            out.append((arrival, WaveChunk(bed, stream, ts, fs, data, seq=seq, lead=lead)))
        elif kind == _NUMERICS:
            out.append((arrival, Numerics(bed, *row[3:])))
        elif kind == _STATUS:
            online, ts, leads_off, probe_off, retained = row[3:]
            out.append((arrival, Status(bed, online, ts, leads_off, probe_off, retained)))
        else:
            out.append((arrival, Marker(bed, row[3], row[4], row[5])))
    return out


# -- vitals ------------------------------------------------------------------------------------------------
def encode_vitals(rows: Sequence[dict[str, Any]], compressor: int = SMALL) -> bytes:
    """1 Hz derived values (``BedMonitor.vitals``): each row has ``t``; numbers with up to 3 decimals (as many as
    the column needs), the rest (strings, booleans, lists, objects) by value through a string table."""
    if compressor == _HOT:
        return _HOT_MAGIC + orjson.dumps(list(rows))
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key != "t" and key not in columns:
                columns.append(key)
    numeric = [c for c in columns if all(_is_number(r.get(c)) for r in rows)]
    strings: dict[str, int] = {}
    body = ByteWriter()
    times = [_ms(r["t"]) for r in rows]
    t0 = times[0] if times else 0
    body.ints(np.diff(np.asarray(times, dtype=np.int64), prepend=np.int64(0)))
    per: dict[str, int] = {}
    for col in columns:
        values = [r.get(col) for r in rows]
        if col in numeric:
            per[col] = _decimals([v for v in values if v is not None])
            body.section(varint_encode(_nullable(values, 10.0 ** -per[col])))
        else:
            codes = [strings.setdefault(json.dumps(v), len(strings)) for v in values]
            body.ints(codes)
    header = {"t0": t0, "columns": columns, "numeric": numeric, "decimals": per, "strings": list(strings)}
    return _pack(header, body.getvalue(), compressor)


def _decimals(values: list[float]) -> int:
    """Decimal places (1 to 3) that keep every value: derived values are rounded by their producer."""
    for places in (1, 2):
        if all(abs(round(v * 10**places) - v * 10**places) < 1e-6 for v in values):
            return places
    return 3


def decode_vitals(blob: bytes) -> list[dict[str, Any]]:
    if bytes(blob[:4]) == _HOT_MAGIC:
        return list(orjson.loads(bytes(blob)[4:]))
    header, body = _unpack(blob)
    times = np.cumsum(body.ints(), dtype=np.int64).astype(np.float64) / _ARRIVAL_PER_S
    n = times.size
    strings = [json.loads(s) for s in header["strings"]]
    cols: dict[str, list[Any]] = {}
    decimals = header.get("decimals", {})
    for col in header["columns"]:
        if col in header["numeric"]:
            cols[col] = _from_nullable(varint_decode(body.section(), n), 10 ** decimals.get(col, 1))
        else:
            cols[col] = [strings[c] for c in body.ints(n).tolist()]
    names = header["columns"]
    return [{"t": t, **{c: cols[c][i] for c in names}} for i, t in enumerate(times.tolist())]


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value))


def iter_messages(entries: Iterable[Entry]) -> Iterable[tuple[float, Message]]:
    """Only the messages of decoded entries (markers left out)."""
    for arrival, item in entries:
        if not isinstance(item, Marker):
            yield arrival, item
