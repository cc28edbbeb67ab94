"""The meta-batch spread over Ray sampler actors, with episodes returning via queue tables.

Tasks are split into contiguous shares, one per :class:`~relayrl.agents.maml.sampler.SamplerActor`
(actors may live on any node: nothing here assumes one machine). Each actor gets the policy
weights as one object-store reference with a version, samples and adapts its share, and inserts
one queue item per task (all inner steps' episodes and the post-adaptation ones) into the
replay service. The learner reads exactly ``meta_batch_size`` items back per request and
orders them by task index.
"""

from __future__ import annotations

import math

from relayrl.agents.maml.config import MAMLConfig
from relayrl.agents.maml.sampler import env_bytes, episode_bytes
from relayrl.platform.config import ConfigError, ExperimentConfig


def task_shares(num_tasks: int, num_workers: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) task ranges, sizes differing by at most one; empty ones dropped."""
    base, extra = divmod(num_tasks, num_workers)
    out, start = [], 0
    for i in range(num_workers):
        stop = start + base + (1 if i < extra else 0)
        if stop > start:
            out.append((start, stop))
        start = stop
    return out


def worker_memory_bytes(cfg: ExperimentConfig, obs_dim: int = 128, act_dim: int = 8) -> int:
    """Memory the busiest sampler needs: its sub-envs plus the episodes it holds at once."""
    lc: MAMLConfig = cfg.learner
    tasks = math.ceil(lc.meta_batch_size / cfg.rollout.num_workers)
    rows = tasks * lc.trajectories_per_task
    steps = lc.num_inner_steps + 1 + (1 if lc.pretrained_baseline else 0)
    envs = rows * env_bytes(cfg.env.id) * (2 if lc.pretrained_baseline else 1)
    return envs + tasks * episode_bytes(cfg.env.id, obs_dim, act_dim, lc.trajectories_per_task, steps)


def check_worker_memory(cfg: ExperimentConfig) -> None:
    """Refuse a meta-batch whose share per worker would not fit in ``learner.worker_memory_mb``."""
    lc: MAMLConfig = cfg.learner
    need_mb = worker_memory_bytes(cfg) / 2**20
    if need_mb > lc.worker_memory_mb:
        per_worker = math.ceil(lc.meta_batch_size / cfg.rollout.num_workers)
        fit = max(0, int(per_worker * lc.worker_memory_mb / need_mb))
        raise ConfigError(
            f"learner.meta_batch_size: {lc.meta_batch_size} tasks x "
            f"{lc.trajectories_per_task} trajectories over rollout.num_workers="
            f"{cfg.rollout.num_workers} puts {per_worker} tasks on one worker, about "
            f"{need_mb:,.0f} MB of {cfg.env.id} envs and episodes, more than "
            f"learner.worker_memory_mb={lc.worker_memory_mb:g}; a worker holds at most {fit} "
            f"tasks: raise rollout.num_workers, lower the meta-batch or trajectories_per_task")
