"""Feature order and meaning, unit ordering and action availability, on hand-placed units."""

from __future__ import annotations

import numpy as np
import pytest
from smaclike_helpers import env_on

from relayrl.envs.smaclike import SMACLikeEnv

SZ = dict(map_type="stalkers_and_zealots", races=("P", "P"), unit_type_bits=2, ally_type_order=["stalker_rl", "zealot_rl"], enemy_type_order=["zealot", "stalker"])


def test_observation_layout_feature_by_feature(tmp_path):
    env = env_on(tmp_path, [("zealot_rl", 12, 10), ("stalker_rl", 10, 10)], [("zealot", 14, 10), ("stalker", 10, 18.5)], **SZ)
    # SMAC sorts agents by unit type id (stalker before zealot), so agent 0 is the stalker at (10, 10)
    o = env.get_obs_agent(0)
    assert env.get_obs_size() == 4 + 2 * 8 + 1 * 8 + 4 == len(o)
    np.testing.assert_allclose(o[:4], [1, 1, 1, 1])  # can move N, S, E, W
    e0, e1 = o[4:12], o[12:20]
    # enemy: attackable, dist/9, dx/9, dy/9, health, shield, type one-hot (enemy encoding: zealot first)
    np.testing.assert_allclose(e0, [1, 4 / 9, 4 / 9, 0, 1, 1, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(e1, [0, 8.5 / 9, 0, 8.5 / 9, 1, 1, 0, 1], rtol=1e-6)  # seen, out of reach
    ally = o[20:28]  # the zealot at (12, 10), ally encoding: stalker=0, zealot=1
    np.testing.assert_allclose(ally, [1, 2 / 9, 2 / 9, 0, 1, 1, 0, 1], rtol=1e-6)
    np.testing.assert_allclose(o[28:], [1, 1, 1, 0])  # own health, shield, type (stalker)


def test_sight_is_strict_and_attack_range_inclusive(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 10)], [("marine", 19, 10), ("marine", 16, 10), ("marine", 16.001, 12)])
    o = env.get_obs_agent(0)
    enemy = o[4:19].reshape(3, 5)
    assert np.all(enemy[0] == 0)  # exactly 9 away: not seen
    assert enemy[1, 0] == 1 and enemy[1, 1] == pytest.approx(6 / 9)  # exactly 6 away: attackable
    assert enemy[2, 0] == 0 and enemy[2, 1] > 0  # a bit over 6: seen, not attackable
    assert env.get_avail_agent_actions(0) == [0, 1, 1, 1, 1, 1, 0, 1, 0]


def test_state_layout(tmp_path):
    env = env_on(tmp_path, [("stalker_rl", 10, 10), ("zealot_rl", 12, 10)], [("zealot", 20, 24), ("stalker", 4, 30)], **SZ)
    s = env.get_state()
    ally = s[: 2 * 7].reshape(2, 7)  # health, cooldown, rel x, rel y, shield, type x2
    np.testing.assert_allclose(ally[0], [1, 0, (10 - 16) / 32, (10 - 16) / 32, 1, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(ally[1], [1, 0, (12 - 16) / 32, (10 - 16) / 32, 1, 0, 1], rtol=1e-6)
    enemy = s[14 : 14 + 2 * 6].reshape(2, 6)  # health, rel x, rel y, shield, type x2
    np.testing.assert_allclose(enemy[0], [1, (20 - 16) / 32, (24 - 16) / 32, 1, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(enemy[1], [1, (4 - 16) / 32, (30 - 16) / 32, 1, 0, 1], rtol=1e-6)
    np.testing.assert_array_equal(s[26:], 0)  # last actions, none yet
    env.step([1, 1])
    la = s_last = env.get_state()[26:].reshape(2, 8)
    np.testing.assert_array_equal(la[:, 1], [1, 1])
    assert s_last.sum() == 2
    assert env.get_state_size() == len(env.get_state())


def test_cooldown_feature_after_a_shot(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 10)], [("medivac", 13, 10)])
    env.step([6])  # shoot the (harmless) medivac
    loops_left = env.get_state()[1] * 15  # SMAC normalises the marine's cooldown by 15
    # fired at loop 0: 13.77 loops of cooldown (0.61 s at Faster), 8 already elapsed, plus SC2's random delay [-1, 2]
    assert 13.77 - 8 - 1 <= loops_left <= 13.77 - 8 + 2


def test_agents_sorted_by_type_then_x_then_y():
    env = SMACLikeEnv("MMM2", seed=0)
    env.reset()
    b, own = env.battle, env._p.own
    names = [b.roster.names[u] for u in own]
    assert names == ["marauder_rl"] * 2 + ["marine_rl"] * 7 + ["medivac_rl"]
    for group in (slice(0, 2), slice(2, 9)):
        xy = [tuple(b.pos[0, u]) for u in own[group]]
        assert xy == sorted(xy)
    enemies = [b.roster.names[u] for u in env._p.opp]
    assert enemies == ["marine"] * 8 + ["marauder"] * 3 + ["medivac"]  # creation order


def test_dead_agent_sees_zeros_and_may_only_noop(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 10), ("marine_rl", 10, 12)], [("marine", 20, 10)])
    env.battle.hp[0, 1] = 0.0
    env.battle.alive[0, 1] = False
    env._core._cache = {}
    assert env.get_avail_agent_actions(1) == [1] + [0] * 6
    assert not env.get_obs_agent(1).any()
    assert env.get_obs_agent(0)[4 + 5 :][:5].sum() == 0  # the dead ally is not visible
    with pytest.raises(ValueError, match="agent 1 cannot perform action 1"):
        env.step([1, 1])


