"""Table configuration: fields, rate limiters and the table itself, all frozen dataclasses.

Every check happens when the object is built, so a configuration that could never work
(an unknown sampler, a rate limiter whose error buffer would deadlock, a queue larger than
its table) fails at start with a message naming the option, its value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence

import numpy as np

from relayrl.platform.replay.errors import ReplayConfigError

KINDS = ("transition", "sequence", "episode")
SAMPLERS = ("uniform", "prioritized", "fifo", "lifo")
REMOVERS = ("fifo", "lowest_priority")
# Names the service uses itself in inserted or returned dicts.
RESERVED_NAMES = ("frames", "key", "probability", "weight")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ReplayConfigError(message)


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _dtype_name(owner: str, dtype: object) -> str:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ReplayConfigError(f"{owner}: dtype {dtype!r} is not a numpy dtype ({e})") from None
    _check(dt.kind in "biuf", f"{owner}: dtype {dt.name!r} is not allowed; use a bool, integer "
                              f"or floating dtype")
    return dt.name


def _shape(owner: str, shape: object) -> tuple[int, ...]:
    _check(isinstance(shape, (tuple, list)) and all(_is_int(s) and s >= 0 for s in shape),
           f"{owner}: shape {shape!r} must be a tuple of non-negative ints, e.g. () or (84, 84)")
    return tuple(int(s) for s in shape)  # type: ignore[union-attr]


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of an item (per step for sequences and episodes): name, shape, dtype."""

    name: str
    shape: tuple[int, ...] = ()
    dtype: str = "float32"

    def __post_init__(self) -> None:
        owner = f"Field {self.name!r}"
        _check(isinstance(self.name, str) and bool(_NAME.match(self.name)),
               f"Field name {self.name!r} must be a Python identifier")
        _check(self.name not in RESERVED_NAMES,
               f"{owner}: the name is reserved; reserved names are {RESERVED_NAMES}")
        object.__setattr__(self, "shape", _shape(owner, self.shape))
        object.__setattr__(self, "dtype", _dtype_name(owner, self.dtype))


@dataclasses.dataclass(frozen=True)
class FrameStackField:
    """An image observation whose stacked frames are stored once per frame.

    A table with one keeps a ring of frames; its items hold frame indices and ``sample``
    rebuilds ``[B, stack, *frame_shape]``. A field named ``obs`` implies ``next_obs`` too.
    ``frame_capacity`` is the size of the frame ring (all shards together). By default it is
    2% above one frame per transition (per ``L - overlap`` steps for sequences), which fits
    Atari-length episodes (repeats across chunks are stored once). With very short episodes,
    where each new episode adds its first frame, raise it, or items leave before the table
    is full (they never outlive their frames).
    """

    name: str = "obs"
    frame_shape: tuple[int, ...] = (84, 84)
    stack: int = 4
    dtype: str = "uint8"
    frame_capacity: int | None = None

    def __post_init__(self) -> None:
        owner = f"FrameStackField {self.name!r}"
        _check(isinstance(self.name, str) and bool(_NAME.match(self.name)),
               f"FrameStackField name {self.name!r} must be a Python identifier")
        _check(self.name not in RESERVED_NAMES,
               f"{owner}: the name is reserved; reserved names are {RESERVED_NAMES}")
        object.__setattr__(self, "frame_shape", _shape(owner, self.frame_shape))
        object.__setattr__(self, "dtype", _dtype_name(owner, self.dtype))
        _check(_is_int(self.stack) and self.stack >= 1,
               f"{owner}: stack={self.stack!r} must be an int >= 1")
        _check(self.frame_capacity is None or (_is_int(self.frame_capacity)
                                               and self.frame_capacity >= 1),
               f"{owner}: frame_capacity={self.frame_capacity!r} must be None or an int >= 1")

    @property
    def names(self) -> tuple[str, ...]:
        """The item fields this frame field provides (``obs`` brings ``next_obs``)."""
        return (self.name, "next_" + self.name) if self.name == "obs" else (self.name,)


