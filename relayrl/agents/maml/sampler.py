"""Task samplers: collect a meta-batch's episodes and adapt where the data is.

A :class:`TaskSampler` holds one vector env with ``trajectories_per_task`` sub-envs per task
of its share of the meta-batch. For one meta-iteration it

1. collects E episodes per task with theta (pre-adaptation),
2. adapts locally, theta'_k = theta - alpha grad L_k(theta) (cheap: a few thousand steps per
   task, and it saves shipping the episodes to the learner and theta'_k back),
3. repeats for every inner step, then collects E episodes per task with the adapted params.

Everything happens in batched numpy/torch: one forward pass per env step for all tasks.
:class:`SamplerActor` wraps it as a Ray actor that takes the policy weights as a versioned
object-store reference and writes its episodes to the replay service's queue table; the
plain class is what single-process runs, tests and the meta-test use.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import ray
import torch

from relayrl.agents.maml.batch import Episodes
from relayrl.agents.maml.config import MAMLConfig
from relayrl.agents.maml.learner import adapt_numpy
from relayrl.agents.maml.networks import Params, from_numpy, mean_and_log_std
from relayrl.envs.meta import (
    TASK_FAMILIES,
    check_family,
    make_task_vector_env,
    rng_states,
    set_rng_states,
    set_tasks,
)

# Bytes of env state per sub-env, measured roughly (tracemalloc + MuJoCo's own buffers).
ENV_BYTES = {"relayrl/Navigation2D-v0": 200}
MUJOCO_ENV_BYTES = 400_000


def env_bytes(env_id: str) -> int:
    return ENV_BYTES.get(env_id, MUJOCO_ENV_BYTES)


def episode_bytes(env_id: str, obs_dim: int, act_dim: int, trajectories: int, steps: int) -> int:
    """Memory of one task's episodes for all inner steps (float32 obs, act, rew, mask)."""
    horizon = TASK_FAMILIES[env_id][1]
    return 4 * trajectories * horizon * (obs_dim + act_dim + 2) * steps


