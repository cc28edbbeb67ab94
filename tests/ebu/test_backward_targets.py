"""The backward pass of EBU against a small episode computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from relayrl.agents.dqn.ebu import backward_targets

GAMMA = 0.9
# One episode of T = 4 transitions, 2 actions.  Row k of Q_NEXT is Q_target(S_{k+1}, .).
Q_NEXT = np.array([[1.0, 2.0], [3.0, 0.0], [0.5, 4.0], [2.0, 1.0]], dtype=np.float32)
ACTIONS = np.array([0, 1, 0, 1])
REWARDS = np.array([0.0, 1.0, 0.0, 10.0], dtype=np.float32)
ENDED = np.array([False, False, False, True])
TRUNCATED = np.array([False, False, False, False])


def test_terminal_episode_beta_half_by_hand():
    # y_3 = R_3 = 10 (S_4 terminal: its row of Q~ is 0)
    # k=2: Q~[2, A_3=1] = .5*10 + .5*4 = 7;        y_2 = 0 + .9*max(.5, 7)   = 6.3
    # k=1: Q~[1, A_2=0] = .5*6.3 + .5*3 = 4.65;    y_1 = 1 + .9*max(4.65, 0) = 5.185
    # k=0: Q~[0, A_1=1] = .5*5.185 + .5*2 = 3.5925; y_0 = .9*max(1, 3.5925)  = 3.23325
    y = backward_targets(Q_NEXT, ACTIONS, REWARDS, ENDED, GAMMA, 0.5)
    np.testing.assert_allclose(y, [3.23325, 5.185, 6.3, 10.0], rtol=1e-6)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32


def test_truncated_last_transition_bootstraps():
    # y_3 = 10 + .9*max(2, 1) = 11.8  (time limit: S_4 is not terminal)
    # k=2: Q~[2,1] = .5*11.8 + .5*4 = 7.9;        y_2 = .9*7.9 = 7.11
    # k=1: Q~[1,0] = .5*7.11 + .5*3 = 5.055;      y_1 = 1 + .9*5.055 = 5.5495
    # k=0: Q~[0,1] = .5*5.5495 + .5*2 = 3.77475;  y_0 = .9*3.77475 = 3.397275
    y = backward_targets(Q_NEXT, ACTIONS, REWARDS, TRUNCATED, GAMMA, 0.5)
    np.testing.assert_allclose(y, [3.397275, 5.5495, 7.11, 11.8], rtol=1e-6)


def test_beta_zero_is_one_step_q_learning():
    # y_k = R_k + gamma * (1 - d_k) * max_a Q_target(S_{k+1}, a)
    y = backward_targets(Q_NEXT, ACTIONS, REWARDS, ENDED, GAMMA, 0.0)
    np.testing.assert_allclose(y, [1.8, 3.7, 3.6, 10.0], rtol=1e-6)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(50, 5))
    a = rng.integers(0, 5, 50)
    r = rng.normal(size=50)
    d = rng.random(50) < 0.1
    expected = r + 0.99 * (1 - d) * q.max(axis=1)
    np.testing.assert_allclose(backward_targets(q, a, r, d, 0.99, 0.0), expected, rtol=1e-12)


def test_beta_one_follows_the_episode_backward():
    # k=2: Q~[2,1] = 10 -> y_2 = 9;  k=1: Q~[1,0] = 9 -> y_1 = 1 + 8.1 = 9.1;
    # k=0: Q~[0,1] = 9.1 -> y_0 = 8.19
    y = backward_targets(Q_NEXT, ACTIONS, REWARDS, ENDED, GAMMA, 1.0)
    np.testing.assert_allclose(y, [8.19, 9.1, 9.0, 10.0], rtol=1e-6)


def test_max_keeps_a_better_untaken_action():
    # beta = 1 still maximises: Q~[0, A_1=1] becomes y_1 = 1, but action 0 is worth 5.
    y = backward_targets(np.array([[5.0, 0.0], [0.0, 0.0]]), np.array([0, 1]),
                         np.array([0.0, 1.0]), np.array([False, True]), GAMMA, 1.0)
    np.testing.assert_allclose(y, [4.5, 1.0])


def test_terminal_inside_the_episode_stops_propagation():
    # S_2 terminal (e.g. a lost life treated as terminal): y_1 = R_1 = 1, and y_0 only sees it.
    # k=0: Q~[0,1] = .5*1 + .5*2 = 1.5 -> y_0 = .9*1.5 = 1.35
    d = np.array([False, True, False, True])
    y = backward_targets(Q_NEXT, ACTIONS, REWARDS, d, GAMMA, 0.5)
    np.testing.assert_allclose(y, [1.35, 1.0, 6.3, 10.0], rtol=1e-6)


def test_sparse_reward_reaches_every_state_in_one_pass():
    # Zero-initialised target network, reward only at the end: one-step targets are all zero
    # except the last, the backward pass (beta = 1) gives gamma^(T-1-k) everywhere.
    T = 30
    r = np.zeros(T)
    r[-1] = 1.0
    d = np.zeros(T, dtype=bool)
    d[-1] = True
    a = np.zeros(T, dtype=np.int64)
    y = backward_targets(np.zeros((T, 4)), a, r, d, 0.95, 1.0)
    np.testing.assert_allclose(y, 0.95 ** np.arange(T - 1, -1, -1))
    assert np.count_nonzero(backward_targets(np.zeros((T, 4)), a, r, d, 0.95, 0.0)) == 1


def test_torch_in_torch_out_and_does_not_modify_inputs():
    q = torch.tensor(Q_NEXT, dtype=torch.float64)
    before = q.clone()
    y = backward_targets(q, torch.tensor(ACTIONS), torch.tensor(REWARDS), torch.tensor(ENDED),
                         GAMMA, 0.5)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64 and y.shape == (4,)
    torch.testing.assert_close(y, torch.tensor([3.23325, 5.185, 6.3, 10.0], dtype=torch.float64))
    torch.testing.assert_close(q, before)


def test_single_transition_episode():
    y = backward_targets(np.array([[1.0, 3.0]]), np.array([0]), np.array([2.0]),
                         np.array([False]), GAMMA, 0.5)
    np.testing.assert_allclose(y, [2.0 + 0.9 * 3.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"beta": 1.5}, "beta=1.5 must be in"),
        ({"gamma": -0.1}, "gamma=-0.1 must be in"),
        ({"actions": np.array([0, 1, 2, 0])}, r"actions must be in \[0, 2\)"),
        ({"rewards": np.zeros(3)}, r"rewards must have shape \[T\]"),
        ({"q_next": np.zeros(4)}, r"q_next must be \[T, num_actions\]"),
        ({"terminals": [False] * 4}, "terminals must be a numpy array or torch tensor"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    args = dict(q_next=Q_NEXT, actions=ACTIONS, rewards=REWARDS, terminals=ENDED,
                gamma=GAMMA, beta=0.5)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        backward_targets(**args)
