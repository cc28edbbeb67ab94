"""``relayrl train``: run one experiment to its stop condition, with progress and TensorBoard."""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import ray

from relayrl.platform.config import ConfigError, ExperimentConfig, to_dict
from relayrl.platform.metrics import TensorBoardLogger, print_progress


def init_ray(address: str | None, *, num_cpus: int | None = None) -> None:
    """Start a local Ray instance, or join the cluster at ``address`` (e.g. ``auto``)."""
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    if not address:
        # "local": a fresh instance even when `ray start` left a cluster address behind
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                 log_to_driver=False)
        return
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ray.exceptions.RayError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(
            f"--address {address}: cannot join a Ray cluster ({first}); start one with "
            "`ray start --head` or omit --address to run locally"
        ) from None


def required_resources(cfg: ExperimentConfig) -> dict[str, float]:
    """CPUs and GPUs the experiment's actors ask for."""
    r = cfg.resources
    learner_actor = r.learner_placement == "actor" or r.num_gpus > 0
    cpus = cfg.rollout.num_workers * cfg.rollout.num_cpus_per_worker + r.replay_num_cpus
    cpus += r.learner_num_cpus if learner_actor else 0.0
    return {"CPU": cpus, "GPU": r.num_gpus}


def check_resources(cfg: ExperimentConfig, have: dict[str, float] | None = None) -> None:
    """Refuse, before starting any actor, a request the cluster can never meet.

    ``have`` defaults to the connected cluster's resources; before Ray starts locally, the
    CLI passes this machine's (``local_resources()``) so a bad request fails at once.
    """
    need = required_resources(cfg)
    have = ray.cluster_resources() if have is None else have
    for res, amount in need.items():
        if amount > have.get(res, 0.0) + 1e-9:
            raise ConfigError(
                f"resources: the config asks for {amount:g} {res} "
                f"(rollout.num_workers={cfg.rollout.num_workers} x "
                f"rollout.num_cpus_per_worker={cfg.rollout.num_cpus_per_worker:g}, "
                f"resources.num_gpus={cfg.resources.num_gpus:g}, "
                f"resources.learner_num_cpus={cfg.resources.learner_num_cpus:g}, "
                f"resources.replay_num_cpus={cfg.resources.replay_num_cpus:g}) but the cluster "
                f"has {have.get(res, 0.0):g}; lower them or join a bigger cluster with --address"
            )


def local_resources() -> dict[str, float]:
    """What a local Ray instance started here would offer (Ray counts CPUs the same way)."""
    gpus = 0.0
    try:
        import torch

        gpus = float(torch.cuda.device_count())
    except Exception:  # no torch CUDA runtime: no GPUs
        pass
    return {"CPU": float(os.cpu_count() or 1), "GPU": gpus}


def run_dir(cfg: ExperimentConfig, logdir: str | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(logdir or cfg.run.logdir) / cfg.name / f"{stamp}-seed{cfg.seed}"


def maybe_log_video(trainer: Any, tb: TensorBoardLogger, cfg: ExperimentConfig,
                    metrics: dict[str, Any]) -> None:
    """Every ``run.video_every`` iterations, one greedy episode as a TensorBoard video."""
    every = cfg.run.video_every
    if not every or int(metrics["iteration"]) % every or not hasattr(trainer, "record_video"):
        return
    frames = trainer.record_video()
    tb.log_video("episode_video", frames, step=int(metrics["env_steps"]))


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest ``checkpoint_*`` directories (``keep=0``: none).

    Replay contents make Atari checkpoints gigabytes each; long runs keep the last few.
    """
    if keep <= 0:
        return
    found = sorted(p for p in run_dir.glob("checkpoint_*") if p.is_dir())
    for old in found[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def train(cfg: ExperimentConfig, *, logdir: str | None = None, restore: str | None = None,
          progress: bool | None = None) -> dict[str, Any]:
    """Run ``cfg`` until its stop condition; return the last iteration's metrics.

    Writes TensorBoard event files and checkpoints (``checkpoint_<iteration>``) in the run
    directory, printed at the start.
    """
    from relayrl.platform.best_checkpoint import BestCheckpoint
    from relayrl.platform.experiment import build_trainer

    check_resources(cfg)
    out = run_dir(cfg, logdir)
    out.mkdir(parents=True, exist_ok=True)
    show = cfg.run.progress if progress is None else progress
    print(f"relayrl: run directory {out}  (tensorboard --logdir {out.parent})", flush=True)
    trainer = build_trainer(cfg)
    tb = TensorBoardLogger(str(out), to_dict(cfg))
    metrics: dict[str, Any] = {}
    best = BestCheckpoint(out) if cfg.run.keep_best else None
    try:
        if restore:
            trainer.restore(restore)
        while True:
            metrics = trainer.train_iteration()
            tb.log(metrics, step=int(metrics["env_steps"]))
            if show:
                print_progress(metrics)
            it = int(metrics["iteration"])
            maybe_log_video(trainer, tb, cfg, metrics)
            finished = trainer.done(metrics)
            if best is not None and best.update(trainer, metrics):
                metrics["best_checkpoint"] = str(best.dir)
            every = cfg.run.checkpoint_every
            if finished or (every and it % every == 0):
                path = trainer.save(str(out / f"checkpoint_{it:06d}"))
                metrics["checkpoint"] = path
                prune_checkpoints(out, cfg.run.keep_checkpoints)
            if finished:
                break
    finally:
        tb.close()
        trainer.close()
    ret = metrics.get("episode_return_mean", math.nan)
    print(
        f"relayrl: done after {metrics.get('env_steps', 0):,} env steps, "
        f"{metrics.get('time_total_s', 0.0):.0f}s; episode_return_mean {ret:.2f}; "
        f"checkpoint {metrics.get('checkpoint')}",
        flush=True,
    )
    metrics["run_dir"] = str(out)
    return metrics
