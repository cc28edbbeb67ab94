"""Reward scaling, termination rules, determinism and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from smaclike_helpers import env_on, write_map

from relayrl.envs.smaclike import InvalidActionError, MapError, SMACLikeEnv
from relayrl.envs.smaclike.scripted import focus_fire_policy, idle_policy, random_policy


def play(env, policy, seed=0):
    rng = np.random.default_rng(seed)
    env.reset()
    total, done, info = 0.0, False, {}
    while not done:
        r, done, info = env.step(policy(env._p, env._core.avail(0), rng)[0])
        total += r
    return total, info


def test_perfect_win_returns_reward_scale_rate():
    env = SMACLikeEnv("3m", seed=0)
    assert env.max_reward == 3 * 10 + 200 + 3 * 45
    ret, info = play(env, focus_fire_policy)
    assert info["battle_won"] and info["dead_enemies"] == 3
    assert ret == pytest.approx(20.0)  # all enemy health, all kills and the win, scaled by max_reward / 20
    assert env.get_stats()["battles_won"] == 1


def test_loss_without_reward_and_with_defeat_penalty():
    env = SMACLikeEnv("3m", seed=0)
    ret, info = play(env, idle_policy)
    assert ret == 0.0 and not info["battle_won"] and info["dead_allies"] == 3
    env = SMACLikeEnv("3m", seed=0, reward_only_positive=False, reward_defeat=-100, reward_scale=False)
    ret, _ = play(env, idle_policy)
    # idle: all three allies (45 hp each) lost: -0.5 * (135 + 3 * 10) - 100
    assert ret == pytest.approx(-0.5 * (135 + 30) - 100)


def test_sparse_reward():
    env = SMACLikeEnv("3m", seed=0, reward_sparse=True, reward_scale=False)
    rng = np.random.default_rng(0)
    env.reset()
    rewards = []
    done = False
    while not done:
        r, done, info = env.step(focus_fire_policy(env._p, env._core.avail(0), rng)[0])
        rewards.append(r)
    assert rewards[-1] == 1 and all(r == 0 for r in rewards[:-1])


def test_reward_counts_damage_and_kills_each_step(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16)], [("marine", 14, 16)], flags=dict(reward_scale=False))
    b = env.battle
    b.cooldown[0, 1] = 1000.0  # the enemy does not shoot
    r, done, _ = env.step([6])
    assert r == 6 and not done
    b.hp[0, 1] = 4.0
    r, done, info = env.step([6])
    assert r == pytest.approx(4 + 10 + 200) and done and info["battle_won"]


def test_mutual_kill_is_a_draw(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16)], [("marine", 14, 16)], flags=dict(reward_scale=False))
    env.battle.hp[0, :] = 3.0
    r, done, info = env.step([6])
    assert done and not info["battle_won"]
    assert info["dead_allies"] == 1 and info["dead_enemies"] == 1
    assert r == pytest.approx(3 + 10)  # damage and kill, no win bonus
    assert env.get_stats()["battles_game"] == 1 and env.get_stats()["battles_won"] == 0


def test_only_medivacs_left_is_a_loss(tmp_path):
    mmm = dict(map_type="MMM", unit_type_bits=3, ally_type_order=["marauder_rl", "marine_rl", "medivac_rl"], enemy_type_order=["marauder", "marine", "medivac"])
    env = env_on(tmp_path, [("marine_rl", 10, 16), ("medivac_rl", 8, 16)], [("marine", 14, 16)], **mmm)
    env.battle.hp[0, 0] = 1.0
    _, done, info = env.step([1, 1])
    assert done and not info["battle_won"] and info["dead_allies"] == 1


def test_episode_limit_terminates_and_flags_only_when_continuing(tmp_path):
    for continuing in (False, True):
        env = env_on(tmp_path, [("marine_rl", 4, 16)], [("marine", 28, 16)], limit=5, flags=dict(continuing_episode=continuing))
        for _ in range(4):
            _, done, info = env.step([1])
            assert not done
        _, done, info = env.step([1])
        assert done
        assert info.get("episode_limit", False) is continuing  # SMAC sets it only with continuing_episode
        assert env.get_stats()["timeouts"] == 1


def test_same_seed_same_trajectory_bit_for_bit():
    def trajectory(seed):
        env = SMACLikeEnv("8m", seed=seed)
        rng = np.random.default_rng(123)
        out = []
        for _ in range(2):
            obs, state = env.reset()
            out += [np.concatenate(obs).tobytes(), state.tobytes()]
            done = False
            while not done:
                r, done, _ = env.step(random_policy(env._p, env._core.avail(0), rng)[0])
                out += [np.float64(r).tobytes(), np.concatenate(env.get_obs()).tobytes(), env.get_state().tobytes()]
        return out

    a, b, c = trajectory(7), trajectory(7), trajectory(8)
    assert a == b
    assert a != c  # SC2's random weapon delay differs with the seed


def test_unknown_map_lists_known_maps():
    with pytest.raises(MapError, match="unknown map 'nope'.*3m.*MMM2.*corridor"):
        SMACLikeEnv("nope")


def test_unknown_flag_names_the_allowed_ones():
    with pytest.raises(TypeError, match="obs_lastaction.*obs_last_action"):
        SMACLikeEnv("3m", obs_lastaction=True)
    with pytest.raises(ValueError, match="difficulty='0'"):
        SMACLikeEnv("3m", difficulty="0")


def test_wrong_number_of_actions():
    env = SMACLikeEnv("3m", seed=0)
    env.reset()
    with pytest.raises(InvalidActionError, match="expected 3 actions"):
        env.step([1, 1])


def test_unavailable_action_names_agent_and_action():
    env = SMACLikeEnv("3m", seed=0)
    env.reset()
    with pytest.raises(InvalidActionError, match=r"agent 1 cannot perform action 7 \(available actions: \[1, 2, 3, 4, 5\]\)"):
        env.step([1, 7, 1])
    with pytest.raises(InvalidActionError, match="agent 0 chose action 42"):
        env.step([42, 1, 1])
    with pytest.raises(InvalidActionError, match="agent 2 cannot perform action 0"):
        env.step([1, 1, 0])  # no-op is for dead agents only


def test_nan_position_in_a_map_file(tmp_path):
    path = write_map(tmp_path, [("marine_rl", 10, 16)], [("marine", 14, 16)])
    spec = json.loads(open(path).read())
    spec["enemies"][0]["at"] = [float("nan"), 16]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spec))
    with pytest.raises(MapError, match=r"enemies\[0\]\.at.*not finite"):
        SMACLikeEnv(str(bad))


def test_other_map_file_mistakes_are_named(tmp_path):
    path = write_map(tmp_path, [("marine_rl", 10, 16)], [("marine", 14, 16)])
    spec = json.loads(open(path).read())
    for change, pattern in (
        ({"n_agents": 2}, "allies spawn 1 units but n_agents=2"),
        ({"allies": [{"unit": "ultralisk", "count": 1, "at": [5, 5]}]}, "unit='ultralisk'; known unit types"),
        ({"map_type": "zerg"}, "map_type='zerg'; allowed"),
        ({"colour": "red"}, "unknown keys"),
    ):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**spec, **change}))
        with pytest.raises(MapError, match=pattern):
            SMACLikeEnv(str(bad))


def test_step_after_the_end_needs_reset():
    env = SMACLikeEnv("3m", seed=0)
    play(env, idle_policy)
    with pytest.raises(RuntimeError, match="reset"):
        env.step([1, 1, 1])


def test_focus_fire_spreads_shots_a_target_cannot_survive(tmp_path):
    # two marines in range of two held enemy marines, the first with 5 hp left: one 6-damage shot
    # kills it, so the second agent takes the other enemy while both weapons fire this step
    env = env_on(tmp_path, [("marine_rl", 10, 16), ("marine_rl", 10, 17)], [("marine", 14, 16), ("marine", 14, 17)])
    b = env.battle
    enemies = env._p.opp
    b.hp[0, enemies[0]] = 5.0
    rng = np.random.default_rng(0)
    assert list(focus_fire_policy(env._p, env._core.avail(0), rng)[0]) == [6, 7]
    b.hp[0, enemies[0]] = 20.0  # two shots are not enough: both shoot the weakest
    assert list(focus_fire_policy(env._p, env._core.avail(0), rng)[0]) == [6, 6]
    b.hp[0, enemies[0]] = 5.0
    b.cooldown[0, env._p.own[0]] = 12.0  # the first agent fires only next step: nothing is committed
    assert list(focus_fire_policy(env._p, env._core.avail(0), rng)[0]) == [6, 6]
