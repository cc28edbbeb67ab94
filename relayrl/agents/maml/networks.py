"""The Gaussian MLP policy of Finn et al. (2017), written functionally.

MAML evaluates one network under many parameter sets at once: the shared initialisation theta
and, per task k, the adapted theta'_k. Parameters are a dict of tensors; a dict whose tensors
carry a leading task dimension ``[K, ...]`` evaluates K networks on observations
``[K, N, obs_dim]`` in one batched matmul, so a meta-batch of 40 tasks costs one forward pass.

    mu(s)  = W_L relu(... relu(W_1 s + b_1) ...) + b_L
    pi(a|s) = N(a; mu(s), diag(exp(log_std))^2)
"""

from __future__ import annotations

import math

import numpy as np
import torch

Params = dict[str, torch.Tensor]

_LOG_2PI = math.log(2.0 * math.pi)


def init_params(obs_dim: int, act_dim: int, hidden_sizes: tuple[int, ...], *,
                init_log_std: float = 0.0, seed: int = 0) -> Params:
    """Xavier-uniform weights, zero biases, a constant log-std (as rllab initialises)."""
    gen = torch.Generator().manual_seed(seed)
    sizes = (obs_dim, *hidden_sizes, act_dim)
    params: Params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = math.sqrt(6.0 / (n_in + n_out))
        params[f"w{i}"] = (torch.rand(n_in, n_out, generator=gen) * 2 - 1) * bound
        params[f"b{i}"] = torch.zeros(n_out)
    params["log_std"] = torch.full((act_dim,), float(init_log_std))
    return params


def num_layers(params: Params) -> int:
    return sum(1 for k in params if k.startswith("w"))


def acting_log_std(params: Params, min_log_std: float = -math.inf) -> torch.Tensor:
    """The log-std the policy acts with: the parameter clamped from below at ``min_log_std``
    (MAMLConfig.min_std; no gradient flows through the clamp)."""
    log_std = params["log_std"]
    return log_std.clamp_min(min_log_std) if min_log_std > -math.inf else log_std


def mean_and_log_std(params: Params, obs: torch.Tensor, *,
                     min_log_std: float = -math.inf) -> tuple[torch.Tensor, torch.Tensor]:
    """obs [N, obs_dim] (shared params) or [K, N, obs_dim] (per-task params [K, ...]).

    Returns the action mean [..., N, act_dim] and :func:`acting_log_std` broadcast to it.
    """
    h = obs
    n = num_layers(params)
    for i in range(n):
        h = h @ params[f"w{i}"] + params[f"b{i}"].unsqueeze(-2)
        if i < n - 1:
            h = torch.relu(h)
    return h, acting_log_std(params, min_log_std).unsqueeze(-2).expand_as(h)


def log_prob(mean: torch.Tensor, log_std: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
    """log N(a; mu, sigma^2) summed over action dims: [..., N]."""
    z = (act - mean) * torch.exp(-log_std)
    return (-0.5 * z.pow(2) - log_std - 0.5 * _LOG_2PI).sum(-1)


def kl_divergence(mean_p, log_std_p, mean_q, log_std_q) -> torch.Tensor:
    """KL(p || q) of diagonal Gaussians, summed over action dims: [..., N].

    KL = sum_j log(s_q/s_p) + (s_p^2 + (mu_p - mu_q)^2) / (2 s_q^2) - 1/2
    """
    var_p, var_q = torch.exp(2 * log_std_p), torch.exp(2 * log_std_q)
    return (log_std_q - log_std_p + (var_p + (mean_p - mean_q).pow(2)) / (2 * var_q) - 0.5).sum(-1)


def per_task(params: Params, num_tasks: int) -> Params:
    """theta -> [K, ...] views of theta (gradients flow back to the shared tensors)."""
    return {k: v.unsqueeze(0).expand(num_tasks, *v.shape) for k, v in params.items()}


def to_numpy(params: Params) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in params.items()}


def from_numpy(arrays: dict[str, np.ndarray], *, requires_grad: bool = False) -> Params:
    return {k: torch.tensor(np.array(v, dtype=np.float32)).requires_grad_(requires_grad)
            for k, v in arrays.items()}

