"""Atari: the DQN preprocessing step by step, against ALE's raw frames and gymnasium's wrappers."""

from __future__ import annotations

import cv2
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.passive_env_checker import env_render_passive_checker

import relayrl.envs as envs
from relayrl.envs.atari_scores import ATARI_57, REFERENCE_SCORES, human_normalized_score

ale_py = pytest.importorskip("ale_py")

DETERMINISTIC = {"noop_max": 0, "repeat_action_probability": 0.0}


def atari_venv(game, n=1, **kwargs):
    return envs.make_vector_env("relayrl/Atari-v0", n, env_kwargs={"game": game, **kwargs})


def test_gymnasium_env_checker_passes():
    env = gym.make("relayrl/Atari-v0", game="pong")
    # ALE declares a "human" render mode that opens a window; rgb_array is checked below.
    check_env(env, skip_render_check=True)
    env.close()


def test_rgb_array_render_is_the_full_color_screen():
    env = envs.make_env("ALE/Breakout-v5", env_kwargs={"render_mode": "rgb_array"})
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    env_render_passive_checker(env)
    frame = env.render()
    assert frame.shape == (210, 160, 3) and frame.dtype == np.uint8 and frame.std() > 10
    env.close()


def test_vector_env_observation_layout_and_info():
    venv = envs.make_vector_env("ALE/Pong-v5", 2)
    obs, info = venv.reset(seed=0)
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    assert venv.single_action_space.n == 6 and venv.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, reward, term, trunc, info = venv.step(np.zeros(2, dtype=np.int64))
    assert reward.dtype == np.float32 and term.dtype == np.bool_ and trunc.dtype == np.bool_
    assert info["life_loss"].dtype == np.bool_ and info["lives"].shape == (2,)
    venv.close()


@pytest.mark.parametrize("max_pool", [True, False])
def test_frame_skip_max_pool_gray_resize_match_raw_ale_frames(max_pool):
    """Each observed frame is max(frame 3, frame 4) of the skip (or frame 4), gray, area-resized."""
    venv = atari_venv("breakout", max_pool=max_pool, **DETERMINISTIC)
    raw = ale_py.env.AtariEnv(game="breakout", obs_type="grayscale", frameskip=1, repeat_action_probability=0.0)
    obs, _ = venv.reset(seed=0)
    first, _ = raw.reset(seed=0)
    rng = np.random.default_rng(0)
    history = [np.zeros((84, 84), np.uint8)] * 3 + [cv2.resize(first, (84, 84), interpolation=cv2.INTER_AREA)]
    np.testing.assert_array_equal(obs[0], np.stack(history))
    flicker = 0
    for _ in range(60):
        a = int(rng.integers(4))
        frames = [raw.step(a)[0] for _ in range(4)]
        flicker += not np.array_equal(frames[-2], frames[-1])
        pooled = np.maximum(frames[-2], frames[-1]) if max_pool else frames[-1]
        history.append(cv2.resize(pooled, (84, 84), interpolation=cv2.INTER_AREA))
        obs, *_ = venv.step(np.array([a]))
        np.testing.assert_array_equal(obs[0], np.stack(history[-4:]))  # the stack of 4, oldest first
    assert flicker > 10  # the two pooled frames really differed
    venv.close()
    raw.close()


def test_single_env_and_vector_env_see_the_same_frames():
    env = envs.make_env("relayrl/Atari-v0", env_kwargs={"game": "pong", **DETERMINISTIC})
    venv = atari_venv("pong", **DETERMINISTIC)
    o1, _ = env.reset(seed=1)
    o2, _ = venv.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(120):
        np.testing.assert_array_equal(o1, o2[0])
        a = int(rng.integers(6))
        o1, r1, *_ = env.step(a)
        o2, r2, *_ = venv.step(np.array([a]))
        assert r1 == r2[0]
    env.close()
    venv.close()


