"""Sanity of SMAC-like battles: win rates of a random, a focus-fire and an idle policy on every map.

One episode in each of ``--episodes`` parallel battles per (map, policy) cell, so short and
long episodes are counted alike. Prints JSON; ``--markdown PATH`` also writes the table.

    python benchmarks/smaclike_sanity.py --episodes 200 --markdown benchmarks/results/smaclike_sanity.md
    python benchmarks/smaclike_sanity.py --maps 3m,8m --policies focus_fire --seeds 10 \
        --markdown benchmarks/results/smaclike_sanity_seeds.md   # spread over seeds
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from relayrl.envs.smaclike import SMACLikeVecEnv, list_maps
from relayrl.envs.smaclike.scripted import POLICIES

POLICY_ORDER = ("random", "focus_fire", "idle")


def run_cell(map_name: str, policy: str, episodes: int, seed: int) -> dict:
    env = SMACLikeVecEnv(map_name, episodes, seed=seed)
    rng = np.random.default_rng(seed)
    act = POLICIES[policy]
    _, _, avail = env.reset()
    done = np.zeros(episodes, dtype=bool)
    won = np.zeros(episodes, dtype=bool)
    timeout = np.zeros(episodes, dtype=bool)
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    while not done.all():
        _, _, avail, _, terminated, info = env.step(act(env.perspective, avail, rng))
        first = terminated & ~done
        won[first] = info["battle_won"][first]
        timeout[first] = info["episode_limit"][first]
        returns[first] = info["episode_return"][first]
        lengths[first] = info["episode_length"][first]
        done |= terminated
    return {
        "map": map_name,
        "policy": policy,
        "episodes": episodes,
        "win_rate": float(won.mean()),
        "loss_or_draw_rate": float((~won & ~timeout).mean()),
        "timeout_rate": float(timeout.mean()),
        "mean_return": float(returns.mean()),
        "mean_length": float(lengths.mean()),
    }


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "# SMAC-like battles: sanity of scripted policies",
        "",
        f"Command: `{command}`",
        "",
        "One episode in each of N parallel battles per cell. focus_fire: every agent shoots the enemy",
        "with the least health + shield among those within its weapon range (the closer of equally",
        "weak ones), counting the shots of the agents before it that fire this step (so no agent",
        "waits on a target already certain to die); with none in range it attacks the closest enemy",
        "it can attack, otherwise it moves towards the closest enemy (medivacs heal the most hurt",
        "ally). idle: every agent stops. random: uniformly among the available actions.",
        "Return = SMAC's scaled dense reward (20 for a perfect win).",
        "",
        "| map | random win | focus_fire win | idle win | random return | focus_fire return | idle return | focus_fire timeouts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by = {(r["map"], r["policy"]): r for r in rows}
    for m in sorted({r["map"] for r in rows}, key=lambda n: list_maps().index(n)):
        c = [by[m, p] for p in POLICY_ORDER]
        lines.append(
            f"| {m} | {c[0]['win_rate']:.1%} | {c[1]['win_rate']:.1%} | {c[2]['win_rate']:.1%} | "
            f"{c[0]['mean_return']:.2f} | {c[1]['mean_return']:.2f} | {c[2]['mean_return']:.2f} | {c[1]['timeout_rate']:.1%} |"
        )
    n = rows[0]["episodes"]
    lines += ["", f"N = {n} episodes per cell."]
    return "\n".join(lines) + "\n"


def markdown_seeds(rows: list[dict], command: str) -> str:
    """Win rate of each (map, policy) cell over several seeds: per seed, mean and spread."""
    lines = ["# SMAC-like battles: scripted-policy win rates over seeds", "",
             f"Command: `{command}`", "",
             "Each seed: one episode in each of N parallel battles (policies as in "
             "`smaclike_sanity.md`).", "",
             "| map | policy | episodes | win rate, mean over seeds | std over seeds | per seed |",
             "|---|---|---|---|---|---|"]
    cells: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        cells.setdefault((r["map"], r["policy"]), []).append(r)
    for (m, p), rs in cells.items():
        w = np.array([r["win_rate"] for r in rs])
        per = ", ".join(f"{x:.1%}" for x in w)
        lines.append(f"| {m} | {p} | {sum(r['episodes'] for r in rs)} | {w.mean():.2%} | "
                     f"{w.std():.2%} | {per} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maps", default=",".join(list_maps()))
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=0,
                    help="run seeds 0..S-1 and write the spread over seeds instead")
    ap.add_argument("--policies", default=",".join(POLICY_ORDER))
    ap.add_argument("--markdown", default="")
    args = ap.parse_args()
    policies = args.policies.split(",")
    unknown = sorted(set(policies) - set(POLICY_ORDER))
    if unknown or (not args.seeds and policies != list(POLICY_ORDER)):
        ap.error(f"--policies: unknown {unknown}; choose from {list(POLICY_ORDER)} "
                 "(a subset only with --seeds)")
    rows = []
    for seed in range(args.seeds) if args.seeds else [args.seed]:
        for m in args.maps.split(","):
            for p in policies:
                t0 = time.perf_counter()
                row = run_cell(m, p, args.episodes, seed)
                row["seed"] = seed
                row["seconds"] = round(time.perf_counter() - t0, 2)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=1))
    if args.markdown:
        cmd = "python benchmarks/smaclike_sanity.py " + " ".join(sys.argv[1:])
        with open(args.markdown, "w") as f:
            f.write(markdown_seeds(rows, cmd) if args.seeds else markdown(rows, cmd))


if __name__ == "__main__":
    main()
