"""Config -> actors wiring, and the learner loop.

:class:`Experiment` builds, from one :class:`ExperimentConfig`, the replay service, the rollout
worker actors and the learner (in the driver, or in its own actor with ``num_gpus``), then runs
iterations. One iteration = ``run.iteration_env_steps`` environment steps; it returns one flat
dict of standard metrics (see relayrl.platform.metrics), which ``relayrl train`` prints and
writes to TensorBoard and which the Tune trainable reports.

Two schedules share the loop:

- off-policy (DQN, EBU, QMIX): workers run continuously, one ``sample`` call in flight each;
  the learner does ``updates_per_env_step`` updates per collected env step once
  ``learning_starts`` steps are in replay. Workers are held back when the learner falls behind,
  so the replay ratio holds whatever the relative speeds.
- on-policy (TRPO, MAPPO): every worker collects one fragment with the current policy version
  into a queue table; the learner takes that batch, updates once, publishes a new version.

A worker that crashes is restarted by Ray (``max_restarts``); the loop counts it in
``rollout/worker_restarts``, gives it the current weights and goes on.
"""

from __future__ import annotations

import collections
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import ray
import yaml

from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ExperimentConfig, to_dict
from relayrl.platform.metrics import EpisodeStats, replay_metrics
from relayrl.platform.rollout import start_workers

CHECKPOINT_MARKER = "relayrl_checkpoint.json"


class LearnerActorImpl:
    """Holds a learner; lives in the driver or, wrapped by ray.remote, in its own actor."""

    def __init__(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any):
        import torch

        from relayrl.agents.registry import get_algorithm

        torch.set_num_threads(cfg.resources.learner_threads)
        self.learner = get_algorithm(cfg.algorithm).make_learner(cfg, env_info, client)

    def update_n(self, n: int) -> dict[str, float]:
        """``n`` updates; returns the mean of each scalar metric and the time taken."""
        start = time.perf_counter()
        sums: dict[str, float] = {}
        for _ in range(n):
            for k, v in self.learner.update().items():
                sums[k] = sums.get(k, 0.0) + float(v)
        out = {k: v / max(n, 1) for k, v in sums.items()}
        out["_time_s"] = time.perf_counter() - start
        return out

    def weights_ref(self) -> list[ray.ObjectRef]:
        # Wrapped in a list so Ray hands the reference itself, not its value, to the caller.
        return [ray.put(self.learner.get_weights())]

    def get_weights(self) -> Any:
        return self.learner.get_weights()

    def state_dict(self) -> dict[str, Any]:
        return self.learner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learner.load_state_dict(state)


LearnerActor = ray.remote(LearnerActorImpl)


class _LearnerHandle:
    """Same calls whether the learner lives in the driver or in an actor."""

    def __init__(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any):
        res = cfg.resources
        self.remote = res.learner_placement == "actor" or res.num_gpus > 0
        if self.remote:
            self._actor = LearnerActor.options(
                num_cpus=res.learner_num_cpus, num_gpus=res.num_gpus
            ).remote(cfg, env_info, client)
        else:
            self._local = LearnerActorImpl(cfg, env_info, client)

    def _call(self, name: str, *args):
        if self.remote:
            return ray.get(getattr(self._actor, name).remote(*args))
        return getattr(self._local, name)(*args)

    def update_n(self, n: int) -> dict[str, float]:
        return self._call("update_n", n)

    def weights_ref(self) -> ray.ObjectRef:
        return self._call("weights_ref")[0]

    def state_dict(self) -> dict[str, Any]:
        return self._call("state_dict")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._call("load_state_dict", state)


