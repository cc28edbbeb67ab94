"""One shard of one replay table, in-process and without Ray.

Storage is columnar: one numpy array per field with the item slot as leading axis
(transition: ``[capacity, *shape]``, sequence: ``[capacity, L, *shape]``); whole episodes are
variable-length, so an episode table keeps one dict of arrays per slot. Live slots are kept
in a dense array so a uniform draw is one ``integers`` call; priorities sit in a sum tree.
Nothing scans the table at sample time.

An item key is ``(seq * capacity + slot) * num_shards + shard``: unique across shards and
over time, and it tells the client which shard owns it and the shard which slot holds it
(a key whose slot now holds another item is stale and ignored).

The shard never blocks: ``insertable()`` and ``can_sample()`` say what the rate limiter
allows, and the service actor does the waiting.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from relayrl.platform.replay.config import Field, FrameStackField, TableConfig
from relayrl.platform.replay.errors import ReplayError, SignatureError
from relayrl.platform.replay.frames import FrameRing
from relayrl.platform.replay.order import KeyOrder
from relayrl.platform.replay.rate_limiter import RateLimiterState
from relayrl.platform.replay.trees import MinTree, SumTree


@dataclasses.dataclass
class PendingInsert:
    """Validated items of one insert call, inserted progressively as the limiter allows."""

    num_items: int
    columns: dict[str, np.ndarray] | None  # transition / sequence kinds
    episodes: list[dict[str, np.ndarray]] | None  # episode kind
    priorities: np.ndarray  # [B] raw priorities
    frame_seqs: np.ndarray | None = None  # [B, n] frame sequence numbers the items use
    done: int = 0


@dataclasses.dataclass
class ShardSample:
    """What one shard hands back for a sample; the client merges shards into a SampleBatch."""

    keys: np.ndarray  # [n] int64
    mass: np.ndarray  # [n] sampling mass of each item (p^alpha, or 1)
    times_sampled: np.ndarray  # [n]
    total_mass: float  # shard's total mass when the batch was drawn
    size: int  # shard's number of items when the batch was drawn
    data: dict[str, np.ndarray] | None = None  # transition / sequence kinds
    episodes: list[dict[str, np.ndarray]] | None = None  # episode kind


class TableShard:
    def __init__(self, config: TableConfig, shard_index: int = 0):
        c = config
        if not 0 <= shard_index < c.num_shards:
            raise ReplayError(f"table {c.name!r}: shard_index {shard_index} not in "
                              f"[0, {c.num_shards})")
        self.config = c
        self.name = c.name
        self.shard_index = shard_index
        self.num_shards = c.num_shards
        self.capacity = cap = c.shard_capacity
        self.rng = np.random.default_rng(np.random.SeedSequence([c.seed, shard_index]))
        self.limiter = RateLimiterState(c.shard_limiter_bounds)
        self.alpha = float(c.priority_exponent)
        self.max_times = int(c.max_times_sampled)

        self.slot_key = np.full(cap, -1, dtype=np.int64)
        self.priority = np.zeros(cap, dtype=np.float64)
        self.times_sampled = np.zeros(cap, dtype=np.int64)
        self.live = np.zeros(cap, dtype=np.int64)  # dense list of occupied slots
        self.live_pos = np.full(cap, -1, dtype=np.int64)
        self.size = 0
        self.free = np.arange(cap - 1, -1, -1, dtype=np.int64)  # stack, top at the end
        self.num_free = cap
        self.next_seq = 0
        self.max_priority = 1.0
        self.budget = 0  # samples left before max_times_sampled removes everything
        self.total_steps = 0  # episode kind
        self.order = KeyOrder(cap, self._alive)
        self.sum_tree = SumTree(cap) if c.sampler == "prioritized" else None
        self.min_tree = MinTree(cap) if c.remover == "lowest_priority" else None

        self.frame_field: FrameStackField | None = c.frame_field
        self.frames: FrameRing | None = None
        self.columns: dict[str, np.ndarray] = {}
        self.episodes: list[dict[str, np.ndarray] | None] = []
        lead = (c.sequence_length,) if c.kind == "sequence" else ()
        self._step_lead = lead
        if c.kind == "episode":
            self.episodes = [None] * cap
        else:
            for entry in c.signature:
                if isinstance(entry, FrameStackField):
                    for n in entry.names:
                        self.columns[n] = np.zeros((cap, *lead, entry.stack), dtype=np.int64)
                else:
                    self.columns[entry.name] = np.zeros((cap, *lead, *entry.shape),
                                                        dtype=entry.dtype)
            ff = self.frame_field
            if ff is not None:
                self.frames = FrameRing(c.frame_capacity(), ff.frame_shape, ff.dtype)

    # ---- keys and slots ---------------------------------------------------------------------

    def _keys_for(self, seqs: np.ndarray, slots: np.ndarray) -> np.ndarray:
        return (seqs * self.capacity + slots) * self.num_shards + self.shard_index

    def _slots_of(self, keys: np.ndarray) -> np.ndarray:
        return (keys // self.num_shards) % self.capacity

    def _seq_of(self, keys: np.ndarray) -> np.ndarray:
        return keys // self.num_shards // self.capacity

    def _alive(self, keys: np.ndarray) -> np.ndarray:
        return self.slot_key[self._slots_of(keys)] == keys

    # ---- validation -------------------------------------------------------------------------

    def _err(self, field: str, expected: str, got: str) -> SignatureError:
        return SignatureError(f"table {self.name!r}, field {field!r}: expected {expected}, "
                              f"got {got}")

    def _check_names(self, items: dict, expected: list[str], what: str) -> None:
        if not isinstance(items, dict):
            raise SignatureError(f"table {self.name!r}: {what} must be a dict of arrays, got "
                                 f"{type(items).__name__}")
        missing = [n for n in expected if n not in items]
        extra = [n for n in items if n not in expected]
        if missing or extra:
            raise SignatureError(
                f"table {self.name!r}: {what} has missing fields {missing} and unexpected "
                f"fields {extra}; the signature expects {expected}")

    def _check_array(self, name: str, x: Any, shape: tuple, dtype: str | None,
                     lead: int | None) -> np.ndarray:
        """``x`` must be an array ``[lead?, *shape]`` of exactly ``dtype`` (any int if None)."""
        if not isinstance(x, np.ndarray):
            raise self._err(name, "a numpy array", type(x).__name__)
        if dtype is None:
            if x.dtype.kind not in "iu":
                raise self._err(name, "an integer array of frame indices", f"dtype {x.dtype}")
        elif x.dtype != np.dtype(dtype):
            raise self._err(name, f"dtype {dtype}", f"dtype {x.dtype}")
        want = "[N, " + ", ".join(str(s) for s in shape) + "]" if shape else "[N]"
        if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
            raise self._err(name, f"shape {want}", f"shape {list(x.shape)}")
        if lead is not None and x.shape[0] != lead:
            raise self._err(name, f"leading size {lead} like the other fields",
                            f"{x.shape[0]}")
        return x

    def _expected_names(self) -> list[str]:
        names = list(self.config.field_names)
        if self.frame_field is not None:
            names.append("frames")
        return names

    def _check_priorities(self, priorities: Any, n: int) -> np.ndarray:
        if priorities is None:
            return np.full(n, self.max_priority, dtype=np.float64)
        p = np.asarray(priorities, dtype=np.float64)
        if p.shape != (n,) or not np.all(np.isfinite(p)) or np.any(p < 0):
            raise ReplayError(f"table {self.name!r}: priorities must be {n} finite numbers >= 0 "
                              f"(one per item), got shape {list(p.shape)}")
        return p

    # ---- insert -----------------------------------------------------------------------------

    def prepare_insert(self, items: Any, priorities: Any = None) -> PendingInsert:
        """Check ``items`` against the signature; store their frames. Items go in later."""
        if self.config.kind == "episode":
            return self._prepare_episodes(items, priorities)
        self._check_names(items, self._expected_names(), "the inserted batch")
        lead = self._step_lead
        n: int | None = None
        cols: dict[str, np.ndarray] = {}
        for entry in self.config.signature:
            if isinstance(entry, Field):
                x = self._check_array(entry.name, items[entry.name], lead + entry.shape,
                                      entry.dtype, n)
                n = x.shape[0]
                cols[entry.name] = x
        ff = self.frame_field
        frame_seqs = None
        if ff is not None:
            frames = self._check_array("frames", items["frames"], ff.frame_shape, ff.dtype, None)
            idx = {}
            for name in ff.names:
                x = self._check_array(name, items[name], lead + (ff.stack,), None, n)
                n = x.shape[0]
                if x.size and (x.min() < 0 or x.max() >= len(frames)):
                    raise self._err(name, f"frame indices in [0, {len(frames)}) (rows of "
                                          f"'frames')", f"range [{x.min()}, {x.max()}]")
                idx[name] = x
            assert n is not None and self.frames is not None
            seqs, new_rows = self.frames.plan(frames)
            self._evict_through(self.frames.items_to_evict(len(new_rows)))
            self.frames.write(frames[new_rows])
            for name, x in idx.items():
                cols[name] = seqs[x]
            frame_seqs = np.concatenate([cols[k].reshape(n, -1) for k in ff.names], axis=1)
        assert n is not None
        if n == 0:
            raise SignatureError(f"table {self.name!r}: the inserted batch holds no items")
        return PendingInsert(n, cols, None, self._check_priorities(priorities, n), frame_seqs)

    def _prepare_episodes(self, items: Any, priorities: Any) -> PendingInsert:
        episodes = [items] if isinstance(items, dict) else list(items)
        if not episodes:
            raise SignatureError(f"table {self.name!r}: no episodes to insert")
        c, ff = self.config, self.frame_field
        kept = []
        for e, ep in enumerate(episodes):
            self._check_names(ep, self._expected_names(), f"episode {e}")
            T = None
            out = {}
            for entry in c.signature:
                if isinstance(entry, Field):
                    x = self._check_array(entry.name, ep[entry.name], entry.shape, entry.dtype, T)
                    T = x.shape[0]
                    out[entry.name] = np.array(x, copy=True)
            if ff is not None:
                frames = self._check_array("frames", ep["frames"], ff.frame_shape, ff.dtype, None)
                for name in ff.names:
                    x = self._check_array(name, ep[name], (ff.stack,), None, T)
                    T = x.shape[0]
                    if x.size and (x.min() < 0 or x.max() >= len(frames)):
                        raise self._err(name, f"frame indices in [0, {len(frames)})",
                                        f"range [{x.min()}, {x.max()}]")
                    out[name] = x.astype(np.int64)
                out["frames"] = np.array(frames, copy=True)
            assert T is not None
            if T == 0:
                raise SignatureError(f"table {self.name!r}: episode {e} has no steps")
            if c.max_episode_length is not None and T > c.max_episode_length:
                raise SignatureError(
                    f"table {self.name!r}: episode {e} has {T} steps, more than "
                    f"max_episode_length={c.max_episode_length}; split it (EpisodeAdder does)")
            if c.max_total_steps is not None and T > c.max_total_steps:
                raise SignatureError(
                    f"table {self.name!r}: episode {e} has {T} steps, more than "
                    f"max_total_steps={c.max_total_steps}")
            kept.append(out)
        return PendingInsert(len(kept), None, kept, self._check_priorities(priorities, len(kept)))

    def insertable(self) -> int:
        return self.limiter.insertable()

    def insert(self, pending: PendingInsert, k: int | None = None) -> np.ndarray:
        """Insert the next ``k`` items of ``pending`` (all left if None); returns their keys.

        The caller has checked ``insertable()``; this only makes room and writes.
        """
        left = pending.num_items - pending.done
        k = left if k is None else min(k, left)
        out = []
        # Episodes go in one by one so the step bound makes room for each in turn.
        step = 1 if pending.episodes is not None else self.capacity
        while k > 0:
            m = min(k, step)
            rows = slice(pending.done, pending.done + m)
            if pending.frame_seqs is not None and self.frames is not None:
                if pending.frame_seqs[rows].min() < self.frames.oldest_alive:
                    raise ReplayError(
                        f"table {self.name!r}: frames of a blocked insert were overwritten while "
                        f"it waited; raise FrameStackField.frame_capacity")
            out.append(self._insert_rows(pending, rows, m))
            pending.done += m
            k -= m
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def _insert_rows(self, pending: PendingInsert, rows: slice, m: int) -> np.ndarray:
        if pending.episodes is not None:
            self._make_room_steps(self._episode_steps_needed(pending.episodes[rows]))
        self._make_room(m)
        slots = self.free[self.num_free - m:self.num_free][::-1].copy()
        self.num_free -= m
        seqs = np.arange(self.next_seq, self.next_seq + m, dtype=np.int64)
        self.next_seq += m
        keys = self._keys_for(seqs, slots)
        if pending.columns is not None:
            for name, col in self.columns.items():
                col[slots] = pending.columns[name][rows]
        else:
            for slot, ep in zip(slots.tolist(), pending.episodes[rows]):
                self.episodes[slot] = ep
                self.total_steps += self._episode_length(ep)
        p = pending.priorities[rows]
        self.slot_key[slots] = keys
        self.priority[slots] = p
        self.times_sampled[slots] = 0
        self.live[self.size:self.size + m] = slots
        self.live_pos[slots] = np.arange(self.size, self.size + m)
        self.size += m
        self.order.push(keys)
        if self.sum_tree is not None:
            self.sum_tree.set(slots, p ** self.alpha)
        if self.min_tree is not None:
            self.min_tree.set(slots, p)
        if pending.frame_seqs is not None and self.frames is not None:
            self.frames.reference(pending.frame_seqs[rows], seqs)
        if len(p):
            self.max_priority = max(self.max_priority, float(p.max()))
        self.budget += m * self.max_times
        self.limiter.inserts += m
        self.limiter.observe()
        return keys

    def _episode_length(self, ep: dict[str, np.ndarray]) -> int:
        for name in self.config.field_names:
            return int(len(ep[name]))
        return 0

    def _episode_steps_needed(self, eps: list[dict[str, np.ndarray]]) -> int:
        return sum(self._episode_length(ep) for ep in eps)

    def _make_room_steps(self, new_steps: int) -> None:
        limit = self.config.max_total_steps
        if limit is None:
            return
        while self.size and self.total_steps + new_steps > limit:
            self._remove(self._victims(1))

    def _make_room(self, m: int) -> None:
        if self.num_free < m:
            self._remove(self._victims(m - self.num_free))

    def _victims(self, k: int) -> np.ndarray:
        """Slots the remover frees next."""
        if self.config.remover == "fifo":
            return self._slots_of(self.order.oldest(k))
        assert self.min_tree is not None
        out = []
        for _ in range(min(k, self.size)):
            slot = self.min_tree.argmin()
            out.append(slot)
            self.min_tree.set(np.array([slot]), np.inf)
        return np.array(out, dtype=np.int64)

    def _evict_through(self, item_seq: int) -> None:
        """Remove, oldest first, every item with sequence number <= ``item_seq``."""
        while item_seq >= 0 and self.size:
            keys = self.order.oldest(min(self.size, 256))
            old = keys[self._seq_of(keys) <= item_seq]
            if not len(old):
                return
            self._remove(self._slots_of(old))
            if len(old) < len(keys):
                return

    def _remove(self, slots: np.ndarray) -> None:
        slots = np.unique(np.asarray(slots, dtype=np.int64))
        slots = slots[self.slot_key[slots] >= 0]
        if not len(slots):
            return
        if self.max_times:
            self.budget -= int(np.sum(self.max_times - self.times_sampled[slots]))
        for s in slots.tolist():  # swap-remove from the dense live list
            pos = self.live_pos[s]
            last = self.live[self.size - 1]
            self.live[pos] = last
            self.live_pos[last] = pos
            self.live_pos[s] = -1
            self.size -= 1
            if self.episodes:
                ep = self.episodes[s]
                self.total_steps -= self._episode_length(ep)
                self.episodes[s] = None
        self.slot_key[slots] = -1
        self.free[self.num_free:self.num_free + len(slots)] = slots
        self.num_free += len(slots)
        if self.sum_tree is not None:
            self.sum_tree.set(slots, 0.0)
        if self.min_tree is not None:
            self.min_tree.set(slots, np.inf)
        self.limiter.deletes += len(slots)

    # ---- sample -----------------------------------------------------------------------------

    def can_sample(self, n: int) -> bool:
        if not self.size or not self.limiter.can_sample(n):
            return False
        if self.config.sampler in ("fifo", "lifo") and self.size < n:
            return False
        if self.max_times and self.budget < n:
            return False
        if self.sum_tree is not None and self.sum_tree.total <= 0:
            return False
        return True

    def mass(self) -> float:
        """Total sampling mass: sum of p^alpha (prioritized) or the number of items."""
        if self.sum_tree is not None:
            return self.sum_tree.total
        return float(self.size)

    def sample(self, n: int) -> ShardSample:
        """Draw ``n`` items; the caller has checked ``can_sample(n)``."""
        size, total = self.size, self.mass()
        parts = []
        need = n
        while need > 0:
            slots, mass = self._draw(need)
            if self.max_times:
                slots, mass = self._within_budget(slots, mass)
            np.add.at(self.times_sampled, slots, 1)
            parts.append(self._gather(slots, mass))
            if self.max_times:
                self.budget -= len(slots)
                done = slots[self.times_sampled[slots] >= self.max_times]
                self._remove(done)
            need -= len(slots)
        self.limiter.samples += n
        self.limiter.observe()
        return self._concat(parts, total, size)

    def _draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        sampler = self.config.sampler
        if sampler == "uniform":
            return self.live[self.rng.integers(0, self.size, n)], np.ones(n)
        if sampler == "prioritized":
            assert self.sum_tree is not None
            u = self.rng.random(n) * self.sum_tree.total
            slots = self.sum_tree.find(u)
            return slots, self.sum_tree.get(slots)
        keys = self.order.oldest(n) if sampler == "fifo" else self.order.newest(n)
        return self._slots_of(keys), np.ones(len(keys))

    def _within_budget(self, slots: np.ndarray, mass: np.ndarray):
        """Keep each slot's draws up to what ``max_times_sampled`` still allows."""
        order = np.argsort(slots, kind="stable")
        sorted_slots = slots[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_slots)) + 1]
        run = np.repeat(starts, np.diff(np.r_[starts, len(slots)]))
        rank = np.empty(len(slots), dtype=np.int64)
        rank[order] = np.arange(len(slots)) - run
        keep = rank < (self.max_times - self.times_sampled[slots])
        return slots[keep], mass[keep]

    def _gather(self, slots: np.ndarray, mass: np.ndarray) -> ShardSample:
        keys = self.slot_key[slots].copy()
        times = self.times_sampled[slots].copy()
        if self.config.kind == "episode":
            eps = []
            for slot in slots.tolist():
                ep = self.episodes[slot]
                assert ep is not None
                out = {k: v for k, v in ep.items() if k != "frames"}
                if self.frame_field is not None:
                    for name in self.frame_field.names:
                        out[name] = ep["frames"][ep[name]]
                eps.append(out)
            return ShardSample(keys, mass, times, 0.0, 0, episodes=eps)
        data = {}
        ff = self.frame_field
        for name, col in self.columns.items():
            if ff is not None and name in ff.names:
                assert self.frames is not None
                data[name] = self.frames.gather(col[slots])
            else:
                data[name] = col[slots]
        return ShardSample(keys, mass, times, 0.0, 0, data=data)

    @staticmethod
    def _concat(parts: list[ShardSample], total: float, size: int) -> ShardSample:
        if len(parts) == 1:
            p = parts[0]
            p.total_mass, p.size = total, size
            return p
        cat = np.concatenate
        first = parts[0]
        data = ({k: cat([p.data[k] for p in parts]) for k in first.data}
                if first.data is not None else None)
        eps = [e for p in parts for e in p.episodes] if first.episodes is not None else None
        return ShardSample(cat([p.keys for p in parts]), cat([p.mass for p in parts]),
                           cat([p.times_sampled for p in parts]), total, size, data, eps)

    # ---- priorities -------------------------------------------------------------------------

    def update_priorities(self, keys: np.ndarray, priorities: np.ndarray) -> int:
        """Set priorities of the items still present; returns how many were updated."""
        keys = np.asarray(keys, dtype=np.int64)
        p = np.asarray(priorities, dtype=np.float64)
        mine = (keys % self.num_shards) == self.shard_index
        keys, p = keys[mine], p[mine]
        slots = self._slots_of(keys)
        ok = self.slot_key[slots] == keys
        slots, p = slots[ok], p[ok]
        if not len(slots):
            return 0
        self.priority[slots] = p
        if self.sum_tree is not None:
            self.sum_tree.set(slots, p ** self.alpha)
        if self.min_tree is not None:
            self.min_tree.set(slots, p)
        self.max_priority = max(self.max_priority, float(p.max()))
        return int(len(slots))

    # ---- info and state ---------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Bytes held by this shard's arrays (frames included)."""
        total = sum(a.nbytes for a in (self.slot_key, self.priority, self.times_sampled,
                                       self.live, self.live_pos, self.free, self.order.keys))
        total += sum(c.nbytes for c in self.columns.values())
        for tree in (self.sum_tree, self.min_tree):
            if tree is not None:
                total += tree.nodes.nbytes
        if self.frames is not None:
            total += self.frames.nbytes
        for ep in self.episodes:
            if ep is not None:
                total += sum(a.nbytes for a in ep.values())
        return int(total)

    def info(self) -> dict[str, Any]:
        out = {
            "size": self.size, "capacity": self.capacity,
            "num_inserts": self.limiter.inserts, "num_samples": self.limiter.samples,
            "num_deletes": self.limiter.deletes, "mass": self.mass(),
            "rate_limiter": self.limiter.state(), "nbytes": self.nbytes,
        }
        if self.config.kind == "episode":
            out["total_steps"] = self.total_steps
        if self.frames is not None:
            out["frames_stored"] = min(self.frames.written, self.frames.capacity)
            out["frames_written"] = self.frames.written
        return out

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Everything needed to continue exactly: JSON-able metadata and arrays."""
        occupied = np.flatnonzero(self.slot_key >= 0)
        meta = {
            "table": self.name, "shard_index": self.shard_index,
            "size": self.size, "num_free": self.num_free, "next_seq": self.next_seq,
            "max_priority": self.max_priority, "budget": self.budget,
            "total_steps": self.total_steps, "limiter": self.limiter.state(),
            "rng": self.rng.bit_generator.state,
        }
        arrays = {
            "occupied": occupied, "slot_key": self.slot_key[occupied],
            "priority": self.priority[occupied], "times_sampled": self.times_sampled[occupied],
            "live": self.live[:self.size].copy(), "free": self.free[:self.num_free].copy(),
            "order": self.order.state(),
        }
        for name, col in self.columns.items():
            arrays["col_" + name] = col[occupied]
        if self.config.kind == "episode":
            eps = [self.episodes[s] for s in occupied.tolist()]
            names = list(self.config.field_names) + (["frames"] if self.frame_field else [])
            for name in names:
                arrays["ep_" + name] = (np.concatenate([e[name] for e in eps]) if eps
                                        else np.zeros(0))
                arrays["eplen_" + name] = np.array([len(e[name]) for e in eps], dtype=np.int64)
        if self.frames is not None:
            fmeta, farrays = self.frames.state()
            meta["frames"] = fmeta
            arrays.update(farrays)
        return meta, arrays

    def load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        cap = self.capacity
        occupied = arrays["occupied"].astype(np.int64)
        self.slot_key[:] = -1
        self.priority[:] = 0.0
        self.times_sampled[:] = 0
        self.slot_key[occupied] = arrays["slot_key"]
        self.priority[occupied] = arrays["priority"]
        self.times_sampled[occupied] = arrays["times_sampled"]
        self.size = int(meta["size"])
        self.live[:self.size] = arrays["live"]
        self.live_pos[:] = -1
        self.live_pos[self.live[:self.size]] = np.arange(self.size)
        self.num_free = int(meta["num_free"])
        self.free[:self.num_free] = arrays["free"]
        self.order.load(arrays["order"])
        self.next_seq = int(meta["next_seq"])
        self.max_priority = float(meta["max_priority"])
        self.budget = int(meta["budget"])
        self.total_steps = int(meta["total_steps"])
        self.limiter.load(meta["limiter"])
        self.rng.bit_generator.state = meta["rng"]
        for name, col in self.columns.items():
            col[occupied] = arrays["col_" + name]
        if self.config.kind == "episode":
            self.episodes = [None] * cap
            names = list(self.config.field_names) + (["frames"] if self.frame_field else [])
            splits = {n: np.cumsum(arrays["eplen_" + n])[:-1] for n in names}
            pieces = {n: np.split(arrays["ep_" + n], splits[n]) if len(occupied) else []
                      for n in names}
            for i, slot in enumerate(occupied.tolist()):
                self.episodes[slot] = {n: pieces[n][i].copy() for n in names}
        live_slots = self.live[:self.size]
        if self.sum_tree is not None:
            leaf = np.zeros(cap)
            leaf[live_slots] = self.priority[live_slots] ** self.alpha
            self.sum_tree.load(leaf)
        if self.min_tree is not None:
            leaf = np.full(cap, np.inf)
            leaf[live_slots] = self.priority[live_slots]
            self.min_tree.load(leaf)
        if self.frames is not None:
            self.frames.load(meta["frames"], arrays)
