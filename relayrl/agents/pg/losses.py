"""GAE advantages and the actor-critic loss, as pure functions."""

from __future__ import annotations

import torch


def gae(r_t, v_t, v_tp1, term_t, done_t, mask_t, *, gamma: float, lam: float) -> torch.Tensor:
    """Generalised advantage estimation over sequences [B, L].

    delta_t = r_t + gamma * V(s_{t+1}) * (1 - term_t) - V(s_t)
    A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1}, with A_L = 0

    ``done_t`` (terminated or truncated) stops the recursion; only ``term_t`` stops
    bootstrapping, so a time-limit end still values s_{t+1}. Padding (mask 0) carries 0.
    """
    delta = r_t + gamma * v_tp1 * (1.0 - term_t) - v_t  # [B, L]
    adv = torch.zeros_like(delta)
    running = torch.zeros_like(delta[:, 0])
    for t in reversed(range(delta.shape[1])):  # t = L-1 ... 0
        running = delta[:, t] + gamma * lam * (1.0 - done_t[:, t]) * running
        running = running * mask_t[:, t]
        adv[:, t] = running
    return adv


def actor_critic_loss(logp_t, adv_t, v_t, ret_t, entropy_t, mask_t, *, value_coef: float,
                      entropy_coef: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """L = -E[log pi(a|s) A] + c_v E[(V(s) - R)^2] - c_e E[H(pi(.|s))] over valid steps."""
    n = mask_t.sum().clamp(min=1.0)
    pg_loss = -(logp_t * adv_t * mask_t).sum() / n
    v_loss = ((v_t - ret_t) ** 2 * mask_t).sum() / n
    entropy = (entropy_t * mask_t).sum() / n
    loss = pg_loss + value_coef * v_loss - entropy_coef * entropy
    return loss, {"pg_loss": pg_loss.detach(), "value_loss": v_loss.detach(),
                  "entropy": entropy.detach()}
