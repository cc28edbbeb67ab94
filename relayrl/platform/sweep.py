"""``relayrl tune``: Ray Tune sweeps whose search space and scheduler come from the YAML.

The experiment YAML's ``tune:`` section::

    tune:
      metric: episode_return_mean      # what schedulers and "best trial" use
      mode: max
      num_samples: 4                   # samples of the search space (x grid size)
      max_concurrent_trials: 1
      scheduler: {type: asha, grace_period: 3, reduction_factor: 2, max_t: 30}
      search_space:
        learner.lr: {loguniform: [1.0e-4, 3.0e-3]}
        learner.n_step: {grid: [1, 3]}

Search-space keys are dotted config paths; each trial gets the base config with its values set,
validated exactly like ``relayrl train`` would. Schedulers: ``fifo``, ``asha``
(``time_attr`` defaults to ``training_iteration``), ``pbt`` (``perturbation_interval``,
``hyperparam_mutations`` in the same spec format). Trials checkpoint every
``run.checkpoint_every`` iterations and at the end; ``--resume`` continues an interrupted sweep
from its experiment directory without redoing finished trials.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from ray import tune

from relayrl.platform.config import (
    ConfigError,
    apply_overrides,
    build,
    check,
    experiment_from_dict,
)

_DISTRIBUTIONS = ("grid", "choice", "uniform", "loguniform", "randint", "quniform")


@dataclasses.dataclass(frozen=True)
class SchedulerConfig:
    type: Literal["fifo", "asha", "pbt"] = "fifo"
    time_attr: str = "training_iteration"
    max_t: int = 100  # asha: iterations a trial may run at most
    grace_period: int = 1  # asha: iterations before a trial can be stopped
    reduction_factor: float = 2.0  # asha
    perturbation_interval: int = 4  # pbt: iterations between exploit/explore steps
    quantile_fraction: float = 0.25  # pbt
    hyperparam_mutations: dict[str, Any] = dataclasses.field(default_factory=dict)  # pbt


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    metric: str = "episode_return_mean"
    mode: Literal["max", "min"] = "max"
    num_samples: int = 1
    max_concurrent_trials: int = 1
    scheduler: SchedulerConfig = dataclasses.field(default_factory=SchedulerConfig)
    search_space: dict[str, Any] = dataclasses.field(default_factory=dict)
    storage_path: str | None = None  # default: <run.logdir>/tune

    def __post_init__(self):
        check(self.num_samples >= 1, "tune.num_samples must be >= 1")
        check(self.max_concurrent_trials >= 1, "tune.max_concurrent_trials must be >= 1")


def _domain(key: str, spec: Any):
    """``{loguniform: [a, b]}`` -> tune.loguniform(a, b); a plain value stays fixed."""
    if not isinstance(spec, Mapping):
        return spec
    if len(spec) != 1 or next(iter(spec)) not in _DISTRIBUTIONS:
        raise ConfigError(
            f"tune.search_space.{key}: got {dict(spec)!r}; expected one of "
            + ", ".join(f"{{{d}: [...]}}" for d in _DISTRIBUTIONS)
        )
    kind, args = next(iter(spec.items()))
    if not isinstance(args, (list, tuple)) or not args:
        raise ConfigError(f"tune.search_space.{key}.{kind}: expected a non-empty list, got {args!r}")
    if kind == "grid":
        return tune.grid_search(list(args))
    if kind == "choice":
        return tune.choice(list(args))
    if len(args) != 2 and kind != "quniform":
        raise ConfigError(f"tune.search_space.{key}.{kind}: expected [low, high], got {args!r}")
    return getattr(tune, kind)(*args)


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    parts = dotted.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def trial_config(base: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The base YAML mapping with one trial's sampled values set."""
    import copy

    data = copy.deepcopy(dict(base))
    data.pop("tune", None)
    for k, v in params.items():
        if k.startswith("_"):
            continue
        _set_path(data, k, v)
    return data


class RelayTrainable(tune.Trainable):
    """One trial: an experiment (or an algorithm's own trainer) stepped one iteration per result."""

    def setup(self, config: dict[str, Any]) -> None:
        from relayrl.platform.config import to_dict
        from relayrl.platform.experiment import build_trainer
        from relayrl.platform.metrics import TensorBoardLogger

        data = trial_config(config["_base"], config)
        self.cfg = experiment_from_dict(data, source="trial config")
        self.trainer = build_trainer(self.cfg)
        # Our standard names in the trial's own directory (Tune adds its ray/tune/ copies).
        trial_dir = tune.get_context().get_trial_dir() or os.getcwd()
        self.tb = TensorBoardLogger(trial_dir, to_dict(self.cfg))

    def step(self) -> dict[str, Any]:
        from relayrl.platform.runner import maybe_log_video

        m = self.trainer.train_iteration()
        self.tb.log(m, step=int(m["env_steps"]))
        maybe_log_video(self.trainer, self.tb, self.cfg, m)
        out = {k: v for k, v in m.items() if isinstance(v, (int, float, str, bool))}
        out["done"] = bool(self.trainer.done(m))
        return out

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        self.trainer.save(checkpoint_dir)

    def load_checkpoint(self, checkpoint: str | dict) -> None:
        self.trainer.restore(checkpoint if isinstance(checkpoint, str) else checkpoint["path"])

    def cleanup(self) -> None:
        self.tb.close()
        self.trainer.close()