SignatureEntry = Field | FrameStackField


@dataclasses.dataclass(frozen=True)
class LimiterBounds:
    """Reverb's rate-limiter parameters, shared by the three public limiters."""

    samples_per_insert: float
    min_size_to_sample: int
    min_diff: float
    max_diff: float


@dataclasses.dataclass(frozen=True)
class MinSize:
    """Block sampling until the table holds ``min_size`` items; inserts never block."""

    min_size: int = 1

    def __post_init__(self) -> None:
        _check(_is_int(self.min_size) and self.min_size >= 1,
               f"MinSize: min_size={self.min_size!r} must be an int >= 1")

    @property
    def min_size_to_sample(self) -> int:
        return int(self.min_size)

    def bounds(self) -> LimiterBounds:
        return LimiterBounds(1.0, int(self.min_size), -math.inf, math.inf)


@dataclasses.dataclass(frozen=True)
class SampleToInsertRatio:
    """Keep ``samples - samples_per_insert * inserts`` within ``error_buffer`` of its start.

    As in Reverb: below ``min_size_to_sample`` inserts are free and samples block; above it
    the cursor ``inserts * samples_per_insert - samples`` must stay within
    ``samples_per_insert * min_size_to_sample +- error_buffer``.
    """

    samples_per_insert: float
    min_size_to_sample: int
    error_buffer: float

    def __post_init__(self) -> None:
        spi, e = self.samples_per_insert, self.error_buffer
        _check(isinstance(spi, (int, float)) and not isinstance(spi, bool) and spi > 0,
               f"SampleToInsertRatio: samples_per_insert={spi!r} must be a number > 0")
        _check(_is_int(self.min_size_to_sample) and self.min_size_to_sample >= 1,
               f"SampleToInsertRatio: min_size_to_sample={self.min_size_to_sample!r} must be "
               f"an int >= 1")
        _check(isinstance(e, (int, float)) and not isinstance(e, bool),
               f"SampleToInsertRatio: error_buffer={e!r} must be a number")
        # With a window narrower than one insert (spi) or one sample (1), neither side can
        # ever move without overshooting the other bound: both would block forever.
        _check(e >= max(1.0, spi),
               f"SampleToInsertRatio: error_buffer={e!r} can deadlock; it must be >= "
               f"max(1, samples_per_insert) = {max(1.0, spi):g}")

    def bounds(self) -> LimiterBounds:
        offset = float(self.samples_per_insert) * self.min_size_to_sample
        return LimiterBounds(float(self.samples_per_insert), int(self.min_size_to_sample),
                             offset - float(self.error_buffer), offset + float(self.error_buffer))


@dataclasses.dataclass(frozen=True)
class Queue:
    """On-policy hand-off: at most ``size`` unsampled items; each sample consumes one slot."""

    size: int

    def __post_init__(self) -> None:
        _check(_is_int(self.size) and self.size >= 1,
               f"Queue: size={self.size!r} must be an int >= 1")

    @property
    def min_size_to_sample(self) -> int:
        return 1

    def bounds(self) -> LimiterBounds:
        return LimiterBounds(1.0, 1, 0.0, float(self.size))


