"""The meta-learner's math on tiny problems: baseline, meta-gradient, factored HVP, learning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from relayrl.agents.maml.baseline import features, fit_predict
from relayrl.agents.maml.batch import Episodes, TaskBatch, discounted_returns, gae
from relayrl.agents.maml.config import MAMLConfig
from relayrl.agents.maml.learner import MetaLearner, unadapted_kl
from relayrl.agents.maml.losses import adapt, inner_loss, surrogate_and_kl
from relayrl.agents.maml.networks import init_params, mean_and_log_std, per_task
from relayrl.agents.maml.trpo import flat_grad, hessian_vector_product
from relayrl.platform.config import ConfigError


def random_batch(gen, k=2, e=3, t=4, obs_dim=2, act_dim=1, dtype=torch.float64) -> TaskBatch:
    mask = torch.ones(k, e * t, dtype=dtype)
    mask[:, -2:] = 0.0  # a padded tail
    return TaskBatch(torch.randn(k, e * t, obs_dim, generator=gen, dtype=dtype),
                     torch.randn(k, e * t, act_dim, generator=gen, dtype=dtype),
                     torch.randn(k, e * t, generator=gen, dtype=dtype), mask, t)


def double_params(obs_dim=2, act_dim=1, hidden=(5,), seed=0):
    return {k: v.double().requires_grad_(True)
            for k, v in init_params(obs_dim, act_dim, hidden, init_log_std=-0.3, seed=seed).items()}


def test_linear_baseline_fits_returns_that_are_linear_in_its_features():
    gen = torch.Generator().manual_seed(0)
    obs = torch.randn(3, 4, 50, 2, generator=gen)  # [K, E, T, d]
    phi = features(obs.double())
    w = torch.randn(3, phi.shape[-1], generator=gen, dtype=torch.float64)  # one per task
    returns = torch.einsum("ketf,kf->ket", phi, w).float()
    mask = torch.ones(3, 4, 50)
    pred = fit_predict(obs, returns, mask, reg=1e-8)
    torch.testing.assert_close(pred, returns, rtol=1e-3, atol=1e-3)
    # Padded steps neither enter the fit nor get a value.
    mask[:, :, 40:] = 0.0
    garbage = returns.clone()
    garbage[:, :, 40:] = 1e6
    pred = fit_predict(obs, garbage, mask, reg=1e-8)
    torch.testing.assert_close(pred[:, :, :40], returns[:, :, :40], rtol=1e-3, atol=1e-3)
    assert torch.all(pred[:, :, 40:] == 0)


def test_returns_and_gae_with_lambda_one_are_returns_minus_baseline():
    rew = torch.tensor([[1.0, 2.0, 3.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # the episode ended after 3 steps
    g = discounted_returns(rew, mask, 0.5)
    torch.testing.assert_close(g, torch.tensor([[1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3.0, 0.0]]))
    values = torch.tensor([[0.3, -0.2, 0.7, 0.0]])
    torch.testing.assert_close(gae(rew, values, mask, 0.5, 1.0), (g - values) * mask)


def test_second_order_meta_gradient_matches_finite_differences():
    gen = torch.Generator().manual_seed(3)
    pre, post = random_batch(gen), random_batch(gen)
    params = double_params()
    alpha = 0.3

    def outer(p):  # L_post(theta'(theta)) summed over tasks
        return inner_loss(adapt(p, [pre], alpha, create_graph=True), post)

    names = list(params)
    grad = flat_grad(outer(params), [params[n] for n in names])
    fo = flat_grad(inner_loss(adapt(params, [pre], alpha, create_graph=False), post),
                   [params[n] for n in names])
    flat = torch.cat([params[n].detach().reshape(-1) for n in names])
    sizes = [params[n].numel() for n in names]

    def value(z):
        parts = dict(zip(names, [c.view(params[n].shape) for c, n in zip(z.split(sizes), names)]))
        with torch.no_grad():
            return float(outer(parts))

    eps = 1e-6
    fd = torch.tensor([(value(flat + eps * e) - value(flat - eps * e)) / (2 * eps)
                       for e in torch.eye(len(flat), dtype=torch.float64)], dtype=torch.float64)
    torch.testing.assert_close(grad, fd, rtol=1e-5, atol=1e-7)
    # The first-order approximation drops a term that matters here.
    assert (fo - fd).norm() > 1e-3 * fd.norm()


@pytest.mark.parametrize("pre_update_kl,min_std,later_scale",
                         [(False, 0.0, 1.0), (True, 0.0, 1.0), (False, 0.9, 1.0), (False, 0.0, 0.5)])
def test_factored_kl_hvp_equals_double_backward_through_the_adaptation(pre_update_kl, min_std,
                                                                        later_scale):
    """min_std 0.9 is above the policy's std (exp(-0.3) = 0.74): every factor sees the floor.
    later_scale 0.5: the second step is alpha / 2, and each factor must use its own size."""
    gen = torch.Generator().manual_seed(4)
    cfg = MAMLConfig(hidden_sizes=(5,), num_inner_steps=2, inner_lr=0.2,
                     pre_update_kl=pre_update_kl, min_std=min_std, later_inner_lr_scale=later_scale)
    learner = MetaLearner(cfg, 2, 1, seed=0)
    learner.params = double_params(seed=0)
    inner = [random_batch(gen), random_batch(gen)]
    post = random_batch(gen)
    floor = cfg.min_log_std
    lrs = [0.2, 0.2 * later_scale]
    old = learner._old_policy(adapt(learner.params, inner, lrs, create_graph=False,
                                    min_log_std=floor), post)
    fast = adapt(learner.params, inner, lrs, create_graph=True, min_log_std=floor)
    _, kl = surrogate_and_kl(fast, post, *old, min_log_std=floor)
    old_pre = None
    if pre_update_kl:  # the unadapted policy's KL on the first inner batch joins the constraint
        old_pre = learner._old_policy(per_task(learner.params, 2), inner[0])
        kl = kl + unadapted_kl(learner.params, inner[0], old_pre, min_log_std=floor)
    exact = hessian_vector_product(kl, list(learner.params.values()))
    factored = learner.kl_hvp(inner, post, old, old_pre)
    for _ in range(3):
        v = torch.randn(sum(p.numel() for p in learner.params.values()), generator=gen,
                        dtype=torch.float64)
        torch.testing.assert_close(factored(v), exact(v), rtol=1e-6, atol=1e-9)


def test_meta_update_raises_the_post_adaptation_surrogate_on_a_toy_family():
    """A 1-D bandit family: task k rewards actions near its own target; MAML's step helps."""
    rng = np.random.default_rng(0)
    cfg = MAMLConfig(hidden_sizes=(8,), inner_lr=0.1, trajectories_per_task=8, max_kl=0.01)
    learner = MetaLearner(cfg, 1, 1, seed=0)
    targets = np.array([-1.0, 1.0, 0.5, -0.5])
    k, e, t = len(targets), cfg.trajectories_per_task, 5

    def episodes(std_shift=0.0):
        obs = np.zeros((k, e, t, 1), np.float32)
        act = rng.normal(std_shift, 1.0, size=(k, e, t, 1)).astype(np.float32)
        rew = -np.abs(act[..., 0] - targets[:, None, None]).astype(np.float32)
        return Episodes(obs, act, rew, np.ones((k, e, t), np.float32))

    stats = learner.update([episodes(), episodes()])
    assert stats["step_accepted"] == 1.0
    assert 0 < stats["kl"] <= cfg.max_kl
    assert stats["surrogate_improvement"] > 0
    assert 1 <= stats["line_search_steps"] <= cfg.line_search_steps


