"""What a learner gets back from ``sample``, and how shard samples become one batch.

Probabilities and importance weights are computed over the whole table, not per shard:
with shard ``j`` holding ``N_j`` items of total mass ``M_j`` (sum of ``p^alpha``),

    P(i) = p_i^alpha / sum_j M_j                 (prioritized; 1 / N for uniform)
    w_i  = (N * P(i))^-beta / max_k w_k          N = sum_j N_j, max over the batch

as in prioritized experience replay (Schaul et al. 2016, eq. 1 and the IS correction).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from relayrl.platform.replay.config import TableConfig
from relayrl.platform.replay.table import ShardSample


@dataclasses.dataclass
class SampleBatch:
    keys: np.ndarray  # [B] int64, unique across shards; pass back to update_priorities
    data: dict[str, np.ndarray]  # [B, ...] per field, frame stacks rebuilt
    probabilities: np.ndarray  # [B] P(i) over the whole table
    weights: np.ndarray  # [B] importance weights (ones unless prioritized)
    times_sampled: np.ndarray  # [B] including this sample

    def __len__(self) -> int:
        return len(self.keys)


def probabilities_and_weights(config: TableConfig, mass: np.ndarray, total_mass: float,
                              size: int) -> tuple[np.ndarray, np.ndarray]:
    """``P(i)`` and ``w_i`` for items drawn with sampling mass ``mass`` (see module doc)."""
    n = len(mass)
    if config.sampler == "prioritized":
        prob = mass / total_mass
        w = (size * prob) ** (-float(config.importance_sampling_exponent))
        return prob, (w / w.max() if n else w)
    if config.sampler == "uniform":
        return np.full(n, 1.0 / size), np.ones(n)
    # FIFO / LIFO pick deterministically.
    return np.ones(n), np.ones(n)


def merge(config: TableConfig, parts: Sequence[ShardSample], other_size: int = 0,
          other_mass: float = 0.0) -> SampleBatch:
    """One batch from shard samples; ``other_*`` count shards that were not asked this time."""
    size = sum(p.size for p in parts) + other_size
    total = sum(p.total_mass for p in parts) + other_mass
    mass = np.concatenate([p.mass for p in parts])
    prob, weights = probabilities_and_weights(config, mass, total, size)
    data = {k: (np.concatenate([p.data[k] for p in parts]) if len(parts) > 1 else parts[0].data[k])
            for k in parts[0].data}
    return SampleBatch(
        keys=np.concatenate([p.keys for p in parts]),
        data=data,
        probabilities=prob.astype(np.float64),
        weights=weights.astype(np.float32),
        times_sampled=np.concatenate([p.times_sampled for p in parts]),
    )


def merge_episodes(config: TableConfig, parts: Sequence[ShardSample], other_size: int = 0,
                   other_mass: float = 0.0) -> list[dict]:
    """Episodes as dicts of ``[T, ...]`` arrays plus ``key``, ``probability``, ``weight``."""
    size = sum(p.size for p in parts) + other_size
    total = sum(p.total_mass for p in parts) + other_mass
    mass = np.concatenate([p.mass for p in parts])
    prob, weights = probabilities_and_weights(config, mass, total, size)
    keys = np.concatenate([p.keys for p in parts])
    episodes = [ep for p in parts for ep in p.episodes]
    out = []
    for ep, k, pr, w in zip(episodes, keys.tolist(), prob.tolist(), weights.tolist()):
        ep = dict(ep)
        ep["key"], ep["probability"], ep["weight"] = k, pr, w
        out.append(ep)
    return out
