"""TRPO's pieces: conjugate gradient, Hessian-vector products, the KL-constrained line search."""

from __future__ import annotations

import torch

from relayrl.agents.maml.trpo import (
    TRPO,
    backtracking_line_search,
    conjugate_gradient,
    finite_difference_hvp,
    flat_params,
    hessian_vector_product,
)


def test_conjugate_gradient_solves_a_known_spd_system():
    gen = torch.Generator().manual_seed(0)
    m = torch.randn(8, 8, generator=gen, dtype=torch.float64)
    a = m @ m.T + 0.5 * torch.eye(8, dtype=torch.float64)  # symmetric positive definite
    x_true = torch.randn(8, generator=gen, dtype=torch.float64)
    x = conjugate_gradient(lambda v: a @ v, a @ x_true, iters=8)  # n iterations are exact
    torch.testing.assert_close(x, x_true, rtol=1e-8, atol=1e-8)
    # Fewer iterations than dimensions: still a descent on the quadratic, not the solution.
    x3 = conjugate_gradient(lambda v: a @ v, a @ x_true, iters=3)
    b = a @ x_true
    quad = lambda y: 0.5 * y @ a @ y - b @ y  # noqa: E731
    assert quad(x3) < quad(torch.zeros(8, dtype=torch.float64))
    assert (x3 - x_true).norm() > 1e-6


def test_hessian_vector_product_matches_autograd_hessian():
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(3, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, generator=gen, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64)

    def f(w_, b_):
        return torch.log1p(torch.exp(torch.tanh(x @ w_ + b_))).pow(2).sum()

    hvp = hessian_vector_product(f(w, b), [w, b], damping=0.1)
    v = torch.randn(8, generator=gen, dtype=torch.float64)
    flat = lambda z: f(z[:6].view(3, 2), z[6:])  # noqa: E731
    h = torch.autograd.functional.hessian(flat, torch.cat([w.detach().reshape(-1), b.detach()]))
    torch.testing.assert_close(hvp(v), h @ v + 0.1 * v)


def test_line_search_respects_the_kl_limit_and_shrinks_by_the_ratio():
    theta = torch.zeros(2, requires_grad=True)
    target = torch.tensor([3.0, 0.0])

    def evaluate():  # loss falls towards target; "KL" grows with the squared step
        return float(((theta - target) ** 2).sum()), float((theta ** 2).sum() / 2)

    # Full step lands on the target (KL 4.5); only 0.8^i steps with KL <= 0.5 are allowed:
    # 0.8^i * 3 <= 1 needs i >= 5, so the 6th attempt is the first accepted.
    r = backtracking_line_search([theta], target.clone(), evaluate, loss_before=9.0,
                                 max_kl=0.5, ratio=0.8, max_steps=15)
    assert r.accepted and r.steps == 6
    assert r.kl <= 0.5
    torch.testing.assert_close(theta.detach(), target * 0.8 ** 5)
    # Not enough attempts: the step is rejected and the parameters restored.
    theta.data.zero_()
    r = backtracking_line_search([theta], target.clone(), evaluate, loss_before=9.0,
                                 max_kl=0.5, ratio=0.8, max_steps=3)
    assert not r.accepted and r.steps == 3
    assert torch.equal(theta.detach(), torch.zeros(2))


def test_trpo_step_improves_a_policy_within_the_trust_region():
    """A categorical bandit: TRPO raises the expected reward and keeps KL <= max_kl."""
    logits = torch.zeros(4, requires_grad=True)
    reward = torch.tensor([0.0, 1.0, 0.2, 0.5])
    old = torch.softmax(logits.detach(), 0)

    def objective(create_graph: bool):
        p = torch.softmax(logits, 0)
        loss = -(p * reward).sum()
        kl = (old * (old.log() - p.log())).sum()
        return loss, kl

    trpo = TRPO([logits], max_kl=0.01, cg_iters=10, cg_damping=1e-5)
    before = flat_params([logits]).clone()
    stats = trpo.step(objective)
    with torch.no_grad():
        loss, kl = objective(False)
    assert stats["step_accepted"] == 1.0
    assert float(kl) <= 0.01 + 1e-6 and float(kl) > 0.005  # uses most of the trust region
    assert -float(loss) > float((old * reward).sum())
    assert int(torch.argmax(logits - before)) == 1


def _smooth_loss(x: torch.Tensor):
    def f(w_, b_):
        return torch.log1p(torch.exp(torch.tanh(x @ w_ + b_))).pow(2).sum()
    return f


def test_finite_difference_product_is_rllabs_central_difference():
    """float64 and a usable epsilon: the product approximates the exact one; the
    parameters are back where they were afterwards."""
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(3, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, generator=gen, dtype=torch.float64, requires_grad=True)
    f = _smooth_loss(torch.randn(5, 3, generator=gen, dtype=torch.float64))
    v = torch.randn(8, generator=gen, dtype=torch.float64)
    before = flat_params([w, b]).clone()
    exact = hessian_vector_product(f(w, b), [w, b])(v)
    fd = finite_difference_hvp(lambda: f(w, b), [w, b], base_eps=1e-4)(v)
    torch.testing.assert_close(fd, exact, rtol=1e-5, atol=1e-6)
    assert torch.equal(flat_params([w, b]), before)


def test_finite_difference_product_at_rllabs_epsilon_is_mostly_rounding_in_float32():
    """eps = 1e-8 / ||theta||: a unit-size v moves almost no float32 coordinate, so the
    product is not H v; a large v (as conjugate gradient's final direction) gets H v."""
    gen = torch.Generator().manual_seed(3)
    w = (torch.randn(40, 30, generator=gen) * 0.3).requires_grad_(True)
    b = (torch.randn(30, generator=gen) * 0.3).requires_grad_(True)
    f = _smooth_loss(torch.randn(64, 40, generator=gen))
    v = torch.randn(1230, generator=gen)
    v = v / v.norm()
    exact = hessian_vector_product(f(w, b), [w, b])(v)
    fd = finite_difference_hvp(lambda: f(w, b), [w, b])
    cos = lambda a, c: float(a @ c / (a.norm() * c.norm() + 1e-30))  # noqa: E731
    assert cos(fd(v), exact) < 0.9
    assert cos(fd(v * 1e5), exact * 1e5) > 0.999


def test_trpo_takes_the_direction_itself_when_the_product_is_not_positive():
    """As rllab: a non-positive x^T H x (only an inexact product gives one) leaves the step
    size at 1 and the line search decides."""
    logits = torch.zeros(4, requires_grad=True)
    reward = torch.tensor([0.0, 1.0, 0.2, 0.5])
    old = torch.softmax(logits.detach(), 0)

    def objective(create_graph: bool):
        p = torch.softmax(logits, 0)
        return -(p * reward).sum(), (old * (old.log() - p.log())).sum()

    calls = []

    def kl_hvp(v):  # identity for conjugate gradient, negative on the final direction
        calls.append(1)
        return v if len(calls) == 1 else -v

    trpo = TRPO([logits], max_kl=0.01, cg_iters=1, cg_damping=0.0)
    stats = trpo.step(objective, kl_hvp=kl_hvp)
    assert len(calls) == 2
    assert stats["step_accepted"] == 1.0 and 0 < stats["kl"] <= 0.01
    # the direction is -g itself, so the first (unshrunk) attempt is the gradient step
    assert stats["line_search_steps"] == 1
    assert int(torch.argmax(logits.detach())) == 1
