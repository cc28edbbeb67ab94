"""Typed experiment configs loaded from YAML, with strict validation.

A run is described by one YAML file that becomes an :class:`ExperimentConfig` (frozen
dataclasses all the way down). Unknown or duplicate keys, wrong types and contradictions are
rejected at start with a :class:`ConfigError` naming the file, the key, the value and what is
allowed; the CLI prints that one line and exits with status 2. Command-line overrides
(``--set learner.lr=3e-4``) are applied to the raw mapping before validation, so they get the
same checks.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A config that cannot run; the message is one line meant for the user."""


# ----------------------------------------------------------------------------- YAML


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of keeping the last one silently."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                f"(first at line {seen[key]})"
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, refusing duplicate keys."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        with path.open() as f:
            data = yaml.load(f, Loader=_StrictLoader)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"learner.lr=3e-4"`` -> (["learner", "lr"], 0.0003); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. --set learner.lr=3e-4")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set {text!r}: empty key")
    try:
        value = yaml.load(raw, Loader=_StrictLoader) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    # YAML 1.1 reads "3e-4" as a string; users mean a number.
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            pass
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with each ``a.b.c=value`` override set (sections created)."""
    import copy

    out = copy.deepcopy(data)
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for p in parts[:-1]:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {p!r} is not a section")
            node = child
        node[parts[-1]] = value
    return out


# ------------------------------------------------------------------ dataclass building


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if origin is not None:
        return str(tp).replace("typing.", "")
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and build nested dataclasses."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, where)
            except ConfigError as e:
                errors.append(e)
        raise ConfigError(f"{where}: got {value!r}, expected {_type_name(tp)}")
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(f"{where}: got {value!r}, allowed: {', '.join(map(repr, args))}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {tp.__name__} fields, got {value!r}")
        return build(tp, value, where)
    if origin in (tuple, list, Sequence) or tp in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: got {value!r}, expected a list")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        return tuple(_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: got {value!r}, expected a mapping")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: got {value!r}, expected true or false")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
            return int(value)  # 1e6 written for a step count
        raise ConfigError(f"{where}: got {value!r}, expected an integer")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: got {value!r}, expected a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: got {value!r}, expected a string")
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: got {value!r}, expected {_type_name(tp)}")


def build(cls: type, data: Mapping[str, Any], where: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``; unknown keys and wrong types raise ConfigError."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    prefix = f"{where}." if where else ""
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(
            f"unknown key {prefix}{unknown[0]!r}; allowed in {where or 'the top level'}: "
            + ", ".join(sorted(fields))
        )
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], f"{prefix}{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing key {prefix}{name!r} ({_type_name(hints[name])})")
    try:
        obj = cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}" if where else str(e)) from None
    return obj


def to_dict(obj: Any) -> Any:
    """Dataclass -> plain YAML-able dict (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def check(condition: bool, message: str) -> None:
    """Raise ConfigError(message) unless ``condition``; used in ``__post_init__`` checks."""
    if not condition:
        raise ConfigError(message)


# --------------------------------------------------------------- experiment sections


@dataclasses.dataclass(frozen=True)
class EnvConfig:
    """Which environment the rollout workers step."""

    id: str  # a gymnasium id, e.g. CartPole-v1, ALE/Pong-v5, relayrl/Navigation2D-v0
    num_envs: int = 8  # sub-envs in each rollout worker's vector env
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)  # passed to gymnasium.make

    def __post_init__(self):
        check(self.num_envs >= 1, f"env.num_envs: got {self.num_envs}, must be >= 1")


@dataclasses.dataclass(frozen=True)
class RolloutConfig:
    """Rollout worker actors."""

    num_workers: int = 2
    num_cpus_per_worker: float = 1.0
    max_restarts: int = 3  # Ray restarts a crashed worker this many times
    steps_per_call: int = 64  # vector-env steps per remote call (one call = one chunk of work)
    # Off-policy: sample calls queued per worker. 2 keeps a worker stepping while the driver
    # handles its last result (no idle round trip), at one more call of policy lag.
    calls_in_flight: int = 1

    def __post_init__(self):
        check(self.num_workers >= 1, f"rollout.num_workers: got {self.num_workers}, must be >= 1")
        check(self.num_cpus_per_worker >= 0, "rollout.num_cpus_per_worker must be >= 0")
        check(self.steps_per_call >= 1, "rollout.steps_per_call must be >= 1")
        check(self.calls_in_flight in (1, 2),
              f"rollout.calls_in_flight: got {self.calls_in_flight}, allowed 1 or 2")


