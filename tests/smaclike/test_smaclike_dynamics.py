"""Damage, armor, shields, splash, healing, regeneration, speeds and fire rates on two-unit fights."""

from __future__ import annotations

import numpy as np
import pytest
from smaclike_helpers import env_on

from relayrl.envs.smaclike.units import get_unit_type

SZ = dict(map_type="stalkers_and_zealots", races=("P", "P"), unit_type_bits=2, ally_type_order=["stalker_rl", "zealot_rl"], enemy_type_order=["zealot", "stalker"])


def enemy(env, j=0):
    return env._p.opp[j]


def test_time_base_is_smac_faster_speed():
    marine = get_unit_type("marine")
    assert marine.speed * 8 == pytest.approx(3.15 / 22.4 * 8)  # Liquipedia "Faster" 3.15/s, 22.4 loops/s
    assert marine.cooldown == pytest.approx(0.61 * 22.4, abs=0.15)  # Liquipedia rounds 0.8608 / 1.4
    assert get_unit_type("stalker").speed * 22.4 == pytest.approx(4.13, abs=0.01)


def test_marine_moves_1_125_per_step(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16)], [("marine", 28, 16)])
    env.step([4])  # east
    assert env.battle.pos[0, 0, 0] == pytest.approx(10 + 1.125)
    assert env.battle.pos[0, 0, 1] == pytest.approx(16)


def test_marine_on_marine_deals_6(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16)], [("marine", 14, 16)])
    env.step([6])
    assert env.battle.hp[0, enemy(env)] == 45 - 6
    assert env.battle.hp[0, 0] == 45 - 6  # the enemy, holding position, shot back in range


def test_shields_absorb_before_armor(tmp_path):
    # stalker (13 +5 armored) on a light zealot: 13 all into the shield, armor untouched
    env = env_on(tmp_path, [("stalker_rl", 10, 16)], [("zealot", 11.5, 16)], **SZ)
    env.step([6])
    z = enemy(env)
    assert env.battle.shield[0, z] == 50 - 13
    assert env.battle.hp[0, z] == 100


def test_zealot_two_hits_split_between_shield_and_armored_health(tmp_path):
    env = env_on(tmp_path, [("zealot_rl", 10, 16)], [("stalker", 11.2, 16)], **SZ)
    b = env.battle
    s = enemy(env)
    b.shield[0, s] = 4.0
    b.cooldown[0, s] = 100.0  # keep the stalker from shooting back
    env.step([6])
    # hit 1: 4 to the shield, 4 - 1 armor = 3 to health; hit 2: 8 - 1 = 7 -> 80 - 10
    assert b.shield[0, s] == 0
    assert b.hp[0, s] == 70


def test_bonus_damage_and_armor(tmp_path):
    env = env_on(tmp_path, [("marauder_rl", 10, 16)], [("spine_crawler", 14, 16)])
    b = env.battle
    env.step([6])
    # marauder 10 +10 vs armored, spine crawler armor 2; zerg regeneration 0.2734/16 hp per loop
    assert b.hp[0, enemy(env)] == pytest.approx(300 - 18 + 0.2734 / 16 * 8)
    assert b.hp[0, 0] == 125 - (25 + 5 - 1)  # the crawler: 25 +5 vs armored, marauder armor 1


def test_minimum_damage_is_half_a_point(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16)], [("medivac", 13, 16)])
    b = env.battle
    b.armor[enemy(env)] = 10.0
    env.step([6])
    assert b.hp[0, enemy(env)] == 150 - 0.5


def test_baneling_bursts_on_light_units_and_dies(tmp_path):
    env = env_on(
        tmp_path,
        [("baneling_rl", 10, 16), ("zergling_rl", 4, 4)],
        [("zergling", 10.8, 16), ("zergling", 10.8, 17.5), ("zergling", 10.8, 14.6), ("zergling", 14, 16), ("baneling", 10, 18)],
        map_type="bane", races=("Z", "Z"), unit_type_bits=2, ally_type_order=["baneling_rl", "zergling_rl"], enemy_type_order=["baneling", "zergling"],
    )  # fmt: skip
    b = env.battle
    b.cooldown[0] = 100.0  # only the baneling acts this step
    b.cooldown[0, 0] = 0.0
    env.step([6, 1])
    opp = env._p.opp
    assert not b.alive[0, 0]  # the baneling exploded
    # 16 +19 vs light = 35 = a zergling's health, for every zergling within 2.2 (+ its radius)
    np.testing.assert_array_equal(b.alive[0, opp[:3]], False)
    assert b.hp[0, opp[3]] == pytest.approx(35)  # 4 away: untouched (full, regeneration capped)
    assert b.hp[0, opp[4]] == pytest.approx(30 - 16 + 0.2734 / 16 * 8)  # a baneling is not light


