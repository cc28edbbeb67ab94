"""EBU through the platform: real Ray actors, real envs, the replay service's episode table."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from relayrl.platform.config import experiment_from_dict, load_experiment

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ["ebu_atari.yaml", "dqn_atari.yaml", "ebu_atari_beta_sweep.yaml"]


@pytest.mark.parametrize("name", CONFIGS)
def test_atari_configs_load_with_the_paper_settings(name):
    cfg = load_experiment(ROOT / "tune_configs" / name)
    lc = cfg.learner
    assert cfg.env.id == "ALE/Pong-v5" and lc.optimizer == "rmsprop" and lc.lr == 2.5e-4
    assert lc.replay_capacity == 1_000_000 and lc.target_update_period == 10_000
    assert cfg.stop.env_steps * 4 == 10_000_000  # frames = env steps x frame skip 4
    if cfg.algorithm == "ebu":
        assert lc.beta == 0.5 and lc.updates_per_env_step == 1.0 and lc.reward_clip == 1.0


def small_cartpole(**learner):
    base = dict(hidden_sizes=[32], batch_size=16, learning_starts=200, updates_per_env_step=0.5,
                target_update_period=100, replay_capacity=5000, publish_every=5)
    base.update(learner)
    return experiment_from_dict(dict(
        name="ebu_cartpole", algorithm="ebu", env={"id": "CartPole-v1", "num_envs": 2},
        rollout={"num_workers": 2, "num_cpus_per_worker": 0.5, "steps_per_call": 16},
        run={"iteration_env_steps": 500}, learner=base))


@pytest.mark.parametrize("num_heads", [3])  # one head: see the Pong and maze tests
def test_experiment_with_rollout_actors_and_episode_table(ray_session, num_heads):
    from relayrl.platform.experiment import Experiment

    exp = Experiment(small_cartpole(num_heads=num_heads, adaptive_sync_period=60))
    try:
        exp.train_iteration()
        m = exp.train_iteration()
    finally:
        exp.close()
    assert m["env_steps"] >= 1000 and m["learner/num_updates"] > 0
    assert m["learner/episodes_sampled"] > 0 and math.isfinite(m["learner/loss"])
    assert m["replay/episodes/size"] > 0  # whole episodes written by the workers
    assert m["learner/replay_episode_return"] > 0
    if num_heads > 1:
        assert 0 <= m["learner/acting_head"] < num_heads


@pytest.mark.timeout(300)
def test_pong_smoke(ray_session, tmp_path):
    """A few hundred Pong steps: frame-stacked episodes (in pieces) through replay to the CNN."""
    from relayrl.platform.runner import train

    cfg = load_experiment(ROOT / "tune_configs" / "ebu_atari.yaml", [
        "rollout.num_workers=1", "env.num_envs=2", "rollout.steps_per_call=16",
        "learner.replay_capacity=4000", "learner.learning_starts=200",
        "learner.max_episode_length=64", "learner.updates_per_env_step=0.25",
        "learner.target_update_period=50", "learner.publish_every=10",
        "stop.env_steps=600", "run.iteration_env_steps=300", "run.checkpoint_every=0",
    ])
    m = train(cfg, logdir=str(tmp_path), progress=False)
    assert m["env_steps"] >= 600 and m["learner/num_updates"] > 0
    assert m["learner/episodes_sampled"] > 0 and math.isfinite(m["learner/loss"])
    assert m["replay/episodes/size"] > 0


def test_ebu_learns_a_small_digit_maze(ray_session):
    """In-process worker + learner on a 5x5 maze: the greedy path becomes the shortest one."""
    import torch

    from relayrl.agents.registry import get_algorithm
    from relayrl.envs import digit_maze
    from relayrl.platform.algorithm import EnvInfo
    from relayrl.platform.replay import ReplayClient
    from relayrl.platform.rollout import RolloutWorkerImpl

    torch.set_num_threads(1)
    kwargs = {"size": 5, "wall_density": 0.0, "maze_seed": 0}
    cfg = experiment_from_dict(dict(
        name="maze", algorithm="ebu", seed=0,
        env={"id": digit_maze.ENV_ID, "num_envs": 1, "kwargs": kwargs},
        learner=dict(hidden_sizes=[64], lr=1e-3, gamma=0.9, beta=1.0, batch_size=32,
                     target_update_period=200, epsilon_decay_steps=2000, epsilon_end=0.1,
                     learning_starts=200, updates_per_env_step=0.5, replay_capacity=20000)))
    algo = get_algorithm("ebu")
    client = ReplayClient.create(algo.tables(cfg, EnvInfo.probe(cfg)))
    try:
        worker = RolloutWorkerImpl(cfg, 0, client)
        learner = algo.make_learner(cfg, worker.env_info, client)
        steps = updates = 0
        best = None
        while steps < 6000 and best != 8:
            out = worker.sample(100, steps, steps, learner.get_weights())
            steps += out["env_steps"]
            owed = int(max(0, steps - 200) * 0.5) - updates
            for _ in range(owed):
                learner.update()
            updates += owed
            env = gym.make(digit_maze.ENV_ID, max_episode_steps=30, **kwargs)
            obs, _ = env.reset(seed=steps)
            worker.set_weights(steps, learner.get_weights())
            for n in range(1, 31):
                a = worker.policy.compute_actions(obs[None], env_steps=0, explore=False)[0][0]
                obs, _, terminated, truncated, _ = env.step(int(a))
                if terminated or truncated:
                    best = n if terminated else None
                    break
    finally:
        client.close()
    assert best == 8, f"greedy path {best} after {steps} env steps (shortest: 8)"
    assert np.isfinite(learner.q(torch.as_tensor(obs[None])).detach().numpy()).all()
