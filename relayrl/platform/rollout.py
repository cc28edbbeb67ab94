"""Rollout workers: Ray actors that step a vector env with a CPU policy copy and feed replay.

Each worker owns one gymnasium vector env (``relayrl.envs.make_vector_env``, NEXT_STEP
autoreset), a copy of the algorithm's policy and the algorithm's adder. The driver keeps one
``sample`` call in flight per worker; a call steps the vector env ``num_steps`` times, writes
experience through the adder in chunks (one replay call per chunk, never per step) and returns
episode statistics. New policy weights arrive as one object-store reference with a version
number: the driver passes the reference only when the worker's version is stale, so a worker
(or a restarted one) pulls each version once.

Running one by hand (the env benchmark does this)::

    worker = RolloutWorker.options(num_cpus=1, max_restarts=3).remote(cfg, 0, client)
    stats = ray.get(worker.sample.remote(256, env_steps=0))   # 256 vector steps

``cfg`` is an ExperimentConfig; ``client`` a ReplayClient (or None for an algorithm whose
adder needs none, e.g. the ``random`` algorithm used to time raw stepping).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import ray

from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ExperimentConfig


class RolloutWorkerImpl:
    """The worker's logic, usable in-process (tests, debugger) or as the Ray actor below."""

    def __init__(self, cfg: ExperimentConfig, worker_index: int, client: Any, *, restart: int = 0):
        from relayrl.agents.registry import get_algorithm
        from relayrl.envs import make_vector_env

        self.cfg = cfg
        self.worker_index = worker_index
        algo = get_algorithm(cfg.algorithm)
        n = cfg.env.num_envs
        # A restarted worker must not replay the same random stream as its first life.
        self.seed = cfg.seed * 100_003 + worker_index * 1_009 + restart * 7_919
        self.env = make_vector_env(cfg.env.id, n, seed=self.seed, env_kwargs=cfg.env.kwargs)
        self.env_info = EnvInfo.from_vector_env(cfg.env.id, self.env)
        self.policy = algo.make_policy(cfg, self.env_info, seed=self.seed)
        self.adder = algo.make_adder(cfg, self.env_info, client, n)
        self.obs, _ = self.env.reset(seed=self.seed)
        self.resetting = np.zeros(n, dtype=bool)  # env i resets on the next step (NEXT_STEP)
        self.ep_return = np.zeros(n, dtype=np.float64)
        self.ep_len = np.zeros(n, dtype=np.int64)
        self.weights_version = -1
        self.total_env_steps = 0
        self.life_loss_terminal = bool(getattr(cfg.learner, "terminal_on_life_loss", False))
        self.on_policy = algo.schedule != "off_policy"
        self.restart = restart

    def set_weights(self, version: int, weights: Any) -> None:
        self.policy.set_weights(weights)
        self.weights_version = version

    def sample(
        self, num_steps: int, env_steps: int = 0, version: int | None = None, weights: Any = None
    ) -> dict[str, Any]:
        """Step the vector env ``num_steps`` times; return this call's statistics.

        ``env_steps`` is the experiment-wide count (exploration schedules follow it);
        ``version`` and ``weights`` are given when the driver has a newer policy (the weights
        as a top-level object-store reference, which Ray resolves in this process).
        """
        if version is not None:
            self.set_weights(version, weights)
        start = time.perf_counter()
        returns, lengths = [], []
        steps = 0
        n = len(self.resetting)
        for _ in range(num_steps):
            actions, extras = self.policy.compute_actions(
                self.obs, env_steps=env_steps + steps, explore=True
            )
            next_obs, reward, terminated, truncated, info = self.env.step(actions)
            # rows that reset this step carry no transition; most steps have none (fast path)
            valid = ~self.resetting if self.resetting.any() else None
            if self.adder is not None:
                # Atari: a lost life may end bootstrapping without ending the episode.
                stop = terminated | info["life_loss"] if self.life_loss_terminal else terminated
                self.adder.add(
                    self.obs, actions, reward, stop, truncated, next_obs,
                    extras=extras or None, mask=valid,
                )
            if valid is None:
                self.ep_return += reward
                self.ep_len += 1
                done = terminated | truncated
                steps += n
            else:
                self.ep_return += np.where(valid, reward, 0.0)
                self.ep_len += valid
                done = (terminated | truncated) & valid
                steps += int(valid.sum())
            if done.any():
                returns.extend(self.ep_return[done].tolist())
                lengths.extend(self.ep_len[done].tolist())
                self.ep_return[done] = 0.0
                self.ep_len[done] = 0
            self.resetting = done
            self.obs = next_obs
        if self.adder is not None:
            # Off-policy data may land while the next call acts; on-policy data must be in
            # the queue before the learner takes this version's batch.
            self.adder.flush(wait=self.on_policy)
        self.total_env_steps += steps
        return {
            "worker": self.worker_index,
            "env_steps": steps,
            "episode_returns": returns,
            "episode_lengths": lengths,
            "time_s": time.perf_counter() - start,
            "weights_version": self.weights_version,
            "restart": self.restart,
        }

    def pid(self) -> int:
        return os.getpid()

    def close(self) -> None:
        if self.adder is not None:
            self.adder.flush(wait=True)
        self.env.close()


@ray.remote
class RolloutWorker(RolloutWorkerImpl):
    """The Ray actor; the driver declares ``num_cpus`` and ``max_restarts`` via ``.options``."""

    def __init__(self, cfg: ExperimentConfig, worker_index: int, client: Any):
        ctx = ray.get_runtime_context()
        restart = 1 if ctx.was_current_actor_reconstructed else 0
        super().__init__(cfg, worker_index, client, restart=restart)


def start_workers(cfg: ExperimentConfig, client: Any, indices: range | list[int] | None = None):
    """Create the configured rollout worker actors."""
    indices = range(cfg.rollout.num_workers) if indices is None else indices
    return {
        i: RolloutWorker.options(
            num_cpus=cfg.rollout.num_cpus_per_worker,
            max_restarts=cfg.rollout.max_restarts,
            max_task_retries=0,
        ).remote(cfg, i, client)
        for i in indices
    }
