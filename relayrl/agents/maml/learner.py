"""MAML's meta-learner: differentiable adaptation inside a TRPO meta-update.

The learner receives, for each task of the meta-batch, the episodes of every inner step
(collected by the samplers with theta, theta'_1, ...) and the post-adaptation episodes. It
redoes the adaptation from theta so that it is differentiable (second order) and lets
:class:`~relayrl.agents.maml.trpo.TRPO` maximise the post-adaptation surrogate. The
"pretrained" baseline of the paper is :class:`JointTRPOLearner`: the same TRPO rule on a
plain policy trained on all tasks jointly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from relayrl.agents.maml.batch import Episodes, TaskBatch
from relayrl.agents.maml.config import MAMLConfig
from relayrl.agents.maml.losses import adapt, inner_loss, surrogate_and_kl
from relayrl.agents.maml.networks import (
    Params,
    from_numpy,
    init_params,
    log_prob,
    mean_and_log_std,
    per_task,
    to_numpy,
)
from relayrl.agents.maml.trpo import TRPO, finite_difference_hvp, hessian_vector_product


def to_batches(cfg: MAMLConfig, episodes: list[Episodes]) -> list[TaskBatch]:
    return [TaskBatch.from_episodes(e, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda,
                                    baseline_reg=cfg.baseline_reg,
                                    normalize=cfg.normalize_advantages) for e in episodes]


def unadapted_kl(params: Params, batch: TaskBatch, old: tuple[torch.Tensor, ...], *,
                 min_log_std: float = -math.inf) -> torch.Tensor:
    """Mean KL(old || theta) of the unadapted policy on ``batch``'s states (``pre_update_kl``)."""
    return surrogate_and_kl(per_task(params, batch.num_tasks), batch, *old,
                            min_log_std=min_log_std)[1]


def make_trpo(cfg: MAMLConfig, params: Params) -> TRPO:
    return TRPO(list(params.values()), max_kl=cfg.max_kl, cg_iters=cfg.cg_iters,
                cg_damping=cfg.cg_damping, line_search_ratio=cfg.line_search_ratio,
                line_search_steps=cfg.line_search_steps)