def test_sampler_rescales_policy_actions_to_the_env_box_like_rllab_normalize():
    """Navigation's box is [-0.1, 0.1]: a policy action of 1 moves 0.1, 0.5 moves 0.05, and
    anything beyond [-1, 1] is clipped; with normalize_actions off the raw action is clipped."""
    from relayrl.agents.maml.sampler import TaskSampler

    low, high = np.full(2, -0.1, np.float32), np.full(2, 0.1, np.float32)
    act = np.array([[1.0, 0.5], [-3.0, 0.0]], np.float32)
    scaled = TaskSampler("relayrl/Navigation2D-v0", MAMLConfig()).to_env_action(act, low, high)
    np.testing.assert_allclose(scaled, [[0.1, 0.05], [-0.1, 0.0]], atol=1e-7)
    raw = TaskSampler("relayrl/Navigation2D-v0", MAMLConfig(normalize_actions=False))
    np.testing.assert_allclose(raw.to_env_action(act, low, high), [[0.1, 0.1], [-0.1, 0.0]])
    # a [-1, 1] box (the MuJoCo families) is unchanged by the rescaling
    ones = np.ones(2, np.float32)
    np.testing.assert_allclose(TaskSampler("relayrl/Navigation2D-v0", MAMLConfig())
                               .to_env_action(act, -ones, ones), np.clip(act, -1, 1))