def test_moves_blocked_by_walls_and_map_edge():
    env = SMACLikeEnv("3m", seed=0)
    env.reset()
    b = env.battle
    u = env._p.own[0]
    # 3m is walkable for 8 <= y < 24: the cell one unit north must be walkable (SMAC: int(y + 1))
    for y, north in ((22.9, 1), (23.0, 0), (23.5, 0)):
        b.pos[0, u] = (9.0, y)
        env._core._cache = {}
        assert env.get_avail_agent_actions(0)[2] == north, y
    b.pos[0, u] = (0.5, 16.0)  # west of x=0.5 is int(-0.5) == 0: still inside, as in SMAC
    env._core._cache = {}
    assert env.get_avail_agent_actions(0)[5] == 1
    b.pos[0, u] = (31.5, 16.0)  # east: int(32.5) is outside the map
    env._core._cache = {}
    assert env.get_avail_agent_actions(0)[4] == 0


def test_pathing_and_height_observations_use_smac_points():
    env = SMACLikeEnv("3m", seed=0, obs_pathing_grid=True, obs_terrain_height=True)
    env.reset()
    b = env.battle
    b.pos[0, env._p.own[0]] = (9.2, 19.7)  # int -> (9, 19); points 4 away north is y=23 (walkable), y=15
    env._core._cache = {}
    o = env.get_obs_agent(0)
    pathing, height = o[4:12], o[12:21]
    grid = env.pathing_grid
    pts = [(9, 23), (9, 15), (13, 19), (5, 19), (11, 21), (7, 17), (11, 17), (7, 21)]
    np.testing.assert_array_equal(pathing, [grid[x, y] for x, y in pts])
    b.pos[0, env._p.own[0]] = (9.2, 21.5)  # north point y=25 is a cliff: not walkable
    env._core._cache = {}
    assert env.get_obs_agent(0)[4] == 0
    np.testing.assert_allclose(height, [env.terrain_height[x, y] for x, y in pts + [(9, 19)]], rtol=1e-6)


def test_medivac_heals_allies_by_index_and_not_medivacs():
    env = SMACLikeEnv("MMM2", seed=0)
    env.reset()
    avail = np.array(env.get_avail_actions())
    medivac = 9  # last in SMAC's order
    assert env._p.medivac[medivac]
    heal = avail[medivac, 6:]
    np.testing.assert_array_equal(heal[:9], 1)  # the nine other allies stand within 6
    assert heal[9] == 0 and not heal[10:].any()  # itself (a medivac) and indices past the allies
    # SMAC puts the medivac's action availability into its "attackable" enemy column
    o = env.get_obs_agent(medivac)
    assert o[4] == 0  # enemy 0 is far: not visible, all zeros


def test_enemy_type_encoding_differs_from_ally_on_stalker_zealot_maps():
    env = SMACLikeEnv("2s3z", seed=0)
    env.reset()
    s = env.get_state()
    ally = s[: 5 * 7].reshape(5, 7)
    enemy = s[35 : 35 + 5 * 6].reshape(5, 6)
    np.testing.assert_array_equal(ally[:, 5:], [[1, 0]] * 2 + [[0, 1]] * 3)  # stalkers 0, zealots 1
    np.testing.assert_array_equal(enemy[:, 4:], [[0, 1]] * 2 + [[1, 0]] * 3)  # zealot 0, stalker 1 (SMAC)


def test_timestep_features(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 10)], [("marine", 25, 10)], flags=dict(obs_timestep_number=True, state_timestep_number=True), limit=40)
    env.step([1])
    env.step([1])
    assert env.get_obs_agent(0)[-1] == pytest.approx(2 / 40)
    assert env.get_state()[-1] == pytest.approx(2 / 40)
    assert len(env.get_obs_agent(0)) == env.get_obs_size()


def test_obs_instead_of_state_and_last_action_in_obs(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 10), ("marine_rl", 11, 10)], [("marine", 25, 10)], flags=dict(obs_instead_of_state=True, obs_last_action=True))
    env.step([2, 4])
    obs = env.get_obs()
    np.testing.assert_array_equal(env.get_state(), np.concatenate(obs))
    ally = obs[0][4 + 5 :][: 5 + 7]  # visible, dist, dx, dy, health, last action one-hot (7)
    np.testing.assert_array_equal(ally[5:], np.eye(7)[4])
