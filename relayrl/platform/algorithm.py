"""The one seam between an algorithm and the distributed runtime.

An algorithm declares the replay tables it needs, how environment steps become replay items
(its *adder*), and how to build its learner and its policy. The platform turns that into
actors: :class:`~relayrl.platform.rollout.RolloutWorker` instances hold the policy and the
adder, the learner runs in the driver or in its own actor, and the replay service sits
between them. Algorithms whose iteration does not fit the generic loop (MAML's
meta-iteration) provide ``make_trainer`` instead and drive the same actors themselves.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import gymnasium
import numpy as np

if TYPE_CHECKING:
    from relayrl.platform.config import ExperimentConfig


@dataclasses.dataclass(frozen=True)
class EnvInfo:
    """What an algorithm needs to know about the environment to size its networks."""

    env_id: str
    observation_space: gymnasium.Space  # of one sub-env
    action_space: gymnasium.Space  # of one sub-env

    @classmethod
    def from_vector_env(cls, env_id: str, venv: gymnasium.vector.VectorEnv) -> EnvInfo:
        return cls(env_id, venv.single_observation_space, venv.single_action_space)

    @classmethod
    def probe(cls, cfg: ExperimentConfig) -> EnvInfo:
        """Build one sub-env of the configured vector env just to read its spaces."""
        from relayrl.envs import make_vector_env

        venv = make_vector_env(cfg.env.id, 1, seed=cfg.seed, env_kwargs=cfg.env.kwargs)
        try:
            return cls.from_vector_env(cfg.env.id, venv)
        finally:
            venv.close()

    def require_discrete(self, algorithm: str) -> None:
        """ConfigError unless the action space is Discrete (Q-learning families need it)."""
        from relayrl.platform.config import ConfigError

        if not isinstance(self.action_space, gymnasium.spaces.Discrete):
            raise ConfigError(
                f"algorithm {algorithm} needs a discrete action space; env.id {self.env_id!r} "
                f"has {self.action_space}"
            )

    @property
    def num_actions(self) -> int:
        if not isinstance(self.action_space, gymnasium.spaces.Discrete):
            raise TypeError(f"{self.env_id}: action space {self.action_space} is not discrete")
        return int(self.action_space.n)

    @property
    def obs_shape(self) -> tuple[int, ...]:
        return tuple(self.observation_space.shape)

    @property
    def is_image(self) -> bool:
        """Stacked uint8 frames [stack, H, W] (Atari preprocessing)."""
        space = self.observation_space
        return space.dtype == np.uint8 and len(space.shape) == 3


@runtime_checkable
class Policy(Protocol):
    """What a rollout worker holds: acts, takes new weights; no optimizer. Must be picklable."""

    def compute_actions(
        self, obs: np.ndarray, *, env_steps: int, explore: bool = True
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Actions for a batch of observations ``[N, ...]`` and per-step extras to store."""

    def set_weights(self, weights: Any) -> None: ...


@runtime_checkable
class Learner(Protocol):
    """Samples from replay, updates, and hands out weights for the policy copies."""

    def update(self) -> dict[str, float]:
        """One learner update (one sampled batch); returns scalar metrics."""

    def get_weights(self) -> Any:
        """Policy weights as numpy arrays (what ``Policy.set_weights`` takes)."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Adder(Protocol):
    """Turns vector-env steps into replay items (see relayrl.platform.replay adders)."""

    def add(self, obs, action, reward, terminated, truncated, next_obs, extras=None, mask=None): ...

    def flush(self, wait: bool = True) -> None: ...


class Algorithm(Protocol):
    """A learner family as the platform sees it; registered by name in relayrl.agents.registry."""

    name: str
    config_cls: type  # the frozen dataclass of the YAML ``learner:`` section
    schedule: Literal["off_policy", "on_policy"]

    def check_config(self, cfg: ExperimentConfig) -> None:
        """Raise ConfigError for settings that contradict each other or the environment."""

    def tables(self, cfg: ExperimentConfig, env_info: EnvInfo) -> list[Any]:
        """The replay TableConfigs this algorithm reads and writes."""

    def make_policy(self, cfg: ExperimentConfig, env_info: EnvInfo, seed: int = 0) -> Policy:
        """A fresh policy; ``seed`` differs per worker so exploration streams differ."""

    def make_adder(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any, num_envs: int) -> Adder: ...

    def make_learner(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any) -> Learner: ...


@runtime_checkable
class Trainer(Protocol):
    """What ``relayrl train`` and the Tune trainable drive, one iteration at a time.

    :class:`relayrl.platform.experiment.Experiment` is the generic one; an algorithm with its
    own iteration (MAML) returns its own from ``Algorithm.make_trainer(cfg)``.
    """

    def train_iteration(self) -> dict[str, Any]:
        """One iteration; standard metric names (``env_steps``, ``episode_return_mean``, ...)."""

    def done(self, metrics: dict[str, Any]) -> bool:
        """Whether ``cfg.stop`` is reached."""

    def save(self, directory: str, *, include_replay: bool = True) -> str:
        """A checkpoint directory; ``include_replay=False`` leaves out replay contents (a model
        to evaluate, not a run to resume). Trainers that keep no replay contents ignore it."""

    def restore(self, directory: str) -> None: ...

    def close(self) -> None: ...
