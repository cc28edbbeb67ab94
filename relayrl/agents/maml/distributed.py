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
from typing import Any

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


class RaySamplerPool:
    """Sampler actors (declared CPUs, restarted by Ray) + the replay queue tables they fill."""

    def __init__(self, cfg: ExperimentConfig, obs_dim: int, act_dim: int):
        import ray

        from relayrl.agents.maml.queue import queue_table
        from relayrl.agents.maml.sampler import SamplerActor
        from relayrl.platform.replay import ReplayClient

        lc: MAMLConfig = cfg.learner
        self.cfg = cfg
        tables = [queue_table("maml", cfg.env.id, obs_dim, act_dim, lc.trajectories_per_task,
                              lc.num_inner_steps + 1, lc.meta_batch_size)]
        if lc.pretrained_baseline:
            tables.append(queue_table("joint", cfg.env.id, obs_dim, act_dim,
                                      lc.trajectories_per_task, 1, lc.meta_batch_size))
        self.client = ReplayClient.create(tables, num_cpus=cfg.resources.replay_num_cpus)
        ro = cfg.rollout
        self.actor_options = {"num_cpus": ro.num_cpus_per_worker, "max_restarts": ro.max_restarts}
        self.actors = [
            SamplerActor.options(**self.actor_options).remote(
                cfg.env.id, lc, self.client, seed=cfg.seed * 1000 + i + 1, worker_index=i,
                num_threads=max(1, int(ro.num_cpus_per_worker)))
            for i in range(ro.num_workers)]
        self.num_workers = ro.num_workers
        self.restarts = 0
        self.published: dict[str, tuple[int, list]] = {}
        self.last_stats: list[dict] = []
        self._ray = ray

    def _weights_ref(self, name: str, version: int, weights) -> list:
        """One object-store copy per (policy, version), shared by every actor."""
        if name not in self.published or self.published[name][0] != version:
            self.published[name] = (version, [self._ray.put(weights)])
        return self.published[name][1]

    def sample(self, requests, tasks, iteration: int):
        from relayrl.agents.maml.queue import items_to_episodes

        ray = self._ray
        shares = task_shares(len(tasks), self.num_workers)
        calls = {}
        for r in requests:
            ref = self._weights_ref(r.name, r.version, r.weights)
            for w, (a, b) in enumerate(shares):
                args = (r.name, ref, r.version, list(tasks[a:b]), a, iteration, r.num_inner_steps)
                calls[self.actors[w].run.remote(*args)] = (w, args)
        self.last_stats = []
        while calls:
            ready, _ = ray.wait(list(calls), num_returns=1)
            w, args = calls.pop(ready[0])
            try:
                self.last_stats.append(ray.get(ready[0]))
            except ray.exceptions.RayActorError:
                # Ray restarts the actor (max_restarts); it has inserted nothing: redo its share.
                self.restarts += 1
                calls[self.actors[w].run.remote(*args)] = (w, args)
        timeout = self.cfg.learner.sample_timeout_s
        return {r.name: items_to_episodes(self.client.sample_episodes(r.name, len(tasks), timeout),
                                          r.num_inner_steps + 1, len(tasks), iteration)
                for r in requests}

    def state_dict(self) -> dict[str, Any]:
        """Every sampler actor's generators, by worker index."""
        return {"ray": self._ray.get([a.state_dict.remote() for a in self.actors])}

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Restore the actors' generators; False (nothing restored) if the checkpoint came from
        another kind of pool or another number of workers: the tasks' shares would differ."""
        states = state.get("ray")
        if states is None or len(states) != len(self.actors):
            return False
        self._ray.get([a.load_state_dict.remote(s) for a, s in zip(self.actors, states)])
        return True

    def close(self) -> None:
        for a in self.actors:
            self._ray.kill(a)
        self.client.close()
