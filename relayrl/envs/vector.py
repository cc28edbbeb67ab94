"""gymnasium's SyncVectorEnv with one clear error for a batch of actions of the wrong shape.

gymnasium splits the batch with ``iterate`` and fails deep inside a sub-env (or silently
uses a prefix) when the batch has the wrong shape; rollout code deserves a message naming
the expected shape instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv


class CheckedSyncVectorEnv(SyncVectorEnv):
    """SyncVectorEnv (NEXT_STEP autoreset) that validates the shape of each action batch."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], *, name: str = "vector env"):
        super().__init__(env_fns)
        self.name = name

    def step(self, actions):
        shape = np.shape(actions)
        if shape != self.action_space.shape:
            raise ValueError(
                f"{self.name}: actions must have shape {self.action_space.shape} "
                f"({self.num_envs} envs x action shape {self.single_action_space.shape}); "
                f"got shape {shape}"
            )
        return super().step(actions)
