"""One inner step's worth of episodes for a meta-batch of tasks, and its advantages.

Episodes are stored padded to the horizon, ``[K tasks, E episodes, T steps, ...]``, with a
mask of valid steps; navigation episodes end early at the goal. Returns, the baseline and
advantages are computed here once, without gradients: the meta-gradient flows only through
the policy's log-probabilities (as in the paper and its code).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from relayrl.agents.maml.baseline import fit_predict


@dataclasses.dataclass(frozen=True)
class Episodes:
    """Numpy episodes of K tasks: what a sampler produces and the replay queue carries."""

    obs: np.ndarray  # [K, E, T, obs_dim] float32
    act: np.ndarray  # [K, E, T, act_dim] float32, as sampled (before the env clips)
    rew: np.ndarray  # [K, E, T] float32
    mask: np.ndarray  # [K, E, T] float32, 1 on valid steps

    @property
    def num_tasks(self) -> int:
        return self.obs.shape[0]

    @property
    def env_steps(self) -> int:
        return int(self.mask.sum())

    def episode_returns(self) -> np.ndarray:
        """Undiscounted return of every episode: [K, E]."""
        return (self.rew * self.mask).sum(-1)

    def task_slice(self, start: int, stop: int) -> Episodes:
        return Episodes(self.obs[start:stop], self.act[start:stop], self.rew[start:stop],
                        self.mask[start:stop])

    @staticmethod
    def concat(parts: list[Episodes]) -> Episodes:
        """Tasks of several samplers into one meta-batch (same E and T)."""
        return Episodes(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in ("obs", "act", "rew", "mask")))


def discounted_returns(rew: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """G_t = sum_{l >= 0} gamma^l r_{t+l}, within each episode: [..., T]."""
    out = torch.zeros_like(rew)
    running = torch.zeros_like(rew[..., 0])
    for t in range(rew.shape[-1] - 1, -1, -1):
        running = (rew[..., t] + gamma * running) * mask[..., t]
        out[..., t] = running
    return out


def gae(rew: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float,
        lam: float) -> torch.Tensor:
    """A_t = sum_l (gamma lambda)^l delta_{t+l}, delta_t = r_t + gamma V(s_{t+1}) - V(s_t).

    V after an episode's last step is 0 (rllab's convention for both termination and the
    horizon). With lambda = 1 this is G_t - V(s_t).
    """
    next_values = torch.cat([values[..., 1:] * mask[..., 1:], torch.zeros_like(values[..., :1])], -1)
    delta = (rew + gamma * next_values - values) * mask
    adv = torch.zeros_like(rew)
    running = torch.zeros_like(rew[..., 0])
    for t in range(rew.shape[-1] - 1, -1, -1):
        running = (delta[..., t] + gamma * lam * running) * mask[..., t]
        adv[..., t] = running
    return adv


@dataclasses.dataclass(frozen=True)
class TaskBatch:
    """Torch tensors for the losses, flattened per task: ``[K, N = E*T, ...]``."""

    obs: torch.Tensor  # [K, N, obs_dim]
    act: torch.Tensor  # [K, N, act_dim]
    adv: torch.Tensor  # [K, N]
    mask: torch.Tensor  # [K, N]
    horizon: int  # T: N = episodes per task x T

    @property
    def num_tasks(self) -> int:
        return self.obs.shape[0]

    @property
    def episodes_per_task(self) -> int:
        return self.obs.shape[1] // self.horizon

    def first_episodes(self, m: int) -> TaskBatch:
        """The first ``m`` episodes of every task (episodes are i.i.d., so a random subset)."""
        n = m * self.horizon
        return TaskBatch(self.obs[:, :n], self.act[:, :n], self.adv[:, :n], self.mask[:, :n],
                         self.horizon)

    @staticmethod
    def from_episodes(ep: Episodes, *, gamma: float, gae_lambda: float, baseline_reg: float,
                      normalize: bool) -> TaskBatch:
        obs = torch.as_tensor(ep.obs, dtype=torch.float32)
        act = torch.as_tensor(ep.act, dtype=torch.float32)
        rew = torch.as_tensor(ep.rew, dtype=torch.float32)
        mask = torch.as_tensor(ep.mask, dtype=torch.float32)
        returns = discounted_returns(rew, mask, gamma)
        values = fit_predict(obs, returns, mask, baseline_reg)
        adv = gae(rew, values, mask, gamma, gae_lambda)  # [K, E, T]
        k = obs.shape[0]
        adv, mask = adv.reshape(k, -1), mask.reshape(k, -1)
        if normalize:  # per task, over valid steps
            n = mask.sum(-1, keepdim=True).clamp_min(1.0)
            mean = (adv * mask).sum(-1, keepdim=True) / n
            var = ((adv - mean).pow(2) * mask).sum(-1, keepdim=True) / n
            adv = (adv - mean) / (var.sqrt() + 1e-8) * mask
        return TaskBatch(obs.reshape(k, -1, obs.shape[-1]), act.reshape(k, -1, act.shape[-1]),
                         adv, mask, obs.shape[2])
