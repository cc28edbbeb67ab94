"""The shared replay service: named tables hosted by Ray actors, reached through a client.

A table (``TableConfig``) has a capacity, an item kind (transition, fixed-length sequence,
whole episode), a sampler (uniform, prioritized, FIFO, LIFO), a remover (FIFO, lowest
priority), ``max_times_sampled``, a rate limiter (``MinSize``, ``SampleToInsertRatio``,
``Queue``) and a signature checked on every insert. Image observations declared with
``FrameStackField`` are stored once per frame and stacked again at sample time.

``ReplayClient.create(tables)`` starts the ``ReplayService`` actors (one per shard index) and
returns a picklable client with ``insert``, ``sample``, ``sample_episodes``,
``update_priorities``, ``info``, ``checkpoint`` and ``restore``. Adders turn vector-env steps
into items inside rollout workers.
"""

from relayrl.platform.replay.adders import EpisodeAdder, SequenceAdder, TransitionAdder
from relayrl.platform.replay.batch import SampleBatch
from relayrl.platform.replay.client import ReplayClient
from relayrl.platform.replay.config import (
    Field,
    FrameStackField,
    MinSize,
    Queue,
    SampleToInsertRatio,
    TableConfig,
)
from relayrl.platform.replay.errors import (
    CheckpointError,
    ReplayConfigError,
    ReplayError,
    ReplayTimeoutError,
    SignatureError,
)
from relayrl.platform.replay.service import ReplayService
from relayrl.platform.replay.table import TableShard

__all__ = [
    "Field", "FrameStackField", "TableConfig", "MinSize", "SampleToInsertRatio", "Queue",
    "ReplayClient", "ReplayService", "SampleBatch", "TableShard",
    "ReplayError", "ReplayTimeoutError", "SignatureError", "CheckpointError", "ReplayConfigError",
    "TransitionAdder", "EpisodeAdder", "SequenceAdder",
]
