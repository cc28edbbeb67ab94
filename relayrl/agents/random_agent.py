"""A uniformly random policy as an algorithm: the baseline return of any env, and the
reference actor for timing rollout workers (it writes the same transition items as DQN)."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium
import numpy as np

from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ExperimentConfig, check


@dataclasses.dataclass(frozen=True)
class RandomConfig:
    """The random agent learns nothing; it only writes experience."""

    replay_capacity: int = 100_000  # transitions
    write_replay: bool = True  # False: act only (no table, no inserts)
    updates_per_env_step: float = 0.0  # fixed: there is nothing to learn

    def __post_init__(self):
        check(self.updates_per_env_step == 0.0, "learner.updates_per_env_step must be 0 for random")
        check(self.replay_capacity >= 1, "learner.replay_capacity must be >= 1")


class RandomPolicy:
    """Uniform actions for a whole batch with one numpy call (Discrete and bounded Box)."""

    def __init__(self, action_space, seed: int):
        self.space = action_space
        self.space.seed(seed)
        self.rng = np.random.default_rng(seed)
        discrete = isinstance(action_space, gymnasium.spaces.Discrete)
        self._low = int(action_space.start) if discrete else None
        self._high = int(action_space.start + action_space.n) if discrete else None

    def compute_actions(self, obs: np.ndarray, *, env_steps: int, explore: bool = True):
        n, space = len(obs), self.space
        if self._low is not None:  # Discrete: one call, no per-step isinstance or offset add
            return self.rng.integers(self._low, self._high, size=n), {}
        if isinstance(space, gymnasium.spaces.Box) and space.is_bounded():
            return self.rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(
                space.dtype), {}
        return np.stack([space.sample() for _ in range(n)]), {}

    def set_weights(self, weights: Any) -> None:
        pass


class NullLearner:
    def update(self) -> dict[str, float]:
        return {}

    def get_weights(self) -> dict:
        return {}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class RandomAgent:
    name = "random"
    config_cls = RandomConfig
    schedule = "off_policy"

    def check_config(self, cfg: ExperimentConfig) -> None:
        pass

    def tables(self, cfg: ExperimentConfig, env_info: EnvInfo) -> list[Any]:
        from relayrl.agents.dqn.algorithm import transition_signature
        from relayrl.platform.replay import TableConfig

        if not cfg.learner.write_replay:
            return []
        return [TableConfig(name="replay", capacity=cfg.learner.replay_capacity,
                            kind="transition", signature=transition_signature(env_info),
                            seed=cfg.seed)]

    def make_policy(self, cfg: ExperimentConfig, env_info: EnvInfo, seed: int = 0) -> RandomPolicy:
        return RandomPolicy(env_info.action_space, seed)

    def make_adder(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any, num_envs: int):
        if not cfg.learner.write_replay:
            return None
        from relayrl.platform.replay import TransitionAdder

        return TransitionAdder(client, "replay", num_envs, n_step=1, gamma=0.99,
                               frame_stack=env_info.obs_shape[0] if env_info.is_image else None,
                               chunk_size=num_envs * cfg.rollout.steps_per_call)

    def make_learner(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any) -> NullLearner:
        return NullLearner()
