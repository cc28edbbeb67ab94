"""DQN as the platform sees it: one transition table, an n-step adder, learner and policy."""

from __future__ import annotations

from typing import Any

from relayrl.agents.dqn.config import DQNConfig
from relayrl.agents.dqn.learner import DQNLearner
from relayrl.agents.dqn.policy import EpsilonGreedyPolicy
from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ConfigError, ExperimentConfig


def transition_signature(env_info: EnvInfo) -> tuple:
    """obs/next_obs (frames stored once for image stacks), action, n-step reward, discount."""
    from relayrl.platform.replay import Field, FrameStackField

    if env_info.is_image:
        stack, h, w = env_info.obs_shape
        obs = (FrameStackField("obs", frame_shape=(h, w), stack=stack, dtype="uint8"),)
    else:
        shape, dtype = env_info.obs_shape, str(env_info.observation_space.dtype)
        obs = (Field("obs", shape, dtype), Field("next_obs", shape, dtype))
    return obs + (
        Field("action", (), "int64"),
        Field("reward", (), "float32"),
        Field("discount", (), "float32"),
    )


class DQN:
    name = "dqn"
    config_cls = DQNConfig
    schedule = "off_policy"

    def check_config(self, cfg: ExperimentConfig) -> None:
        if cfg.learner.terminal_on_life_loss and not cfg.env.id.startswith("ALE/"):
            raise ConfigError(
                f"learner.terminal_on_life_loss: true needs an Atari env (ALE/...), "
                f"env.id is {cfg.env.id!r}"
            )

    def tables(self, cfg: ExperimentConfig, env_info: EnvInfo) -> list[Any]:
        from relayrl.platform.replay import MinSize, TableConfig

        lc: DQNConfig = cfg.learner
        env_info.require_discrete(self.name)
        return [
            TableConfig(
                name=DQNLearner.table,
                capacity=lc.replay_capacity,
                kind="transition",
                sampler="prioritized" if lc.prioritized else "uniform",
                priority_exponent=lc.priority_exponent,
                importance_sampling_exponent=lc.importance_sampling_exponent,
                remover="fifo",
                rate_limiter=MinSize(max(lc.batch_size, 1)),
                signature=transition_signature(env_info),
                num_shards=lc.replay_shards,
                seed=cfg.seed,
            )
        ]

    def make_policy(self, cfg: ExperimentConfig, env_info: EnvInfo, seed: int = 0):
        return EpsilonGreedyPolicy(cfg.learner, env_info.obs_shape, env_info.num_actions,
                                   seed=seed)

    def make_adder(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any, num_envs: int):
        from relayrl.platform.replay import TransitionAdder

        lc: DQNConfig = cfg.learner
        return TransitionAdder(
            client, DQNLearner.table, num_envs, n_step=lc.n_step, gamma=lc.gamma,
            frame_stack=env_info.obs_shape[0] if env_info.is_image else None,
            chunk_size=num_envs * cfg.rollout.steps_per_call,  # one insert per worker call
            reward_clip=lc.reward_clip,
        )

    def make_learner(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any) -> DQNLearner:
        return DQNLearner(cfg, env_info, client)
