"""Per-stream chunk assembly: duplicates, overlaps, out-of-order chunks and gaps, handled explicitly.

A ``StreamAssembler`` turns the chunks of one waveform stream, as they arrive, into a gap-free sequence of
``Segment`` objects numbered by absolute sample index, and tells the caller about each gap. It is pure: the
station time ``now`` is passed in, so replays give the same result (see docs/mqtt.md, "Delivery").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from monitor.messages import WaveChunk

__all__ = ["Segment", "Drop", "StreamAssembler"]

#: A chunk more than this many seconds behind the stream is taken as a device restart or clock jump.
RESTART_BEHIND_S = 5.0


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """Contiguous samples ``start .. start+len-1`` (absolute index), or a gap of ``gap`` samples before them.

    ``restart`` means the stream begins anew (first chunk, ``fs`` change, device restart): the consumer
    should reset its detectors. ``gap`` > 0 means ``gap`` samples are missing right before ``start``.
    """

    start: int
    samples: np.ndarray
    fs: float
    arrival: float
    gap: int = 0
    restart: bool = False

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


@dataclass(frozen=True, slots=True)
class Drop:
    reason: Literal["duplicate", "late"]


@dataclass
class StreamAssembler:
    """Assembles one stream (bed, stream, lead). ``reorder_window`` is in seconds of station time."""

    reorder_window: float = 0.5
    tolerance_s: float = 0.02
    fs: float = 0.0
    next_index: int = 0
    next_ts: float = 0.0
    last_seq: int | None = None
    last_arrival: float = float("-inf")
    _pending: list[tuple[WaveChunk, float]] = field(default_factory=list)
    _recent: deque[tuple[float, int | None]] = field(default_factory=lambda: deque(maxlen=64))

    def offer(self, chunk: WaveChunk, now: float) -> list[Segment | Drop]:
        """Take one chunk that arrived at station time ``now``; return what is now ready, in order."""
        if self.fs == 0.0 or chunk.fs != self.fs:
            self._pending.clear()
            return [self._accept(chunk, now, restart=True)] + self._drain()
        if self._is_duplicate(chunk):
            return [Drop("duplicate")]
        offset = self._offset(chunk)
        n = len(chunk.samples)
        if offset < -RESTART_BEHIND_S * self.fs:
            self._pending.clear()
            return [self._accept(chunk, now, restart=True)] + self._drain()
        if offset <= -n:
            return [Drop("late")]
        if offset < 0:
            trimmed = chunk.samples[-offset:]
            out: list[Segment | Drop] = [self._accept(chunk, now, samples=trimmed, ts=self.next_ts)]
            return out + self._drain()
        if offset == 0:
            return [self._accept(chunk, now)] + self._drain()
        if any(p.seq is not None and p.seq == chunk.seq and p.ts == chunk.ts for p, _ in self._pending):
            return [Drop("duplicate")]
        self._pending.append((chunk, now))
        self._pending.sort(key=lambda item: item[0].ts)
        return self.flush(now)

    def flush(self, now: float) -> list[Segment | Drop]:
        """Release held chunks whose wait for the missing data has expired (call it on every tick).

        A released chunk keeps its own arrival time, so the result does not depend on when flush is called.
        """
        out: list[Segment | Drop] = []
        while self._pending and now - self._pending[0][1] >= self.reorder_window:
            chunk, arrival = self._pending.pop(0)
            offset = self._offset(chunk)
            if offset > 0:
                out.append(self._accept(chunk, arrival, gap=offset))
            else:
                out.extend(self.offer(chunk, arrival))
            out.extend(self._drain())
        return out

    def deadline(self) -> float | None:
        """Station time at which the oldest held chunk stops waiting (``None`` if nothing is held)."""
        return self._pending[0][1] + self.reorder_window if self._pending else None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _offset(self, chunk: WaveChunk) -> int:
        """Samples between the next expected sample and this chunk's first sample."""
        if chunk.seq is not None and self.last_seq is not None and chunk.seq == self.last_seq + 1:
            drift = (chunk.ts - self.next_ts) * self.fs
            if abs(drift) <= self.tolerance_s * self.fs + 1.5:
                return 0
        delta = (chunk.ts - self.next_ts) * self.fs
        if abs(delta) <= max(1.5, self.tolerance_s * self.fs):
            return 0
        return int(round(delta))

    def _is_duplicate(self, chunk: WaveChunk) -> bool:
        if (chunk.seq is not None and self.last_seq is not None and chunk.seq == self.last_seq + 1
                and abs(chunk.ts - self.next_ts) * self.fs < 1.5):
            return False  # the common case, the next chunk in order: no need to scan the recent ones
        for ts, seq in self._recent:
            if chunk.seq is not None and seq is not None:
                if seq == chunk.seq and abs(ts - chunk.ts) * self.fs < 1.5:
                    return True
            elif abs(ts - chunk.ts) * self.fs < 1.5:
                return True
        return False

    def _accept(
        self,
        chunk: WaveChunk,
        now: float,
        *,
        samples: np.ndarray | None = None,
        ts: float | None = None,
        gap: int = 0,
        restart: bool = False,
    ) -> Segment:
        data = chunk.samples if samples is None else samples
        first_ts = chunk.ts if ts is None else ts
        if restart:
            self.fs = chunk.fs
            self.next_index = 0
            self.last_arrival = float("-inf")
            self._recent.clear()
        start = self.next_index + gap
        self.last_arrival = max(now, self.last_arrival)
        segment = Segment(start=start, samples=data, fs=chunk.fs, arrival=self.last_arrival, gap=gap, restart=restart)
        self.next_index = start + len(data)
        self.next_ts = first_ts + len(data) / chunk.fs
        self.last_seq = chunk.seq
        self._recent.append((chunk.ts, chunk.seq))
        return segment

    def _drain(self) -> list[Segment | Drop]:
        """Take held chunks that have become contiguous (or duplicate/late) after an accept."""
        out: list[Segment | Drop] = []
        while self._pending and self._offset(self._pending[0][0]) <= 0:
            chunk, arrival = self._pending.pop(0)
            out.extend(self.offer(chunk, arrival))
        return out