RateLimiter = MinSize | SampleToInsertRatio | Queue


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableConfig:
    """One replay table. See the package docstring for what each option does."""

    name: str
    capacity: int  # items (transitions, sequences or episodes)
    kind: str = "transition"
    sequence_length: int | None = None  # steps per item, sequence kind only
    sequence_overlap: int = 0  # steps shared by consecutive sequences of one episode
    max_episode_length: int | None = None  # episode kind: longer episodes arrive in pieces
    max_total_steps: int | None = None  # episode kind: bound on stored steps over all episodes
    sampler: str = "uniform"
    priority_exponent: float = 0.6  # alpha: P(i) = p_i^alpha / sum_k p_k^alpha
    importance_sampling_exponent: float = 0.4  # beta: w_i = (N P(i))^-beta / max_j w_j
    remover: str = "fifo"
    max_times_sampled: int = 0  # 0 = unlimited
    rate_limiter: RateLimiter = dataclasses.field(default_factory=MinSize)
    signature: tuple[SignatureEntry, ...] = ()
    num_shards: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        n = f"TableConfig {self.name!r}"
        _check(isinstance(self.name, str) and bool(_NAME.match(self.name)),
               f"TableConfig name {self.name!r} must be a Python identifier (it names files "
               f"and metrics)")
        _check(_is_int(self.capacity) and self.capacity >= 1,
               f"{n}: capacity={self.capacity!r} must be an int >= 1")
        _check(self.kind in KINDS, f"{n}: kind={self.kind!r} is unknown; allowed: {KINDS}")
        self._check_kind(n)
        _check(self.sampler in SAMPLERS,
               f"{n}: sampler={self.sampler!r} is unknown; allowed: {SAMPLERS}")
        _check(self.remover in REMOVERS,
               f"{n}: remover={self.remover!r} is unknown; allowed: {REMOVERS}")
        _check(isinstance(self.priority_exponent, (int, float)) and self.priority_exponent >= 0,
               f"{n}: priority_exponent={self.priority_exponent!r} must be a number >= 0")
        beta = self.importance_sampling_exponent
        _check(isinstance(beta, (int, float)) and 0 <= beta <= 1,
               f"{n}: importance_sampling_exponent={beta!r} must be in [0, 1]")
        _check(_is_int(self.max_times_sampled) and self.max_times_sampled >= 0,
               f"{n}: max_times_sampled={self.max_times_sampled!r} must be an int >= 0 "
               f"(0 = unlimited)")
        _check(_is_int(self.num_shards) and 1 <= self.num_shards <= self.capacity,
               f"{n}: num_shards={self.num_shards!r} must be an int in [1, capacity]")
        _check(_is_int(self.seed) and self.seed >= 0, f"{n}: seed={self.seed!r} must be an int >= 0")
        self._check_rate_limiter(n)
        self._check_signature(n)

    def _check_kind(self, n: str) -> None:
        if self.kind == "sequence":
            L = self.sequence_length
            _check(_is_int(L) and L >= 1,
                   f"{n}: kind='sequence' needs sequence_length >= 1, got {L!r}")
            _check(_is_int(self.sequence_overlap) and 0 <= self.sequence_overlap < L,
                   f"{n}: sequence_overlap={self.sequence_overlap!r} must be an int in "
                   f"[0, sequence_length={L})")
        else:
            _check(self.sequence_length is None and self.sequence_overlap == 0,
                   f"{n}: sequence_length/sequence_overlap only apply to kind='sequence' "
                   f"(kind is {self.kind!r})")
        if self.kind == "episode":
            m, t = self.max_episode_length, self.max_total_steps
            _check(m is None or (_is_int(m) and m >= 1),
                   f"{n}: max_episode_length={m!r} must be None or an int >= 1")
            _check(t is None or (_is_int(t) and t >= 1),
                   f"{n}: max_total_steps={t!r} must be None or an int >= 1")
            _check(t is None or m is None or t >= m,
                   f"{n}: max_total_steps={t} is smaller than max_episode_length={m}; one "
                   f"episode could never be stored")
        else:
            _check(self.max_episode_length is None and self.max_total_steps is None,
                   f"{n}: max_episode_length/max_total_steps only apply to kind='episode' "
                   f"(kind is {self.kind!r})")

    def _check_rate_limiter(self, n: str) -> None:
        rl = self.rate_limiter
        _check(isinstance(rl, (MinSize, SampleToInsertRatio, Queue)),
               f"{n}: rate_limiter={rl!r} must be MinSize, SampleToInsertRatio or Queue")
        per_shard_capacity = self.shard_capacity
        min_size = self.shard_limiter_bounds.min_size_to_sample
        _check(per_shard_capacity >= min_size,
               f"{n}: capacity={self.capacity} (per shard {per_shard_capacity}) is smaller than "
               f"the rate limiter's min size to sample ({min_size} per shard); sampling would "
               f"block forever. Raise capacity or lower the min size")
        if isinstance(rl, Queue):
            _check(rl.size <= self.capacity,
                   f"{n}: Queue(size={rl.size}) is larger than capacity={self.capacity}; items "
                   f"would be removed before they are sampled. Use capacity >= size")

    def _check_signature(self, n: str) -> None:
        sig = self.signature
        _check(isinstance(sig, tuple) and len(sig) > 0,
               f"{n}: signature must be a non-empty tuple of Field/FrameStackField, got {sig!r}")
        names: list[str] = []
        frame_fields = []
        for entry in sig:
            _check(isinstance(entry, (Field, FrameStackField)),
                   f"{n}: signature entry {entry!r} must be a Field or FrameStackField")
            if isinstance(entry, FrameStackField):
                frame_fields.append(entry)
                names.extend(entry.names)
            else:
                names.append(entry.name)
        dupes = sorted({x for x in names if names.count(x) > 1})
        _check(not dupes, f"{n}: signature names {dupes} appear twice (a FrameStackField "
                          f"named 'obs' already provides 'next_obs')")
        _check(len(frame_fields) <= 1,
               f"{n}: at most one FrameStackField per table, got {len(frame_fields)}")
        if frame_fields and self.kind != "episode":
            # The frame ring is overwritten oldest-first, so items must leave oldest-first too.
            _check(self.remover == "fifo",
                   f"{n}: a FrameStackField in a {self.kind} table needs remover='fifo' (frames "
                   f"live in a ring that is overwritten oldest first); got "
                   f"remover={self.remover!r}")

    # ---- derived values -------------------------------------------------------------------

    @classmethod
    def queue(cls, name: str, size: int, signature: Sequence[SignatureEntry], *,
              kind: str = "transition", **options) -> TableConfig:
        """A FIFO queue for on-policy data: each item is handed out exactly once."""
        return cls(name=name, capacity=size, kind=kind, sampler="fifo", remover="fifo",
                   max_times_sampled=1, rate_limiter=Queue(size), signature=tuple(signature),
                   **options)

    @property
    def frame_field(self) -> FrameStackField | None:
        for entry in self.signature:
            if isinstance(entry, FrameStackField):
                return entry
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of the item fields as ``sample`` returns them (frames already rebuilt)."""
        out: list[str] = []
        for entry in self.signature:
            out.extend(entry.names if isinstance(entry, FrameStackField) else (entry.name,))
        return tuple(out)

    @property
    def shard_capacity(self) -> int:
        return -(-self.capacity // self.num_shards)

    @property
    def shard_limiter_bounds(self) -> LimiterBounds:
        """The limiter each shard runs: sizes split over shards, ratio and buffer kept."""
        b = self.rate_limiter.bounds()
        if self.num_shards == 1:
            return b
        k = self.num_shards
        min_size = -(-b.min_size_to_sample // k)
        if isinstance(self.rate_limiter, Queue):
            return LimiterBounds(1.0, 1, 0.0, float(-(-self.rate_limiter.size // k)))
        if isinstance(self.rate_limiter, SampleToInsertRatio):
            offset = b.samples_per_insert * min_size
            e = float(self.rate_limiter.error_buffer)
            return LimiterBounds(b.samples_per_insert, min_size, offset - e, offset + e)
        return LimiterBounds(b.samples_per_insert, min_size, b.min_diff, b.max_diff)

    def frame_capacity(self) -> int:
        """Frames the ring of one shard holds (see FrameStackField)."""
        ff = self.frame_field
        assert ff is not None
        if ff.frame_capacity is not None:
            return -(-int(ff.frame_capacity) // self.num_shards)
        new_per_item = 1 if self.kind == "transition" else (
            int(self.sequence_length) - int(self.sequence_overlap))
        return int(math.ceil(self.shard_capacity * new_per_item * 1.02)) + 64 * ff.stack