def _trial_resources(cfg) -> tune.PlacementGroupFactory:
    """The trial's driver (learner) bundle plus one bundle per rollout worker."""
    r = cfg.resources
    learner_actor = r.learner_placement == "actor" or r.num_gpus > 0
    head: dict[str, float] = {"CPU": 0.01 + r.replay_num_cpus}
    bundles = [head]
    if learner_actor:
        bundles.append({"CPU": r.learner_num_cpus, "GPU": r.num_gpus} if r.num_gpus else
                       {"CPU": r.learner_num_cpus})
    w = max(cfg.rollout.num_cpus_per_worker, 0.01)
    bundles += [{"CPU": w} for _ in range(cfg.rollout.num_workers)]
    return tune.PlacementGroupFactory(bundles)


def make_scheduler(s: SchedulerConfig, metric: str, mode: str):
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining

    if s.type == "asha":
        return ASHAScheduler(time_attr=s.time_attr, metric=metric, mode=mode, max_t=s.max_t,
                             grace_period=s.grace_period, reduction_factor=s.reduction_factor)
    if s.type == "pbt":
        if not s.hyperparam_mutations:
            raise ConfigError("tune.scheduler.hyperparam_mutations: pbt needs at least one entry")
        return PopulationBasedTraining(
            time_attr=s.time_attr, metric=metric, mode=mode,
            perturbation_interval=s.perturbation_interval,
            quantile_fraction=s.quantile_fraction,
            hyperparam_mutations={k: _domain(k, v) for k, v in s.hyperparam_mutations.items()},
        )
    return FIFOScheduler()


def run_sweep(path: str, overrides=(), *, resume: bool = False) -> Any:
    """Run (or with ``resume`` continue) the sweep described by the YAML at ``path``."""
    from relayrl.platform.config import load_yaml
    from relayrl.platform.runner import check_resources

    base = apply_overrides(load_yaml(path), overrides)
    if not base.get("tune"):
        raise ConfigError(f"{path}: no 'tune:' section; add a search_space and scheduler")
    try:
        sweep = build(SweepConfig, base["tune"], "tune")
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    param_space: dict[str, Any] = {"_base": base}
    for k, v in sweep.search_space.items():
        param_space[k] = _domain(k, v)
    # Validate the base and one sampled point before launching anything.
    cfg = experiment_from_dict(trial_config(base, {}), source=path)
    for k in list(sweep.search_space) + list(sweep.scheduler.hyperparam_mutations):
        probe = trial_config(base, {k: _first_value(sweep.search_space.get(k) or
                                                    sweep.scheduler.hyperparam_mutations[k])})
        experiment_from_dict(probe, source=f"{path} (tune.search_space.{k})")
    check_resources(cfg)

    storage = Path(sweep.storage_path or Path(cfg.run.logdir) / "tune").resolve()
    exp_dir = storage / cfg.name
    trainable = tune.with_resources(RelayTrainable, _trial_resources(cfg))
    if resume:
        if not tune.Tuner.can_restore(str(exp_dir)):
            raise ConfigError(f"--resume: no sweep to resume in {exp_dir}")
        tuner = tune.Tuner.restore(str(exp_dir), trainable=trainable, resume_errored=True,
                                   param_space=param_space)
    else:
        from ray.tune import CheckpointConfig, RunConfig, TuneConfig

        tuner = tune.Tuner(
            trainable,
            param_space=param_space,
            tune_config=TuneConfig(
                num_samples=sweep.num_samples,
                max_concurrent_trials=sweep.max_concurrent_trials,
                scheduler=make_scheduler(sweep.scheduler, sweep.metric, sweep.mode),
            ),
            run_config=RunConfig(
                name=cfg.name,
                storage_path=str(storage),
                checkpoint_config=CheckpointConfig(
                    checkpoint_frequency=cfg.run.checkpoint_every or 0,
                    checkpoint_at_end=True,
                    num_to_keep=2,
                ),
                verbose=1,
            ),
        )
    print(f"relayrl: sweep directory {exp_dir}  (tensorboard --logdir {exp_dir})", flush=True)
    results = tuner.fit()
    best = results.get_best_result(metric=sweep.metric, mode=sweep.mode)
    print(f"relayrl: best trial {best.path}: {sweep.metric}={best.metrics.get(sweep.metric)}"
          f" with {_trial_params(best.config)}", flush=True)
    return results


def _first_value(spec: Any) -> Any:
    if isinstance(spec, Mapping) and len(spec) == 1:
        args = next(iter(spec.values()))
        if isinstance(args, (list, tuple)) and args:
            return args[0]
    return spec


def _trial_params(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if not k.startswith("_")}
