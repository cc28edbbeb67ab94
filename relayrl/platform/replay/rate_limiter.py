"""Rate-limiter state: Reverb's rule for when an insert or a sample may go through.

With ``cursor = inserts * samples_per_insert - samples`` (``size = inserts - deletes``):

- an insert of ``n`` items may proceed when the table would still be at or below
  ``min_size_to_sample`` afterwards, or when ``(inserts + n) * spi - samples <= max_diff``;
- a sample of ``n`` items may proceed when ``size >= min_size_to_sample`` and
  ``cursor - n >= min_diff``.

This module is pure bookkeeping; waiting happens in the service actor.
"""

from __future__ import annotations

import math

from relayrl.platform.replay.config import LimiterBounds


class RateLimiterState:
    def __init__(self, bounds: LimiterBounds):
        self.bounds = bounds
        self.inserts = 0
        self.samples = 0
        self.deletes = 0
        # Lowest and highest cursor seen after an operation with the table at min size or
        # more: the rate limiter's guarantee, made observable.
        self.observed = [math.inf, -math.inf]

    def observe(self) -> None:
        if self.size >= self.bounds.min_size_to_sample:
            c = self.cursor
            self.observed = [min(self.observed[0], c), max(self.observed[1], c)]

    @property
    def size(self) -> int:
        return self.inserts - self.deletes

    @property
    def cursor(self) -> float:
        return self.inserts * self.bounds.samples_per_insert - self.samples

    def insertable(self) -> int:
        """How many of the next items may be inserted now (deletes only ever raise this)."""
        b = self.bounds
        free = b.min_size_to_sample - self.size
        if math.isinf(b.max_diff):
            return 1 << 62
        by_ratio = math.floor((b.max_diff + self.samples) / b.samples_per_insert + 1e-9)
        return max(0, free, by_ratio - self.inserts)

    def can_sample(self, n: int) -> bool:
        b = self.bounds
        return self.size >= b.min_size_to_sample and self.cursor - n >= b.min_diff

    def max_batch(self) -> float:
        """The largest sample batch that can ever go through (inserts stop near max_diff)."""
        b = self.bounds
        if math.isinf(b.max_diff) or math.isinf(b.min_diff):
            return math.inf
        spi = b.samples_per_insert
        # Inserts stop once one more would pass max_diff, i.e. at cursor > max_diff - spi.
        # With whole-number spi and bounds the cursor is whole and reaches max_diff - spi + 1.
        whole = float(spi).is_integer() and float(b.max_diff).is_integer() and float(
            b.min_diff).is_integer()
        return b.max_diff - b.min_diff - spi + (1 if whole else 0)

    def state(self) -> dict:
        b = self.bounds
        return {
            "inserts": self.inserts, "samples": self.samples, "deletes": self.deletes,
            "cursor": self.cursor, "samples_per_insert": b.samples_per_insert,
            "min_size_to_sample": b.min_size_to_sample, "min_diff": b.min_diff,
            "max_diff": b.max_diff, "observed_min_cursor": self.observed[0],
            "observed_max_cursor": self.observed[1],
        }

    def describe(self) -> str:
        b = self.bounds
        return (f"size={self.size}, inserts={self.inserts}, samples={self.samples}, "
                f"cursor={self.cursor:g} (allowed [{b.min_diff:g}, {b.max_diff:g}], "
                f"samples_per_insert={b.samples_per_insert:g}, "
                f"min_size_to_sample={b.min_size_to_sample})")

    def load(self, state: dict) -> None:
        self.inserts = int(state["inserts"])
        self.samples = int(state["samples"])
        self.deletes = int(state["deletes"])
        self.observed = [float(state["observed_min_cursor"]), float(state["observed_max_cursor"])]
