"""Throughput of the SMAC-like environment on one core, with uniformly random available actions.

Single env: the loop pymarl / EPyMARL run per step (get_avail_actions, choose, step,
get_obs, get_state). Batched: ``SMACLikeVecEnv`` with ``--num-envs`` battles, actions
drawn for all of them at once. The process is pinned to one core. Each cell is measured
``--repeats`` times; we report the median of env steps per wall-clock second and per
CPU second of this process (the latter is less disturbed by other jobs on a shared machine).
Prints JSON; ``--markdown PATH`` also writes the table.

    python benchmarks/smaclike_throughput.py --markdown benchmarks/results/smaclike_throughput.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from relayrl.envs.smaclike import SMACLikeEnv, SMACLikeVecEnv
from relayrl.envs.smaclike.scripted import random_policy

MAPS = ("3m", "8m", "2s3z", "MMM2", "27m_vs_30m", "corridor")


def measure_single(map_name: str, seconds: float, seed: int) -> tuple[float, float]:
    env = SMACLikeEnv(map_name, seed=seed)
    rng = np.random.default_rng(seed)
    env.reset()
    steps = 0
    w0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - w0 < seconds:
        avail = np.array(env.get_avail_actions())
        actions = random_policy(None, avail[None], rng)[0]
        _, done, _ = env.step(actions)
        env.get_obs()
        env.get_state()
        steps += 1
        if done:
            env.reset()
    return steps / (time.perf_counter() - w0), steps / (time.process_time() - c0)


def measure_vec(map_name: str, num_envs: int, seconds: float, seed: int) -> tuple[float, float]:
    env = SMACLikeVecEnv(map_name, num_envs, seed=seed)
    rng = np.random.default_rng(seed)
    _, _, avail = env.reset()
    steps = 0
    w0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - w0 < seconds:
        _, _, avail, _, _, _ = env.step(random_policy(None, avail, rng))
        steps += num_envs
    return steps / (time.perf_counter() - w0), steps / (time.process_time() - c0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maps", default=",".join(MAPS))
    ap.add_argument("--num-envs", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markdown", default="")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    load_before = os.getloadavg()
    rows = []
    for m in args.maps.split(","):
        single = [measure_single(m, args.seconds, args.seed + r) for r in range(args.repeats)]
        vec = [measure_vec(m, args.num_envs, args.seconds, args.seed + r) for r in range(args.repeats)]
        row = {
            "map": m,
            "single_steps_per_s_wall": float(np.median([s[0] for s in single])),
            "single_steps_per_cpu_s": float(np.median([s[1] for s in single])),
            "vec_num_envs": args.num_envs,
            "vec_env_steps_per_s_wall": float(np.median([v[0] for v in vec])),
            "vec_env_steps_per_cpu_s": float(np.median([v[1] for v in vec])),
            "repeats": args.repeats,
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"load_average_before": load_before, "load_average_after": os.getloadavg(), "cpus": os.cpu_count(), "rows": rows}
    print(json.dumps(result, indent=1))
    if args.markdown:
        lines = [
            "# SMAC-like environment throughput (one core, random available actions)",
            "",
            f"Command: `python benchmarks/smaclike_throughput.py {' '.join(sys.argv[1:])}`",
            "",
            f"Medians of {args.repeats} runs of {args.seconds:g} s per cell; process pinned to one core of a {os.cpu_count()}-core "
            f"machine shared with other jobs (1-min load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after). "
            "Single env: the pymarl loop (get_avail_actions, step, get_obs, get_state) per step. "
            "Steps per CPU second count only this process's CPU time, so they are what one free core would give.",
            "",
            f"| map | single env steps/s (wall) | single env steps/CPU-s | {args.num_envs} envs: env steps/s (wall) | {args.num_envs} envs: env steps/CPU-s |",
            "|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['map']} | {r['single_steps_per_s_wall']:,.0f} | {r['single_steps_per_cpu_s']:,.0f} | "
                f"{r['vec_env_steps_per_s_wall']:,.0f} | {r['vec_env_steps_per_cpu_s']:,.0f} |"
            )
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