class TaskSampler:
    """One vector env for a share of the meta-batch; collects and adapts in one process."""

    def __init__(self, env_id: str, cfg: MAMLConfig, *, seed: int = 0):
        self.env_id = check_family(env_id)
        self.cfg = cfg
        self.seed = seed
        self.horizon = TASK_FAMILIES[env_id][1]
        self.venv = None
        self.num_rows = 0
        self.gen = torch.Generator().manual_seed(seed)
        self._pending_env_rngs: list | None = None  # restored before the env existed

    def _env_for(self, tasks: Sequence[dict]):
        rows = [t for t in tasks for _ in range(self.cfg.trajectories_per_task)]
        if self.venv is None or self.num_rows != len(rows):
            if self.venv is not None:
                self.venv.close()
            self.venv = make_task_vector_env(self.env_id, rows, seed=self.seed)
            self.num_rows = len(rows)
            if self._pending_env_rngs is not None and len(self._pending_env_rngs) == len(rows):
                set_rng_states(self.venv, self._pending_env_rngs)
            self._pending_env_rngs = None
        else:
            set_tasks(self.venv, rows)
        return self.venv

    def to_env_action(self, act: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """The policy's action as the env applies it: rescaled from [-1, 1] when
        ``normalize_actions`` (low + (a + 1) (high - low) / 2, rllab's ``normalize``), clipped."""
        if self.cfg.normalize_actions:
            act = low + (act + 1.0) * 0.5 * (high - low)
        return np.clip(act, low, high)

    @torch.no_grad()
    def collect(self, params: Params, tasks: Sequence[dict]) -> Episodes:
        """E episodes per task; ``params`` shared ([...]) or per task ([K, ...])."""
        venv = self._env_for(tasks)
        k, e, t_max = len(tasks), self.cfg.trajectories_per_task, self.horizon
        obs_dim = venv.single_observation_space.shape[0]
        act_dim = venv.single_action_space.shape[0]
        obs_buf = np.zeros((k * e, t_max, obs_dim), np.float32)
        act_buf = np.zeros((k * e, t_max, act_dim), np.float32)
        rew_buf = np.zeros((k * e, t_max), np.float32)
        mask_buf = np.zeros((k * e, t_max), np.float32)
        per_task = params["log_std"].dim() == 2
        low, high = venv.single_action_space.low, venv.single_action_space.high
        obs, _ = venv.reset()
        alive = np.ones(k * e, dtype=bool)
        for t in range(t_max):
            o = torch.as_tensor(obs, dtype=torch.float32)
            mean, log_std = mean_and_log_std(params, o.view(k, e, obs_dim) if per_task else o,
                                             min_log_std=self.cfg.min_log_std)
            act = (mean + torch.randn(mean.shape, generator=self.gen) * log_std.exp())
            act = act.reshape(k * e, act_dim).numpy()
            # The env sees the action clipped to its box (as rllab's normalized envs did, so
            # the control cost is paid on what is applied); the log-prob uses the sample.
            next_obs, rew, terminated, truncated, _ = venv.step(self.to_env_action(act, low, high))
            obs_buf[alive, t] = obs[alive]
            act_buf[alive, t] = act[alive]
            rew_buf[alive, t] = rew[alive]
            mask_buf[alive, t] = 1.0
            alive &= ~(np.asarray(terminated) | np.asarray(truncated))
            if not alive.any():
                break
            obs = next_obs
        shape = (k, e, t_max)
        return Episodes(obs_buf.reshape(*shape, obs_dim), act_buf.reshape(*shape, act_dim),
                        rew_buf.reshape(shape), mask_buf.reshape(shape))

    def sample(self, weights: dict[str, np.ndarray], tasks: Sequence[dict],
               num_inner_steps: int,
               inner_lr: float | Sequence[float] | None = None) -> list[Episodes]:
        """Episodes before each of ``num_inner_steps`` adaptation steps and after the last;
        ``inner_lr``: alpha for every step or one per step (default: the config's)."""
        params = from_numpy(weights)
        out = [self.collect(params, tasks)]
        for step in range(num_inner_steps):
            fast = adapt_numpy(self.cfg, weights, out, num_steps=step + 1, inner_lr=inner_lr)
            out.append(self.collect(fast, tasks))
        return out

    def state_dict(self) -> dict[str, Any]:
        """The action-noise generator and the sub-envs' generators: with them a resumed run
        samples exactly what the uninterrupted one would have."""
        return {"gen": self.gen.get_state(),
                "env_rngs": rng_states(self.venv) if self.venv is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.gen.set_state(state["gen"])
        env_rngs = state["env_rngs"]
        if env_rngs is None:
            return
        if self.venv is not None and self.num_rows == len(env_rngs):
            set_rng_states(self.venv, env_rngs)
        else:  # the env is built on the first collect: apply them then
            self._pending_env_rngs = env_rngs

    def close(self) -> None:
        if self.venv is not None:
            self.venv.close()
            self.venv = None


@ray.remote
class SamplerActor:
    """A :class:`TaskSampler` as a Ray actor writing to the replay service's queue tables."""

    def __init__(self, env_id: str, cfg: MAMLConfig, client: Any, *, seed: int, worker_index: int,
                 num_threads: int = 1):
        torch.set_num_threads(num_threads)  # its share of the node, not every core
        self.sampler = TaskSampler(env_id, cfg, seed=seed)
        self.client = client
        self.worker_index = worker_index
        self.version = -1
        self.weights: dict[str, np.ndarray] | None = None

    def state_dict(self) -> dict[str, Any]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state)

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def _weights(self, weights_ref: list[ray.ObjectRef], version: int) -> dict[str, np.ndarray]:
        if version != self.version:  # fetch from the object store only when it changed
            self.weights = ray.get(weights_ref[0])
            self.version = version
        return self.weights

    def run(self, table: str, weights_ref: list[ray.ObjectRef], version: int,
            tasks: Sequence[dict], task_offset: int, iteration: int,
            num_inner_steps: int) -> dict[str, Any]:
        """Sample (and adapt) for ``tasks``; write one queue item per task; return stats."""
        from relayrl.agents.maml.queue import episodes_to_items

        start = time.perf_counter()
        episodes = self.sampler.sample(self._weights(weights_ref, version), tasks, num_inner_steps)
        items = episodes_to_items(episodes, iteration=iteration, task_offset=task_offset,
                                  version=version)
        self.client.insert(table, items)
        return {"env_steps": sum(e.env_steps for e in episodes), "num_tasks": len(tasks),
                "node_id": self.node_id(), "worker_index": self.worker_index,
                "time_s": time.perf_counter() - start}
