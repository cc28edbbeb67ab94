"""The 40 goals of the paper's 2D navigation meta-test, as a ``relayrl eval-meta --tasks-file``.

The authors' navigation meta-test draws its goals with numpy's legacy global generator,
seed 1: ``uniform(-0.5, 0.5, size=(40, 2))``. Meta-testing on these same goals removes
the task draw from the comparison with the paper's table (two 40-task draws of ours moved
MAML's one-step return by up to 2.5).

    python benchmarks/maml_paper_goals.py
    relayrl eval-meta CHECKPOINT --tasks-file benchmarks/results/maml_paper_navigation_goals.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "maml_paper_navigation_goals.json"


def paper_goals(num: int = 40, seed: int = 1) -> np.ndarray:
    """The goals, [num, 2]; RandomState(seed) draws what np.random.seed(seed) then uniform do."""
    return np.random.RandomState(seed).uniform(-0.5, 0.5, size=(num, 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    tasks = [{"goal": [float(x) for x in g]} for g in paper_goals()]
    args.out.write_text(json.dumps(tasks, indent=1) + "\n")
    print(json.dumps({"out": str(args.out), "tasks": len(tasks), "first_goal": tasks[0]["goal"]}))


if __name__ == "__main__":
    main()
