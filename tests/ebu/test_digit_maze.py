"""The handwritten-digit maze: layout, dynamics, sparse reward, time limit, observations."""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np
import pytest

from relayrl.envs import digit_maze as dm


def optimal_actions(walls: np.ndarray) -> list[int]:
    """A shortest action sequence from (0, 0) to the far corner (independent BFS over actions)."""
    n = walls.shape[0]
    prev = {(0, 0): None}
    queue = deque([(0, 0)])
    while queue:
        cell = queue.popleft()
        for a, (dr, dc) in enumerate(dm.MOVES):
            nxt = (cell[0] + dr, cell[1] + dc)
            if 0 <= nxt[0] < n and 0 <= nxt[1] < n and not walls[nxt] and nxt not in prev:
                prev[nxt] = (cell, a)
                queue.append(nxt)
    path, cell = [], (n - 1, n - 1)
    while prev[cell] is not None:
        cell, a = prev[cell]
        path.append(a)
    return path[::-1]


def which_digit(image: np.ndarray) -> set[int]:
    return {d for d, imgs in enumerate(dm.digit_images()) if (imgs == image).all(axis=(1, 2)).any()}


def test_registered_and_fixed_layout_per_maze_seed():
    a = gym.make(dm.ENV_ID, maze_seed=3).unwrapped
    b = gym.make(dm.ENV_ID, maze_seed=3).unwrapped
    c = gym.make(dm.ENV_ID, maze_seed=4).unwrapped
    assert (a.walls == b.walls).all() and (a.walls != c.walls).any()
    assert a.walls.shape == (10, 10) and not a.walls[0, 0] and not a.walls[9, 9]
    assert 15 <= a.walls.sum() <= 45  # wall_density 0.3 of 98 free-able cells
    assert gym.spec(dm.ENV_ID).max_episode_steps == dm.MAX_EPISODE_STEPS


def test_optimal_path_reaches_goal_with_the_only_reward():
    env = gym.make(dm.ENV_ID, maze_seed=1)
    u = env.unwrapped
    actions = optimal_actions(u.walls)
    assert len(actions) == u.optimal_path_length >= 18  # 18 = Manhattan distance
    obs, info = env.reset(seed=0)
    assert info["optimal_path_length"] == u.optimal_path_length
    rewards = []
    for i, a in enumerate(actions):
        obs, r, terminated, truncated, info = env.step(a)
        rewards.append(r)
        assert terminated == (i == len(actions) - 1) and not truncated
    assert info["position"] == (9, 9)
    assert rewards == [0.0] * (len(actions) - 1) + [1.0]


def test_walls_and_border_block_moves():
    env = gym.make(dm.ENV_ID, maze_seed=0)
    env.reset(seed=0)
    _, r, term, _, info = env.step(0)  # up from (0, 0): the border
    assert info["position"] == (0, 0) and r == 0.0 and not term
    _, _, _, _, info = env.step(2)  # left: the border
    assert info["position"] == (0, 0)
    walls = env.unwrapped.walls
    # Put the agent next to a wall and push into it.
    r0, c0 = map(int, np.argwhere(walls)[0])
    for a, (dr, dc) in enumerate(dm.MOVES):
        cell = (r0 - dr, c0 - dc)
        if 0 <= cell[0] < 10 and 0 <= cell[1] < 10 and not walls[cell]:
            env.unwrapped.pos = cell
            _, _, _, _, info = env.step(a)
            assert info["position"] == cell
            break
    else:
        pytest.fail("no free cell next to the first wall")


def test_time_limit_truncates_not_terminates():
    env = gym.make(dm.ENV_ID, maze_seed=0, max_episode_steps=5)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(5)]  # bump into the top border 5 times
    assert flags == [(False, False)] * 4 + [(False, True)]


def test_observation_shows_the_coordinates_as_handwritten_digits():
    env = gym.make(dm.ENV_ID, maze_seed=1)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (8, 16) and obs.dtype == np.float32 and env.observation_space.contains(obs)
    assert which_digit(obs[:, :8]) == {0} and which_digit(obs[:, 8:]) == {0}
    for a in optimal_actions(env.unwrapped.walls)[:6]:
        obs, _, _, _, info = env.step(a)
        row, col = info["position"]
        assert which_digit(obs[:, :8]) == {row} and which_digit(obs[:, 8:]) == {col}
    # A fresh handwritten instance is drawn at every step: revisiting (0, 0) shows new images.
    images = {env.reset()[0].tobytes() for _ in range(10)}
    assert len(images) > 1


def test_reset_seed_makes_observations_reproducible():
    def rollout(seed):
        env = gym.make(dm.ENV_ID, maze_seed=2, slip_probability=0.3)
        out = [env.reset(seed=seed)[0]]
        out += [env.step(3)[0] for _ in range(20)]
        return np.stack(out)

    np.testing.assert_array_equal(rollout(7), rollout(7))
    assert not np.array_equal(rollout(7), rollout(8))


def test_vector_env_through_make_vector_env():
    from relayrl.envs import make_vector_env

    venv = make_vector_env(dm.ENV_ID, 3, seed=0, env_kwargs={"maze_seed": 5})
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (3, 8, 16)
    obs, r, term, trunc, _ = venv.step(np.array([1, 3, 0]))
    assert r.shape == (3,) and not term.any()
    venv.close()


def test_render_rgb_array():
    env = gym.make(dm.ENV_ID, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (80, 80, 3) and frame.dtype == np.uint8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"size": 11}, r"size=11 must be an int in \[2, 10\]"),
        ({"wall_density": 1.0}, r"wall_density=1.0 must be in \[0, 1\)"),
        ({"slip_probability": -0.5}, "slip_probability=-0.5"),
        ({"render_mode": "human"}, "render_mode='human'"),
    ],
)
def test_bad_kwargs_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dm.DigitMazeEnv(**kwargs)


def test_bad_action_is_named():
    env = dm.DigitMazeEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action 4 is not in"):
        env.step(4)