def test_colossus_line_splash_hits_units_beside_the_target(tmp_path):
    env = env_on(
        tmp_path,
        [("colossus_rl", 10, 16)],
        [("zergling", 15, 16), ("zergling", 15, 17), ("zergling", 15, 14.9), ("zergling", 16.5, 16)],
        map_type="colossus", races=("P", "Z"),
    )  # fmt: skip
    b = env.battle
    env.step([6])
    opp = env._p.opp
    hit = 35 - 2 * (10 + 5) + 0.2734 / 16 * 8  # two beams of 10 +5 vs light
    np.testing.assert_allclose(b.hp[0, opp[:3]], hit)  # the target and the two beside it
    assert b.hp[0, opp[3]] == pytest.approx(35)  # behind the target, off the line


def test_medivac_heals_with_energy(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16), ("medivac_rl", 11, 16)], [("marine", 28, 16)], map_type="MMM", unit_type_bits=3, ally_type_order=["marauder_rl", "marine_rl", "medivac_rl"], enemy_type_order=["marauder", "marine", "medivac"])
    b = env.battle
    b.hp[0, 0] = 20.0
    env.step([1, 6])  # medivac (agent 1) heals agent 0
    assert b.hp[0, 0] == pytest.approx(20 + 9 / 16 * 8)  # 12.6 hp/s at Faster = 9 per game second
    assert b.energy[0, 1] == pytest.approx(50 - 4.5 / 3 + 0.5625 / 16 * 8)
    b.energy[0, 1] = 0.3
    env.step([1, 6])
    assert b.hp[0, 0] == pytest.approx(24.5 + 0.3 * 3, abs=0.02)  # limited by energy


def test_shield_regeneration_waits_ten_game_seconds(tmp_path):
    env = env_on(tmp_path, [("stalker_rl", 10, 16)], [("zealot", 25, 16)], **SZ)
    b = env.battle
    b.shield[0, 0] = 10.0
    env.step([1])
    assert b.shield[0, 0] == pytest.approx(10 + 2 / 16 * 8)  # not hit for long: +2 per game second
    b.since_damage[0, 0] = 0.0  # just hit
    env.step([1])
    assert b.shield[0, 0] == pytest.approx(11.0)
    for _ in range(19):  # 160 loops = 20 steps of 8
        env.step([1])
    assert b.shield[0, 0] == pytest.approx(11.0)
    env.step([1])
    assert b.shield[0, 0] == pytest.approx(12.0)


def test_fire_rate_follows_the_cooldown_in_game_loops(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16)], [("medivac", 13, 16)])
    b = env.battle
    b.hp[0, enemy(env)] = b.hp_max[enemy(env)] = 10_000.0
    shots = 0
    for _ in range(60):
        before = b.hp[0, enemy(env)]
        env.step([6])
        shots += before > b.hp[0, enemy(env)]
    # 480 loops / (13.77 + mean random delay 0.5) = 33.6 shots; at most one per step of 8 loops
    assert 31 <= shots <= 36


def test_melee_unit_walks_into_range_then_strikes(tmp_path):
    env = env_on(tmp_path, [("zealot_rl", 10, 16)], [("marine", 13, 16)], **{**SZ, "enemy_type_order": ["zealot", "marine"]})
    b = env.battle
    b.cooldown[0, enemy(env)] = 1000.0
    env.step([6])
    # gap 3 - 0.5 - 0.375 = 2.125 minus melee range 0.1: 2.025 to walk > 1.125 per step
    assert b.hp[0, enemy(env)] == 45
    env.step([6])
    assert b.hp[0, enemy(env)] == 45 - 16  # two hits of 8, marine armor 0


def test_builtin_ai_attack_moves_to_the_allies(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 6, 16)], [("marine", 26, 16)], orders={"kind": "attack_move", "to": [6, 16]})
    b = env.battle
    x0 = b.pos[0, enemy(env), 0]
    env.step([1])
    assert b.pos[0, enemy(env), 0] == pytest.approx(x0 - 1.125)
    for _ in range(30):
        _, done, _ = env.step([1])
        if done:
            break
    assert done and not b.alive[0, 0]  # the idle agent was hunted down


def test_units_stay_on_walkable_ground():
    from relayrl.envs.smaclike import SMACLikeEnv
    from relayrl.envs.smaclike.scripted import random_policy

    env = SMACLikeEnv("corridor", seed=0)
    env.reset()
    b = env.battle
    rng = np.random.default_rng(0)
    for _ in range(80):
        _, done, _ = env.step(random_policy(env._p, env._core.avail(0), rng)[0])
        assert b.walkable(b.pos[0, b.alive[0]]).all()
        if done:
            break


def test_overlapping_ground_units_are_pushed_apart(tmp_path):
    env = env_on(tmp_path, [("marine_rl", 10, 16), ("marine_rl", 11, 16)], [("marine", 28, 16)])
    b = env.battle
    b.pos[0, 1] = (10.2, 16.1)
    env._core._cache = {}
    env.step([1, 1])
    assert b.dist[0, 0, 1] == pytest.approx(0.75)  # touching, no longer overlapping
