"""Predator-prey (mpe2 simple_tag) as a two-team TeamEnv and as a gymnasium env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import relayrl.envs as envs
from relayrl.envs.multiagent import TeamEnv
from relayrl.envs.predator_prey import PredatorPreyEnv

STAY = 0


def place(env: PredatorPreyEnv, predators, prey, obstacles=((5.0, 5.0), (-5.0, -5.0))):
    """Put every agent at a given position, at rest (obstacles far away by default)."""
    world = env._env.unwrapped.world
    agents = [a for a in world.agents if a.adversary] + [a for a in world.agents if not a.adversary]
    for agent, pos in zip(agents, [*predators, *prey], strict=True):
        agent.state.p_pos = np.array(pos, dtype=np.float64)
        agent.state.p_vel = np.zeros(2)
    for landmark, pos in zip(world.landmarks, obstacles, strict=False):
        landmark.state.p_pos = np.array(pos, dtype=np.float64)


def stay(env):
    return [[STAY] * env.n_agents(0), [STAY] * env.n_agents(1)]


def test_is_a_team_env_with_the_standard_layout():
    env = PredatorPreyEnv(seed=0)
    assert isinstance(env, TeamEnv) and env.team_names == ("predators", "prey")
    env.reset()
    assert (env.n_agents(0), env.n_agents(1)) == (3, 1)
    info = env.get_env_info(0)
    assert info["obs_shape"] == 16 and info["n_actions"] == 5 and info["episode_limit"] == 25
    assert env.get_env_info(1)["obs_shape"] == 14
    obs = env.get_obs(0)
    assert len(obs) == 3 and all(o.shape == (16,) and o.dtype == np.float32 for o in obs)
    state = env.get_state(1)
    assert state.shape == (62,) and np.array_equal(state, np.concatenate(env.get_obs(0) + env.get_obs(1)))
    assert env.get_avail_actions(1) == [[1, 1, 1, 1, 1]]


def test_team_rewards_for_catches_by_hand():
    env = PredatorPreyEnv(seed=0)
    env.reset()
    place(env, predators=[(0.0, 0.0), (0.05, 0.0), (0.6, 0.6)], prey=[(0.02, 0.0)])
    rewards, terminated, info = env.step(stay(env))
    # two predators touch the prey: +10 per contact to every predator, -10 per contact to the prey
    np.testing.assert_allclose(rewards, [20.0, -20.0])
    assert info["catches"] == 2 and not terminated
    assert info["agent_rewards"]["adversary_2"] == 20.0  # the shared predator reward


def test_prey_is_penalised_for_leaving_the_arena():
    env = PredatorPreyEnv(seed=0)
    env.reset()
    place(env, predators=[(-0.5, -0.5), (-0.5, 0.5), (0.5, -0.5)], prey=[(0.95, 0.0)])
    rewards, _, _ = env.step(stay(env))
    # bound(x) = (x - 0.9) * 10 for 0.9 <= |x| < 1
    np.testing.assert_allclose(rewards, [0.0, -(0.95 - 0.9) * 10], atol=1e-9)


def test_episode_limit_ends_the_episode_as_in_smac():
    env = PredatorPreyEnv(episode_limit=7, seed=1)
    env.reset()
    for t in range(1, 8):
        _, terminated, info = env.step(stay(env))
        assert terminated == (t == 7) and info["episode_limit"] == (t == 7)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(stay(env))


def test_same_seed_same_episode():
    def run(seed):
        env = PredatorPreyEnv(seed=seed)
        env.reset()
        rng = np.random.default_rng(0)
        out = [env.get_state(0)]
        for _ in range(25):
            rewards, _, _ = env.step([rng.integers(0, 5, 3), rng.integers(0, 5, 1)])
            out += [env.get_state(0), rewards]
        return out

    np.testing.assert_equal(run(4), run(4))
    assert not np.array_equal(run(4)[0], run(5)[0])


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([[0, 0], [0]], r"team predators needs 3 int actions in \[0, 5\); got \[0, 0\]"),
        ([[0, 0, 0], [5]], r"team prey needs 1 int actions in \[0, 5\); got \[5\]"),
        ([[0, 0, 0]], r"one action list per team \['predators', 'prey'\]; got 1"),
        ([[0.5, 0, 0], [0]], "team predators needs 3 int actions"),
    ],
)
def test_bad_actions_are_one_clear_error(actions, message):
    env = PredatorPreyEnv(seed=0)
    env.reset()
    with pytest.raises(ValueError, match=message):
        env.step(actions)


def test_bad_team_and_settings():
    env = PredatorPreyEnv(seed=0)
    with pytest.raises(ValueError, match=r"team must be 0 \(predators\) or 1 \(prey\); got 2"):
        env.get_obs(2)
    with pytest.raises(ValueError, match="num_predators must be an int >= 1; got 0"):
        PredatorPreyEnv(num_predators=0)
    with pytest.raises(ValueError, match=r"reward_team must be one of \['predators', 'prey'\]"):
        gym.make("relayrl/PredatorPrey-v0", reward_team="wolves")


def test_gymnasium_view_passes_the_env_checker_and_renders():
    env = gym.make("relayrl/PredatorPrey-v0", render_mode="rgb_array")
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (62,) and env.action_space.nvec.tolist() == [5, 5, 5, 5]
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8 and frame.std() > 5
    env.close()


def test_gymnasium_view_vector_env_truncates_at_the_limit():
    venv = envs.make_vector_env("relayrl/PredatorPrey-v0", 2, seed=0, env_kwargs={"reward_team": "prey"})
    venv.reset(seed=0)
    for t in range(1, 26):
        _, _, term, trunc, info = venv.step(venv.action_space.sample())
        assert not term.any() and trunc.all() == (t == 25)
    assert info["team_rewards"].shape == (2, 2)
    with pytest.raises(ValueError, match=r"actions must have shape \(2, 4\)"):
        venv.step(np.zeros((2, 3), dtype=np.int64))
