"""Why a policy wins or loses on the baneling maps: who bursts, how many die to each burst.

For each (map, policy) cell, ``--episodes`` battles are played once each; between steps we
record every baneling that died (an attack burst if it attacked that step, else a burst on
death) and every other unit that died within reach of an enemy burst of that step (splash
2.2 + its radius). Also reported: how packed each side is when the fighting starts, as the
mean number of same-side ground units within a baneling's reach (2.2 + 0.375) of a unit.

Variants of bane_vs_bane (``--variants``) change one thing on a copy of the shipped map:
``no_learner_banelings`` (the learner keeps its 20 zerglings only) and ``zerglings_only``
(20 zerglings a side). Prints JSON; ``--markdown PATH`` also writes the table.

    python benchmarks/smaclike_baneling_breakdown.py --episodes 200 --markdown benchmarks/results/smaclike_baneling_breakdown.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from relayrl.envs.smaclike import SMACLikeVecEnv
from relayrl.envs.smaclike.maps import MAPS_DIR
from relayrl.envs.smaclike.reward import ONGOING, WON
from relayrl.envs.smaclike.scripted import POLICIES

REACH = 2.2 + 0.375  # a baneling's splash radius plus a zergling's radius


def variant_map(kind: str, out_dir: Path) -> str:
    """Path of a copy of bane_vs_bane with one change (see the module docstring)."""
    spec = json.loads((MAPS_DIR / "bane_vs_bane.json").read_text())
    spec["name"] = f"bane_vs_bane_{kind}"
    if kind in ("no_learner_banelings", "zerglings_only"):
        spec["allies"] = [g for g in spec["allies"] if g["unit"] != "baneling_rl"]
    if kind == "zerglings_only":
        spec["enemies"] = [g for g in spec["enemies"] if g["unit"] != "baneling"]
    spec["n_agents"] = sum(g["count"] for g in spec["allies"])
    spec["n_enemies"] = sum(g["count"] for g in spec["enemies"])
    path = out_dir / f"{spec['name']}.json"
    path.write_text(json.dumps(spec))
    return str(path)


def packing(b, e: int, team: int) -> float:
    """Mean number of live same-side ground units within REACH of a live unit of ``team``."""
    units = np.flatnonzero(b.alive[e] & (b.team == team) & ~b.is_air)
    if len(units) < 2:
        return 0.0
    d = b.dist[e][np.ix_(units, units)]
    return float(((d <= REACH).sum(1) - 1).mean())


def run_cell(map_name: str, policy: str, episodes: int, seed: int, label: str) -> dict:
    env = SMACLikeVecEnv(map_name, episodes, seed=seed)
    core, b, persp = env._core, env._core.battle, env.perspective
    rng = np.random.default_rng(seed)
    env.reset()
    done = np.zeros(episodes, dtype=bool)
    won = np.zeros(episodes, dtype=bool)
    counts = {f"team{t}_{k}": 0 for t in (0, 1) for k in ("attack_bursts", "death_bursts", "killed_by_bursts", "killed_otherwise")}
    contact_packing = {0: [], 1: []}
    contact_seen = np.zeros(episodes, dtype=bool)
    while not done.all():
        alive_before = b.alive.copy()
        raw, code, _, _ = core.step({0: POLICIES[policy](persp, core.avail(0), rng)})[0]
        died = alive_before & ~b.alive
        for e in np.flatnonzero(~done):
            if not contact_seen[e] and died[e].any():
                contact_seen[e] = True  # first deaths of the battle: how packed were the sides?
                for t in (0, 1):
                    contact_packing[t].append(packing(b, e, t))
            bursts = [i for i in np.flatnonzero(died[e]) if b.splash_burst[i]]
            for i in bursts:
                kind = "attack_bursts" if b.shot_target[e, i] >= 0 else "death_bursts"
                counts[f"team{b.team[i]}_{kind}"] += 1
            for v in np.flatnonzero(died[e]):
                if b.splash_burst[v]:
                    continue
                hit = any(b.team[i] != b.team[v] and b.dist[e, i, v] <= 2.2 + b.radius[v] + 1e-6 for i in bursts)
                counts[f"team{b.team[v]}_{'killed_by_bursts' if hit else 'killed_otherwise'}"] += 1
        finished = ~done & ((code != ONGOING) | (core.steps >= env.episode_limit))
        won |= finished & (code == WON)
        done |= finished
    row = {"map": label, "policy": policy, "episodes": episodes, "win_rate": float(won.mean())}
    row.update({k: v / episodes for k, v in counts.items()})
    for t in (0, 1):
        bursts = counts[f"team{t}_attack_bursts"] + counts[f"team{t}_death_bursts"]
        row[f"team{t}_kills_per_burst"] = counts[f"team{1 - t}_killed_by_bursts"] / bursts if bursts else 0.0
        row[f"team{t}_packing_at_first_blood"] = float(np.mean(contact_packing[t])) if contact_packing[t] else 0.0
    return row


def markdown(rows: list[dict], command: str) -> str:
    lines = [
        "# SMAC-like battles: what decides the baneling maps",
        "",
        f"Command: `{command}`",
        "",
        "Per episode (means over N battles): bursts of each side's banelings (attacking / killed), the",
        "other side's non-baneling units that died within reach of such a burst, kills per burst, and how",
        "packed each side stood at the first deaths of the battle (same-side ground units within 2.575 of",
        "a unit). Learner = team 0 (the policy), built-in AI = team 1.",
        "",
        "| map | policy | learner win | learner bursts (attack / death) | AI bursts (attack / death) | learner kills per burst | AI kills per burst | learner units lost to bursts / otherwise | AI units lost to bursts / otherwise | packing learner / AI |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['map']} | {r['policy']} | {r['win_rate']:.1%} | {r['team0_attack_bursts']:.2f} / {r['team0_death_bursts']:.2f} | "
            f"{r['team1_attack_bursts']:.2f} / {r['team1_death_bursts']:.2f} | {r['team0_kills_per_burst']:.2f} | {r['team1_kills_per_burst']:.2f} | "
            f"{r['team0_killed_by_bursts']:.2f} / {r['team0_killed_otherwise']:.2f} | {r['team1_killed_by_bursts']:.2f} / {r['team1_killed_otherwise']:.2f} | "
            f"{r['team0_packing_at_first_blood']:.2f} / {r['team1_packing_at_first_blood']:.2f} |"
        )
    lines += ["", f"N = {rows[0]['episodes']} episodes per row."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--maps", default="bane_vs_bane,so_many_baneling")
    ap.add_argument("--policies", default="random,focus_fire,idle")
    ap.add_argument("--variants", default="no_learner_banelings,zerglings_only")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markdown", default="")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cells = [(m, m) for m in args.maps.split(",") if m]
        cells += [(variant_map(v, Path(tmp)), f"bane_vs_bane, {v}") for v in args.variants.split(",") if v]
        for map_name, label in cells:
            for policy in args.policies.split(","):
                row = run_cell(map_name, policy, args.episodes, args.seed, label)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=1))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(rows, "python benchmarks/smaclike_baneling_breakdown.py " + " ".join(sys.argv[1:])))


if __name__ == "__main__":
    main()
