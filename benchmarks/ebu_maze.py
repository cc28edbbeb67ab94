"""EBU vs DQN on the handwritten-digit maze: env steps until the greedy path is near-optimal.

The sparse-reward benchmark of Lee et al. (2019), section 5.1, on ``relayrl/DigitMaze-v0``:
a 10x10 maze with 30% walls, the agent seeing its coordinates as handwritten digits, reward
only at the goal. Each seed is a different maze (``maze_seed = seed``) and a different agent
seed. EBU and DQN run with the same network, optimiser, exploration schedule, target period
and the same number of learner updates per env step; EBU's episodes come from the replay
service's whole-episode table, DQN's transitions from its transition table.

Every ``--eval-every`` env steps the greedy policy walks the maze once (at most 100 steps); a
run's score is the first env step at which that walk reaches the goal within 10% of the
shortest path. Runs are written one JSON file each under ``--out`` (so several invocations
can share the seeds); ``--report`` reads them all and writes the table (markdown) and the
learning curves (PNG), and prints the summary as JSON.

    python benchmarks/ebu_maze.py --seeds 0-9 --algos ebu dqn
    python benchmarks/ebu_maze.py --report

Runs in one process (the rollout worker's logic in-process, the replay service as a Ray
actor), so the maze id only needs to be registered here.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from relayrl.envs import digit_maze

RESULTS = Path(__file__).resolve().parent / "results"
NEAR_OPTIMAL = 1.1  # greedy path length <= 1.1 x shortest path
EVAL_STEP_CAP = 100


def learner_section(algo: str, args: argparse.Namespace) -> dict:
    """Identical settings for both algorithms except the algorithm's own knobs."""
    common = dict(
        hidden_sizes=[128, 128], lr=args.lr, gamma=0.9, batch_size=32,
        target_update_period=args.target_update_period,
        epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=args.epsilon_decay_steps,
        learning_starts=1000, updates_per_env_step=args.updates_per_env_step,
        replay_capacity=100_000, double_q=False,
    )
    if algo == "ebu":
        common["beta"] = args.beta
    return common


def greedy_path_length(policy, maze_seed: int, eval_seed: int) -> int | None:
    """Steps the greedy policy needs from start to goal (None if not within the cap)."""
    env = gym.make(digit_maze.ENV_ID, maze_seed=maze_seed, max_episode_steps=EVAL_STEP_CAP)
    obs, _ = env.reset(seed=eval_seed)
    for n in range(1, EVAL_STEP_CAP + 1):
        action = policy.compute_actions(obs[None], env_steps=0, explore=False)[0][0]
        obs, _, terminated, truncated, _ = env.step(int(action))
        if terminated:
            return n
        if truncated:
            return None
    return None


def run_one(algo: str, seed: int, args: argparse.Namespace) -> dict:
    from relayrl.agents.registry import get_algorithm
    from relayrl.platform.algorithm import EnvInfo
    from relayrl.platform.config import experiment_from_dict
    from relayrl.platform.replay import ReplayClient
    from relayrl.platform.rollout import RolloutWorkerImpl

    cfg = experiment_from_dict(dict(
        name=f"maze_{algo}_{seed}", algorithm=algo, seed=seed,
        env=dict(id=digit_maze.ENV_ID, num_envs=1, kwargs={"maze_seed": seed}),
        learner=learner_section(algo, args),
    ))
    lc = cfg.learner
    algorithm = get_algorithm(algo)
    env_info = EnvInfo.probe(cfg)
    optimal = gym.make(digit_maze.ENV_ID, maze_seed=seed).unwrapped.optimal_path_length
    client = ReplayClient.create(algorithm.tables(cfg, env_info))
    try:
        worker = RolloutWorkerImpl(cfg, 0, client)
        learner = algorithm.make_learner(cfg, env_info, client)
        env_steps = updates = version = 0
        curve, solved_at = [], None
        next_eval = args.eval_every
        start = time.perf_counter()
        update_time = 0.0
        while env_steps < args.env_steps:
            version += 1
            out = worker.sample(args.steps_per_call, env_steps, version, learner.get_weights())
            env_steps += out["env_steps"]
            owed = int(max(0, env_steps - lc.learning_starts) * lc.updates_per_env_step) - updates
            t0 = time.perf_counter()
            for _ in range(owed):
                learner.update()
            update_time += time.perf_counter() - t0
            updates += max(owed, 0)
            if env_steps >= next_eval:
                next_eval += args.eval_every
                worker.set_weights(version, learner.get_weights())
                length = greedy_path_length(worker.policy, seed, eval_seed=env_steps)
                curve.append((env_steps, length))
                if solved_at is None and length is not None and length <= NEAR_OPTIMAL * optimal:
                    solved_at = env_steps
                    if args.stop_when_solved:
                        break
        return {
            "algo": algo, "seed": seed, "maze_seed": seed, "optimal_path_length": optimal,
            "solved_at_env_steps": solved_at, "env_steps": env_steps, "updates": updates,
            "curve": curve, "wall_s": time.perf_counter() - start, "update_s": update_time,
            "settings": learner_section(algo, args),
        }
    finally:
        client.close()


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


