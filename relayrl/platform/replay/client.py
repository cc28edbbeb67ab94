"""The replay client: the only object learners and rollout workers hold.

It hides actor handles and shards. Each insert call goes to one shard, round robin. A sample from a table with ``K > 1`` shards
first asks every shard for its item count and total mass, splits the batch over shards with
one multinomial draw on those masses, then fetches each shard's part: an item's chance is
its share of its shard's mass times the shard's share of the total, i.e. its share of the
total, so uniform stays uniform and prioritized stays proportional to ``p^alpha``.

The split's random seed is drawn by shard 0 and routing starts at shard 0, so every random
choice lives in the (checkpointed) service and a restored service continues exactly.

The client pickles (handles and configs travel, nothing else), so it can be passed to rollout
worker and learner actors; only the copy that created the actors may close them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import ray

from relayrl.platform.replay import checkpoint as ckpt
from relayrl.platform.replay.batch import SampleBatch, merge, merge_episodes
from relayrl.platform.replay.config import TableConfig
from relayrl.platform.replay.errors import (
    CheckpointError,
    ReplayConfigError,
    ReplayError,
    ReplayTimeoutError,
)
from relayrl.platform.replay.service import ReplayService


def _get(refs):
    """``ray.get`` that re-raises our own errors as themselves, not wrapped in RayTaskError."""
    try:
        return ray.get(refs)
    except ray.exceptions.RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, ReplayError):
            raise cause from None
        raise


class ReplayClient:
    def __init__(self, actors: Sequence[Any], configs: Sequence[TableConfig], *,
                 name: str | None = None, owner: bool = False):
        self._actors = list(actors)
        self._configs = {c.name: c for c in configs}
        self._name = name
        self._owner = owner
        self._init_local()

    def _init_local(self) -> None:
        self._next_shard = dict.fromkeys(self._configs, 0)

    def __getstate__(self) -> dict[str, Any]:
        return {"actors": self._actors, "configs": list(self._configs.values()),
                "name": self._name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["actors"], state["configs"], name=state["name"], owner=False)

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def create(cls, tables: Sequence[TableConfig], *, num_cpus: float = 0.5,
               name: str | None = None, placement: str | Sequence[Any] | None = None,
               ) -> ReplayClient:
        """Start the service actors (one per shard index) and return a client for them.

        ``placement``: None (Ray decides), ``"spread"`` (shard actors on different nodes when
        possible) or one Ray scheduling strategy per actor, e.g.
        ``NodeAffinitySchedulingStrategy(node_id, soft=False)``.
        """
        tables = list(tables)
        if not tables or not all(isinstance(t, TableConfig) for t in tables):
            raise ReplayConfigError(f"ReplayClient.create needs a non-empty list of TableConfig, "
                                    f"got {tables!r}")
        names = [t.name for t in tables]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ReplayConfigError(f"ReplayClient.create: table names {dupes} appear twice")
        if not isinstance(num_cpus, (int, float)) or num_cpus < 0:
            raise ReplayConfigError(f"ReplayClient.create: num_cpus={num_cpus!r} must be >= 0")
        num_actors = max(t.num_shards for t in tables)
        if placement is None or placement == "spread":
            strategies = [None if placement is None else "SPREAD"] * num_actors
        elif isinstance(placement, str):
            raise ReplayConfigError(f"ReplayClient.create: placement={placement!r} is unknown; "
                                    f"use None, 'spread' or one scheduling strategy per actor")
        else:
            strategies = list(placement)
            if len(strategies) != num_actors:
                raise ReplayConfigError(
                    f"ReplayClient.create: placement has {len(strategies)} entries but the "
                    f"tables need {num_actors} actors (one per shard index)")
        remote_cls = ray.remote(ReplayService)
        actors = []
        for j in range(num_actors):
            opts: dict[str, Any] = {"num_cpus": num_cpus, "max_concurrency": 1000}
            if name is not None:
                opts["name"] = f"{name}:{j}"
            if strategies[j] is not None:
                opts["scheduling_strategy"] = strategies[j]
            actors.append(remote_cls.options(**opts).remote(tables, j, num_actors))
        _get([a.ping.remote() for a in actors])  # surface construction errors here
        return cls(actors, tables, name=name, owner=True)

    @classmethod
    def connect(cls, name: str, *, namespace: str | None = None) -> ReplayClient:
        """A client for the service started elsewhere with ``create(..., name=name)``."""
        try:
            first = ray.get_actor(f"{name}:0", namespace=namespace)
        except ValueError:
            raise ReplayError(f"no replay service named {name!r} is running (in namespace "
                              f"{namespace or ray.get_runtime_context().namespace!r})") from None
        configs = _get(first.table_configs.remote())
        num_actors = max(c.num_shards for c in configs)
        actors = [first] + [ray.get_actor(f"{name}:{j}", namespace=namespace)
                            for j in range(1, num_actors)]
        return cls(actors, configs, name=name, owner=False)

    def close(self) -> None:
        """Kill the service actors, if this client created them."""
        if self._owner:
            for a in self._actors:
                ray.kill(a)
            self._owner = False
        self._actors = []

    # ---- helpers ----------------------------------------------------------------------------

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(self._configs)

    def table_config(self, table: str) -> TableConfig:
        try:
            return self._configs[table]
        except KeyError:
            raise ReplayError(f"no replay table {table!r}; tables are "
                              f"{sorted(self._configs)}") from None

    def _shards(self, table: str) -> list[Any]:
        return self._actors[: self.table_config(table).num_shards]

    def _route(self, table: str) -> Any:
        c = self.table_config(table)
        j = self._next_shard[table]
        self._next_shard[table] = (j + 1) % c.num_shards
        return self._actors[j]

    # ---- insert -----------------------------------------------------------------------------

    def insert_async(self, table: str, items: Any, priorities: np.ndarray | None = None,
                     timeout: float | None = None) -> ray.ObjectRef:
        """Send one chunk without waiting; ``ray.get`` the ref for errors and completion."""
        return self._route(table).insert.remote(table, items, priorities, timeout)

    def insert(self, table: str, items: Any, priorities: np.ndarray | None = None,
               timeout: float | None = None) -> int:
        """Insert a chunk (blocks up to ``timeout`` while the rate limiter does)."""
        return _get(self.insert_async(table, items, priorities, timeout))

    # ---- sample -----------------------------------------------------------------------------

    def sample(self, table: str, batch_size: int, timeout: float | None = None) -> SampleBatch:
        c = self.table_config(table)
        if c.num_shards == 1:
            return merge(c, [_get(self._actors[0].sample.remote(table, batch_size, timeout))])
        parts, other_size, other_mass = self._sharded(table, batch_size, timeout, "sample")
        return merge(c, parts, other_size, other_mass)

    def sample_episodes(self, table: str, n: int, timeout: float | None = None) -> list[dict]:
        c = self.table_config(table)
        if c.num_shards == 1:
            part = _get(self._actors[0].sample_episodes.remote(table, n, timeout))
            return merge_episodes(c, [part])
        parts, other_size, other_mass = self._sharded(table, n, timeout, "sample_episodes")
        return merge_episodes(c, parts, other_size, other_mass)

    def _sharded(self, table: str, n: int, timeout: float | None, method: str):
        c = self.table_config(table)
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ReplayError(f"table {table!r}: batch size {n!r} must be an int >= 1")
        actors = self._shards(table)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.002
        while True:
            stats = _get([a.mass.remote(table, j == 0) for j, a in enumerate(actors)])
            sizes = np.array([s[0] for s in stats], dtype=np.int64)
            masses = np.array([s[1] for s in stats], dtype=np.float64)
            if masses.sum() > 0:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise ReplayTimeoutError(
                    f"table {table!r}: {method} of {n} timed out after {timeout} s; all "
                    f"{len(actors)} shards are empty (or have zero priority mass)")
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        if c.sampler in ("fifo", "lifo"):
            counts = _split_by_size(n, sizes)
        else:
            counts = np.random.default_rng(stats[0][2]).multinomial(n, masses / masses.sum())
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        asked = [j for j in range(len(actors)) if counts[j] > 0]
        refs = [getattr(actors[j], method).remote(table, int(counts[j]), remaining)
                for j in asked]
        parts = _get(refs)
        others = [j for j in range(len(actors)) if counts[j] == 0]
        return parts, int(sizes[others].sum()), float(masses[others].sum())

    # ---- priorities, info -------------------------------------------------------------------

    def update_priorities(self, table: str, keys: np.ndarray, priorities: np.ndarray, *,
                          wait: bool = False) -> int | None:
        """Set new priorities; keys of items removed meanwhile are ignored by their shard.

        Fire and forget by default, so a learner never waits on it; as with any call into an
        async actor, a later sample may then run before the update lands. ``wait=True``
        returns once applied (the number of items updated), for reproducible runs.
        """
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        p = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if keys.shape != p.shape or not np.all(np.isfinite(p)) or np.any(p < 0):
            raise ReplayError(f"table {table!r}: update_priorities needs one finite priority >= 0 "
                              f"per key; got {keys.size} keys and priorities of shape "
                              f"{list(np.shape(priorities))} (min {np.min(p) if p.size else None})")
        actors = self._shards(table)
        k = len(actors)
        refs = []
        for j, actor in enumerate(actors):
            mine = (keys % k) == j if k > 1 else slice(None)
            if k == 1 or np.any(mine):
                refs.append(actor.update_priorities.remote(table, keys[mine], p[mine]))
        return sum(_get(refs)) if wait else None

    def info(self, table: str | None = None) -> dict[str, dict[str, Any]]:
        """Per table: size, capacity, counts, rates, blocked time, rate-limiter state."""
        per_actor = _get([a.info.remote() for a in self._actors])
        names = [table] if table is not None else list(self._configs)
        out = {}
        for name in names:
            c = self.table_config(name)
            shards = [per_actor[j][name] for j in range(c.num_shards)]
            out[name] = _combine_info(c, shards)
        return out

    def memory(self) -> list[dict[str, int]]:
        """Per service actor: process RSS and array bytes of each table shard it hosts."""
        return _get([a.memory.remote() for a in self._actors])

    # ---- checkpoint -------------------------------------------------------------------------

    def checkpoint(self, directory: str) -> str:
        """Write every table to a new checkpoint under ``directory``; returns its path."""
        tmp = ckpt.begin(directory)
        try:
            files: dict[str, Any] = {}
            for part in _get([a.save.remote(str(tmp)) for a in self._actors]):
                files.update(part)
            final = ckpt.commit(directory, tmp, list(self._configs.values()), files)
        except BaseException:
            ckpt.abort(tmp)
            raise
        return str(final)

    def restore(self, directory: str) -> str:
        """Load the latest checkpoint in ``directory`` (or that checkpoint); returns its path."""
        path, manifest = ckpt.resolve(directory)
        ckpt.check_tables(path, manifest, list(self._configs.values()))
        try:
            _get([a.verify.remote(str(path), manifest) for a in self._actors])
        except CheckpointError:
            raise
        _get([a.load.remote(str(path)) for a in self._actors])
        return str(path)


def _split_by_size(n: int, sizes: np.ndarray) -> np.ndarray:
    """FIFO/LIFO over shards: shares proportional to size, never more than a shard holds."""
    total = sizes.sum()
    exact = n * sizes / total
    counts = np.minimum(np.floor(exact).astype(np.int64), sizes)
    order = np.argsort(-(exact - counts))
    for j in order:
        if counts.sum() >= n:
            break
        if counts[j] < sizes[j]:
            counts[j] += 1
    i = 0
    while counts.sum() < n:  # not enough items anywhere yet: the shards will wait
        counts[i % len(counts)] += 1
        i += 1
    return counts


def _combine_info(config: TableConfig, shards: list[dict[str, Any]]) -> dict[str, Any]:
    def total(key):
        return sum(s[key] for s in shards)

    num_inserts, num_samples = total("num_inserts"), total("num_samples")
    out = {
        "size": total("size"), "capacity": config.capacity,
        "num_inserts": num_inserts, "num_samples": num_samples,
        "num_deletes": total("num_deletes"),
        "inserts_per_s": total("inserts_per_s"), "samples_per_s": total("samples_per_s"),
        "samples_per_insert": num_samples / num_inserts if num_inserts else 0.0,
        "blocked_insert_s": total("blocked_insert_s"),
        "blocked_sample_s": total("blocked_sample_s"),
        "num_shards": config.num_shards, "nbytes": total("nbytes"),
        "rate_limiter": shards[0]["rate_limiter"] if len(shards) == 1
        else {"shards": [s["rate_limiter"] for s in shards]},
    }
    for key in ("total_steps", "frames_stored", "frames_written"):
        if key in shards[0]:
            out[key] = total(key)
    return out
