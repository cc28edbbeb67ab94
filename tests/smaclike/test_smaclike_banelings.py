"""Banelings and unit collisions: the SC2 rules that decide the baneling maps.

A baneling bursts (16 +19 vs light within 2.2) when it reaches its target and also when it is
killed; its burst never hurts its own side; it does not explode on a target that earlier hits
of the same step already killed. Ground units are solid discs of SC2's inner radius: a crowd
keeps them that far apart instead of stacking them onto one point.
"""

from __future__ import annotations

import numpy as np
import pytest
from smaclike_helpers import env_on

BANE = dict(map_type="bane", races=("Z", "Z"), unit_type_bits=2, ally_type_order=["baneling_rl", "zergling_rl"], enemy_type_order=["baneling", "zergling"])
REGEN = 0.2734 / 16 * 8  # zerg regeneration over one step of 8 game loops
STOP = 1


def test_a_killed_baneling_still_bursts_on_the_enemies_around_it(tmp_path):
    # a learner baneling on 1 hp, three enemy zerglings at melee reach, a friendly zergling beside it
    env = env_on(
        tmp_path,
        [("baneling_rl", 16, 16), ("zergling_rl", 15.2, 16)],
        [("zergling", 16.8, 16), ("zergling", 16, 16.8), ("zergling", 16, 15.2), ("zergling", 21, 16)],
        **BANE,
    )  # fmt: skip
    b, opp = env.battle, env._p.opp
    b.hp[0, 0] = 1.0
    b.cooldown[0, opp[3]] = 1000.0  # the far zergling stays out of it
    env.step([STOP, STOP])  # the baneling never attacks: it is killed by the zerglings' hits
    assert not b.alive[0, 0]
    np.testing.assert_array_equal(b.alive[0, opp[:3]], False)  # 35 each: a zergling's health
    assert b.hp[0, opp[3]] == pytest.approx(35)  # 5 away: outside 2.2 + 0.375
    assert b.alive[0, 1]  # no friendly fire: the friendly zergling only took the enemies' claws
    assert b.hp[0, 1] > 35 - 3 * 5 - 1e-9


@pytest.mark.parametrize("enemy_baneling_hp, zergling_survives", [(10.0, False), (30.0, True)])
def test_a_burst_that_kills_a_baneling_sets_off_its_burst_too(tmp_path, enemy_baneling_hp, zergling_survives):
    # learner zergling 2.7 from its own baneling (which never hurts it) and 1.8 from the enemy's
    env = env_on(
        tmp_path,
        [("baneling_rl", 10, 16), ("zergling_rl", 12.7, 16)],
        [("baneling", 10.9, 16), ("zergling", 4, 28)],
        **BANE,
    )  # fmt: skip
    b, opp = env.battle, env._p.opp
    b.hp[0, opp[0]] = enemy_baneling_hp  # the learner's burst deals 16 to a baneling (not light)
    b.cooldown[0, opp] = 1000.0  # the enemies do not attack on their own this step
    env.step([6, STOP])  # the learner baneling, in contact, attacks the enemy baneling
    assert not b.alive[0, 0]
    assert b.alive[0, opp[0]] == zergling_survives
    assert b.alive[0, 1] == zergling_survives  # only the chained enemy burst reaches the zergling
    if zergling_survives:
        assert b.hp[0, 1] == pytest.approx(35)


def test_second_baneling_does_not_waste_itself_on_a_target_already_dead(tmp_path):
    # two learner banelings ordered onto one zergling; the nearer arrives first and kills it
    env = env_on(
        tmp_path,
        [("baneling_rl", 11.0, 16), ("baneling_rl", 13.6, 16)],
        [("zergling", 11.9, 16), ("zergling", 4, 28)],
        **BANE,
    )  # fmt: skip
    b, opp = env.battle, env._p.opp
    b.cooldown[0, opp[0]] = 1000.0
    env.step([6, 6])
    assert not b.alive[0, opp[0]]
    alive_banes = b.alive[0, env._p.own]
    assert alive_banes.sum() == 1  # exactly one burst went off
    assert b.shot_target[0, env._p.own].max() == opp[0]