# ----------------------------------------------------------------------------- report


def load_runs(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]


def summarize(runs: list[dict]) -> dict:
    summary = {}
    for algo in sorted({r["algo"] for r in runs}):
        rs = [r for r in runs if r["algo"] == algo]
        budget = max(r["env_steps"] for r in rs)
        # Unsolved runs count as the budget: the mean/median are then lower bounds.
        steps = np.array([r["solved_at_env_steps"] or budget for r in rs], dtype=float)
        summary[algo] = {
            "runs": len(rs), "solved": sum(r["solved_at_env_steps"] is not None for r in rs),
            "budget_env_steps": budget,
            "mean": float(steps.mean()), "std": float(steps.std(ddof=1)) if len(rs) > 1 else 0.0,
            "median": float(np.median(steps)),
            "q25": float(np.percentile(steps, 25)), "q75": float(np.percentile(steps, 75)),
            "min": float(steps.min()), "max": float(steps.max()),
            "updates_per_s": float(np.median([r["updates"] / r["update_s"] for r in rs
                                              if r["update_s"] > 0])),
            "seeds": [r["seed"] for r in rs],
        }
    if "ebu" in summary and "dqn" in summary:
        summary["ratio_ebu_over_dqn"] = {
            "mean": summary["ebu"]["mean"] / summary["dqn"]["mean"],
            "median": summary["ebu"]["median"] / summary["dqn"]["median"],
        }
    return summary


