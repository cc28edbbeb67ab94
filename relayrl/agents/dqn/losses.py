"""DQN's loss as a pure function: ``(loss, extra)`` with new priorities as data."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def dqn_loss(
    q_net: nn.Module,
    target_net: nn.Module,
    obs_tm1: torch.Tensor,  # [B, *obs] s_t
    a_tm1: torch.Tensor,  # [B] a_t
    r_t: torch.Tensor,  # [B] n-step discounted reward sum
    discount_t: torch.Tensor,  # [B] gamma^n, 0 where the n-step window hit a terminal
    obs_t: torch.Tensor,  # [B, *obs] s_{t+n}
    weights: torch.Tensor,  # [B] importance weights (ones without prioritized replay)
    *,
    double_q: bool,
    huber_delta: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    # DQN:        y = r_t + discount_t * max_a Q_target(s_{t+n}, a)
    # double DQN: y = r_t + discount_t * Q_target(s_{t+n}, argmax_a Q(s_{t+n}, a))
    with torch.no_grad():
        q_target_t = target_net(obs_t)  # [B, A]
        if double_q:
            a_star = q_net(obs_t).argmax(dim=1, keepdim=True)  # [B, 1]
        else:
            a_star = q_target_t.argmax(dim=1, keepdim=True)
        v_t = q_target_t.gather(1, a_star).squeeze(1)  # [B]
        y = r_t + discount_t * v_t  # [B]
    q_tm1 = q_net(obs_tm1)  # [B, A]
    qa_tm1 = q_tm1.gather(1, a_tm1.long().unsqueeze(1)).squeeze(1)  # [B]
    td_error = y - qa_tm1  # [B]
    per_sample = F.huber_loss(qa_tm1, y, reduction="none", delta=huber_delta)  # [B]
    loss = (weights * per_sample).mean()
    extra = {
        "td_error": td_error.detach(),
        "priorities": td_error.detach().abs(),
        "q_mean": qa_tm1.detach().mean(),
        "target_mean": y.mean(),
    }
    return loss, extra
