"""Actor-critic MLP: a categorical (discrete) or diagonal-Gaussian (Box) policy and a value."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal


def _mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(in_dim, h), nn.Tanh()]
        in_dim = h
    return nn.Sequential(*layers, nn.Linear(in_dim, out_dim))


class ActorCritic(nn.Module):
    def __init__(self, obs_dim: int, action_space: gymnasium.Space, hidden: Sequence[int]):
        super().__init__()
        self.discrete = isinstance(action_space, gymnasium.spaces.Discrete)
        act_dim = int(action_space.n) if self.discrete else int(action_space.shape[0])
        self.pi = _mlp(obs_dim, hidden, act_dim)
        self.v = _mlp(obs_dim, hidden, 1)
        self.log_std = None if self.discrete else nn.Parameter(torch.zeros(act_dim))

    def dist(self, obs: torch.Tensor):
        out = self.pi(obs)
        if self.discrete:
            return Categorical(logits=out)
        return Independent(Normal(out, self.log_std.exp()), 1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.v(obs).squeeze(-1)
