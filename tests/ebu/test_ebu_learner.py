"""EBU's config, learner, policy and algorithm on a real replay service (and real Ray)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from relayrl.agents.dqn.ebu import EBU, backward_targets
from relayrl.agents.dqn.ebu_learner import EBULearner, copy_head
from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ConfigError, experiment_from_dict

ENV_INFO = EnvInfo("CartPole-v1", gym.spaces.Box(-1, 1, (4,), np.float32), gym.spaces.Discrete(2))


def make_cfg(**learner):
    base = dict(hidden_sizes=[16], batch_size=4, lr=1e-3, target_update_period=1000,
                replay_capacity=1000, learning_starts=0)
    base.update(learner)
    return experiment_from_dict(dict(name="t", algorithm="ebu", env={"id": "CartPole-v1"},
                                     learner=base))


def episode(T: int, seed: int = 0, terminal: bool = True, head: int | None = None) -> dict:
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(T + 1, 4)).astype(np.float32)
    out = {
        "obs": obs[:-1], "next_obs": obs[1:],
        "action": rng.integers(0, 2, T).astype(np.int64),
        "reward": np.where(np.arange(T) == T - 1, 1.0, 0.0).astype(np.float32),
        "terminated": np.arange(T) == T - 1 if terminal else np.zeros(T, dtype=bool),
        "truncated": np.zeros(T, dtype=bool) if terminal else np.arange(T) == T - 1,
    }
    if head is not None:
        out["head"] = np.full(T, head, dtype=np.int64)
    return out


@pytest.fixture
def service(ray_session):
    clients = []

    def make(cfg):
        from relayrl.platform.replay import ReplayClient

        client = ReplayClient.create(EBU().tables(cfg, ENV_INFO))
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.mark.parametrize(
    "override, match",
    [
        ({"beta": 1.5}, r"learner.beta: got 1.5, must be in \[0, 1\]"),
        ({"double_q": True}, "learner.double_q: EBU's backward pass"),
        ({"n_step": 3}, "learner.n_step: got 3"),
        ({"prioritized": True}, "learner.prioritized"),
        ({"num_heads": 0}, "learner.num_heads: got 0"),
        ({"reward_clip": -1.0}, "learner.reward_clip"),
        ({"max_episode_length": 2}, "learner.max_episode_length: got 2"),
        ({"bogus": 1}, "unknown key learner.'bogus'"),
    ],
)
def test_bad_config_names_the_key(override, match):
    with pytest.raises(ConfigError, match=match):
        make_cfg(**override)


def test_adaptive_betas_spread_over_unit_interval():
    assert make_cfg(beta=0.3).learner.betas == (0.3,)
    assert make_cfg(num_heads=5).learner.betas == (0.0, 0.25, 0.5, 0.75, 1.0)


def test_table_is_a_whole_episode_table():
    cfg = make_cfg(num_heads=2, max_episode_length=64)
    (table,) = EBU().tables(cfg, ENV_INFO)
    assert table.kind == "episode" and table.max_episode_length == 64
    assert table.max_total_steps == 1000 and table.sampler == "uniform"
    assert table.field_names == ("obs", "next_obs", "action", "reward", "terminated",
                                 "truncated", "head")
    atari = EnvInfo("ALE/Pong-v5", gym.spaces.Box(0, 255, (4, 84, 84), np.uint8),
                    gym.spaces.Discrete(6))
    (t2,) = EBU().tables(make_cfg(), atari)
    assert t2.frame_field is not None and t2.frame_field.stack == 4  # frames stored once


def test_one_episode_becomes_minibatches_from_its_end(service):
    cfg = make_cfg(gamma=0.9, beta=0.5)
    client = service(cfg)
    ep = episode(10)
    client.insert("episodes", ep)
    learner = EBULearner(cfg, ENV_INFO, client)
    with torch.no_grad():
        q_next = learner.target(torch.as_tensor(ep["next_obs"])).numpy()
    expected = backward_targets(q_next, ep["action"], ep["reward"], ep["terminated"], 0.9, 0.5)
    learner.update()
    # 10 transitions, batch 4: [6, 10) first, then [2, 6) and [0, 2) are queued.
    assert learner.num_episodes == 1 and len(learner.pending) == 2
    obs, actions, y = learner.pending[0]
    np.testing.assert_array_equal(obs, ep["obs"][2:6])
    np.testing.assert_allclose(y[:, 0], expected[2:6], rtol=1e-5)
    np.testing.assert_allclose(learner.pending[1][2][:, 0], expected[0:2], rtol=1e-5)
    learner.update()
    learner.update()
    assert learner.num_updates == 3 and not learner.pending
    m = learner.update()  # a new episode is sampled
    assert learner.num_episodes == 2 and math.isfinite(m["loss"]) and m["episode_length"] == 10
    assert m["replay_episode_return"] == 1.0


def test_updates_regress_towards_backward_targets(service):
    cfg = make_cfg(gamma=0.9, beta=1.0, batch_size=8, lr=1e-2, optimizer="adam")
    client = service(cfg)
    client.insert("episodes", episode(8))
    learner = EBULearner(cfg, ENV_INFO, client)
    losses = [learner.update()["loss"] for _ in range(200)]
    assert np.mean(losses[-20:]) < 0.1 * np.mean(losses[:5])


def test_adaptive_heads_credit_returns_and_adopt_the_best(service):
    cfg = make_cfg(num_heads=3, adaptive_sync_period=30, batch_size=32)
    client = service(cfg)
    # Head 2 played the rewarding episodes, heads 0 and 1 episodes without reward.
    client.insert("episodes", [episode(5, 1, head=2), episode(5, 2, head=0), episode(5, 3, head=1)])
    for h in (0, 1):
        zero = episode(5, 10 + h, head=h)
        zero["reward"][:] = 0.0
        client.insert("episodes", zero)
    learner = EBULearner(cfg, ENV_INFO, client)
    heads_acting = set()
    for _ in range(29):
        learner.update()
        heads_acting.add(learner.get_weights()["head"])
    assert heads_acting == {0, 1, 2}  # every head acts in turn within a sync period
    scores = learner.head_scores()
    assert scores[2] == 1.0 and max(scores[:2]) <= 1.0
    learner.head_returns[0].append(-5.0)  # make head 0 clearly worse
    learner.head_returns[1].append(-5.0)
    learner.update()  # update 30: sync
    assert learner.best_head == 2 and learner.get_weights()["eval_head"] == 2
    with torch.no_grad():
        q = learner.q(torch.randn(7, 4))  # [7, 3, 2]: every head now equals head 2
        torch.testing.assert_close(q[:, 0], q[:, 2])
        torch.testing.assert_close(q[:, 1], q[:, 2])


def test_copy_head_with_dueling():
    from relayrl.agents.dqn.networks import QNetwork

    net = QNetwork((4,), 3, hidden_sizes=(8,), dueling=True, num_heads=4)
    x = torch.randn(5, 4)
    before = net(x)[:, 1].detach().clone()
    copy_head(net, 1)
    after = net(x).detach()
    for h in range(4):
        torch.testing.assert_close(after[:, h], before)


def test_policy_records_its_head_and_evaluates_with_the_best(service):
    cfg = make_cfg(num_heads=2, epsilon_start=0.0, epsilon_end=0.0)
    client = service(cfg)
    client.insert("episodes", episode(4, head=0))
    learner = EBULearner(cfg, ENV_INFO, client)
    policy = EBU().make_policy(cfg, ENV_INFO, seed=0)
    weights = learner.get_weights()
    weights.update(head=1, eval_head=0)
    policy.set_weights(weights)
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    acts, extras = policy.compute_actions(obs, env_steps=0)
    with torch.no_grad():
        q = learner.q(torch.as_tensor(obs))
    np.testing.assert_array_equal(acts, q[:, 1].argmax(1).numpy())
    np.testing.assert_array_equal(extras["head"], np.ones(64))
    acts_eval, extras_eval = policy.compute_actions(obs, env_steps=0, explore=False)
    np.testing.assert_array_equal(acts_eval, q[:, 0].argmax(1).numpy())
    assert policy.head == 1 and (extras_eval["head"] == 0).all()


def test_state_dict_round_trip(service):
    cfg = make_cfg()
    client = service(cfg)
    client.insert("episodes", episode(9))
    a = EBULearner(cfg, ENV_INFO, client)
    for _ in range(5):
        a.update()
    b = EBULearner(make_cfg(), ENV_INFO, client)
    b.load_state_dict(a.state_dict())
    assert b.num_updates == 5 and not b.pending
    x = torch.randn(3, 4)
    torch.testing.assert_close(a.q(x), b.q(x))
    torch.testing.assert_close(a.target(x), b.target(x))


def test_no_finished_episode_yet_is_a_no_op_not_a_hang(service):
    # Rollouts keep running while the first episodes are still being played.
    cfg = make_cfg(sample_timeout_s=60.0)
    client = service(cfg)
    learner = EBULearner(cfg, ENV_INFO, client)
    q_before = [p.detach().clone() for p in learner.q.parameters()]
    assert learner.update() == {"waiting_for_episodes": 1.0}
    assert all(torch.equal(a, b) for a, b in zip(q_before, learner.q.parameters()))
    client.insert("episodes", episode(6))
    m = learner.update()
    assert m["waiting_for_episodes"] == 0.0 and learner.num_episodes == 1