class Experiment:
    """Replay service + rollout workers + learner for one config; ``train_iteration`` runs it."""

    def __init__(self, cfg: ExperimentConfig):
        from relayrl.agents.registry import get_algorithm
        from relayrl.platform.replay import ReplayClient

        self.cfg = cfg
        self.algo = get_algorithm(cfg.algorithm)
        lcfg = cfg.learner
        self.on_policy = self.algo.schedule == "on_policy"
        if self.on_policy and cfg.rollout.calls_in_flight != 1:
            from relayrl.platform.config import ConfigError

            raise ConfigError(f"rollout.calls_in_flight: got {cfg.rollout.calls_in_flight}; "
                              f"{cfg.algorithm} is on-policy (one batch per policy version), "
                              "allowed: 1")
        self.updates_per_env_step = float(getattr(lcfg, "updates_per_env_step", 0.0))
        self.learning_starts = int(getattr(lcfg, "learning_starts", 0))
        # On-policy: every update makes a new policy version, published at once.
        self.publish_every = 1 if self.on_policy else max(1, int(getattr(lcfg, "publish_every", 1)))
        self.env_info = EnvInfo.probe(cfg)
        tables = self.algo.tables(cfg, self.env_info)
        self.client = ReplayClient.create(tables, num_cpus=cfg.resources.replay_num_cpus)
        self.learner = _LearnerHandle(cfg, self.env_info, self.client)
        self.workers = start_workers(cfg, self.client)
        self.worker_versions = {i: -1 for i in self.workers}
        self.inflight: dict[ray.ObjectRef, int] = {}
        self.stats = EpisodeStats()
        self.env_steps = 0
        self.num_updates = 0
        self.iteration = 0
        self.worker_restarts = 0
        self.version = 0
        self.weights = self.learner.weights_ref()
        self.time_total = 0.0
        self._learner_metrics: dict[str, float] = {}

    # ------------------------------------------------------------------ workers

    def _submit(self, i: int) -> None:
        version, weights = None, None
        if self.worker_versions[i] != self.version:
            version, weights = self.version, self.weights
            self.worker_versions[i] = self.version
        ref = self.workers[i].sample.remote(
            self.cfg.rollout.steps_per_call, self.env_steps, version, weights
        )
        self.inflight[ref] = i

    def _collect(self, timeout: float | None) -> None:
        """Wait for finished sample calls and absorb their statistics."""
        if not self.inflight:
            return
        ready, _ = ray.wait(list(self.inflight), num_returns=1, timeout=timeout)
        if ready:  # take everything else that is already done, too
            more, _ = ray.wait(list(self.inflight), num_returns=len(self.inflight), timeout=0)
            ready = list(dict.fromkeys(ready + more))
        for ref in ready:
            if ref not in self.inflight:
                continue  # a call queued on a worker that already failed
            i = self.inflight.pop(ref)
            try:
                out = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                # calls queued behind the failed one died with the actor: count one failure
                for other in [r for r, j in self.inflight.items() if j == i]:
                    del self.inflight[other]
                self._worker_failed(i)
            else:
                self.env_steps += out["env_steps"]
                self.stats.extend(out["episode_returns"], out["episode_lengths"])

    def _worker_failed(self, i: int) -> None:
        """Ray restarts the actor; it comes back without weights, so resend them."""
        self.worker_restarts += 1
        self.worker_versions[i] = -1
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                ray.get(self.workers[i].pid.remote(), timeout=10)
                return
            except ray.exceptions.ActorDiedError:
                break  # out of restarts
            except (ray.exceptions.ActorUnavailableError, ray.exceptions.GetTimeoutError):
                time.sleep(0.2)  # still restarting
        # Out of restarts (or never came back): replace it with a fresh actor.
        ray.kill(self.workers[i])
        self.workers.update(start_workers(self.cfg, self.client, [i]))

    def _learner_due(self) -> int:
        """Updates owed under the replay ratio."""
        if self.env_steps < self.learning_starts:
            return 0
        target = (self.env_steps - self.learning_starts) * self.updates_per_env_step
        return int(target) - self.num_updates

    # ------------------------------------------------------------------ learner

    def _update(self, n: int) -> None:
        m = self.learner.update_n(n)
        self._upd_time += m.pop("_time_s")
        for k, v in m.items():
            self._upd_sums[k] = self._upd_sums.get(k, 0.0) + v * n
        self._upd_count += n
        before = self.num_updates
        self.num_updates += n
        if self.num_updates // self.publish_every > before // self.publish_every:
            self._publish()

    def _publish(self) -> None:
        self.version += 1
        self.weights = self.learner.weights_ref()

    # ------------------------------------------------------------------ iterations

    def train_iteration(self) -> dict[str, Any]:
        start = time.perf_counter()
        steps_before, updates_before = self.env_steps, self.num_updates
        self._upd_sums: dict[str, float] = {}
        self._upd_time, self._upd_count = 0.0, 0
        target = self.env_steps + self.cfg.run.iteration_env_steps
        if self.on_policy:
            self._on_policy_iteration(target)
        else:
            self._off_policy_iteration(target)
        elapsed = time.perf_counter() - start
        self.time_total += elapsed
        self.iteration += 1
        return self._metrics(elapsed, self.env_steps - steps_before, self.num_updates - updates_before)

    def _off_policy_iteration(self, target: int) -> None:
        # Workers may run ahead of the learner by at most calls_in_flight calls' worth of updates.
        k = self.cfg.rollout.calls_in_flight
        slack = k * self.cfg.rollout.steps_per_call * self.cfg.env.num_envs * self.updates_per_env_step
        while self.env_steps < target:
            if self._learner_due() <= slack:
                queued = collections.Counter(self.inflight.values())
                for _ in range(k):
                    for i in self.workers:
                        if queued[i] < k:
                            self._submit(i)
                            queued[i] += 1
            due = self._learner_due()
            if due > 0:
                self._update(min(due, 64))
                self._collect(timeout=0)
            else:
                self._collect(timeout=None)

    def _on_policy_iteration(self, target: int) -> None:
        while self.env_steps < target:
            for i in self.workers:
                self._submit(i)
            while self.inflight:
                self._collect(timeout=None)
            # one batch per policy version: the learner drains what this version wrote,
            # and the update publishes the next version
            self._update(1)

    def _metrics(self, elapsed: float, steps: int, updates: int) -> dict[str, Any]:
        m: dict[str, Any] = {
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "env_steps_per_s": steps / elapsed if elapsed > 0 else math.nan,
            "time_this_iter_s": elapsed,
            "time_total_s": self.time_total,
            "learner/num_updates": self.num_updates,
            "learner/updates_per_s": updates / elapsed if elapsed > 0 else math.nan,
            "learner/update_time_fraction": self._upd_time / elapsed if elapsed > 0 else 0.0,
            "learner/weights_version": self.version,
            "rollout/worker_restarts": self.worker_restarts,
            "rollout/num_workers": len(self.workers),
        }
        m.update(self.stats.summary())
        hns = atari_hns(self.cfg.env.id, self.cfg.env.kwargs, m["episode_return_mean"])
        if hns is not None:
            m["episode_return_hns_mean"] = hns
        for k, v in self._upd_sums.items():
            m[f"learner/{k}"] = v / max(self._upd_count, 1)
        try:
            m.update(replay_metrics(self.client.info()))
        except Exception as e:  # metrics must never stop training
            m["replay/info_error"] = str(e)
        return m

    def done(self, m: Mapping[str, Any]) -> bool:
        s = self.cfg.stop
        if m["env_steps"] >= s.env_steps:
            return True
        if s.iterations is not None and m["iteration"] >= s.iterations:
            return True
        if s.time_s is not None and m["time_total_s"] >= s.time_s:
            return True
        ret = m.get("episode_return_mean", math.nan)
        return s.episode_return_mean is not None and not math.isnan(ret) and ret >= s.episode_return_mean

    def record_video(self, max_steps: int = 1000) -> np.ndarray:
        """One greedy episode of the current policy as frames [T, H, W, 3] (for TensorBoard)."""
        from relayrl.envs.video import record_episode

        policy = self.algo.make_policy(self.cfg, self.env_info, seed=self.cfg.seed)
        policy.set_weights(ray.get(self.weights))

        def act(obs):
            actions, _ = policy.compute_actions(np.asarray(obs)[None], env_steps=0, explore=False)
            return actions[0]

        return record_episode(self.cfg.env.id, act, seed=self.cfg.seed + self.iteration,
                              max_steps=max_steps, env_kwargs=self.cfg.env.kwargs)

    # ------------------------------------------------------------------ checkpoints

    def save(self, directory: str | os.PathLike, *, include_replay: bool = True) -> str:
        import torch

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        torch.save(self.learner.state_dict(), d / "learner.pt")
        torch.save(ray.get(self.weights), d / "policy_weights.pt")
        (d / "config.yaml").write_text(yaml.safe_dump(to_dict(self.cfg), sort_keys=False))
        if include_replay:
            self.client.checkpoint(str(d / "replay"))
        counters = {
            "env_steps": self.env_steps, "num_updates": self.num_updates,
            "iteration": self.iteration, "version": self.version,
            "worker_restarts": self.worker_restarts, "time_total_s": self.time_total,
            "episode_returns": list(self.stats.returns),
            "episode_lengths": list(self.stats.lengths),
            "num_episodes": self.stats.num_episodes, "include_replay": include_replay,
        }
        # Written last: a directory without the marker is an unfinished checkpoint.
        (d / CHECKPOINT_MARKER).write_text(json.dumps(counters))
        return str(d)

    def restore(self, directory: str | os.PathLike) -> None:
        import torch

        d = Path(directory)
        counters = read_checkpoint_marker(d)
        self.learner.load_state_dict(torch.load(d / "learner.pt", weights_only=False))
        if counters.get("include_replay") and (d / "replay").exists():
            self.client.restore(str(d / "replay"))
        self.env_steps = counters["env_steps"]
        self.num_updates = counters["num_updates"]
        self.iteration = counters["iteration"]
        self.version = counters["version"] + 1
        self.worker_restarts = counters["worker_restarts"]
        self.time_total = counters["time_total_s"]
        self.stats.extend(counters["episode_returns"], counters["episode_lengths"])
        self.stats.num_episodes = counters["num_episodes"]
        self.weights = self.learner.weights_ref()
        self.worker_versions = {i: -1 for i in self.workers}

    def close(self) -> None:
        for ref in list(self.inflight):
            ray.cancel(ref, force=False)
        self.inflight.clear()
        for w in self.workers.values():
            ray.kill(w)
        self.client.close()
        if self.learner.remote:
            ray.kill(self.learner._actor)


