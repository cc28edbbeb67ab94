"""EBU's settings: the YAML ``learner:`` section of ``algorithm: ebu``.

EBU is DQN with another target and another replay item, so its config is DQN's
(:class:`~relayrl.agents.dqn.config.DQNConfig`: network, optimiser, exploration, schedule)
plus the backward pass's own fields. DQN options that have no meaning for EBU are refused
instead of being ignored.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from relayrl.agents.dqn.config import DQNConfig
from relayrl.platform.config import check


@dataclasses.dataclass(frozen=True)
class EBUConfig(DQNConfig):
    """Hyperparameters of EBU; units are named (env steps vs learner updates)."""

    # --- overridden DQN defaults
    double_q: bool = False  # the backward pass maximises over Q~ itself; must stay false
    batch_size: int = 32  # transitions of one episode per update, taken from its end (paper: 32)
    # --- the backward pass
    beta: float = 0.5  # diffusion factor in [0, 1]: 0 = one-step targets, 1 = full backward
    reward_clip: float | None = None  # clip rewards to [-c, c] in the learner (Atari: 1.0)
    max_episode_length: int | None = None  # longer episodes are stored in pieces (env steps)
    # --- adaptive EBU (num_heads > 1)
    num_heads: int = 1  # Q-heads on one torso, betas spread evenly over [0, 1]; 1 = plain EBU
    adaptive_sync_period: int = 10_000  # learner updates between choosing the best head
    head_return_window: int = 20  # recent episodes per head averaged to rank the heads

    def __post_init__(self):
        super().__post_init__()
        check(0.0 <= self.beta <= 1.0, f"learner.beta: got {self.beta}, must be in [0, 1]")
        check(not self.double_q,
              "learner.double_q: EBU's backward pass takes max_a over the target table Q~; "
              "double_q: true is not defined for it (set false or use algorithm: dqn)")
        check(self.n_step == 1,
              f"learner.n_step: got {self.n_step}; EBU propagates over the whole episode, "
              "n_step must be 1")
        check(not self.prioritized,
              "learner.prioritized: EBU samples whole episodes uniformly; prioritized: true is "
              "not supported")
        check(self.reward_clip is None or self.reward_clip > 0,
              f"learner.reward_clip: got {self.reward_clip}, must be null or > 0")
        check(self.max_episode_length is None or self.max_episode_length >= self.batch_size,
              f"learner.max_episode_length: got {self.max_episode_length}, must be null or "
              f">= batch_size ({self.batch_size})")
        check(self.num_heads >= 1, f"learner.num_heads: got {self.num_heads}, must be >= 1")
        check(self.adaptive_sync_period >= self.num_heads,
              f"learner.adaptive_sync_period: got {self.adaptive_sync_period}, must be >= "
              f"num_heads ({self.num_heads}) so every head acts within a period")
        check(self.head_return_window >= 1, "learner.head_return_window must be >= 1")

    @property
    def betas(self) -> tuple[float, ...]:
        """One beta per head: ``beta`` for plain EBU, evenly over [0, 1] for adaptive EBU."""
        if self.num_heads == 1:
            return (float(self.beta),)
        return tuple(float(b) for b in np.linspace(0.0, 1.0, self.num_heads))