@dataclasses.dataclass(frozen=True)
class ResourcesConfig:
    """Where the learner runs and what the replay service reserves."""

    learner_placement: Literal["driver", "actor"] = "driver"
    num_gpus: float = 0.0  # learner GPUs (the learner runs as its own actor when > 0)
    learner_num_cpus: float = 1.0  # for learner_placement: actor
    replay_num_cpus: float = 0.0
    # torch intra-op threads of the learner; small nets on shared cores are fastest with 1
    learner_threads: int = 1

    def __post_init__(self):
        check(self.num_gpus >= 0, f"resources.num_gpus: got {self.num_gpus}, must be >= 0")
        check(self.learner_threads >= 1, "resources.learner_threads must be >= 1")


@dataclasses.dataclass(frozen=True)
class StopConfig:
    """When a run ends: whichever limit is reached first."""

    env_steps: int = 100_000
    episode_return_mean: float | None = None
    time_s: float | None = None
    iterations: int | None = None


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Logging, checkpoints and iteration size."""

    logdir: str = "runs"
    iteration_env_steps: int = 2_000  # env steps per reported iteration (one Tune result)
    checkpoint_every: int = 10  # iterations; 0 = only at the end
    progress: bool = True  # print one progress line per iteration
    video_every: int = 0  # iterations between TensorBoard episode videos; 0 = off
    keep_checkpoints: int = 0  # newest checkpoints kept in the run directory; 0 = all
    # also keep best_checkpoint/: the iteration with the highest episode_return_mean (the
    # MAML paper's model selection; relayrl/platform/best_checkpoint.py)
    keep_best: bool = False

    def __post_init__(self):
        check(self.keep_checkpoints >= 0, "run.keep_checkpoints must be >= 0 (0 keeps all)")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: what to run, where, and for how long."""

    name: str
    algorithm: str
    env: EnvConfig
    learner: Any  # the algorithm's own config dataclass (see relayrl.agents.registry)
    seed: int = 0
    rollout: RolloutConfig = dataclasses.field(default_factory=RolloutConfig)
    resources: ResourcesConfig = dataclasses.field(default_factory=ResourcesConfig)
    stop: StopConfig = dataclasses.field(default_factory=StopConfig)
    run: RunConfig = dataclasses.field(default_factory=RunConfig)
    tune: dict[str, Any] | None = None  # search space and scheduler, read by `relayrl tune`


_EXPERIMENT_KEYS = {f.name for f in dataclasses.fields(ExperimentConfig)}


def experiment_from_dict(data: Mapping[str, Any], source: str = "config") -> ExperimentConfig:
    """Validate a raw mapping into an ExperimentConfig (the learner section by its algorithm)."""
    from relayrl.agents.registry import get_algorithm

    try:
        unknown = [k for k in data if k not in _EXPERIMENT_KEYS]
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r}; allowed at the top level: "
                + ", ".join(sorted(_EXPERIMENT_KEYS))
            )
        if "algorithm" not in data:
            raise ConfigError("missing key 'algorithm'")
        algo = get_algorithm(_convert(data["algorithm"], str, "algorithm"))
        raw = dict(data)
        raw["learner"] = build(algo.config_cls, raw.get("learner") or {}, "learner")
        cfg = build(ExperimentConfig, raw)
        check_env_id(cfg.env.id)
        algo.check_config(cfg)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None
    return cfg


def check_env_id(env_id: str) -> None:
    """Refuse an id gymnasium does not know, naming close matches (ALE ids load ale-py)."""
    import difflib

    import gymnasium

    import relayrl.envs  # noqa: F401  (registers the relayrl/... ids)

    if env_id.startswith("ALE/"):
        import ale_py

        gymnasium.register_envs(ale_py)
    if env_id in gymnasium.registry:
        return
    close = difflib.get_close_matches(env_id, list(gymnasium.registry), n=5, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "see gymnasium.pprint_registry()"
    raise ConfigError(f"env.id: unknown environment {env_id!r}; {hint}")


def load_experiment(path: str | Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """YAML file + ``--set`` overrides -> a validated ExperimentConfig."""
    data = apply_overrides(load_yaml(path), overrides)
    return experiment_from_dict(data, source=str(path))