def test_builtin_baneling_runs_into_the_nearest_zergling_and_bursts_on_the_group(tmp_path):
    # a packed 5 x 3 group of idle learner zerglings; one enemy baneling attack-moves onto it
    lings = [("zergling_rl", 14.5 + 0.75 * i, 15.25 + 0.75 * j) for i in range(5) for j in range(3)]
    env = env_on(tmp_path, lings, [("baneling", 16, 22)], orders={"kind": "attack_move", "to": [16, 16]}, **BANE)
    b, bane, own = env.battle, env._p.opp[0], env._p.own
    for _ in range(10):
        env.step([STOP] * len(lings))
        if not b.alive[0, bane]:
            break
    assert not b.alive[0, bane]  # it reached contact and exploded
    nearest = np.min(b.dist[0, bane, own])
    assert nearest <= 0.75 + 0.25 + 1e-6  # from melee reach of the closest zergling, not from afar
    caught = b.dist[0, bane, own] <= 2.2 + 0.375
    assert 4 <= caught.sum() < len(lings)
    np.testing.assert_array_equal(~b.alive[0, own], caught)  # exactly the zerglings within the splash died


def test_zealots_collide_with_their_inner_radius_and_reach_with_their_radius(tmp_path):
    # SC2's zealot: Radius 0.5 (ranges are measured from it), InnerRadius 0.375 (its solid footprint)
    env = env_on(tmp_path, [("zealot_rl", 10, 16), ("zealot_rl", 10, 18)], [("zealot", 11.08, 18)], map_type="zealots", races=("P", "P"))
    b, opp = env.battle, env._p.opp
    b.pos[0, 0] = (9.6, 18.3)  # pressed into the other learner zealot (0.5 apart)
    env._core._cache = {}
    shield = b.shield[0, opp[0]]
    env.step([STOP, 6])  # agent 1 attacks the enemy 1.08 away: 0.08 edge to edge, within melee 0.1
    assert b.dist[0, 0, 1] == pytest.approx(0.75, abs=0.021)  # pushed apart to two inner radii, not 1.0
    assert b.shield[0, opp[0]] == shield - 16  # struck twice without walking


def test_a_crowd_around_one_target_keeps_its_units_a_diameter_apart(tmp_path):
    # 20 enemy zerglings from one spawn point swarm a single learner marine that cannot die
    env = env_on(tmp_path, [("marine_rl", 16, 16)], [("zergling", 16, 24)] * 20, orders={"kind": "attack_move", "to": [16, 16]})
    b, opp = env.battle, env._p.opp
    b.hp[0, 0] = b.hp_max[0] = 1e9
    for _ in range(10):
        env.step([STOP])
    ground = np.flatnonzero(b.alive[0])
    d = b.dist[0][np.ix_(ground, ground)] + np.eye(len(ground)) * 99
    assert np.sum(b.dist[0, 0, opp] < 1.0) >= 5  # they surround the marine
    assert d.min() >= 0.75 - 0.03  # as solid discs, not stacked onto it


def test_builtin_melee_unit_strikes_the_enemy_in_reach_rather_than_queue_for_its_target(tmp_path):
    # an attack-moving enemy zealot takes the closest marine; then that one is out of its reach
    # (as if behind the zealot's friends) while another marine stands within it
    env = env_on(
        tmp_path, [("marine_rl", 14, 16), ("marine_rl", 18.5, 16)], [("zealot", 16, 16)],
        map_type="marines", races=("T", "P"), orders={"kind": "attack_move", "to": [4, 16]},
    )  # fmt: skip
    b, z = env.battle, env._p.opp[0]
    env.step([STOP, STOP])
    assert b.hp[0, 0] < 45 and b.hp[0, 1] == 45  # it went for the closer marine
    b.pos[0, 0] = (9.0, 16.0)  # still in sight, far out of melee reach
    b.pos[0, 1] = (b.pos[0, z, 0] + 0.9, 16.0)  # within reach (0.9 - 0.5 - 0.375 <= 0.1)
    b.cooldown[0, z] = 0.0
    b._update_geometry()
    env._core._cache = {}
    hurt = b.hp[0, 0]
    env.step([STOP, STOP])
    assert b.hp[0, 1] == 45 - 16  # two blades of 8 on the marine in reach
    assert b.hp[0, 0] == hurt