def test_adapt_with_one_step_size_per_step_is_those_steps_in_sequence():
    """The meta-test's schedule (alpha, then alpha / 2): each step is a plain vanilla-PG step
    of its own size from where the previous one ended."""
    gen = torch.Generator().manual_seed(5)
    params = {k: v.detach() for k, v in double_params(seed=1).items()}
    b1, b2 = random_batch(gen), random_batch(gen)
    scheduled = adapt(params, [b1, b2], [0.5, 0.25], create_graph=False)
    first = adapt(params, [b1], 0.5, create_graph=False)
    by_hand = adapt(first, [b2], 0.25, create_graph=False)
    for name in params:
        torch.testing.assert_close(scheduled[name], by_hand[name])
    same = adapt(params, [b1, b2], 0.5, create_graph=False)
    assert not torch.allclose(same["w0"], scheduled["w0"])
    with pytest.raises(ValueError, match="2 steps but only 1 step sizes"):
        adapt(params, [b1, b2], [0.5], create_graph=False)


def test_later_inner_steps_of_meta_training_use_the_scaled_step_size():
    """later_inner_lr_scale 0.5 meta-trains the meta-test's schedule: alpha, then alpha / 2."""
    from relayrl.agents.maml.learner import adapt_numpy
    from relayrl.agents.maml.networks import to_numpy

    gen = torch.Generator().manual_seed(6)
    cfg = MAMLConfig(hidden_sizes=(5,), num_inner_steps=3, inner_lr=0.4, later_inner_lr_scale=0.5)
    assert cfg.inner_lrs == [0.4, 0.2, 0.2] and MAMLConfig(num_inner_steps=2).inner_lrs == [0.1, 0.1]
    params = {k: v.detach() for k, v in double_params(seed=2).items()}
    batches = [random_batch(gen, dtype=torch.float32) for _ in range(3)]
    episodes = [Episodes(obs=b.obs.reshape(2, 3, 4, 2).numpy(), act=b.act.reshape(2, 3, 4, 1).numpy(),
                         rew=b.adv.reshape(2, 3, 4).numpy(), mask=b.mask.reshape(2, 3, 4).numpy())
                for b in batches]
    weights = to_numpy({k: v.float() for k, v in params.items()})
    sampled = adapt_numpy(cfg, weights, episodes)  # what the samplers do between the steps
    stepped = adapt_numpy(cfg, weights, episodes, inner_lr=[0.4, 0.2, 0.2])
    unscaled = adapt_numpy(cfg, weights, episodes, inner_lr=0.4)
    for name in params:
        torch.testing.assert_close(sampled[name], stepped[name])
    assert not torch.allclose(sampled["w0"], unscaled["w0"])
    with pytest.raises(ConfigError, match=r"learner.later_inner_lr_scale: got 0.0, must be > 0"):
        MAMLConfig(later_inner_lr_scale=0.0)


