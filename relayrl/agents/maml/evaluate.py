"""The meta-test of Finn et al. (2017): ``relayrl eval-meta CHECKPOINT``.

On ``num_tasks`` fresh tasks (drawn with a seed no training run uses, or read from a JSON file
with ``--tasks-file``, e.g. the 40 goals of the authors' navigation meta-test), every policy collects
``episodes_per_step`` episodes per task, takes a vanilla policy-gradient step on them and
collects again, up to 3 steps. The default batch is the authors' meta-test batch of 4,000 env
steps per task and step (``batch_size=4000`` in their test scripts: 40 navigation episodes of
100 steps, 20 locomotion episodes of 200), twice the training batch of navigation. MAML's
first step uses the training ``inner_lr`` alpha (or ``--inner-lr``), later steps
``later_lr_scale`` x alpha: the authors' meta-test scripts use alpha / 2 after the first step
(navigation, HalfCheetah, AntVel; 0.01 alpha for AntDir), since a full alpha step from an
already adapted policy overshoots; the table reports the mean
undiscounted return after 0, 1, 2 and 3 steps for

- MAML: the meta-learned initialisation theta;
- pretrained: one policy trained by TRPO on all tasks jointly, fine-tuned the same way but
  with its own first-step size, the best of ``BASELINE_LR_GRID`` on separate validation tasks
  (present when the run had ``learner.pretrained_baseline: true``);
- random init: a freshly initialised policy of the same architecture, step size chosen alike;
- oracle: where the family has one (2D navigation: walk straight to the known goal at full
  speed, which is optimal for that reward), no adaptation.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from relayrl.agents.maml.config import MAMLConfig
from relayrl.agents.maml.networks import init_params, to_numpy
from relayrl.agents.maml.sampler import TaskSampler
from relayrl.envs.meta import (
    NAVIGATION_ID,
    TASK_FAMILIES,
    check_task,
    make_task_vector_env,
    sample_tasks,
)

TEST_SEED_OFFSET = 1_000_003  # test tasks never coincide with a training run's task stream
VALIDATION_SEED_OFFSET = 2_000_029  # tasks on which the baselines' step size is chosen
# First-step sizes tried for the baselines (pretrained, random init): a nearly deterministic
# pretrained policy is thrown far off by MAML's alpha, so each baseline gets its best one.
BASELINE_LR_GRID = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
META_TEST_ENV_STEPS = 4000  # per task and adaptation step, as the authors' test scripts


def default_episodes_per_step(env_id: str) -> int:
    """Episodes per task per step that fill the authors' 4,000-step meta-test batch."""
    horizon = TASK_FAMILIES[env_id][1]
    return -(-META_TEST_ENV_STEPS // horizon)


def navigation_oracle_returns(tasks: list[dict]) -> np.ndarray:
    """Return of the optimal navigation policy a = clip(g - s, -0.1, 0.1), one per task."""
    venv = make_task_vector_env(NAVIGATION_ID, tasks)
    obs, _ = venv.reset()
    goals = np.stack([t["goal"] for t in tasks])
    total, alive = np.zeros(len(tasks)), np.ones(len(tasks), dtype=bool)
    for _ in range(venv.horizon):
        obs, rew, term, trunc, _ = venv.step(np.clip(goals - obs, -0.1, 0.1))
        total += rew * alive
        alive &= ~(term | trunc)
        if not alive.any():
            break
    venv.close()
    return total


def adaptation_per_task(env_id: str, cfg: MAMLConfig, weights: dict[str, np.ndarray],
                        tasks: list[dict], num_steps: int, seed: int,
                        inner_lr: float | list[float] | None = None) -> list[np.ndarray]:
    """Each task's mean episode return after 0..num_steps adaptation steps: [steps + 1] x [K]."""
    sampler = TaskSampler(env_id, cfg, seed=seed)
    try:
        episodes = sampler.sample(weights, tasks, num_steps, inner_lr=inner_lr)
    finally:
        sampler.close()
    return [e.episode_returns().mean(-1) for e in episodes]


def adaptation_curve(env_id: str, cfg: MAMLConfig, weights: dict[str, np.ndarray],
                     tasks: list[dict], num_steps: int, seed: int,
                     inner_lr: float | list[float] | None = None) -> list[float]:
    """Mean return over tasks and episodes after 0..num_steps adaptation steps."""
    return [float(r.mean()) for r in adaptation_per_task(env_id, cfg, weights, tasks, num_steps,
                                                         seed, inner_lr)]


def load_tasks_file(path: str | Path, env_id: str) -> list[dict]:
    """Meta-test tasks from a JSON list of task dicts, each checked against the family."""
    from relayrl.platform.config import ConfigError

    try:
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise ConfigError(f"eval-meta: --tasks-file {path}: cannot read it ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"eval-meta: --tasks-file {path} is not JSON ({e})") from None
    if not isinstance(data, list) or not data:
        raise ConfigError(f"eval-meta: --tasks-file {path} must hold a non-empty JSON list of "
                          f"{env_id} tasks; got {type(data).__name__}"
                          + (" (empty)" if isinstance(data, list) else ""))
    for i, task in enumerate(data):
        try:
            check_task(env_id, task)
        except ValueError as e:
            raise ConfigError(f"eval-meta: --tasks-file {path}, task {i}: {e}") from None
    return data


def meta_test(env_id: str, cfg: MAMLConfig, policies: dict[str, dict[str, np.ndarray]], *,
              num_tasks: int = 40, seed: int = 0, num_steps: int = 3,
              inner_lr: float | None = None, later_lr_scale: float = 0.5,
              baseline_lr_grid: tuple[float, ...] = BASELINE_LR_GRID,
              episodes_per_step: int | None = None,
              tasks: list[dict] | None = None) -> dict[str, Any]:
    """Returns after 0..num_steps steps per policy, plus the oracle where there is one.

    MAML adapts with ``inner_lr`` (default: its training alpha). Every other policy adapts with
    the first-step size from ``baseline_lr_grid`` whose one-step return is best on
    ``num_tasks`` separate validation tasks (an empty grid: the same alpha as MAML). Each step
    collects ``episodes_per_step`` episodes per task (default: a 4,000 env step batch). Given
    ``tasks``, those are the test tasks (``num_tasks`` is their number, also for validation).
    """
    if episodes_per_step is None:
        episodes_per_step = default_episodes_per_step(env_id)
    cfg = dataclasses.replace(cfg, trajectories_per_task=episodes_per_step)
    if tasks is None:
        tasks = sample_tasks(env_id, num_tasks, np.random.default_rng(TEST_SEED_OFFSET + seed))
    num_tasks = len(tasks)
    lr = cfg.inner_lr if inner_lr is None else inner_lr

    def schedule(first: float) -> list[float]:
        return [first] + [first * later_lr_scale] * (num_steps - 1)

    first_lrs, tuning = {}, {}
    for name, w in policies.items():
        if name == "maml" or not baseline_lr_grid:
            first_lrs[name] = lr
            continue
        val_tasks = sample_tasks(env_id, num_tasks, np.random.default_rng(VALIDATION_SEED_OFFSET + seed))
        tuning[name] = {str(a): adaptation_curve(env_id, cfg, w, val_tasks, 1, seed=seed + 29,
                                                 inner_lr=[a])[1] for a in baseline_lr_grid}
        first_lrs[name] = max(baseline_lr_grid, key=lambda a: tuning[name][str(a)])
    per_task = {name: adaptation_per_task(env_id, cfg, w, tasks, num_steps, seed=seed + 17,
                                          inner_lr=schedule(first_lrs[name]))
                for name, w in policies.items()}
    curves = {name: [float(r.mean()) for r in steps] for name, steps in per_task.items()}
    result: dict[str, Any] = {"env_id": env_id, "num_tasks": num_tasks, "seed": seed,
                              "episodes_per_step": episodes_per_step,
                              "inner_lr": lr, "inner_lrs": schedule(lr),
                              "inner_lrs_per_policy": {n: schedule(a) for n, a in first_lrs.items()},
                              "baseline_lr_tuning": tuning, "steps": list(range(num_steps + 1)),
                              "returns": curves,
                              "returns_per_task": {name: [r.tolist() for r in steps]
                                                   for name, steps in per_task.items()}}
    if env_id == NAVIGATION_ID:
        result["oracle"] = float(navigation_oracle_returns(tasks).mean())
    return result


def load_policies(checkpoint: str | Path) -> tuple[str, MAMLConfig, dict[str, dict[str, np.ndarray]]]:
    """(env id, MAML config, {"maml", "pretrained"?, "random init"}) from a MAML checkpoint."""
    from relayrl.platform.config import ConfigError, experiment_from_dict
    from relayrl.platform.experiment import read_checkpoint_marker

    d = Path(checkpoint)
    read_checkpoint_marker(d)
    cfg = experiment_from_dict(yaml.safe_load((d / "config.yaml").read_text()), str(d / "config.yaml"))
    if cfg.algorithm != "maml_trpo":
        raise ConfigError(f"eval-meta: {d} is a checkpoint of algorithm {cfg.algorithm!r}; "
                          "eval-meta needs a maml_trpo checkpoint")
    state = torch.load(d / "learner.pt", weights_only=False)
    lc: MAMLConfig = cfg.learner
    policies = {"maml": state["meta"]["params"]}
    if state.get("joint") is not None:
        policies["pretrained"] = state["joint"]["params"]
    policies["random init"] = to_numpy(init_params(state["obs_dim"], state["act_dim"], lc.hidden_sizes,
                                                   init_log_std=lc.init_log_std, seed=cfg.seed + 7919))
    return cfg.env.id, lc, policies


def format_table(result: dict[str, Any]) -> str:
    steps = result["steps"]
    lines = ["| policy | " + " | ".join(f"{s} step{'s' if s != 1 else ''}" for s in steps) + " |",
             "|---|" + "---|" * len(steps)]
    for name, curve in result["returns"].items():
        lines.append(f"| {name} | " + " | ".join(f"{r:.2f}" for r in curve) + " |")
    if "oracle" in result:
        lines.append(f"| oracle | {result['oracle']:.2f} |" + " |" * (len(steps) - 1))
    return "\n".join(lines)


def eval_meta_main(checkpoint: str, num_tasks: int = 40, seed: int = 0, out: str | None = None,
                   inner_lr: float | None = None, later_lr_scale: float = 0.5,
                   episodes_per_step: int | None = None, tasks_file: str | None = None) -> int:
    """``relayrl eval-meta``: print the meta-test table and its JSON; exit status 0."""
    from relayrl.platform.config import ConfigError

    if num_tasks < 1:
        raise ConfigError(f"eval-meta: --tasks {num_tasks} must be >= 1")
    if inner_lr is not None and not (inner_lr > 0 and np.isfinite(inner_lr)):
        raise ConfigError(f"eval-meta: --inner-lr {inner_lr} must be a finite number > 0")
    if not (later_lr_scale > 0 and np.isfinite(later_lr_scale)):
        raise ConfigError(f"eval-meta: --later-lr-scale {later_lr_scale} must be a finite number > 0")
    if episodes_per_step is not None and episodes_per_step < 1:
        raise ConfigError(f"eval-meta: --episodes-per-step {episodes_per_step} must be >= 1")
    env_id, lc, policies = load_policies(checkpoint)
    tasks = load_tasks_file(tasks_file, env_id) if tasks_file else None
    result = meta_test(env_id, lc, policies, num_tasks=num_tasks, seed=seed, inner_lr=inner_lr,
                       later_lr_scale=later_lr_scale, episodes_per_step=episodes_per_step,
                       tasks=tasks)
    result["checkpoint"] = str(checkpoint)
    if tasks_file:
        result["tasks_file"] = str(tasks_file)
    source = f"from {tasks_file}" if tasks_file else "new"
    print(f"meta-test on {result['num_tasks']} {source} {env_id} tasks, {result['episodes_per_step']} episodes per "
          f"task per step; step sizes per policy (baselines' first step chosen on validation "
          f"tasks): {result['inner_lrs_per_policy']}")
    print(format_table(result))
    print(json.dumps(result))
    if out:
        Path(out).write_text(json.dumps(result, indent=1))
    sys.stdout.flush()
    return 0
