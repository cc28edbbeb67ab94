"""The replay service: an asyncio Ray actor hosting one shard of each of its tables.

All calls run on the actor's event loop, one at a time between awaits, so a table is never
touched by two calls at once and needs no locks. A call that must wait (rate limiter, too
few items, a full queue) awaits the table's condition with its timeout; waiting yields the
loop, so the writers that would unblock it keep getting through. Every state change wakes
the table's waiters.
"""

from __future__ import annotations

import asyncio
import collections
import time
from pathlib import Path
from typing import Any

import numpy as np

from relayrl.platform.replay import checkpoint as ckpt
from relayrl.platform.replay.config import TableConfig
from relayrl.platform.replay.errors import ReplayConfigError, ReplayError, ReplayTimeoutError
from relayrl.platform.replay.table import ShardSample, TableShard


def _process_memory() -> dict[str, int]:
    """Resident memory of this process: total, and anonymous only (Linux).

    Anonymous memory is what the tables own; the total also counts pages of Ray's shared
    object store that arguments and results pass through.
    """
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "RssAnon:")):
                    key = "rss_bytes" if line.startswith("VmRSS") else "rss_anon_bytes"
                    out[key] = int(line.split()[1]) * 1024
    except OSError:
        import resource

        out["rss_bytes"] = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
    return out


class _Stats:
    """Blocked time and throughput of one table shard (wall clock, not checkpointed)."""

    WINDOW_S = 30.0

    def __init__(self, inserts: int = 0, samples: int = 0) -> None:
        self.blocked_insert_s = 0.0
        self.blocked_sample_s = 0.0
        self.waiting: dict[int, tuple[str, float]] = {}  # call id -> (kind, since)
        # (time, inserts, samples) at most once a second; rates span the last ~30 s.
        self.marks: collections.deque[tuple[float, int, int]] = collections.deque(
            [(time.monotonic(), inserts, samples)])

    def mark(self, inserts: int, samples: int) -> None:
        now = time.monotonic()
        if not self.marks or now - self.marks[-1][0] >= 1.0:
            self.marks.append((now, inserts, samples))
        while len(self.marks) > 1 and now - self.marks[1][0] > self.WINDOW_S:
            self.marks.popleft()

    def rates(self, inserts: int, samples: int) -> tuple[float, float]:
        now = time.monotonic()
        t0, i0, s0 = self.marks[0]
        dt = max(now - t0, 1e-9)
        return (inserts - i0) / dt, (samples - s0) / dt

    def blocked(self) -> tuple[float, float]:
        now = time.monotonic()
        ins = sum(now - t for k, t in self.waiting.values() if k == "insert")
        smp = sum(now - t for k, t in self.waiting.values() if k == "sample")
        return self.blocked_insert_s + ins, self.blocked_sample_s + smp


