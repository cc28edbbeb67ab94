"""Batched stepping, two-team mode and rendering."""

from __future__ import annotations

import numpy as np
import pytest

from relayrl.envs.multiagent import MultiAgentEnv, TeamEnv
from relayrl.envs.smaclike import SMACLikeEnv, SMACLikeTeamEnv, SMACLikeVecEnv
from relayrl.envs.smaclike.scripted import focus_fire_policy, random_policy


def test_single_env_implements_the_multiagent_protocol():
    assert isinstance(SMACLikeEnv("3m"), MultiAgentEnv)


def test_vec_env_with_one_env_is_the_single_env():
    single, vec = SMACLikeEnv("2s3z", seed=5), SMACLikeVecEnv("2s3z", 1, seed=5)
    obs, state = single.reset()
    vobs, vstate, vavail = vec.reset()
    rng = np.random.default_rng(0)
    for _ in range(40):
        np.testing.assert_array_equal(np.stack(single.get_obs()), vobs[0])
        np.testing.assert_array_equal(single.get_state(), vstate[0])
        np.testing.assert_array_equal(np.array(single.get_avail_actions()), vavail[0])
        a = random_policy(single._p, vavail, rng)
        r, done, info = single.step(a[0])
        vobs, vstate, vavail, vr, vdone, vinfo = vec.step(a)
        assert vr[0] == r and vdone[0] == done
        if done:
            assert vinfo["battle_won"][0] == info["battle_won"]
            break


def test_vec_env_auto_resets_and_reports_final_observations():
    vec = SMACLikeVecEnv("3m", 8, seed=0)
    obs, state, avail = vec.reset()
    assert obs.shape == (8, 3, 30) and state.shape == (8, 48) and avail.shape == (8, 3, 9)
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(200):
        obs, state, avail, reward, terminated, info = vec.step(focus_fire_policy(vec.perspective, avail, rng))
        if terminated.any():
            finished += terminated.sum()
            np.testing.assert_allclose(info["episode_return"][terminated], 20.0)
            assert info["battle_won"][terminated].all()
            # the finished battle's last observation: some enemy dead; the new one starts full
            assert (info["final_state"][terminated] != state[terminated]).any()
            np.testing.assert_array_equal(state[terminated][:, 0], 1.0)  # agent 0 back at full health
            assert (vec._core.steps[terminated] == 0).all()
    assert finished >= 8 * 3
    assert vec.get_stats()["win_rate"] == 1.0


def test_vec_env_rejects_bad_batches():
    vec = SMACLikeVecEnv("3m", 4, seed=0)
    vec.reset()
    with pytest.raises(ValueError, match="for each of 4 envs"):
        vec.step(np.ones((3, 3), dtype=int))
    acts = np.ones((4, 3), dtype=int)
    acts[2, 1] = 8
    with pytest.raises(ValueError, match="env 2: agent 1 cannot perform action 8"):
        vec.step(acts)


def test_team_env_protocol_and_symmetric_views():
    env = SMACLikeTeamEnv("3m", opponent="learner", seed=0)
    assert isinstance(env, TeamEnv)
    assert env.team_names == ("allies", "enemies")
    env.reset()
    assert env.get_env_info(0) == env.get_env_info(1)
    o0, o1 = env.get_obs(0), env.get_obs(1)
    assert len(o0) == len(o1) == 3
    # both views place the same units at the same spots: team 1's units as enemies of team 0
    # (health, x, y) and as allies of team 1 (health, cooldown, x, y)
    s0, s1 = env.get_state(0), env.get_state(1)
    as_enemies = s0[12:21].reshape(3, 3)[:, 1:]
    as_allies = s1[:12].reshape(3, 4)[:, 2:]
    np.testing.assert_array_equal(sorted(map(tuple, as_enemies)), sorted(map(tuple, as_allies)))
    assert as_allies[:, 0].min() > 0 > s1[12:21].reshape(3, 3)[:, 1].max()  # team 1 east, team 0 west


def test_team_env_both_sides_act_and_get_their_own_reward():
    env = SMACLikeTeamEnv("3m", opponent="learner", seed=0)
    env.reset()
    rng = np.random.default_rng(1)
    total = np.zeros(2)
    done = False
    while not done:
        acts = [
            focus_fire_policy(env._core.persp[0], env._core.avail(0), rng)[0],
            np.where(np.array(env.get_avail_actions(1))[:, 0] == 1, 0, 1),  # team 1 stops: never fires on its own
        ]
        rewards, done, info = env.step(acts)
        total += rewards
    assert info["winner"] == "allies" and info["battle_won"] == [True, False]
    assert total[0] == pytest.approx(20.0)
    assert total[1] == 0.0


def test_builtin_opponent_matches_the_single_env():
    team, single = SMACLikeTeamEnv("8m", opponent="builtin", seed=3), SMACLikeEnv("8m", seed=3)
    assert team.team_names == ("allies",)
    team.reset()
    single.reset()
    rng = np.random.default_rng(0)
    done = False
    while not done:
        a = random_policy(single._p, single._core.avail(0), rng)[0]
        r1, done1, _ = single.step(a)
        r2, done, _ = team.step([a])
        assert r2[0] == r1 and done == done1
        np.testing.assert_array_equal(team.get_state(0), single.get_state())


def test_team_env_rejects_unknown_opponent_and_team():
    with pytest.raises(ValueError, match="opponent='bot'; allowed"):
        SMACLikeTeamEnv("3m", opponent="bot")
    env = SMACLikeTeamEnv("3m", opponent="builtin")
    with pytest.raises(ValueError, match="team=1"):
        env.get_obs(1)


def test_render_rgb_array_shows_both_teams():
    env = SMACLikeEnv("3m", seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    for _ in range(6):
        env.step(focus_fire_policy(env._p, env._core.avail(0), rng)[0])
    frame = env.render(mode="rgb_array")
    assert frame.shape == (512, 512, 3) and frame.dtype == np.uint8
    pixels = frame.reshape(-1, 3)
    blue = np.all(pixels == (52, 120, 220), axis=1).sum()
    red = np.all(pixels == (215, 60, 50), axis=1).sum()
    assert blue > 50 and red > 50
    assert np.all(pixels == (255, 230, 80), axis=1).any()  # attack lines of this step's shots
    with pytest.raises(ValueError, match="rgb_array"):
        env.render(mode="human")
