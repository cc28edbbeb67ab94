"""EBU's acting side: DQN's epsilon-greedy policy, plus the acting head for adaptive EBU."""

from __future__ import annotations

from typing import Any

import numpy as np

from relayrl.agents.dqn.policy import EpsilonGreedyPolicy


class EBUPolicy(EpsilonGreedyPolicy):
    """Epsilon-greedy in the Q-head the learner chose.

    With several heads the learner publishes ``{"state_dict", "head", "eval_head"}``: rollouts
    follow ``head`` (each head in turn) and record it per step as the ``head`` extra, so the
    learner can credit each episode's return to the head that played it; evaluation
    (``explore=False``) follows ``eval_head``, the best head so far.
    """

    def __init__(self, cfg, obs_shape, num_actions: int, seed: int = 0, num_heads: int = 1):
        super().__init__(cfg, obs_shape, num_actions, seed=seed, num_heads=num_heads)
        self.num_heads = num_heads
        self.eval_head = 0

    def set_weights(self, weights: Any) -> None:
        if isinstance(weights, dict) and "state_dict" in weights:
            self.eval_head = int(weights.get("eval_head", 0))
        super().set_weights(weights)

    def compute_actions(self, obs: np.ndarray, *, env_steps: int, explore: bool = True):
        if self.num_heads == 1:
            return super().compute_actions(obs, env_steps=env_steps, explore=explore)
        acting = self.head
        if not explore:
            self.head = self.eval_head
        try:
            actions, _ = super().compute_actions(obs, env_steps=env_steps, explore=explore)
        finally:
            self.head = acting
        used = acting if explore else self.eval_head
        return actions, {"head": np.full(len(actions), used, dtype=np.int64)}