class ReplayService:
    """Hosts shard ``actor_index`` of every table with more than ``actor_index`` shards."""

    def __init__(self, tables: list[TableConfig], actor_index: int = 0, num_actors: int = 1):
        self.configs = list(tables)
        self.actor_index = actor_index
        self.num_actors = num_actors
        self.shards: dict[str, TableShard] = {
            c.name: TableShard(c, actor_index) for c in tables if c.num_shards > actor_index
        }
        self.conditions: dict[str, asyncio.Condition] = {}
        self.stats = {name: _Stats() for name in self.shards}
        self._call_ids = 0

    # ---- helpers ----------------------------------------------------------------------------

    def _shard(self, table: str) -> TableShard:
        shard = self.shards.get(table)
        if shard is None:
            raise ReplayError(f"replay actor {self.actor_index} has no table {table!r}; its "
                              f"tables are {sorted(self.shards)}")
        return shard

    def _cond(self, table: str) -> asyncio.Condition:
        if table not in self.conditions:
            self.conditions[table] = asyncio.Condition()
        return self.conditions[table]

    async def _wait(self, table: str, kind: str, ready, deadline: float | None, describe) -> None:
        """Wait until ``ready()``; raise ReplayTimeoutError (built by ``describe``) at deadline."""
        if ready():
            return
        cond, st = self._cond(table), self.stats[table]
        self._call_ids += 1
        call, since = self._call_ids, time.monotonic()
        st.waiting[call] = (kind, since)
        try:
            while not ready():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise describe()
                try:
                    await asyncio.wait_for(cond.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
        finally:
            del st.waiting[call]
            blocked = time.monotonic() - since
            if kind == "insert":
                st.blocked_insert_s += blocked
            else:
                st.blocked_sample_s += blocked

    def _changed(self, table: str) -> None:
        """Record throughput and wake the table's waiters (the caller holds its condition)."""
        shard = self.shards[table]
        self.stats[table].mark(shard.limiter.inserts, shard.limiter.samples)
        self._cond(table).notify_all()

    @staticmethod
    def _deadline(timeout: float | None) -> float | None:
        return None if timeout is None else time.monotonic() + max(0.0, float(timeout))

    # ---- calls ------------------------------------------------------------------------------

    async def ping(self) -> int:
        return self.actor_index

    async def table_configs(self) -> list[TableConfig]:
        return self.configs

    async def insert(self, table: str, items: Any, priorities: Any = None,
                     timeout: float | None = None) -> int:
        """Insert a chunk of items; waits (up to ``timeout``) while the rate limiter blocks."""
        shard = self._shard(table)
        deadline = self._deadline(timeout)
        pending = shard.prepare_insert(items, priorities)
        cond = self._cond(table)
        async with cond:
            while pending.done < pending.num_items:
                def timed_out(p=pending):
                    return ReplayTimeoutError(
                        f"table {table!r}: insert timed out after {timeout} s with {p.done} of "
                        f"{p.num_items} items in; rate limiter: {shard.limiter.describe()}. "
                        f"Samples must catch up (samples_per_insert) or consume the queue; "
                        f"raise error_buffer / queue size or the timeout")
                await self._wait(table, "insert", lambda: shard.insertable() > 0, deadline,
                                 timed_out)
                shard.insert(pending, shard.insertable())
                self._changed(table)
        return pending.num_items

    def _check_batch(self, shard: TableShard, n: int, episodes: bool) -> None:
        c = shard.config
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ReplayError(f"table {c.name!r}: batch size {n!r} must be an int >= 1")
        if episodes and c.kind != "episode":
            raise ReplayError(f"table {c.name!r} holds {c.kind}s; use sample(), not "
                              f"sample_episodes()")
        if not episodes and c.kind == "episode":
            raise ReplayError(f"table {c.name!r} holds whole episodes; use sample_episodes()")
        most = shard.limiter.max_batch()
        if n > most:
            raise ReplayConfigError(
                f"table {c.name!r}: a batch of {n} can never be sampled from a shard whose rate "
                f"limiter allows at most {most:g} at once ({c.rate_limiter}); sample smaller "
                f"batches or widen the limiter (error_buffer / queue size)")
        if c.sampler in ("fifo", "lifo") and n > shard.capacity:
            raise ReplayConfigError(
                f"table {c.name!r}: {c.sampler} sampler hands out distinct items, so a batch of "
                f"{n} exceeds the shard capacity {shard.capacity}")

    async def _sample(self, table: str, n: int, timeout: float | None,
                      episodes: bool) -> ShardSample:
        shard = self._shard(table)
        self._check_batch(shard, n, episodes)
        deadline = self._deadline(timeout)

        def timed_out():
            return ReplayTimeoutError(
                f"table {table!r}: sample of {n} timed out after {timeout} s; the shard holds "
                f"{shard.size} items (mass {shard.mass():g}); rate limiter: "
                f"{shard.limiter.describe()}. Insert more data, lower min_size_to_sample or "
                f"samples_per_insert, or raise the timeout")

        cond = self._cond(table)
        async with cond:
            await self._wait(table, "sample", lambda: shard.can_sample(n), deadline, timed_out)
            out = shard.sample(n)
            self._changed(table)
        return out

    async def sample(self, table: str, n: int, timeout: float | None = None) -> ShardSample:
        return await self._sample(table, n, timeout, episodes=False)

    async def sample_episodes(self, table: str, n: int,
                              timeout: float | None = None) -> ShardSample:
        return await self._sample(table, n, timeout, episodes=True)

    async def mass(self, table: str, with_seed: bool = False) -> tuple[int, float, int | None]:
        """(items, total sampling mass, seed) of this shard, for the client's split of a batch.

        The seed for the split comes from the shard's own (checkpointed) generator, so a
        restored service splits batches exactly as the original would have.
        """
        shard = self._shard(table)
        seed = int(shard.rng.integers(1 << 62)) if with_seed else None
        return shard.size, shard.mass(), seed

    async def update_priorities(self, table: str, keys: np.ndarray, priorities: np.ndarray) -> int:
        shard = self._shard(table)
        async with self._cond(table):
            n = shard.update_priorities(keys, priorities)
            self._changed(table)
        return n

    async def info(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, shard in self.shards.items():
            st = self.stats[name]
            d = shard.info()
            d["inserts_per_s"], d["samples_per_s"] = st.rates(shard.limiter.inserts,
                                                              shard.limiter.samples)
            d["blocked_insert_s"], d["blocked_sample_s"] = st.blocked()
            out[name] = d
        return out

    async def memory(self) -> dict[str, int]:
        """Resident memory of this actor's process and the array bytes of each hosted table."""
        out = _process_memory()
        out.update({f"table_bytes/{n}": s.nbytes for n, s in self.shards.items()})
        return out

    # ---- checkpoint -------------------------------------------------------------------------

    async def save(self, tmp: str) -> dict[str, dict[str, Any]]:
        """Write every hosted shard into ``tmp``; no await inside, so the snapshot is atomic."""
        files: dict[str, dict[str, Any]] = {}
        for name, shard in self.shards.items():
            meta, arrays = shard.state()
            files.update(ckpt.write_shard(tmp, name, self.actor_index, meta, arrays))
        return files

    async def verify(self, path: str, manifest: dict[str, Any]) -> None:
        prefixes = [ckpt.shard_dir_name(n, self.actor_index) for n in self.shards]
        ckpt.verify_files(Path(path), manifest, prefixes)

    async def load(self, path: str) -> None:
        states = {n: ckpt.read_shard(Path(path), n, self.actor_index) for n in self.shards}
        for name, (meta, arrays) in states.items():
            async with self._cond(name):
                shard = self.shards[name]
                shard.load_state(meta, arrays)
                self.stats[name] = _Stats(shard.limiter.inserts, shard.limiter.samples)
                self._changed(name)
