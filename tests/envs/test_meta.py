"""MAML's task families: formulas by hand, ranges, horizons, vector semantics, bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import relayrl.envs as envs
from relayrl.envs.meta import (
    TASK_FAMILIES,
    get_tasks,
    make_task_vector_env,
    sample_tasks,
    set_tasks,
)
from relayrl.envs.navigation import NavigationVectorEnv

FAMILIES = list(TASK_FAMILIES)
MUJOCO_FAMILIES = [f for f in FAMILIES if "Navigation" not in f]


@pytest.mark.parametrize("env_id", FAMILIES)
def test_gymnasium_env_checker_passes(env_id):
    env = gym.make(env_id)
    # MuJoCo declares a "human" render mode that needs a display; rgb_array is tested below.
    check_env(env.unwrapped, skip_render_check="Navigation" not in env_id)
    env.close()


@pytest.mark.parametrize("env_id", FAMILIES)
def test_horizons_are_the_papers(env_id):
    assert gym.spec(env_id).max_episode_steps == (100 if "Navigation" in env_id else 200)


@pytest.mark.parametrize("env_id", FAMILIES)
def test_rgb_array_render_is_headless(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.std() > 5  # a picture, not a blank buffer
    env.close()


@pytest.mark.parametrize("env_id", FAMILIES)
def test_same_seed_same_trajectory(env_id):
    def run(seed):
        env = gym.make(env_id)
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        out = [obs, env.unwrapped.get_task()]
        for _ in range(15):
            out.append(env.step(env.action_space.sample())[:2])
        env.close()
        return out

    a, b, c = run(3), run(3), run(4)
    np.testing.assert_equal(a, b)
    assert not np.array_equal(a[0], c[0]) or str(a[1]) != str(c[1])


@pytest.mark.parametrize("env_id", FAMILIES)
def test_sampled_tasks_stay_in_the_family_range(env_id):
    tasks = sample_tasks(env_id, 500, np.random.default_rng(0))
    assert len(tasks) == 500
    if "Navigation" in env_id:
        goals = np.stack([t["goal"] for t in tasks])
        assert goals.min() >= -0.5 and goals.max() <= 0.5 and goals.std() > 0.25
    elif "Vel" in env_id:
        v = np.array([t["velocity"] for t in tasks])
        high = 2.0 if "Cheetah" in env_id else 3.0
        assert v.min() >= 0.0 and v.max() <= high and v.max() > 0.9 * high and v.min() < 0.1 * high
    else:
        assert {t["direction"] for t in tasks} == {-1, 1}
    # the same generator state draws the same tasks
    again = sample_tasks(env_id, 500, np.random.default_rng(0))
    np.testing.assert_equal(tasks, again)


def test_navigation_step_by_hand():
    env = gym.make("relayrl/Navigation2D-v0", task={"goal": np.array([0.3, -0.2])})
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [0.0, 0.0])
    obs, r, term, trunc, _ = env.step(np.array([0.05, 0.25], dtype=np.float32))  # y clipped to 0.1
    np.testing.assert_allclose(obs, [0.05, 0.1], atol=1e-7)
    assert r == pytest.approx(-np.hypot(0.05 - 0.3, 0.1 + 0.2))
    assert not term and not trunc
    assert env.unwrapped.get_task()["goal"].tolist() == [0.3, -0.2]


def test_navigation_ends_within_tolerance_and_truncates_at_100():
    env = gym.make("relayrl/Navigation2D-v0", task={"goal": np.array([0.1, -0.095])})
    env.reset(seed=0)
    *_, term, trunc, _ = env.step(np.array([0.1, -0.1]))  # 0.005 away in y, 0 in x
    assert term and not trunc
    env.unwrapped.set_task({"goal": np.array([0.5, 0.5])})
    env.reset()
    for t in range(100):
        _, _, term, trunc, _ = env.step(np.zeros(2))
        assert not term and trunc == (t == 99)


def _goal_seeking_actions(obs, goals, rng):
    """Head for the goal with noise, so some episodes terminate and others run to the limit."""
    return np.clip(goals - obs, -0.1, 0.1) * rng.uniform(0.0, 1.3, size=obs.shape)


def test_navigation_vector_env_matches_gymnasium_sync_vector_env():
    tasks = sample_tasks("relayrl/Navigation2D-v0", 6, np.random.default_rng(1))
    tasks[0] = {"goal": np.array([0.05, 0.05])}  # reached after one step
    fast = make_task_vector_env("relayrl/Navigation2D-v0", tasks)
    assert isinstance(fast, NavigationVectorEnv)
    ref = gym.vector.SyncVectorEnv(
        [lambda t=t: gym.make("relayrl/Navigation2D-v0", task=t) for t in tasks]
    )
    goals = np.stack([t["goal"] for t in tasks])
    o1, _ = fast.reset(seed=5)
    o2, _ = ref.reset(seed=5)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(260):
        np.testing.assert_allclose(o1, o2)
        a = _goal_seeking_actions(o1, goals, rng).astype(np.float32)
        o1, r1, te1, tr1, _ = fast.step(a)
        o2, r2, te2, tr2, _ = ref.step(a)
        np.testing.assert_allclose(r1, r2)
        np.testing.assert_array_equal(te1, te2)
        np.testing.assert_array_equal(tr1, tr2)
        ends += int((te1 | tr1).sum())
    assert ends > 10 and ref.metadata["autoreset_mode"] == fast.metadata["autoreset_mode"]


@pytest.mark.parametrize("env_id", ["relayrl/Navigation2D-v0", "relayrl/HalfCheetahDir-v0"])
def test_vector_env_autoresets_on_the_next_step(env_id):
    venv = envs.make_vector_env(env_id, 2, seed=0)
    obs0, _ = venv.reset(seed=0)
    horizon = gym.spec(env_id).max_episode_steps
    zero = np.zeros((2, *venv.single_action_space.shape), dtype=np.float32)
    for _ in range(horizon - 1):
        _, _, term, trunc, _ = venv.step(zero)
        assert not (term | trunc).any()
    _, _, term, trunc, _ = venv.step(zero)
    assert trunc.all() and not term.any()
    obs, reward, term, trunc, _ = venv.step(zero)  # the reset step
    np.testing.assert_array_equal(reward, 0.0)
    assert not (term | trunc).any()
    if "Navigation" in env_id:
        np.testing.assert_array_equal(obs, obs0)  # the origin
    else:
        # a fresh initial state: near the model's rest pose (reset noise 0.1)
        assert np.abs(obs[:, :8]).max() < 0.5
    obs, _, term, trunc, _ = venv.step(zero)
    assert not (term | trunc).any()


def _mujoco_step_by_hand(env_id, task, action):
    env = gym.make(env_id, task=task)
    env.reset(seed=0)
    sim = env.unwrapped
    x_before = sim.data.body(1).xpos[0] if "Ant" in env_id else sim.data.qpos[0]
    _, reward, *_ = env.step(action)
    x_after = sim.data.body(1).xpos[0] if "Ant" in env_id else sim.data.qpos[0]
    v_x = (x_after - x_before) / sim.dt
    contact = np.clip(sim.data.cfrc_ext, -1.0, 1.0)
    env.close()
    return reward, v_x, float(np.sum(contact**2))


def test_half_cheetah_rewards_by_hand():
    a = np.linspace(-0.9, 0.9, 6)
    r, v_x, _ = _mujoco_step_by_hand("relayrl/HalfCheetahVel-v0", {"velocity": 1.3}, a)
    assert r == pytest.approx(-abs(v_x - 1.3) - 0.05 * np.sum(a**2))
    r, v_x, _ = _mujoco_step_by_hand("relayrl/HalfCheetahDir-v0", {"direction": -1}, a)
    assert r == pytest.approx(-v_x - 0.05 * np.sum(a**2))
    assert abs(v_x) > 1e-3  # the formula was checked on a real motion


def test_ant_rewards_by_hand():
    a = np.linspace(-1.0, 1.0, 8)
    r, v_x, c = _mujoco_step_by_hand("relayrl/AntVel-v0", {"velocity": 2.5}, a)
    assert r == pytest.approx(-abs(v_x - 2.5) + 1.0 - 0.005 * np.sum(a**2) - 5e-4 * c)
    r, v_x, c = _mujoco_step_by_hand("relayrl/AntDir-v0", {"direction": 1}, a)
    assert r == pytest.approx(v_x + 1.0 - 0.005 * np.sum(a**2) - 5e-4 * c)


@pytest.mark.parametrize("env_id", FAMILIES)
def test_task_vector_env_holds_one_task_per_sub_env(env_id):
    tasks = sample_tasks(env_id, 3, np.random.default_rng(7))
    venv = make_task_vector_env(env_id, tasks, seed=0)
    np.testing.assert_equal(list(venv.call("get_task")), tasks)
    new = sample_tasks(env_id, 3, np.random.default_rng(8))
    set_tasks(venv, new)
    np.testing.assert_equal(get_tasks(venv), new)
    venv.reset(seed=1)  # explicitly set tasks survive seeded resets
    np.testing.assert_equal(get_tasks(venv), new)
    venv.close()


@pytest.mark.parametrize("env_id", FAMILIES)
def test_make_vector_env_draws_tasks_from_the_seed(env_id):
    a = get_tasks(envs.make_vector_env(env_id, 3, seed=11))
    b = get_tasks(envs.make_vector_env(env_id, 3, seed=11))
    np.testing.assert_equal(a, b)
    if "Dir" not in env_id:  # three directions may coincide
        assert len({str(t) for t in a}) == 3


@pytest.mark.parametrize(
    ("env_id", "task", "message"),
    [
        ("relayrl/Navigation2D-v0", {"goal": np.array([0.7, 0.0])}, r"outside .*\[-0.5, 0.5\]\^2"),
        ("relayrl/Navigation2D-v0", {"goal": np.array([0.1, 0.1, 0.1])}, "2 finite numbers"),
        ("relayrl/HalfCheetahVel-v0", {"velocity": 2.5}, r"outside .*\[0.0, 2.0\]"),
        ("relayrl/AntVel-v0", {"velocity": -0.1}, r"outside .*\[0.0, 3.0\]"),
        ("relayrl/AntDir-v0", {"direction": 0}, r"\+1 or -1"),
        ("relayrl/HalfCheetahDir-v0", {"velocity": 1.0}, r"keys \['direction'\]"),
    ],
)
def test_bad_task_names_the_problem(env_id, task, message):
    with pytest.raises(ValueError, match=message):
        make_task_vector_env(env_id, [task])
    env = gym.make(env_id)
    with pytest.raises(ValueError, match=message):
        env.unwrapped.set_task(task)
    env.close()


def test_unknown_family_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown task family 'relayrl/Walker-v0'; allowed: .*AntDir"):
        make_task_vector_env("relayrl/Walker-v0", [{}])


@pytest.mark.parametrize("env_id", FAMILIES)
def test_wrong_action_shape_is_one_clear_error(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    n = env.action_space.shape[0]
    with pytest.raises(ValueError, match=rf"action must have shape \({n},\); got shape \({n + 1},\)"):
        env.unwrapped.step(np.zeros(n + 1))
    env.close()
    venv = make_task_vector_env(env_id, sample_tasks(env_id, 2, np.random.default_rng(0)), seed=0)
    with pytest.raises(ValueError, match="action"):
        venv.step(np.zeros((3, n)))
    venv.close()


def test_mujoco_compiler_warnings_become_python_warnings(capfd):
    """gymnasium's half_cheetah.xml uses a deprecated attribute; MuJoCo would print a line to
    stderr for every env built (thousands in a meta-test). It is one Python warning instead."""
    with pytest.warns(RuntimeWarning, match="MuJoCo: compiler attribute 'settotalmass'"):
        envs_ = [gym.make("relayrl/HalfCheetahDir-v0") for _ in range(3)]
    for env in envs_:
        env.close()
    assert "settotalmass" not in capfd.readouterr().err
