"""The rollout worker's own bookkeeping, in-process (no Ray): every env step is counted once."""

from __future__ import annotations

import numpy as np

from relayrl.platform.config import experiment_from_dict
from relayrl.platform.rollout import RolloutWorkerImpl


def test_episode_statistics_account_for_every_step_across_autoresets():
    cfg = experiment_from_dict({
        "name": "t", "algorithm": "random", "env": {"id": "CartPole-v1", "num_envs": 4},
        "learner": {"write_replay": False},
    })
    worker = RolloutWorkerImpl(cfg, 0, None)
    steps, returns, lengths = 0, [], []
    for _ in range(5):
        out = worker.sample(100)
        steps += out["env_steps"]
        returns += out["episode_returns"]
        lengths += out["episode_lengths"]
    worker.close()
    assert len(lengths) > 10  # random CartPole episodes last ~20 steps: many autoresets
    # CartPole pays 1 per step, so a finished episode's return is its length
    np.testing.assert_allclose(returns, lengths)
    # steps of finished episodes + steps of the ones still running = all steps counted
    assert steps == sum(lengths) + int(worker.ep_len.sum())
    # every finished episode costs one uncounted autoreset row, except those that ended on
    # the very last step (their reset row is still to come)
    reset_rows = len(lengths) - int(np.count_nonzero(worker.resetting))
    assert steps == 5 * 100 * 4 - reset_rows
