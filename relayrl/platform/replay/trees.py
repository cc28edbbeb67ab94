"""Vectorised segment trees over item slots: a sum tree (prioritized sampling) and a min tree
(the lowest-priority remover).

Both are a flat array of ``2 * P`` nodes (``P`` = capacity rounded up to a power of two),
leaves at ``[P, 2P)``, node ``i`` combining ``2i`` and ``2i + 1``. Updates recompute the
touched parents from their children level by level (no running deltas, so no float drift);
a batch of ``B`` updates or searches costs ``O(B log P)`` numpy work, not Python loops.
"""

from __future__ import annotations

import numpy as np


class _Tree:
    def __init__(self, capacity: int, neutral: float):
        self.capacity = int(capacity)
        self.leaves = 1 << max(0, (self.capacity - 1).bit_length())
        self.depth = self.leaves.bit_length() - 1
        self.neutral = neutral
        self.nodes = np.full(2 * self.leaves, neutral, dtype=np.float64)

    def _combine(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def set(self, slots: np.ndarray, values: np.ndarray | float) -> None:
        """Set leaves ``slots`` to ``values`` and refresh their ancestors."""
        pos = np.asarray(slots, dtype=np.int64) + self.leaves
        if pos.size == 0:
            return
        self.nodes[pos] = values
        pos = np.unique(pos >> 1)
        while pos.size and pos[-1] >= 1:
            self.nodes[pos] = self._combine(self.nodes[2 * pos], self.nodes[2 * pos + 1])
            if pos[0] == 1:
                break
            pos = np.unique(pos >> 1)

    def get(self, slots: np.ndarray) -> np.ndarray:
        return self.nodes[np.asarray(slots, dtype=np.int64) + self.leaves]

    def load(self, leaf_values: np.ndarray) -> None:
        """Rebuild the whole tree from ``capacity`` leaf values (after a restore)."""
        self.nodes[:] = self.neutral
        self.nodes[self.leaves:self.leaves + self.capacity] = leaf_values
        lo = self.leaves
        while lo > 1:
            hi, lo = lo, lo // 2
            self.nodes[lo:hi] = self._combine(self.nodes[2 * lo:2 * hi:2],
                                              self.nodes[2 * lo + 1:2 * hi:2])


class SumTree(_Tree):
    """Sum of leaf masses; ``find`` maps uniform draws in ``[0, total)`` to leaves."""

    def __init__(self, capacity: int):
        super().__init__(capacity, 0.0)

    def _combine(self, left, right):
        return left + right

    @property
    def total(self) -> float:
        return float(self.nodes[1])

    def find(self, u: np.ndarray) -> np.ndarray:
        """Leaves ``i`` with ``prefix(i) <= u < prefix(i) + mass(i)`` for each draw ``u``.

        A step to the right needs positive mass there, so rounding at the top end can never
        land on an empty leaf.
        """
        u = np.array(u, dtype=np.float64, copy=True)
        idx = np.ones(u.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * idx
            left_mass = self.nodes[left]
            right = (u >= left_mass) & (self.nodes[left + 1] > 0)
            u -= np.where(right, left_mass, 0.0)
            idx = left + right
        return idx - self.leaves


class MinTree(_Tree):
    """Minimum over leaves (empty leaves hold +inf); ``argmin`` finds the lowest slot."""

    def __init__(self, capacity: int):
        super().__init__(capacity, np.inf)

    def _combine(self, left, right):
        return np.minimum(left, right)

    def argmin(self) -> int:
        idx = 1
        nodes = self.nodes
        for _ in range(self.depth):
            idx = 2 * idx if nodes[2 * idx] <= nodes[2 * idx + 1] else 2 * idx + 1
        return idx - self.leaves