class _PolicyLearner:
    """Parameters, TRPO and checkpoints shared by the meta-learner and the joint learner."""

    def __init__(self, cfg: MAMLConfig, obs_dim: int, act_dim: int, seed: int = 0):
        self.cfg = cfg
        self.params: Params = {k: v.requires_grad_(True) for k, v in init_params(
            obs_dim, act_dim, cfg.hidden_sizes, init_log_std=cfg.init_log_std, seed=seed).items()}
        self.trpo = make_trpo(cfg, self.params)
        self.num_updates = 0

    def get_weights(self) -> dict[str, np.ndarray]:
        return to_numpy(self.params)

    def state_dict(self) -> dict[str, Any]:
        return {"params": self.get_weights(), "num_updates": self.num_updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        loaded = from_numpy(state["params"])
        with torch.no_grad():
            for k, v in self.params.items():
                v.copy_(loaded[k])
        self.num_updates = int(state["num_updates"])

    def _old_policy(self, fast: Params, batch: TaskBatch) -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            mean, log_std = mean_and_log_std({k: v.detach() for k, v in fast.items()}, batch.obs,
                                             min_log_std=self.cfg.min_log_std)
            return mean, log_std, log_prob(mean, log_std, batch.act)


class MetaLearner(_PolicyLearner):
    """theta of MAML; ``update`` is one TRPO meta-step on one meta-batch."""

    def update(self, episodes: list[Episodes]) -> dict[str, float]:
        """``episodes[i]`` for inner step i (i < num_inner_steps), the last after adaptation."""
        cfg = self.cfg
        if len(episodes) != cfg.num_inner_steps + 1:
            raise ValueError(f"MAML update: got {len(episodes)} batches of episodes, expected "
                             f"num_inner_steps + 1 = {cfg.num_inner_steps + 1}")
        batches = to_batches(cfg, episodes)
        inner, post = batches[:-1], batches[-1]
        floor = cfg.min_log_std
        old = self._old_policy(adapt(self.params, inner, cfg.inner_lrs, create_graph=False,
                                     min_log_std=floor), post)
        k = post.num_tasks
        old_pre = self._old_policy(per_task(self.params, k), inner[0]) if cfg.pre_update_kl else None
        second_order = not cfg.first_order

        def objective(create_graph: bool) -> tuple[torch.Tensor, torch.Tensor]:
            fast = adapt(self.params, inner, cfg.inner_lrs, create_graph=create_graph and second_order,
                         min_log_std=floor)
            surrogate, kl = surrogate_and_kl(fast, post, *old, min_log_std=floor)
            if old_pre is not None:
                kl = kl + unadapted_kl(self.params, inner[0], old_pre, min_log_std=floor)
            return -surrogate, kl

        if cfg.hvp_method == "finite_difference":
            kl_hvp = finite_difference_hvp(lambda: objective(True)[1], list(self.params.values()))
        else:
            kl_hvp = self.kl_hvp(inner, post, old, old_pre)
        stats = self.trpo.step(objective, kl_hvp)
        self.num_updates += 1
        return stats

    def kl_hvp(self, inner: list[TaskBatch], post: TaskBatch, old: tuple[torch.Tensor, ...],
               old_pre: tuple[torch.Tensor, ...] | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
        """v -> H v, H the Hessian of the mean KL w.r.t. theta at theta_old, in factored form.

        theta'_k = U_n(...U_1(theta)) with U_i(x) = x - alpha_i grad L_i(x), so by the chain rule

            H = sum_k J_k^T M_k J_k + sum_k (grad_{theta'_k} KL) d^2 theta'_k / d theta^2

        and the second term vanishes at theta_old, where KL(old || .) is at its minimum. J_k =
        prod_i (I - alpha_i H_{L_i}) (each Hessian symmetric) and M_k is the KL's Hessian in the
        adapted parameters. Every factor is one second-order product on a graph built once,
        instead of a third-order backward through the adaptation per CG iteration (the tests
        check it equals the double-backward product). With ``hvp_subsample`` < 1 the products
        use that fraction of each task's episodes, as rllab's ``subsample_factor`` does.
        With ``old_pre`` (``pre_update_kl``) the Hessian of the unadapted policy's KL on the
        first inner batch is added (plain double backward: no adaptation in between).
        """
        cfg = self.cfg
        second_order = not cfg.first_order
        if cfg.hvp_subsample < 1.0:
            m = max(1, round(cfg.hvp_subsample * post.episodes_per_task))
            n_pre = m * inner[0].horizon
            inner = [b.first_episodes(m) for b in inner]
            n = m * post.horizon
            post, old = post.first_episodes(m), tuple(t[:, :n] for t in old)
            if old_pre is not None:
                old_pre = tuple(t[:, :n_pre] for t in old_pre)
        k = post.num_tasks
        pre_hvp = None
        if old_pre is not None:
            pre_hvp = hessian_vector_product(unadapted_kl(self.params, inner[0], old_pre,
                                                          min_log_std=cfg.min_log_std),
                                             list(self.params.values()))
        lrs = cfg.inner_lrs
        names = list(self.params)
        shapes = [self.params[n].shape for n in names]
        sizes = [self.params[n].numel() for n in names]
        steps = []  # (x_i leaves, grad L_i(x_i) with graph) per inner step
        x = {n: v.detach() for n, v in per_task(self.params, k).items()}
        for batch, lr in zip(inner, lrs):
            x = {n: v.detach().requires_grad_(True) for n, v in x.items()}
            grads = torch.autograd.grad(inner_loss(x, batch, min_log_std=cfg.min_log_std),
                                        list(x.values()),
                                        create_graph=second_order)
            steps.append((x, grads))
            x = {n: (v - lr * g).detach() for (n, v), g in zip(x.items(), grads)}
        fast = {n: v.requires_grad_(True) for n, v in x.items()}
        _, kl = surrogate_and_kl(fast, post, *old, min_log_std=cfg.min_log_std)
        grad_kl = torch.autograd.grad(kl, list(fast.values()), create_graph=True)

        def hessian_of_inner(i: int, u: list[torch.Tensor]) -> list[torch.Tensor]:
            xi, gi = steps[i]
            dot = sum((g * w).sum() for g, w in zip(gi, u))
            return list(torch.autograd.grad(dot, list(xi.values()), retain_graph=True))

        def hvp(v: torch.Tensor) -> torch.Tensor:
            u = [c.view(s).unsqueeze(0).expand(k, *s) for c, s in zip(v.split(sizes), shapes)]
            if second_order:
                for i in range(len(steps)):  # J u
                    u = [a - lrs[i] * b for a, b in zip(u, hessian_of_inner(i, u))]
            dot = sum((g * w).sum() for g, w in zip(grad_kl, u))
            w = list(torch.autograd.grad(dot, list(fast.values()), retain_graph=True))  # M J u
            if second_order:
                for i in reversed(range(len(steps))):  # J^T M J u
                    w = [a - lrs[i] * b for a, b in zip(w, hessian_of_inner(i, w))]
            out = torch.cat([t.sum(0).reshape(-1) for t in w])
            return out if pre_hvp is None else out + pre_hvp(v)

        return hvp


class JointTRPOLearner(_PolicyLearner):
    """One policy trained by TRPO on episodes of all tasks pooled (the paper's "pretrained")."""

    def update(self, episodes: Episodes) -> dict[str, float]:
        batch = to_batches(self.cfg, [episodes])[0]
        old = self._old_policy(per_task(self.params, batch.num_tasks), batch)

        def objective(create_graph: bool) -> tuple[torch.Tensor, torch.Tensor]:
            surrogate, kl = surrogate_and_kl(per_task(self.params, batch.num_tasks), batch, *old,
                                             min_log_std=self.cfg.min_log_std)
            return -surrogate, kl

        kl_hvp = None
        if self.cfg.hvp_method == "finite_difference":
            kl_hvp = finite_difference_hvp(lambda: objective(True)[1], list(self.params.values()))
        elif self.cfg.hvp_subsample < 1.0:  # the KL's Hessian on a fraction of the episodes
            m = max(1, round(self.cfg.hvp_subsample * batch.episodes_per_task))
            sub, n = batch.first_episodes(m), m * batch.horizon
            _, sub_kl = surrogate_and_kl(per_task(self.params, batch.num_tasks), sub,
                                         *(t[:, :n] for t in old),
                                         min_log_std=self.cfg.min_log_std)
            kl_hvp = hessian_vector_product(sub_kl, list(self.params.values()))
        stats = self.trpo.step(objective, kl_hvp)
        self.num_updates += 1
        return stats


def adapt_numpy(cfg: MAMLConfig, weights: dict[str, np.ndarray], episodes: list[Episodes],
                num_steps: int | None = None,
                inner_lr: float | Sequence[float] | None = None) -> Params:
    """Per-task adapted params (no graph) from numpy weights: what samplers and the meta-test do."""
    batches = to_batches(cfg, episodes if num_steps is None else episodes[:num_steps])
    return adapt(from_numpy(weights), batches, cfg.inner_lrs if inner_lr is None else inner_lr,
                 create_graph=False, min_log_std=cfg.min_log_std)
