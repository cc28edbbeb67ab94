"""record_episode yields real frames for every family, headless."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import relayrl.envs as envs
from relayrl.envs.video import record_episode

CASES = [
    "relayrl/Navigation2D-v0",
    "relayrl/HalfCheetahVel-v0",
    "ALE/Pong-v5",
    "relayrl/PredatorPrey-v0",
    "CartPole-v1",
]


def random_actor(env_id, seed):
    space = envs.make_env(env_id).action_space
    space.seed(seed)
    return lambda obs: space.sample()


@pytest.mark.parametrize("env_id", CASES)
def test_record_episode_yields_real_frames(env_id):
    frames = record_episode(env_id, random_actor(env_id, 0), seed=0, max_steps=10)
    assert frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[3] == 3
    assert 2 <= frames.shape[0] <= 11 and max(frames.shape[1:3]) <= 256
    assert frames.std() > 5  # pictures, not blank buffers
    moving = [not np.array_equal(a, b) for a, b in zip(frames[:-1], frames[1:], strict=True)]
    assert sum(moving) >= len(moving) // 2  # the episode plays


def test_record_episode_stops_at_the_episode_end_and_is_deterministic():
    # a goal one step away: reset frame + one step
    task = {"goal": np.array([0.05, 0.05])}
    frames = record_episode(
        "relayrl/Navigation2D-v0", lambda obs: np.array([0.05, 0.05]), seed=0, max_steps=50,
        env_kwargs={"task": task},
    )
    assert frames.shape[0] == 2
    a = record_episode("CartPole-v1", lambda obs: int(obs[2] > 0), seed=3, max_steps=30)
    b = record_episode("CartPole-v1", lambda obs: int(obs[2] > 0), seed=3, max_steps=30)
    np.testing.assert_array_equal(a, b)


def test_record_episode_bad_input():
    with pytest.raises(ValueError, match="max_steps must be a positive int"):
        record_episode("CartPole-v1", lambda obs: 0, seed=0, max_steps=0)
    with pytest.raises(ValueError, match="unknown environment id 'Nope-v0'"):
        record_episode("Nope-v0", lambda obs: 0, seed=0, max_steps=3)
    assert gym.spec("CartPole-v1") is not None
