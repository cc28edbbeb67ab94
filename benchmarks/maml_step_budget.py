"""Meta-test with the authors' batch unit: 4,000 env steps per task per step, not 40 episodes.

The authors' meta-test (``test_maml_point.py``: VPG with ``batch_size=4000``) collects whole
episodes until a task's batch holds 4,000 env steps, so when the adapted policy reaches the
goal early a step's batch holds more than 40 episodes. ``relayrl eval-meta`` samples 40
episodes per step (4,000 steps only when none ends early). This diagnostic approximates the
step budget: before every step it measures the mean episode length of the current (adapted)
policy on 40 episodes per task, then samples round(4000 / length) episodes per task for that
step. MAML only, the meta-test's task set and step sizes (alpha, then alpha / 2).

    python benchmarks/maml_step_budget.py CHECKPOINT [CHECKPOINT ...] > out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np


def step_budget_curve(checkpoint: str, *, num_tasks: int = 40, env_steps: int = 4000,
                      num_steps: int = 3, seed: int = 0) -> dict:
    from relayrl.agents.maml.evaluate import TEST_SEED_OFFSET, load_policies
    from relayrl.agents.maml.learner import adapt_numpy
    from relayrl.agents.maml.networks import from_numpy
    from relayrl.agents.maml.sampler import TaskSampler
    from relayrl.envs.meta import TASK_FAMILIES, sample_tasks

    env_id, lc, policies = load_policies(checkpoint)
    horizon = TASK_FAMILIES[env_id][1]
    tasks = sample_tasks(env_id, num_tasks, np.random.default_rng(TEST_SEED_OFFSET + seed))
    weights = policies["maml"]
    lrs = [lc.inner_lr] + [lc.inner_lr / 2] * (num_steps - 1)

    def collect(params, episodes: int, sampler_seed: int):
        sampler = TaskSampler(env_id, dataclasses.replace(lc, trajectories_per_task=episodes),
                              seed=sampler_seed)
        try:
            return sampler.collect(params, tasks)
        finally:
            sampler.close()

    params, batches, returns, counts = from_numpy(weights), [], [], []
    for step in range(num_steps + 1):
        probe = collect(params, env_steps // horizon, seed + 101 + step)
        n = max(1, round(env_steps / float(probe.mask.sum(-1).mean())))
        batch = collect(params, n, seed + 17 + step)
        returns.append(float(batch.episode_returns().mean()))
        counts.append(n)
        if step < num_steps:
            batches.append(batch)
            params = adapt_numpy(lc, weights, batches, inner_lr=lrs[:len(batches)])
    return {"checkpoint": checkpoint, "env_id": env_id, "num_tasks": num_tasks,
            "env_steps_per_step": env_steps, "episodes_per_task": counts, "maml": returns}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--tasks", type=int, default=40)
    p.add_argument("--env-steps", type=int, default=4000)
    args = p.parse_args()
    out = [step_budget_curve(c, num_tasks=args.tasks, env_steps=args.env_steps) for c in args.checkpoints]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