def atari_hns(env_id: str, env_kwargs: Mapping[str, Any], mean_return: float) -> float | None:
    """Human-normalized score of a mean Atari return (None for other envs or no episodes)."""
    if math.isnan(mean_return):
        return None
    game = env_id.split("/", 1)[1].rsplit("-", 1)[0] if env_id.startswith("ALE/") else None
    if env_id == "relayrl/Atari-v0":
        game = env_kwargs.get("game")
    if not game or env_kwargs.get("reward_clipping"):  # clipped returns are not game scores
        return None
    from relayrl.envs.atari_scores import human_normalized_score

    try:
        return human_normalized_score(game, mean_return)
    except ValueError:  # a game without reference scores
        return None


def read_checkpoint_marker(directory: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's counters; a clear error if this is not a finished relayrl checkpoint."""
    from relayrl.platform.config import ConfigError

    d = Path(directory)
    marker = d / CHECKPOINT_MARKER
    if not d.is_dir():
        raise ConfigError(f"{d}: no such checkpoint directory")
    if not marker.is_file():
        raise ConfigError(
            f"{d}: not a relayrl checkpoint (no {CHECKPOINT_MARKER}; unfinished or foreign)"
        )
    try:
        counters = json.loads(marker.read_text())
    except json.JSONDecodeError:
        raise ConfigError(f"{d}: corrupt checkpoint ({CHECKPOINT_MARKER} is not valid JSON)") from None
    for f in ("config.yaml", "learner.pt", "policy_weights.pt"):
        if not (d / f).is_file():
            raise ConfigError(f"{d}: corrupt checkpoint (missing {f})")
    return counters


def build_trainer(cfg: ExperimentConfig):
    """The algorithm's own Trainer if it has one (``make_trainer``), else an Experiment."""
    from relayrl.agents.registry import get_algorithm

    algo = get_algorithm(cfg.algorithm)
    make_trainer = getattr(algo, "make_trainer", None)
    return make_trainer(cfg) if make_trainer is not None else Experiment(cfg)
