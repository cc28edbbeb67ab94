"""MAML's two objectives, batched over the tasks of a meta-batch.

Inner (adaptation) loss of task k, vanilla policy gradient with baseline advantages A:

    L_k(theta) = - (1 / |D_k|) sum_{(s, a) in D_k} log pi_theta(a | s) A(s, a)
    theta'_k   = theta - alpha grad_theta L_k(theta)            (repeated per inner step)

Outer (meta) objective, TRPO's surrogate on post-adaptation episodes D'_k, under the trust
region on the mean KL between the adapted policies before and after the update:

    maximize_theta  (1/K) sum_k (1 / |D'_k|) sum pi_{theta'_k}(a|s) / pi_{theta'_k,old}(a|s) A'
    subject to      (1/K) sum_k mean_{s in D'_k} KL(pi_{theta'_k,old}(.|s) || pi_{theta'_k}(.|s)) <= delta
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

from relayrl.agents.maml.batch import TaskBatch
from relayrl.agents.maml.networks import Params, kl_divergence, log_prob, mean_and_log_std, per_task


def masked_task_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over valid steps of each task: [K, N] -> [K]."""
    return (x * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)


def inner_loss(params: Params, batch: TaskBatch, *, min_log_std: float = -math.inf) -> torch.Tensor:
    """sum_k L_k(theta_k) for per-task params [K, ...]: its gradient w.r.t. theta_k is task k's."""
    mean, log_std = mean_and_log_std(params, batch.obs, min_log_std=min_log_std)
    logp = log_prob(mean, log_std, batch.act)  # [K, N]
    return -masked_task_mean(logp * batch.adv, batch.mask).sum()


def adapt(params: Params, batches: list[TaskBatch], inner_lr: float | Sequence[float], *,
          create_graph: bool, min_log_std: float = -math.inf) -> Params:
    """theta -> theta'_k for every task, one vanilla-PG step per batch in ``batches``.

    ``inner_lr`` is alpha for every step, or one alpha per step (the meta-test's schedule).

    With ``create_graph`` the steps stay differentiable (second-order MAML); without it
    each inner gradient is a constant, which is first-order MAML. If gradients are off
    (``torch.no_grad``) or ``params`` need none, the result is plain detached tensors (what
    samplers, the line search and the meta-test use). Works from shared or per-task params.
    """
    k = batches[0].num_tasks
    lrs = [float(inner_lr)] * len(batches) if isinstance(inner_lr, numbers.Real) else list(inner_lr)
    if len(lrs) < len(batches):
        raise ValueError(f"adapt: {len(batches)} steps but only {len(lrs)} step sizes {lrs}")
    track = torch.is_grad_enabled() and any(v.requires_grad for v in params.values())
    fast = params if params["log_std"].dim() == 2 else per_task(params, k)
    with torch.enable_grad():
        for batch, lr in zip(batches, lrs):
            if not track:
                fast = {n: v.detach().requires_grad_(True) for n, v in fast.items()}
            loss = inner_loss(fast, batch, min_log_std=min_log_std)
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph and track)
            fast = {n: v - lr * g for (n, v), g in zip(fast.items(), grads)}
    if not track:
        fast = {n: v.detach() for n, v in fast.items()}
    return fast


def surrogate_and_kl(fast: Params, batch: TaskBatch, old_mean: torch.Tensor,
                     old_log_std: torch.Tensor, old_logp: torch.Tensor, *,
                     min_log_std: float = -math.inf) -> tuple[torch.Tensor, torch.Tensor]:
    """TRPO's surrogate (to maximize) and mean KL(old || new), both averaged over tasks."""
    mean, log_std = mean_and_log_std(fast, batch.obs, min_log_std=min_log_std)
    ratio = torch.exp(log_prob(mean, log_std, batch.act) - old_logp)  # [K, N]
    surrogate = masked_task_mean(ratio * batch.adv, batch.mask).mean()
    kl = masked_task_mean(kl_divergence(old_mean, old_log_std, mean, log_std), batch.mask).mean()
    return surrogate, kl
