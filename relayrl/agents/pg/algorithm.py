"""Policy gradient as the platform sees it: a queue table of sequences, on-policy schedule."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from relayrl.agents.pg.config import PGConfig
from relayrl.agents.pg.learner import PGLearner
from relayrl.agents.pg.networks import ActorCritic
from relayrl.agents.pg.policy import PGPolicy
from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ConfigError, ExperimentConfig


def _model(cfg: ExperimentConfig, env_info: EnvInfo) -> ActorCritic:
    return ActorCritic(int(np.prod(env_info.obs_shape)), env_info.action_space,
                       cfg.learner.hidden_sizes)


class PG:
    name = "pg"
    config_cls = PGConfig
    schedule = "on_policy"

    def check_config(self, cfg: ExperimentConfig) -> None:
        pass

    def tables(self, cfg: ExperimentConfig, env_info: EnvInfo) -> list[Any]:
        from relayrl.platform.replay import Field, TableConfig

        space = env_info.action_space
        if isinstance(space, gymnasium.spaces.Discrete):
            action = Field("action", (), "int64")
        elif isinstance(space, gymnasium.spaces.Box):
            action = Field("action", space.shape, "float32")
        else:
            raise ConfigError(f"algorithm pg: action space {space} of {env_info.env_id!r} is "
                              "neither Discrete nor Box")
        if len(env_info.obs_shape) != 1:
            raise ConfigError(f"algorithm pg: needs flat observations; {env_info.env_id!r} "
                              f"has shape {env_info.obs_shape}")
        obs_dtype = "float32" if env_info.observation_space.dtype == np.float32 else str(
            env_info.observation_space.dtype)
        signature = (
            Field("obs", env_info.obs_shape, obs_dtype),
            Field("next_obs", env_info.obs_shape, obs_dtype),
            action, Field("reward", (), "float32"), Field("terminated", (), "bool"),
            Field("truncated", (), "bool"), Field("mask", (), "bool"),
            Field("version", (), "int64"),
        )
        return [TableConfig.queue(PGLearner.table, cfg.learner.queue_size, signature,
                                  kind="sequence", sequence_length=cfg.rollout.steps_per_call)]

    def make_policy(self, cfg: ExperimentConfig, env_info: EnvInfo, seed: int = 0) -> PGPolicy:
        return PGPolicy(_model(cfg, env_info), seed)

    def make_adder(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any, num_envs: int):
        from relayrl.platform.replay import SequenceAdder

        return SequenceAdder(client, PGLearner.table, num_envs,
                             sequence_length=cfg.rollout.steps_per_call, flush_partial=True)

    def make_learner(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any) -> PGLearner:
        return PGLearner(cfg.learner, _model(cfg, env_info), client, seed=cfg.seed)
