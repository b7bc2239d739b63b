"""Chunk assembly: duplicates, overlaps, reordering, gaps and restarts are handled explicitly."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from monitor.messages import WaveChunk
from monitor.stream import Drop, Segment, StreamAssembler

FS = 250.0


def chunk(i: int, n: int = 50, seq: bool = True, t0: float = 1000.0) -> WaveChunk:
    samples = np.arange(i * n, (i + 1) * n, dtype=float)
    return WaveChunk("b", "ecg", t0 + i * n / FS, FS, samples, seq=i if seq else None)


def segments(items: list[Segment | Drop]) -> list[Segment]:
    return [x for x in items if isinstance(x, Segment)]


def test_in_order_chunks_are_contiguous() -> None:
    asm = StreamAssembler()
    out = []
    for i in range(5):
        out += asm.offer(chunk(i), now=i * 0.2)
    segs = segments(out)
    assert segs[0].restart and not any(s.restart for s in segs[1:])
    assert np.array_equal(np.concatenate([s.samples for s in segs]), np.arange(250.0))
    assert [s.start for s in segs] == [0, 50, 100, 150, 200]


def test_duplicate_is_dropped_with_or_without_seq() -> None:
    for seq in (True, False):
        asm = StreamAssembler()
        asm.offer(chunk(0, seq=seq), 0.0)
        asm.offer(chunk(1, seq=seq), 0.2)
        assert asm.offer(chunk(1, seq=seq), 0.3) == [Drop("duplicate")]


def test_overlap_is_trimmed() -> None:
    asm = StreamAssembler()
    asm.offer(chunk(0), 0.0)
    overlapping = WaveChunk("b", "ecg", 1000.0 + 30 / FS, FS, np.arange(30, 80, dtype=float))
    (seg,) = segments(asm.offer(overlapping, 0.2))
    assert seg.start == 50 and np.array_equal(seg.samples, np.arange(50, 80.0))


def test_out_of_order_chunk_is_reordered_within_the_window() -> None:
    asm = StreamAssembler(reorder_window=0.5)
    asm.offer(chunk(0), 0.0)
    assert asm.offer(chunk(2), 0.1) == []  # held: chunk 1 is missing
    out = segments(asm.offer(chunk(1), 0.2))  # chunk 1 arrives late but within the window
    assert [s.start for s in out] == [50, 100] and all(s.gap == 0 for s in out)


def test_missing_chunk_becomes_a_gap_after_the_window_and_late_chunk_is_dropped() -> None:
    asm = StreamAssembler(reorder_window=0.5)
    asm.offer(chunk(0), 0.0)
    assert asm.offer(chunk(2), 0.1) == []
    assert asm.flush(0.3) == []
    assert asm.deadline() == 0.6
    (seg,) = segments(asm.flush(0.7))
    assert seg.gap == 50 and seg.start == 100 and seg.arrival == 0.1
    assert asm.offer(chunk(1), 0.8) == [Drop("late")]


def test_fs_change_and_clock_jump_restart_the_stream() -> None:
    asm = StreamAssembler()
    asm.offer(chunk(0), 0.0)
    other = WaveChunk("b", "ecg", 1000.2, 500.0, np.zeros(100))
    (seg,) = segments(asm.offer(other, 0.2))
    assert seg.restart and seg.start == 0
    back = WaveChunk("b", "ecg", 900.0, 500.0, np.zeros(100))
    (seg,) = segments(asm.offer(back, 0.4))
    assert seg.restart


@given(order=st.permutations(list(range(8))), dup=st.lists(st.integers(0, 7), max_size=4))
def test_any_arrival_order_within_the_window_gives_the_whole_signal(order: list[int], dup: list[int]) -> None:
    asm = StreamAssembler(reorder_window=10.0)
    out: list[Segment | Drop] = asm.offer(chunk(0), 0.0)
    arrivals = [i + 1 for i in order] + [d + 1 for d in dup]
    for k, i in enumerate(arrivals):
        out += asm.offer(chunk(i), 0.01 * (k + 1))
    out += asm.flush(100.0)
    data = np.concatenate([s.samples for s in segments(out)])
    assert np.array_equal(data, np.arange(9 * 50, dtype=float))
    assert all(s.gap == 0 for s in segments(out))
