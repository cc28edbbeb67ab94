"""MAML's meta-iteration as a platform Trainer (what ``relayrl train`` and Tune drive).

One meta-iteration:

1. draw ``meta_batch_size`` tasks from the family;
2. the samplers (Ray actors spread over the cluster, or in-process) collect pre-adaptation
   episodes with theta, adapt, collect post-adaptation episodes, and hand both over (through
   the replay service's queue tables when distributed);
3. the learner redoes the adaptation differentiably and takes one TRPO meta-step;
4. with ``pretrained_baseline``, a second policy is trained by TRPO on the same tasks jointly
   (no adaptation), which is the paper's "pretrained" comparison in the meta-test.

Metrics: ``episode_return_mean`` is the post-adaptation return; ``learner/pre_return`` the
return before adaptation; with several inner steps ``learner/return_after_step_i`` the return
between steps i and i + 1; ``learner/action_std`` the unadapted policy's mean action std.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from relayrl.agents.maml.batch import Episodes
from relayrl.agents.maml.config import MAMLConfig
from relayrl.agents.maml.learner import JointTRPOLearner, MetaLearner
from relayrl.agents.maml.networks import acting_log_std
from relayrl.agents.maml.pool import LocalSamplerPool, SampleRequest, make_pool
from relayrl.envs.meta import sample_tasks
from relayrl.platform.config import ExperimentConfig, to_dict

CHECKPOINT_MARKER = "relayrl_checkpoint.json"


def space_dims(env_id: str) -> tuple[int, int]:
    """(obs_dim, act_dim) of one sub-env of the family."""
    from relayrl.envs.meta import make_task_vector_env

    venv = make_task_vector_env(env_id, sample_tasks(env_id, 1, np.random.default_rng(0)))
    try:
        return venv.single_observation_space.shape[0], venv.single_action_space.shape[0]
    finally:
        venv.close()


class MAMLTrainer:
    """Samplers + meta-learner (+ the joint "pretrained" learner) for one experiment."""

    def __init__(self, cfg: ExperimentConfig, *, distributed: bool = True):
        self.cfg = cfg
        self.lcfg: MAMLConfig = cfg.learner
        self.env_id = cfg.env.id
        torch.manual_seed(cfg.seed)
        self.obs_dim, self.act_dim = space_dims(self.env_id)
        self.meta = MetaLearner(self.lcfg, self.obs_dim, self.act_dim, seed=cfg.seed)
        self.joint = (JointTRPOLearner(self.lcfg, self.obs_dim, self.act_dim, seed=cfg.seed)
                      if self.lcfg.pretrained_baseline else None)
        self.rng = np.random.default_rng(cfg.seed)
        self.pool = make_pool(cfg, self.obs_dim, self.act_dim) if distributed else LocalSamplerPool(cfg)
        self.iteration = 0
        self.env_steps = 0
        self.time_total = 0.0

    # ------------------------------------------------------------------ iterations

    def train_iteration(self) -> dict[str, Any]:
        start = time.perf_counter()
        lc = self.lcfg
        tasks = sample_tasks(self.env_id, lc.meta_batch_size, self.rng)
        requests = [SampleRequest("maml", self.meta.get_weights(), self.meta.num_updates,
                                  lc.num_inner_steps)]
        if self.joint is not None:
            requests.append(SampleRequest("joint", self.joint.get_weights(),
                                          self.joint.num_updates, 0))
        results = self.pool.sample(requests, tasks, self.iteration)
        sample_time = time.perf_counter() - start
        episodes: list[Episodes] = results["maml"]
        stats = self.meta.update(episodes)
        steps = sum(e.env_steps for e in episodes)
        m: dict[str, Any] = {}
        if self.joint is not None:
            joint_eps = results["joint"][0]
            jstats = self.joint.update(joint_eps)
            steps += joint_eps.env_steps
            m["pretrained/return"] = float(joint_eps.episode_returns().mean())
            m["pretrained/kl"] = jstats["kl"]
        elapsed = time.perf_counter() - start
        self.iteration += 1
        self.env_steps += steps
        self.time_total += elapsed
        pre = float(episodes[0].episode_returns().mean())
        post = float(episodes[-1].episode_returns().mean())
        m.update({
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "env_steps_per_s": steps / elapsed if elapsed > 0 else math.nan,
            "time_this_iter_s": elapsed,
            "time_total_s": self.time_total,
            "episode_return_mean": post,
            "learner/pre_return": pre,
            "learner/post_return": post,
            "learner/adaptation_gain": post - pre,
            "learner/kl": stats["kl"],
            "learner/surrogate_improvement": stats["surrogate_improvement"],
            "learner/line_search_steps": stats["line_search_steps"],
            "learner/step_accepted": stats["step_accepted"],
            "learner/grad_norm": stats["grad_norm"],
            "learner/sample_time_s": sample_time,
            "learner/update_time_s": elapsed - sample_time,
            "learner/weights_version": self.meta.num_updates,
            # the unadapted policy's action std (after min_std): MAML's later steps overshoot
            # as it shrinks (benchmarks/results/maml_notes.md)
            "learner/action_std": float(acting_log_std(self.meta.params, self.cfg.learner.min_log_std)
                                        .detach().exp().mean()),
            **{f"learner/return_after_step_{i}": float(e.episode_returns().mean())
               for i, e in enumerate(episodes[1:-1], start=1)},
            "rollout/num_workers": self.pool.num_workers,
            "rollout/worker_restarts": self.pool.restarts,
        })
        return m

    def done(self, m: dict[str, Any]) -> bool:
        s = self.cfg.stop
        if s.iterations is not None and m["iteration"] >= s.iterations:
            return True
        if m["env_steps"] >= s.env_steps:
            return True
        if s.time_s is not None and m["time_total_s"] >= s.time_s:
            return True
        ret = m.get("episode_return_mean", math.nan)
        return s.episode_return_mean is not None and not math.isnan(ret) and ret >= s.episode_return_mean

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        return {"meta": self.meta.state_dict(),
                "joint": self.joint.state_dict() if self.joint is not None else None,
                "rng": self.rng.bit_generator.state, "iteration": self.iteration,
                "env_steps": self.env_steps, "time_total_s": self.time_total,
                "obs_dim": self.obs_dim, "act_dim": self.act_dim,
                "samplers": self.pool.state_dict()}

    def save(self, directory: str | os.PathLike, *, include_replay: bool = True) -> str:
        # include_replay is the platform's keyword; MAML's queue tables are emptied every
        # meta-iteration, so there are no replay contents to keep or leave out.
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), d / "learner.pt")
        torch.save(self.meta.get_weights(), d / "policy_weights.pt")
        (d / "config.yaml").write_text(yaml.safe_dump(to_dict(self.cfg), sort_keys=False))
        # Written last: a directory without the marker is an unfinished checkpoint.
        (d / CHECKPOINT_MARKER).write_text(json.dumps(
            {"iteration": self.iteration, "env_steps": self.env_steps, "algorithm": "maml_trpo"}))
        return str(d)

    def restore(self, directory: str | os.PathLike) -> None:
        from relayrl.platform.experiment import read_checkpoint_marker

        read_checkpoint_marker(directory)
        state = torch.load(Path(directory) / "learner.pt", weights_only=False)
        self.meta.load_state_dict(state["meta"])
        if self.joint is not None and state["joint"] is not None:
            self.joint.load_state_dict(state["joint"])
        self.rng.bit_generator.state = state["rng"]
        self.iteration = state["iteration"]
        self.env_steps = state["env_steps"]
        self.time_total = state["time_total_s"]
        # The samplers' generators make the resumed run the uninterrupted one, bit for bit;
        # without them (older checkpoints, another pool) it is the same only in distribution.
        if not self.pool.load_state_dict(state.get("samplers") or {}):
            warnings.warn(
                f"{directory}: the checkpoint has no sampler generator states for this pool "
                f"({type(self.pool).__name__} with {self.pool.num_workers} workers); the samplers "
                "restart from their seeds, so the resumed run is not bit-identical to an "
                "uninterrupted one", stacklevel=2)

    def close(self) -> None:
        self.pool.close()
