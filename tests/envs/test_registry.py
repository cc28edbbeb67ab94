"""Every relayrl id: registered, checked by gymnasium, deterministic, rendered; the entry points."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import relayrl.envs as envs

# These declare gymnasium's "human" render mode, which opens a window; rgb_array is tested instead.
NEEDS_DISPLAY_FOR_HUMAN = ("relayrl/Atari-v0", "relayrl/HalfCheetah", "relayrl/Ant")


def test_every_family_is_registered():
    assert set(envs.ENV_IDS) == {
        "relayrl/Atari-v0", "relayrl/Navigation2D-v0", "relayrl/HalfCheetahVel-v0",
        "relayrl/HalfCheetahDir-v0", "relayrl/AntVel-v0", "relayrl/AntDir-v0", "relayrl/PredatorPrey-v0",
        "relayrl/DigitMaze-v0",
    }
    for env_id in envs.ENV_IDS:
        assert env_id in gym.registry


@pytest.mark.parametrize("env_id", [i for i in envs.ENV_IDS if i != "relayrl/DigitMaze-v0"])  # own tests
def test_gymnasium_make_checker_render_and_determinism(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped if env_id != "relayrl/Atari-v0" else env,
              skip_render_check=env_id.startswith(NEEDS_DISPLAY_FOR_HUMAN))
    env.close()

    def run(seed):
        env = gym.make(env_id, render_mode="rgb_array")
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        out = [obs]
        for _ in range(8):
            out.append(env.step(env.action_space.sample())[:2])
        frame = env.render()
        env.close()
        return out, frame

    (a, frame), (b, _) = run(7), run(7)
    np.testing.assert_equal(a, b)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3


@pytest.mark.parametrize("env_id", ["CartPole-v1", "relayrl/PredatorPrey-v0", "relayrl/AntVel-v0"])
def test_make_vector_env_is_next_step_for_any_id(env_id):
    venv = envs.make_vector_env(env_id, 3, seed=0)
    assert venv.num_envs == 3
    assert venv.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    venv.reset(seed=0)
    venv.action_space.seed(0)
    ended = np.zeros(3, bool)
    seen_reset_step = False
    for _ in range(600):
        _, reward, term, trunc, _ = venv.step(venv.action_space.sample())
        if ended.any():  # the rows that ended last step report a reset: no reward, no flags
            assert (reward[ended] == 0).all() and not (term | trunc)[ended].any()
            seen_reset_step = True
        ended = term | trunc
        if seen_reset_step:
            break
    assert seen_reset_step


def test_make_vector_env_seed_makes_the_next_reset_deterministic():
    a = envs.make_vector_env("CartPole-v1", 2, seed=3).reset()[0]
    b = envs.make_vector_env("CartPole-v1", 2, seed=3).reset()[0]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("env_id", "num_envs", "message"),
    [
        ("relayrl/Walker-v0", 2, r"unknown environment id 'relayrl/Walker-v0'; relayrl's ids are .*pprint_registry"),
        ("CartPole-v1", 0, "num_envs must be a positive int; got 0"),
        ("CartPole-v1", 2.0, "num_envs must be a positive int; got 2.0"),
    ],
)
def test_make_vector_env_bad_input(env_id, num_envs, message):
    with pytest.raises(ValueError, match=message):
        envs.make_vector_env(env_id, num_envs)


def test_import_is_light():
    """ale-py, MuJoCo, mpe2, OpenCV and scikit-learn load only when an env needs them."""
    code = (
        "import sys, relayrl.envs; "
        "print(sorted(m for m in ('ale_py', 'mujoco', 'mpe2', 'cv2', 'pygame', 'sklearn', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
