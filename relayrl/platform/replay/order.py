"""Insertion order of items, for the FIFO remover and the FIFO / LIFO samplers.

A ring of item keys in insertion order. Items removed out of order (sampled to their
``max_times_sampled``, lowest priority) stay in the ring as dead entries and are skipped,
then dropped once they reach an end; when the ring fills up it is compacted to the live keys.
The ring is twice the table's capacity, so compaction is rare and amortised O(1) per insert.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class KeyOrder:
    def __init__(self, capacity: int, alive: Callable[[np.ndarray], np.ndarray]):
        self.size = 2 * int(capacity) + 2
        self.keys = np.zeros(self.size, dtype=np.int64)
        self.head = 0  # index of the oldest entry (monotone counter)
        self.tail = 0  # one past the newest entry
        self._alive = alive

    def __len__(self) -> int:
        return self.tail - self.head

    def _view(self, lo: int, hi: int) -> np.ndarray:
        return self.keys[np.arange(lo, hi) % self.size]

    def push(self, keys: np.ndarray) -> None:
        if len(self) + len(keys) > self.size:
            self.compact()
        self.keys[np.arange(self.tail, self.tail + len(keys)) % self.size] = keys
        self.tail += len(keys)

    def compact(self) -> None:
        entries = self._view(self.head, self.tail)
        live = entries[self._alive(entries)]
        self.head, self.tail = 0, len(live)
        self.keys[: len(live)] = live

    def oldest(self, k: int) -> np.ndarray:
        """The ``k`` oldest live keys (fewer if fewer are live), oldest first."""
        found: list[np.ndarray] = []
        got, pos, block = 0, self.head, max(2 * k, 64)
        while got < k and pos < self.tail:
            entries = self._view(pos, min(pos + block, self.tail))
            ok = self._alive(entries)
            if pos == self.head:  # drop the dead prefix for good
                first = int(np.argmax(ok)) if ok.any() else len(entries)
                self.head += first
            live = entries[ok][: k - got]
            found.append(live)
            got += len(live)
            pos += len(entries)
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def newest(self, k: int) -> np.ndarray:
        """The ``k`` newest live keys (fewer if fewer are live), newest first."""
        found: list[np.ndarray] = []
        got, pos, block = 0, self.tail, max(2 * k, 64)
        while got < k and pos > self.head:
            lo = max(pos - block, self.head)
            entries = self._view(lo, pos)[::-1]
            ok = self._alive(entries)
            if pos == self.tail:  # drop the dead suffix for good
                first = int(np.argmax(ok)) if ok.any() else len(entries)
                self.tail -= first
            live = entries[ok][: k - got]
            found.append(live)
            got += len(live)
            pos = lo
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def state(self) -> np.ndarray:
        return self._view(self.head, self.tail)

    def load(self, entries: np.ndarray) -> None:
        self.head, self.tail = 0, len(entries)
        self.keys[: len(entries)] = entries
