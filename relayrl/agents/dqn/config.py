"""DQN's settings: the YAML ``learner:`` section of ``algorithm: dqn``."""

from __future__ import annotations

import dataclasses
from typing import Literal

from relayrl.platform.config import check


@dataclasses.dataclass(frozen=True)
class DQNConfig:
    """Hyperparameters of DQN; units are named (env steps vs learner updates)."""

    # --- network
    torso: Literal["auto", "mlp", "nature_cnn"] = "auto"  # auto: CNN for image stacks, else MLP
    hidden_sizes: tuple[int, ...] = (128, 128)  # MLP torso layers
    dueling: bool = False  # dueling value/advantage head (Wang et al. 2016)
    # --- loss
    gamma: float = 0.99  # discount per env step
    n_step: int = 1  # n-step return horizon (env steps)
    double_q: bool = True  # select the next action with the online net (van Hasselt et al. 2016)
    huber_delta: float = 1.0  # Huber loss threshold on the TD error
    # --- optimisation
    optimizer: Literal["adam", "rmsprop"] = "adam"
    lr: float = 1e-3
    optimizer_eps: float = 1e-8  # Adam eps, or RMSProp eps (DQN Nature: 0.01 centered)
    max_grad_norm: float | None = 10.0
    batch_size: int = 64  # transitions per update
    target_update_period: int = 500  # learner updates between target-network syncs
    target_update_tau: float = 1.0  # 1.0 = hard copy; < 1 = Polyak averaging every period
    # --- acting
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10_000  # env steps over which epsilon decays linearly
    eval_epsilon: float = 0.0
    # --- schedule
    learning_starts: int = 1_000  # env steps collected before the first update
    updates_per_env_step: float = 0.25  # learner updates per env step (replay ratio)
    publish_every: int = 10  # learner updates between weight publications to workers
    # --- replay
    replay_capacity: int = 100_000  # transitions
    prioritized: bool = False  # proportional prioritized replay (Schaul et al. 2016)
    priority_exponent: float = 0.6  # alpha
    importance_sampling_exponent: float = 0.4  # beta
    replay_shards: int = 1  # replay actors the table is spread over
    sample_timeout_s: float = 120.0  # how long an update waits for data before failing
    terminal_on_life_loss: bool = False  # Atari: bootstrap-stop at a lost life
    # Clip each step's reward to [-c, c] when it enters replay (Atari: 1.0); episode returns
    # in the metrics stay game scores.
    reward_clip: float | None = None

    def __post_init__(self):
        check(0.0 <= self.gamma <= 1.0, f"learner.gamma: got {self.gamma}, must be in [0, 1]")
        check(self.n_step >= 1, f"learner.n_step: got {self.n_step}, must be >= 1")
        check(self.lr > 0, f"learner.lr: got {self.lr}, must be > 0")
        check(self.batch_size >= 1, f"learner.batch_size: got {self.batch_size}, must be >= 1")
        check(self.target_update_period >= 1, "learner.target_update_period must be >= 1")
        check(0 < self.target_update_tau <= 1, "learner.target_update_tau must be in (0, 1]")
        check(0 <= self.epsilon_end <= self.epsilon_start <= 1,
              f"learner.epsilon_start/epsilon_end: got {self.epsilon_start}/{self.epsilon_end}, "
              "need 0 <= epsilon_end <= epsilon_start <= 1")
        check(self.updates_per_env_step >= 0, "learner.updates_per_env_step must be >= 0")
        check(self.replay_capacity >= self.batch_size,
              f"learner.replay_capacity ({self.replay_capacity}) must be >= batch_size "
              f"({self.batch_size})")
        check(self.learning_starts >= 0, "learner.learning_starts must be >= 0")
        check(self.replay_shards >= 1, "learner.replay_shards must be >= 1")
        check(all(h >= 1 for h in self.hidden_sizes), "learner.hidden_sizes must be positive")
        check(self.reward_clip is None or self.reward_clip > 0,
              f"learner.reward_clip: got {self.reward_clip}, must be null or > 0")
