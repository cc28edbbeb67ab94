"""The on-policy schedule: queue table, one batch per policy version, learning on CartPole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from relayrl.agents.pg.losses import gae
from relayrl.platform.config import load_experiment

ROOT = Path(__file__).resolve().parents[2]
PG = ROOT / "tune_configs" / "pg_cartpole.yaml"


def test_gae_matches_hand_computation():
    # one sequence of 3 steps; the episode terminates after step 1, step 2 starts a new one
    r = torch.tensor([[1.0, 2.0, 3.0]])
    v = torch.tensor([[0.5, 0.25, 1.0]])
    v_next = torch.tensor([[0.25, 9.0, 2.0]])  # V(s_{t+1}); 9.0 must be ignored (terminal)
    term = torch.tensor([[0.0, 1.0, 0.0]])
    mask = torch.ones(1, 3)
    g, lam = 0.9, 0.5
    adv = gae(r, v, v_next, term, term, mask, gamma=g, lam=lam)
    d2 = 3.0 + g * 2.0 - 1.0
    d1 = 2.0 - 0.25
    d0 = 1.0 + g * 0.25 - 0.5
    expected = [d0 + g * lam * d1, d1, d2]
    assert np.allclose(adv.numpy()[0], expected)
    # padding carries nothing; truncation (done, not terminal) bootstraps but stops the sum
    adv2 = gae(r, v, v_next, torch.zeros(1, 3), torch.tensor([[0.0, 1.0, 0.0]]),
               torch.tensor([[1.0, 1.0, 0.0]]), gamma=g, lam=lam)
    assert np.allclose(adv2.numpy()[0], [d0 + g * lam * (2.0 + g * 9.0 - 0.25),
                                         2.0 + g * 9.0 - 0.25, 0.0])


def test_on_policy_runs_refuse_queued_calls():
    from relayrl.platform.config import ConfigError
    from relayrl.platform.experiment import Experiment

    with pytest.raises(ConfigError, match="calls_in_flight: got 2; pg is on-policy"):
        Experiment(load_experiment(PG, ["rollout.calls_in_flight=2"]))


def test_each_version_batch_is_taken_once(ray_session):
    from relayrl.platform.experiment import Experiment

    cfg = load_experiment(PG, ["run.iteration_env_steps=1000", "env.num_envs=4"])
    exp = Experiment(cfg)
    try:
        m1 = exp.train_iteration()
        m2 = exp.train_iteration()
        info = exp.client.info()["rollouts"]
    finally:
        exp.close()
    per_version = 2 * 4 * 32  # workers x envs x steps per call
    assert m2["learner/num_updates"] == m2["learner/weights_version"]
    assert m2["learner/num_updates"] == m2["env_steps"] // per_version or \
        abs(m2["learner/num_updates"] * per_version - m2["env_steps"]) <= per_version
    assert info["size"] == 0  # the queue was drained by every update
    assert info["num_samples"] == info["num_inserts"]  # each sequence handed out exactly once
    # nearly all steps were acted by the version that learns from them
    assert m2["learner/batch_steps"] >= 0.8 * per_version
    assert m1["env_steps"] < m2["env_steps"]


@pytest.mark.timeout(400)
def test_policy_gradient_learns_cartpole(ray_session, tmp_path):
    from relayrl.platform.runner import train

    cfg = load_experiment(PG, ["stop.env_steps=50000", "stop.episode_return_mean=150",
                               "run.checkpoint_every=0"])
    m = train(cfg, logdir=str(tmp_path), progress=False)
    assert m["episode_return_mean"] >= 150, m
