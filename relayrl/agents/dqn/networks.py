"""Q-networks: an MLP torso for vector observations, the Nature CNN for Atari frame stacks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp_torso(in_dim: int, hidden_sizes: Sequence[int]) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for h in hidden_sizes:
        layers += [nn.Linear(in_dim, h), nn.ReLU()]
        in_dim = h
    return nn.Sequential(nn.Flatten(), *layers), in_dim


def nature_cnn_torso(in_channels: int, height: int, width: int) -> tuple[nn.Module, int]:
    """Mnih et al. 2015: 32x8x8/4, 64x4x4/2, 64x3x3/1, then 512 units."""
    convs = nn.Sequential(
        nn.Conv2d(in_channels, 32, 8, stride=4), nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
        nn.Flatten(),
    )
    with torch.no_grad():
        flat = convs(torch.zeros(1, in_channels, height, width)).shape[1]
    return nn.Sequential(convs, nn.Linear(flat, 512), nn.ReLU()), 512


class QNetwork(nn.Module):
    """Q(s, .) for every action; uint8 image inputs are scaled to [0, 1] here."""

    def __init__(self, obs_shape: Sequence[int], num_actions: int, *, torso: str = "auto",
                 hidden_sizes: Sequence[int] = (128, 128), dueling: bool = False,
                 num_heads: int = 1):
        super().__init__()
        image = len(obs_shape) == 3
        if torso == "auto":
            torso = "nature_cnn" if image else "mlp"
        if torso == "nature_cnn":
            if not image:
                raise ValueError(f"torso nature_cnn needs [C, H, W] observations, got {obs_shape}")
            self.torso, feat = nature_cnn_torso(*obs_shape)
        else:
            in_dim = 1
            for d in obs_shape:
                in_dim *= d
            self.torso, feat = mlp_torso(in_dim, hidden_sizes)
        self.image = image
        self.num_actions = num_actions
        self.num_heads = num_heads  # adaptive EBU: one head per beta
        self.dueling = dueling
        self.advantage = nn.Linear(feat, num_actions * num_heads)
        self.value = nn.Linear(feat, num_heads) if dueling else None

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """[B, *obs_shape] -> [B, num_actions], or [B, num_heads, num_actions] with heads."""
        x = obs.float() / 255.0 if self.image else obs.float()
        z = self.torso(x)
        a = self.advantage(z).view(-1, self.num_heads, self.num_actions)
        if self.value is not None:
            v = self.value(z).view(-1, self.num_heads, 1)
            a = v + a - a.mean(dim=-1, keepdim=True)
        return a[:, 0] if self.num_heads == 1 else a