def test_min_std_floors_the_std_everywhere_the_policy_is_used():
    """A policy whose std (0.05) is below the floor (0.3) samples, adapts and is meta-updated
    as a std-0.3 policy: actions spread by 0.3, and no step moves the clamped log-std."""
    from relayrl.agents.maml.learner import JointTRPOLearner, adapt_numpy
    from relayrl.agents.maml.networks import to_numpy
    from relayrl.agents.maml.sampler import TaskSampler
    from relayrl.envs.meta import sample_tasks

    env_id = "relayrl/Navigation2D-v0"
    cfg = MAMLConfig(hidden_sizes=(8,), trajectories_per_task=10, init_log_std=np.log(0.05),
                     min_std=0.3)
    tasks = sample_tasks(env_id, 3, np.random.default_rng(0))
    learner = MetaLearner(cfg, 2, 2, seed=0)
    weights = learner.get_weights()
    eps = TaskSampler(env_id, cfg, seed=0).sample(weights, tasks, num_inner_steps=1)
    params = {k: torch.as_tensor(v) for k, v in weights.items()}
    mean, _ = mean_and_log_std(params, torch.as_tensor(eps[0].obs))
    noise = (torch.as_tensor(eps[0].act) - mean)[torch.as_tensor(eps[0].mask) == 1]
    assert abs(float(noise.std()) - 0.3) < 0.02  # not the parameter's 0.05
    fast = adapt_numpy(cfg, weights, eps, num_steps=1)
    torch.testing.assert_close(fast["log_std"], torch.full((3, 2), float(np.log(0.05))))
    assert not torch.allclose(fast["w0"][0], params["w0"])  # the mean did adapt
    stats = learner.update(eps)
    assert stats["step_accepted"] == 1.0 and 0 < stats["kl"] <= cfg.max_kl
    np.testing.assert_array_equal(learner.get_weights()["log_std"], weights["log_std"])
    joint = JointTRPOLearner(cfg, 2, 2, seed=0)
    joint.update(eps[0])
    np.testing.assert_array_equal(to_numpy(joint.params)["log_std"], weights["log_std"])
    # Without the floor the same data moves the log-std: the checks above are not vacuous.
    free = adapt_numpy(dataclasses.replace(cfg, min_std=0.0), weights, eps, num_steps=1)
    assert not torch.allclose(free["log_std"], fast["log_std"])


def test_min_std_must_be_non_negative():
    with pytest.raises(ConfigError, match=r"learner.min_std: got -0.1, must be >= 0"):
        MAMLConfig(min_std=-0.1)
    assert MAMLConfig().min_log_std == -np.inf and MAMLConfig(min_std=0.5).min_log_std == np.log(0.5)


def test_finite_difference_option_switches_the_meta_updates_product():
    """hvp_method finite_difference (the paper's rllab products): the update stays inside
    the trust region or is rejected with theta untouched, and it is not the exact update."""
    rng = np.random.default_rng(1)
    targets = np.array([-1.0, 1.0, 0.5, -0.5])
    k, e, t = len(targets), 8, 5

    def episodes():
        obs = np.zeros((k, e, t, 1), np.float32)
        act = rng.normal(0.0, 1.0, size=(k, e, t, 1)).astype(np.float32)
        rew = -np.abs(act[..., 0] - targets[:, None, None]).astype(np.float32)
        return Episodes(obs, act, rew, np.ones((k, e, t), np.float32))

    batch = [episodes(), episodes()]
    after = {}
    for method in ("exact", "finite_difference"):
        cfg = MAMLConfig(hidden_sizes=(8,), inner_lr=0.1, trajectories_per_task=e,
                         hvp_method=method)
        learner = MetaLearner(cfg, 1, 1, seed=0)
        before = {n: v.detach().clone() for n, v in learner.params.items()}
        stats = learner.update(batch)
        after[method] = {n: v.detach().clone() for n, v in learner.params.items()}
        if stats["step_accepted"]:
            assert 0 < stats["kl"] <= cfg.max_kl
        else:
            assert all(torch.equal(before[n], after[method][n]) for n in before)
    assert any(not torch.equal(after["exact"][n], after["finite_difference"][n]) for n in before)
