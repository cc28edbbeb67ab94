"""MAML-TRPO results: long training runs, the meta-test, ``results/maml.md`` and curve plots.

    python benchmarks/maml_results.py train --config tune_configs/maml_navigation.yaml \
        --seed 0 --out benchmarks/results/maml_runs/navigation_seed0
    python benchmarks/maml_results.py report --runs benchmarks/results/maml_runs

``train`` runs the experiment's meta-iterations with the in-process sampler (the same
TaskSampler code the Ray sampler actors run; it keeps a long run on one core of a shared
machine), appends one JSON line of metrics per meta-iteration to ``metrics.jsonl``, checkpoints
every ``run.checkpoint_every`` iterations and continues from the last checkpoint when
restarted. ``report`` runs the meta-test (``relayrl eval-meta``'s protocol) on each run's last
checkpoint and writes the tables and plots. Both print JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch


def latest_checkpoint(out: Path) -> Path | None:
    done = sorted(p for p in out.glob("checkpoint_*") if (p / "relayrl_checkpoint.json").is_file())
    return done[-1] if done else None


def train(args: argparse.Namespace) -> dict:
    from relayrl.agents.maml.trainer import MAMLTrainer
    from relayrl.platform.best_checkpoint import BestCheckpoint
    from relayrl.platform.config import load_experiment

    torch.set_num_threads(args.threads)
    overrides = [f"seed={args.seed}", *args.overrides]
    if args.iterations is not None:
        overrides.append(f"stop.iterations={args.iterations}")
    cfg = load_experiment(args.config, overrides)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trainer = MAMLTrainer(cfg, distributed=False)
    last = latest_checkpoint(out)
    if last is not None:
        trainer.restore(last)
        print(json.dumps({"resumed_from": str(last), "iteration": trainer.iteration}), flush=True)
        log_path = out / "metrics.jsonl"  # drop lines logged after that checkpoint
        kept = [line for line in log_path.read_text().splitlines()
                if line.strip() and json.loads(line)["iteration"] <= trainer.iteration]
        log_path.write_text("".join(line + "\n" for line in kept))
    best = BestCheckpoint(out, resumed_iteration=trainer.iteration) if cfg.run.keep_best else None
    finished = False
    with (out / "metrics.jsonl").open("a") as log:
        while not finished:
            metrics = trainer.train_iteration()
            finished = trainer.done(metrics)
            if best is not None:
                best.update(trainer, metrics)
            log.write(json.dumps(metrics) + "\n")
            log.flush()
            it = metrics["iteration"]
            if it % cfg.run.checkpoint_every == 0 or finished:
                trainer.save(out / f"checkpoint_{it:06d}")
            if it % 10 == 0:
                print(json.dumps({k: metrics[k] for k in (
                    "iteration", "learner/pre_return", "learner/post_return", "time_this_iter_s")}),
                    flush=True)
    trainer.close()
    return {"run": str(out), "iterations": trainer.iteration, "time_total_s": trainer.time_total}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--config", required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--iterations", type=int, default=None, help="override stop.iterations")
    t.add_argument("--out", required=True)
    t.add_argument("--threads", type=int, default=1, help="torch threads")
    t.add_argument("--set", dest="overrides", action="append", default=[])
    r = sub.add_parser("report")
    r.add_argument("--runs", default="benchmarks/results/maml_runs")
    r.add_argument("--tasks", type=int, default=40)
    r.add_argument("--md", default="benchmarks/results/maml.md")
    r.add_argument("--cached-only", action="store_true",
                   help="only use meta-tests already written by relayrl eval-meta --out")
    args = p.parse_args(argv)
    start = time.perf_counter()
    if args.command == "train":
        result = train(args)
    else:
        from maml_report import report  # noqa: PLC0415  (sibling script)

        result = report(args)
    result["wall_s"] = time.perf_counter() - start
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
