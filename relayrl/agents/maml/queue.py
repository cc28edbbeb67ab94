"""How a task's episodes travel through a replay queue table.

One queue item per task and meta-iteration holds every inner step's episodes and the
post-adaptation ones. The replay service's episode items are dicts of time-major arrays,
so a task's E episodes are stored ``[T, E, ...]`` per step ``i`` (``obs_0``, ``act_0``, ...,
``obs_n``), with the task's index in the meta-batch and the iteration as per-step columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from relayrl.agents.maml.batch import Episodes
from relayrl.envs.meta import TASK_FAMILIES

FIELDS = ("obs", "act", "rew", "mask")


def queue_signature(obs_dim: int, act_dim: int, trajectories: int, num_batches: int) -> tuple:
    from relayrl.platform.replay import Field

    sig = [Field("task_index", (), "int64"), Field("iteration", (), "int64"),
           Field("version", (), "int64")]
    for i in range(num_batches):
        sig += [Field(f"obs_{i}", (trajectories, obs_dim), "float32"),
                Field(f"act_{i}", (trajectories, act_dim), "float32"),
                Field(f"rew_{i}", (trajectories,), "float32"),
                Field(f"mask_{i}", (trajectories,), "float32")]
    return tuple(sig)


def queue_table(name: str, env_id: str, obs_dim: int, act_dim: int, trajectories: int,
                num_batches: int, num_tasks: int):
    """A FIFO queue holding one meta-batch (each item handed out exactly once)."""
    from relayrl.platform.replay import TableConfig

    horizon = TASK_FAMILIES[env_id][1]
    return TableConfig.queue(name, num_tasks, queue_signature(obs_dim, act_dim, trajectories,
                                                              num_batches),
                             kind="episode", max_episode_length=horizon)


def episodes_to_items(episodes: Sequence[Episodes], *, iteration: int, task_offset: int,
                      version: int) -> list[dict[str, np.ndarray]]:
    """A sampler's share of the meta-batch -> one queue item per task."""
    items = []
    horizon = episodes[0].obs.shape[2]
    for k in range(episodes[0].num_tasks):
        item = {"task_index": np.full(horizon, task_offset + k, np.int64),
                "iteration": np.full(horizon, iteration, np.int64),
                "version": np.full(horizon, version, np.int64)}
        for i, ep in enumerate(episodes):
            for f in FIELDS:
                item[f"{f}_{i}"] = np.ascontiguousarray(np.swapaxes(getattr(ep, f)[k], 0, 1))
        items.append(item)
    return items


def items_to_episodes(items: Sequence[dict], num_batches: int, num_tasks: int,
                      iteration: int) -> list[Episodes]:
    """Queue items of one meta-batch -> per-step Episodes in task order (checks completeness)."""
    by_task = {}
    for it in items:
        if int(it["iteration"][0]) != iteration:
            raise RuntimeError(f"MAML queue: got an item of meta-iteration {int(it['iteration'][0])} "
                               f"while assembling iteration {iteration}")
        by_task[int(it["task_index"][0])] = it
    if sorted(by_task) != list(range(num_tasks)):
        raise RuntimeError(f"MAML queue: meta-batch incomplete or duplicated: tasks "
                           f"{sorted(by_task)} for a meta-batch of {num_tasks}")
    ordered = [by_task[k] for k in range(num_tasks)]
    return [Episodes(*(np.stack([np.swapaxes(it[f"{f}_{i}"], 0, 1) for it in ordered])
                       for f in FIELDS)) for i in range(num_batches)]
