"""Trust Region Policy Optimization (Schulman et al. 2015) as a reusable update rule.

TRPO needs only two numbers from its user, evaluated at the current parameters: a loss to
minimise and the KL divergence to the policy that collected the data. One step:

    g = grad loss,   H = Hessian of KL (exact double-backward Hessian-vector products,
                                        or rllab's finite differences: ``finite_difference_hvp``)
    x ~= -H^-1 g     by conjugate gradient (``cg_iters`` iterations, H + damping I)
    beta = sqrt(2 delta / x^T H x)              (the largest step on the KL ellipse)
    theta <- theta + ratio^i beta x,  i = 0, 1, ...  the first with KL <= delta and a lower loss

MAML's meta-update is this rule with a loss that runs through the inner adaptation step;
a plain policy (the "pretrained" baseline) uses it with an ordinary surrogate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch

Objective = Callable[[bool], tuple[torch.Tensor, torch.Tensor]]
HVP = Callable[[torch.Tensor], torch.Tensor]


def flat_grad(y: torch.Tensor, params: Sequence[torch.Tensor], **kwargs) -> torch.Tensor:
    grads = torch.autograd.grad(y, list(params), allow_unused=True, **kwargs)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                      for g, p in zip(grads, params)])


def flat_params(params: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params])


@torch.no_grad()
def set_flat_params(params: Sequence[torch.Tensor], flat: torch.Tensor) -> None:
    i = 0
    for p in params:
        n = p.numel()
        p.copy_(flat[i:i + n].view_as(p))
        i += n


def conjugate_gradient(matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor,
                       iters: int = 10, residual_tol: float = 1e-10) -> torch.Tensor:
    """Approximately solve A x = b for symmetric positive-definite A given x -> A x."""
    x = torch.zeros_like(b)
    r = b.clone()  # residual b - A x
    p = b.clone()  # search direction
    rr = r @ r
    for _ in range(iters):
        if rr < residual_tol:
            break
        ap = matvec(p)
        alpha = rr / (p @ ap)
        x += alpha * p
        r -= alpha * ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def hessian_vector_product(scalar: torch.Tensor, params: Sequence[torch.Tensor],
                           damping: float = 0.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """v -> (d^2 scalar / d params^2) v + damping v, by double backward."""
    grad = flat_grad(scalar, params, create_graph=True)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        return flat_grad(grad @ v, params, retain_graph=True) + damping * v

    return hvp


def finite_difference_hvp(kl_at: Callable[[], torch.Tensor], params: Sequence[torch.Tensor],
                          base_eps: float = 1e-8) -> HVP:
    """v -> (grad KL(theta + eps v) - grad KL(theta - eps v)) / (2 eps), rllab's product.

    The MAML paper's TRPO used these (rllab's ``FiniteDifferenceHvp``, the default of its
    conjugate-gradient optimizer) with eps = 1e-8 / (||theta|| + 1e-8), in the policy's
    float32. At that eps theta + eps v rounds back to theta in most coordinates unless v is
    large: for v = the meta-gradient of a navigation policy, 2 of 10,604 coordinates move,
    and the product has a cosine of about -0.3 with the exact one; for v scaled by 1e5 it
    matches it (cosine 0.99999). So the first conjugate-gradient iterations see mostly
    rounding, the step-size product on the (large) final direction is accurate. Kept to
    reproduce the paper's optimizer, not as a better one. ``kl_at()`` evaluates the KL, with
    a graph to ``params``, at the parameters currently set.
    """
    theta = flat_params(params)
    eps = torch.tensor(base_eps / (float(theta.norm()) + 1e-8), dtype=theta.dtype)

    def grad_at(flat: torch.Tensor) -> torch.Tensor:
        set_flat_params(params, flat)
        return flat_grad(kl_at(), params)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        try:
            return (grad_at(theta + eps * v) - grad_at(theta - eps * v)) / (2 * eps)
        finally:
            set_flat_params(params, theta)

    return hvp


@dataclasses.dataclass(frozen=True)
class LineSearchResult:
    accepted: bool
    steps: int  # backtracking attempts evaluated
    loss: float
    kl: float
    improvement: float  # loss before - loss after (0 if rejected)


@torch.no_grad()
def backtracking_line_search(params: Sequence[torch.Tensor], full_step: torch.Tensor,
                             evaluate: Callable[[], tuple[float, float]], loss_before: float, *,
                             max_kl: float, ratio: float = 0.8, max_steps: int = 15) -> LineSearchResult:
    """Try theta + ratio^i full_step; keep the first with KL <= max_kl and a lower loss.

    ``evaluate`` returns (loss, kl) at the parameters currently set. If no step qualifies,
    the parameters are restored and the step is rejected.
    """
    start = flat_params(params)
    for i in range(max_steps):
        set_flat_params(params, start + (ratio ** i) * full_step)
        loss, kl = evaluate()
        if kl <= max_kl and loss < loss_before:
            return LineSearchResult(True, i + 1, loss, kl, loss_before - loss)
    set_flat_params(params, start)
    return LineSearchResult(False, max_steps, loss_before, 0.0, 0.0)


class TRPO:
    """The TRPO update applied in place to ``params`` (leaf tensors with requires_grad)."""

    def __init__(self, params: Sequence[torch.Tensor], *, max_kl: float = 0.01, cg_iters: int = 10,
                 cg_damping: float = 1e-5, line_search_ratio: float = 0.8,
                 line_search_steps: int = 15):
        self.params = list(params)
        self.max_kl = max_kl
        self.cg_iters = cg_iters
        self.cg_damping = cg_damping
        self.line_search_ratio = line_search_ratio
        self.line_search_steps = line_search_steps

    def step(self, objective: Objective, kl_hvp: HVP | None = None) -> dict[str, float]:
        """One update; ``objective(create_graph)`` returns (loss, kl) at the current params.

        ``kl_hvp`` (v -> H v without damping) replaces the double-backward Hessian-vector
        product of the KL when the caller has a cheaper exact one (MAML does).
        """
        loss, kl = objective(True)
        g = flat_grad(loss, self.params, retain_graph=kl_hvp is None)
        if kl_hvp is None:
            hvp = hessian_vector_product(kl, self.params, self.cg_damping)
        else:
            def hvp(v: torch.Tensor) -> torch.Tensor:
                return kl_hvp(v) + self.cg_damping * v
        step_dir = conjugate_gradient(hvp, -g, self.cg_iters)  # x ~= -H^-1 g
        shs = 0.5 * (step_dir @ hvp(step_dir))  # 1/2 x^T H x
        if torch.isfinite(shs) and shs > 0:
            full_step = step_dir * torch.sqrt(self.max_kl / shs)  # 1/2 beta^2 x^T H x = delta
        else:
            # Only an inexact product (finite differences) gets here: as rllab, try x itself
            # and let the line search's KL and loss checks accept or reject it.
            full_step = step_dir
        loss_before = float(loss.detach())
        del loss, kl, hvp

        def evaluate() -> tuple[float, float]:
            new_loss, new_kl = objective(False)
            return float(new_loss), float(new_kl)

        result = backtracking_line_search(
            self.params, full_step, evaluate, loss_before, max_kl=self.max_kl,
            ratio=self.line_search_ratio, max_steps=self.line_search_steps)
        return {"loss": result.loss, "kl": result.kl,
                "surrogate_improvement": result.improvement,
                "line_search_steps": result.steps, "step_accepted": float(result.accepted),
                "grad_norm": float(g.norm())}