def test_noop_starts_vary_with_the_seed_and_stay_within_noop_max():
    _, info = atari_venv("pong", n=4, noop_max=30).reset(seed=0)
    starts = info["episode_frame_number"]
    assert starts.max() <= 30 and len(set(starts.tolist())) >= 2
    _, info = atari_venv("pong", n=1, noop_max=0).reset(seed=0)
    assert (info["episode_frame_number"] == 0).all()
    single = envs.make_env("relayrl/Atari-v0", env_kwargs={"game": "pong", "noop_max": 30})
    frames = {single.reset(seed=s)[1]["episode_frame_number"] for s in range(3)}
    assert max(frames) <= 30 and len(frames) >= 2


def test_life_loss_is_reported_apart_from_the_game_over():
    venv = atari_venv("breakout", n=2, repeat_action_probability=0.0)
    _, info = venv.reset(seed=3)
    lives = info["lives"].copy()
    rng = np.random.default_rng(3)
    losses, finished = np.zeros(2, int), 0
    ended = np.zeros(2, bool)
    for _ in range(3000):
        _, _, term, trunc, info = venv.step(rng.integers(0, 4, size=2))
        life_loss = info["life_loss"]
        np.testing.assert_array_equal(life_loss, (info["lives"] < lives) & ~ended)
        assert not (term & ~life_loss).any()  # the game ends with its last life
        assert not (term & (info["lives"] > 0)).any()
        losses += life_loss
        for i in np.flatnonzero(term):
            assert losses[i] == 5  # Breakout: five lives, five life losses, one termination
            losses[i] = 0
            finished += 1
        lives, ended = info["lives"].copy(), term | trunc
        if finished >= 2:
            break
    assert finished >= 2
    venv.close()


def test_life_loss_in_the_single_env():
    env = envs.make_env("ALE/Breakout-v5")
    _, info = env.reset(seed=0)
    assert info["life_loss"] is False and info["lives"] == 5
    rng = np.random.default_rng(0)
    losses = 0
    for _ in range(3000):
        _, _, term, trunc, info = env.step(int(rng.integers(4)))
        losses += info["life_loss"]
        if term or trunc:
            break
    assert term and losses == 5 and info["lives"] == 0


def test_reward_clipping_is_an_option():
    raw = atari_venv("space_invaders", reward_clipping=False)
    clipped = atari_venv("space_invaders", reward_clipping=True)
    raw.reset(seed=0)
    clipped.reset(seed=0)
    rng = np.random.default_rng(0)
    r_raw, r_clip = [], []
    for _ in range(250):
        a = rng.integers(0, 6, size=1)
        r_raw.append(raw.step(a)[1])
        r_clip.append(clipped.step(a)[1])
    r_raw, r_clip = np.array(r_raw), np.array(r_clip)
    assert r_raw.max() > 1  # Space Invaders pays 5..30 points per invader
    np.testing.assert_array_equal(r_clip, np.clip(r_raw, -1, 1))


def test_full_or_minimal_action_set():
    assert atari_venv("pong").single_action_space.n == 6
    assert atari_venv("pong", full_action_space=True).single_action_space.n == 18
    assert envs.make_env("ALE/Pong-v5", env_kwargs={"full_action_space": True}).action_space.n == 18


def test_sticky_actions_are_configurable():
    """With repeat probability 1 the emulator keeps the first action (NOOP) forever."""
    sticky = atari_venv("breakout", repeat_action_probability=1.0, noop_max=0)
    noop = atari_venv("breakout", **DETERMINISTIC)
    free = atari_venv("breakout", **DETERMINISTIC)
    for v in (sticky, noop, free):
        v.reset(seed=0)
    rng = np.random.default_rng(0)
    same_as_noop, same_as_free = True, True
    for _ in range(80):
        a = rng.integers(1, 4, size=1)
        o_sticky = sticky.step(a)[0]
        same_as_noop &= np.array_equal(o_sticky, noop.step(np.zeros(1, np.int64))[0])
        same_as_free &= np.array_equal(o_sticky, free.step(a)[0])
    assert same_as_noop and not same_as_free


