"""Observation / state / action sizes against SMAC's formulas for every map and flag combination."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from relayrl.envs.smaclike import SMACLikeEnv, list_maps, load_map

SIZE_FLAGS = (
    "obs_all_health",
    "obs_own_health",
    "obs_last_action",
    "obs_pathing_grid",
    "obs_terrain_height",
    "obs_timestep_number",
    "obs_instead_of_state",
    "state_last_action",
    "state_timestep_number",
)
REQUIRED_MAPS = {
    "3m", "8m", "25m", "5m_vs_6m", "10m_vs_11m", "27m_vs_30m", "MMM2", "2s3z", "3s5z",
    "3s_vs_5z", "2s_vs_1sc", "corridor", "6h_vs_8z", "2c_vs_64zg", "bane_vs_bane",
}  # fmt: skip
# (n_agents, n_enemies, episode_limit, agent race, enemy race, unit_type_bits) from SMAC's map registry
SMAC_REGISTRY = {
    "3m": (3, 3, 60, "T", "T", 0), "8m": (8, 8, 120, "T", "T", 0), "25m": (25, 25, 150, "T", "T", 0),
    "5m_vs_6m": (5, 6, 70, "T", "T", 0), "10m_vs_11m": (10, 11, 150, "T", "T", 0),
    "27m_vs_30m": (27, 30, 180, "T", "T", 0), "MMM2": (10, 12, 180, "T", "T", 3),
    "2s3z": (5, 5, 120, "P", "P", 2), "3s5z": (8, 8, 150, "P", "P", 2), "3s_vs_5z": (3, 5, 250, "P", "P", 0),
    "2s_vs_1sc": (2, 1, 300, "P", "Z", 0), "corridor": (6, 24, 400, "P", "Z", 0),
    "6h_vs_8z": (6, 8, 150, "Z", "P", 0), "2c_vs_64zg": (2, 64, 400, "P", "Z", 0),
    "bane_vs_bane": (24, 24, 200, "Z", "Z", 2), "so_many_baneling": (7, 32, 100, "P", "Z", 0),
}  # fmt: skip
# sizes printed by pymarl / EPyMARL runs on real SMAC with default flags: (obs, state, n_actions)
PUBLISHED_DEFAULT_SIZES = {
    "3m": (30, 48, 9), "8m": (80, 168, 14), "2s3z": (80, 120, 11), "3s5z": (128, 216, 14),
    "MMM2": (176, 322, 18), "27m_vs_30m": (285, 1170, 36), "corridor": (156, 282, 30),
    "5m_vs_6m": (55, 98, 12), "6h_vs_8z": (78, 140, 14), "2c_vs_64zg": (332, 342, 70),
}  # fmt: skip


def smac_sizes(name: str, f: dict) -> tuple[int, int, int]:
    """SMAC's size formulas, written out independently of the implementation."""
    n_ag, n_en, _, ar, br, bits = SMAC_REGISTRY[name]
    sh_al, sh_en = int(ar == "P"), int(br == "P")
    n_act = 6 + n_en
    own_health = f["obs_own_health"] or f["obs_all_health"]
    move = 4 + 8 * f["obs_pathing_grid"] + 9 * f["obs_terrain_height"]
    enemy = 4 + bits + (1 + sh_en) * f["obs_all_health"]
    ally = 4 + bits + (1 + sh_al) * f["obs_all_health"] + n_act * f["obs_last_action"]
    own = bits + (1 + sh_al) * own_health + f["obs_timestep_number"]
    obs = move + n_en * enemy + (n_ag - 1) * ally + own
    if f["obs_instead_of_state"]:
        state = obs * n_ag
    else:
        state = n_ag * (4 + sh_al + bits) + n_en * (3 + sh_en + bits) + n_ag * n_act * f["state_last_action"] + f["state_timestep_number"]
    return obs, state, n_act


def test_required_maps_ship_with_smac_registry_values():
    assert REQUIRED_MAPS <= set(list_maps())
    for name in list_maps():
        spec = load_map(name)
        assert (spec.n_agents, spec.n_enemies, spec.episode_limit, spec.ally_race, spec.enemy_race, spec.unit_type_bits) == SMAC_REGISTRY[name]


@pytest.mark.parametrize("name", sorted(PUBLISHED_DEFAULT_SIZES))
def test_default_sizes_match_published_smac_sizes(name):
    env = SMACLikeEnv(name)
    info = env.get_env_info()
    assert (info["obs_shape"], info["state_shape"], info["n_actions"]) == PUBLISHED_DEFAULT_SIZES[name]


@pytest.mark.parametrize("name", sorted(SMAC_REGISTRY))
def test_sizes_for_every_flag_combination(name):
    checked_vectors = 0
    for k, values in enumerate(itertools.product((False, True), repeat=len(SIZE_FLAGS))):
        flags = dict(zip(SIZE_FLAGS, values))
        env = SMACLikeEnv(name, seed=0, **flags)
        expected = smac_sizes(name, flags)
        assert (env.get_obs_size(), env.get_state_size(), env.get_total_actions()) == expected, flags
        info = env.get_env_info()
        assert (info["obs_shape"], info["state_shape"], info["n_actions"], info["n_agents"]) == (*expected, SMAC_REGISTRY[name][0])
        if k % 11 == 0:  # build the vectors for 47 of the 512 combinations (covers every flag both ways)
            obs, state = env.reset()
            assert all(o.shape == (expected[0],) and o.dtype == np.float32 for o in obs)
            assert state.shape == (expected[1],) and state.dtype == np.float32
            assert np.array(env.get_avail_actions()).shape == (env.n_agents, expected[2])
            checked_vectors += 1
    assert checked_vectors == 47
