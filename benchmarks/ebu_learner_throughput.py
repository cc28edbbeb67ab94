"""Learner updates per second of EBU and DQN on this machine's CPU, side by side.

For each setting the replay service is filled with real experience (a rollout worker acting
uniformly at random in the real env, in-process), then the two learners alternate blocks of
updates so that machine noise hits both alike. One update is one minibatch gradient step
for both (32 transitions); EBU's includes its share of sampling an episode and computing its
backward targets, DQN's one sample call to the replay actor. Prints JSON; ``--markdown``
also writes ``benchmarks/results/ebu_learner_throughput.md``.

    python benchmarks/ebu_learner_throughput.py --markdown

The learners run unchanged on a GPU: ``resources.num_gpus: 1`` in the experiment config puts
the learner in its own actor with the GPU (see relayrl.agents.dqn.learner.learner_device).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

SETTINGS = {
    # name: (env id, env kwargs, learner overrides, env steps to collect)
    "pong_nature_cnn": ("ALE/Pong-v5", {"repeat_action_probability": 0.0}, {}, 8_000),
    "digit_maze_mlp": ("relayrl/DigitMaze-v0", {"maze_seed": 0}, {"hidden_sizes": [128, 128]},
                       20_000),
}


def build(algo: str, env_id: str, env_kwargs: dict, overrides: dict):
    from relayrl.platform.config import experiment_from_dict

    learner = dict(batch_size=32, double_q=False, optimizer="rmsprop", lr=2.5e-4,
                   optimizer_eps=0.01, epsilon_start=1.0, epsilon_end=1.0,
                   replay_capacity=100_000, target_update_period=10_000, **overrides)
    return experiment_from_dict(dict(name=f"tp_{algo}", algorithm=algo, seed=0,
                                     env={"id": env_id, "num_envs": 4, "kwargs": env_kwargs},
                                     learner=learner))


def fill(cfg, client, env_steps: int) -> int:
    """Random play in the real env into the algorithm's table; returns env steps written."""
    from relayrl.platform.rollout import RolloutWorkerImpl

    worker = RolloutWorkerImpl(cfg, 0, client)
    steps = 0
    while steps < env_steps:
        steps += worker.sample(256, 0)["env_steps"]
    worker.close()
    return steps


def measure(setting: str, blocks: int, block_updates: int) -> dict:
    from relayrl.agents.registry import get_algorithm
    from relayrl.envs import digit_maze  # noqa: F401  (registers the maze id)
    from relayrl.platform.algorithm import EnvInfo
    from relayrl.platform.replay import ReplayClient

    env_id, env_kwargs, overrides, collect = SETTINGS[setting]
    learners, clients, info = {}, [], {}
    for algo in ("ebu", "dqn"):
        cfg = build(algo, env_id, env_kwargs, overrides)
        alg = get_algorithm(algo)
        env_info = EnvInfo.probe(cfg)
        client = ReplayClient.create(alg.tables(cfg, env_info))
        clients.append(client)
        info[algo] = {"env_steps_in_replay": fill(cfg, client, collect)}
        learners[algo] = alg.make_learner(cfg, env_info, client)
        for _ in range(5):  # warm-up (first episode, allocator)
            learners[algo].update()
    rates = {algo: [] for algo in learners}
    try:
        for _ in range(blocks):
            for algo, learner in learners.items():
                start = time.perf_counter()
                for _ in range(block_updates):
                    learner.update()
                rates[algo].append(block_updates / (time.perf_counter() - start))
    finally:
        for c in clients:
            c.close()
    out = {"setting": setting, "env_id": env_id, "blocks": blocks, "block_updates": block_updates}
    for algo, r in rates.items():
        out[algo] = {"updates_per_s_median": float(np.median(r)),
                     "updates_per_s_min": float(np.min(r)),
                     "updates_per_s_max": float(np.max(r)), **info[algo]}
    out["ebu_over_dqn_median"] = (out["ebu"]["updates_per_s_median"]
                                  / out["dqn"]["updates_per_s_median"])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    p.add_argument("--blocks", type=int, default=7)
    p.add_argument("--block-updates", type=int, default=50)
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args()

    import ray
    import torch

    torch.set_num_threads(1)  # one learner thread, as on a shared 2-core machine
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    results = [measure(s, args.blocks, args.block_updates) for s in args.settings]
    ray.shutdown()
    meta = {"cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "torch_threads": 1, "load_avg_1min": os.getloadavg()[0]}
    print(json.dumps({"meta": meta, "results": results}, indent=2))
    if args.markdown:
        lines = [
            "# Learner updates/s: EBU vs DQN on CPU",
            "",
            "One update = one gradient step on 32 transitions (EBU: from one sampled episode, "
            "with its share of the episode's backward targets; DQN: one replay sample call).",
            "Both learners read real experience (random play) from the replay service actor; "
            "blocks of updates alternate between them. Medians of "
            f"{args.blocks} blocks of {args.block_updates} updates; torch with 1 thread; "
            f"{meta['cpus']} CPUs shared with other jobs (1-min load average at the end: "
            f"{meta['load_avg_1min']:.1f}), so compare the ratio, not the absolute numbers.",
            "",
            "```",
            "python benchmarks/ebu_learner_throughput.py --markdown",
            "```",
            "",
            "| setting | EBU updates/s | DQN updates/s | EBU / DQN |",
            "|---|---|---|---|",
        ]
        for r in results:
            e, d = r["ebu"], r["dqn"]
            lines.append(
                f"| {r['setting']} ({r['env_id']}) | {e['updates_per_s_median']:.1f} "
                f"({e['updates_per_s_min']:.1f}-{e['updates_per_s_max']:.1f}) | "
                f"{d['updates_per_s_median']:.1f} ({d['updates_per_s_min']:.1f}-"
                f"{d['updates_per_s_max']:.1f}) | {r['ebu_over_dqn_median']:.2f} |")
        lines += [
            "",
            "On a GPU the same learners run unchanged: set `resources.num_gpus: 1` and the "
            "learner moves to its own actor holding the GPU; EBU's target pass over an episode "
            "runs there in chunks of 512 next states.",
            "",
        ]
        (RESULTS / "ebu_learner_throughput.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