def test_vector_env_is_deterministic_per_seed():
    def run(seed):
        venv = envs.make_vector_env("ALE/Breakout-v5", 1)
        out = [venv.reset(seed=seed)[0]]
        rng = np.random.default_rng(0)
        for _ in range(30):
            out.append(venv.step(rng.integers(0, 4, size=1))[0])
        venv.close()
        return np.stack(out)

    a, b, c = run(5), run(5), run(6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_next_step_autoreset_after_truncation():
    venv = atari_venv("pong", n=2, max_episode_frames=200, **DETERMINISTIC)  # 50 agent steps
    venv.reset(seed=0)
    zeros = np.zeros(2, dtype=np.int64)
    for t in range(1, 51):
        _, _, term, trunc, info = venv.step(zeros)
        assert trunc.all() == (t == 50) and not term.any()
    obs, reward, term, trunc, info = venv.step(zeros)  # the reset step
    assert not (term | trunc).any() and (reward == 0).all() and not info["life_loss"].any()
    assert (info["episode_frame_number"] == 0).all()
    assert (obs[:, :3] == 0).all() and obs[:, 3].std() > 0  # a fresh, zero-padded stack
    _, _, term, trunc, info = venv.step(zeros)
    assert (info["episode_frame_number"] == 4).all() and not (term | trunc).any()


def test_ale_v4_ids_keep_their_own_defaults():
    venv = envs.make_vector_env("PongNoFrameskip-v4", 1)
    assert venv.config.repeat_action_probability == 0.0 and venv.config.frame_skip == 4
    assert envs.make_vector_env("ALE/Pong-v5", 1).config.repeat_action_probability == 0.25


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        ("ALE/Pongg-v5", {}, r"unknown Atari game 'pongg' \(did you mean pong\?\).*get_all_rom_ids"),
        ("relayrl/Atari-v0", {"game": "starcraft"}, "unknown Atari game 'starcraft'"),
        ("ALE/Pong-v5", {"frame_skp": 4}, r"unknown env_kwargs \['frame_skp'\]; allowed: .*frame_skip"),
        ("ALE/Pong-v5", {"repeat_action_probability": 1.5}, r"repeat_action_probability must be a number in \[0, 1\]"),
        ("ALE/Pong-v5", {"frame_stack": 0}, "frame_stack must be an int >= 1"),
        ("ALE/Pong-v5", {"game": "breakout"}, "the game is part of the id"),
    ],
)
def test_bad_atari_input_is_one_clear_error(env_id, kwargs, message):
    with pytest.raises(ValueError, match=message):
        envs.make_vector_env(env_id, 2, env_kwargs=kwargs)


def test_bad_atari_actions_are_one_clear_error():
    venv = atari_venv("pong", n=2)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"int array of shape \(2,\); got int64 array of shape \(3,\)"):
        venv.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"int array of shape \(2,\); got float64"):
        venv.step(np.zeros(2))
    with pytest.raises(ValueError, match=r"actions must be in \[0, 6\); got \[0, 6\]"):
        venv.step(np.array([0, 6]))
    env = envs.make_env("ALE/Pong-v5")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an int in \[0, 6\)"):
        env.step(7)


def test_human_normalized_scores():
    assert len(ATARI_57) == 57 and len(set(ATARI_57)) == 57
    roms = set(ale_py.roms.get_all_rom_ids())
    assert set(ATARI_57) <= roms
    for game, (random, human) in REFERENCE_SCORES.items():
        assert human_normalized_score(game, random) == pytest.approx(0.0)
        assert human_normalized_score(game, human) == pytest.approx(1.0)
    # the published Pong / Breakout references, any spelling of the name
    assert human_normalized_score("ALE/Pong-v5", 14.6) == pytest.approx(1.0)
    assert human_normalized_score("Breakout", 1.7 + 2 * (30.5 - 1.7)) == pytest.approx(2.0)
    assert human_normalized_score("MontezumaRevenge", 4753.3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no reference scores for Atari game 'Pacman'; the 57 games"):
        human_normalized_score("Pacman", 10.0)