def relative_length(length: int | None, optimal: int) -> float:
    """Greedy path length / shortest (a failed walk counts as the cap)."""
    return (length if length is not None else EVAL_STEP_CAP) / optimal


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for algo, color in (("ebu", "tab:red"), ("dqn", "tab:blue")):
        rs = [r for r in runs if r["algo"] == algo]
        if not rs:
            continue
        grid = sorted({s for r in rs for s, _ in r["curve"]})
        rel = []
        for r in rs:
            pts = dict((s, relative_length(n, r["optimal_path_length"])) for s, n in r["curve"])
            last = EVAL_STEP_CAP / r["optimal_path_length"]
            row = []
            for s in grid:  # a run stopped when solved keeps its last value
                last = pts.get(s, last)
                row.append(last)
            rel.append(row)
        rel = np.array(rel)
        med = np.median(rel, axis=0)
        ax.plot(grid, med, color=color, label=f"{algo.upper()} (median of {len(rs)} mazes)")
        ax.fill_between(grid, np.percentile(rel, 25, axis=0), np.percentile(rel, 75, axis=0),
                        color=color, alpha=0.2)
    ax.axhline(NEAR_OPTIMAL, color="gray", ls="--", lw=1, label="within 10% of optimal")
    ax.set_yscale("log")
    ax.set_xlabel("env steps")
    ax.set_ylabel("greedy path length / shortest path")
    ax.set_title("DigitMaze 10x10, 30% walls: EBU vs DQN (IQR shaded)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_table(summary: dict, runs: list[dict], path: Path, command: str) -> None:
    s0 = runs[0]["settings"]
    lines = [
        "# EBU vs DQN on the handwritten-digit maze",
        "",
        "Env steps until the greedy policy's path from start to goal is within 10% of the",
        "shortest path (10x10 maze, 30% walls, one maze per seed, reward only at the goal).",
        "Same network, optimiser, exploration, target period and learner updates per env step",
        f"for both (updates_per_env_step={s0['updates_per_env_step']}, batch 32, "
        f"target_update_period={s0['target_update_period']} updates, lr={s0['lr']}, "
        f"gamma={s0['gamma']}; EBU beta={runs[[r['algo'] for r in runs].index('ebu')]['settings'].get('beta') if any(r['algo'] == 'ebu' for r in runs) else '-'}).",
        "Unsolved runs count as the budget, so their means are lower bounds; as most DQN runs",
        "are unsolved, the EBU / DQN ratios below overstate EBU's true ratio (upper bounds).",
        "With `--stop-when-solved` a run stops at its first near-optimal evaluation and its",
        "curve keeps that value afterwards. Each evaluation is one greedy walk (at most 100",
        "steps; a failed walk counts as 100).",
        "",
        "Command:",
        "",
        "```",
        command,
        "python benchmarks/ebu_maze.py --report",
        "```",
        "",
        "| algorithm | runs | solved | mean env steps | std | median | IQR | min - max | "
        "learner updates/s (median) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for algo in ("ebu", "dqn"):
        if algo not in summary:
            continue
        s = summary[algo]
        lines.append(
            f"| {algo.upper()} | {s['runs']} | {s['solved']} | {s['mean']:,.0f} | {s['std']:,.0f} "
            f"| {s['median']:,.0f} | {s['q25']:,.0f} - {s['q75']:,.0f} | {s['min']:,.0f} - "
            f"{s['max']:,.0f} | {s['updates_per_s']:,.0f} |")
    if "ratio_ebu_over_dqn" in summary:
        r = summary["ratio_ebu_over_dqn"]
        lines += ["", f"EBU / DQN env steps: mean ratio **{r['mean']:.2f}**, median ratio "
                      f"**{r['median']:.2f}** (target: <= 0.5)."]
    lines += ["", "Per seed (env steps to near-optimal; - = not within the budget):", "",
              "| seed | shortest path | EBU | DQN |", "|---|---|---|---|"]
    by = {(r["algo"], r["seed"]): r for r in runs}
    for seed in sorted({r["seed"] for r in runs}):
        cells = []
        for algo in ("ebu", "dqn"):
            r = by.get((algo, seed))
            cells.append("n/a" if r is None else
                         (f"{r['solved_at_env_steps']:,}" if r["solved_at_env_steps"] else "-"))
        opt = next(r["optimal_path_length"] for r in runs if r["seed"] == seed)
        lines.append(f"| {seed} | {opt} | {cells[0]} | {cells[1]} |")
    lines += ["", "![learning curves](ebu_maze.png)", ""]
    path.write_text("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5")
    p.add_argument("--algos", nargs="+", default=["ebu", "dqn"], choices=["ebu", "dqn"])
    p.add_argument("--env-steps", type=int, default=60_000, help="budget per run")
    p.add_argument("--updates-per-env-step", type=float, default=0.25)
    p.add_argument("--target-update-period", type=int, default=1000, help="learner updates")
    p.add_argument("--epsilon-decay-steps", type=int, default=20_000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--steps-per-call", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=1000, help="env steps")
    p.add_argument("--stop-when-solved", action="store_true")
    p.add_argument("--out", type=Path, default=RESULTS / "ebu_maze_runs")
    p.add_argument("--report", action="store_true", help="aggregate the runs under --out")
    p.add_argument("--command", default="python benchmarks/ebu_maze.py --seeds 0-9",
                   help="the command line to quote next to the table")
    args = p.parse_args()
    if args.report:
        runs = load_runs(args.out)
        summary = summarize(runs)
        plot(runs, RESULTS / "ebu_maze.png")
        write_table(summary, runs, RESULTS / "ebu_maze.md", args.command)
        print(json.dumps(summary, indent=2))
        return

    import ray
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in parse_seeds(args.seeds):
        for algo in args.algos:  # interleaved, so machine noise hits both alike
            r = run_one(algo, seed, args)
            (args.out / f"{algo}_seed{seed:02d}.json").write_text(json.dumps(r))
            print(json.dumps({k: v for k, v in r.items() if k not in ("curve", "settings")}),
                  flush=True)
    ray.shutdown()


if __name__ == "__main__":
    main()
