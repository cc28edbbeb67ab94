"""The linear feature baseline of rllab, which MAML used for every task family.

Per task, a ridge regression of the discounted return on hand-made features of the state
and the time step, refitted on every new batch of that task's episodes:

    phi(s, t) = [clip(s, -10, 10), clip(s, -10, 10)^2, t/100, (t/100)^2, (t/100)^3, 1]
    w = argmin_w ||Phi w - G||^2 + reg ||w||^2 = (Phi^T Phi + reg I)^-1 Phi^T G

All tasks of a meta-batch are fitted at once with one batched solve (float64). If the
system is ill-conditioned (non-finite solution), reg grows tenfold, up to five times, as rllab's
``LinearFeatureBaseline`` does.
"""

from __future__ import annotations

import torch


def features(obs: torch.Tensor) -> torch.Tensor:
    """obs [..., T, obs_dim] -> phi [..., T, 2 obs_dim + 4]; time is the index along T."""
    o = obs.clamp(-10.0, 10.0)
    t = torch.arange(obs.shape[-2], dtype=obs.dtype, device=obs.device) / 100.0
    t = t.view(*([1] * (obs.dim() - 2)), -1, 1).expand(*obs.shape[:-1], 1)
    return torch.cat([o, o * o, t, t * t, t * t * t, torch.ones_like(t)], dim=-1)


def fit_predict(obs: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                reg: float = 1e-5) -> torch.Tensor:
    """Fit one baseline per task and predict on the same episodes.

    obs [K, E, T, d], returns and mask [K, E, T] -> baseline values [K, E, T] (0 where
    mask is 0). Only valid steps enter the fit.
    """
    phi = features(obs.double()) * mask.double().unsqueeze(-1)  # [K, E, T, F]
    k, f = phi.shape[0], phi.shape[-1]
    x = phi.reshape(k, -1, f)  # [K, E*T, F]
    y = (returns.double() * mask.double()).reshape(k, -1, 1)  # [K, E*T, 1]
    xtx, xty = x.transpose(1, 2) @ x, x.transpose(1, 2) @ y
    eye = torch.eye(f, dtype=torch.float64)
    for _ in range(5):
        w = torch.linalg.lstsq(xtx + reg * eye, xty).solution  # [K, F, 1]
        if torch.isfinite(w).all():
            break
        reg *= 10.0
    values = (x @ w).reshape(returns.shape)
    return (values * mask.double()).to(returns.dtype)
