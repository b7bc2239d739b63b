"""Serve chunks of any length from a signal rendered in fixed blocks of absolute sample index.

Rendering one second at a time costs about what rendering a 250 ms chunk costs (numpy overhead dominates),
and fixed block boundaries keep the output independent of how callers cut it into chunks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["BlockRenderer"]

Render = Callable[[int, int], dict[str, np.ndarray]]


class BlockRenderer:
    """Caches the current block of ``render(start, n)``; reads must move forward (or stay in the block)."""

    def __init__(self, render: Render, block: int) -> None:
        self._render = render
        self._block = block
        self._index = -1
        self._data: dict[str, np.ndarray] = {}

    def take(self, start: int, n: int) -> dict[str, np.ndarray]:
        """Samples ``start .. start + n - 1`` of every channel."""
        parts: list[dict[str, np.ndarray]] = []
        position, end = start, start + n
        while position < end:
            b, offset = divmod(position, self._block)
            if b != self._index:
                if b < self._index:
                    raise ValueError(f"block {b} requested after block {self._index}: read forward only")
                self._data = self._render(b * self._block, self._block)
                self._index = b
            count = min(end - position, self._block - offset)
            parts.append({k: v[offset : offset + count] for k, v in self._data.items()})
            position += count
        if not parts:
            return {k: np.zeros(0) for k in self._data}
        if len(parts) == 1:
            return {k: v.copy() for k, v in parts[0].items()}
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
