"""SMAC's observations, state and available actions, computed for all battles at once.

A :class:`Perspective` is one team's view: its own units in agent order ("allies") and
the other team's units in enemy order ("enemies"). For the learner side of a normal
battle this is exactly SMAC's view; in two-team mode the second team gets the mirrored
one. Layouts, sizes and normalisations follow SMAC's ``StarCraft2Env`` feature by feature:

* available actions: 0 no-op (only, and always, for a dead agent), 1 stop, 2-5 move
  N/S/E/W when the cell ``move_amount / 2`` ahead (``int`` of the coordinates) is inside the
  map and walkable, ``6 + j`` attack enemy j alive within 6 (a medivac on MMM maps: heal
  ally j, alive, not a medivac, within 6);
* observation: ``[move | enemies x (attackable, dist, dx, dy, health, shield, type) |
  other allies x (visible, dist, dx, dy, health, shield, type, last action) | own
  (health, shield, type, timestep)]``, distances over the sight range 9, units seen only
  alive and strictly closer than 9;
* state: ``[allies x (health, cooldown or energy, x, y, shield, type) | enemies x (health,
  x, y, shield, type) | last actions | timestep]``, x and y relative to the map centre over
  the playable width / height.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relayrl.envs.smaclike.battle import Battle, _base, clamp
from relayrl.envs.smaclike.feature_kernels import avail_kernel, obs_kernel, state_kernel

N_ACTIONS_NO_ATTACK = 6
N_ACTIONS_MOVE = 4
N_OBS_PATHING = 8
N_OBS_HEIGHT = 9
SIGHT_RANGE = 9.0
SHOOT_RANGE = 6.0


@dataclass(frozen=True)
class FeatureFlags:
    """The observation / state switches of SMAC's constructor."""

    obs_all_health: bool = True
    obs_own_health: bool = True
    obs_last_action: bool = False
    obs_pathing_grid: bool = False
    obs_terrain_height: bool = False
    obs_instead_of_state: bool = False
    obs_timestep_number: bool = False
    state_last_action: bool = True
    state_timestep_number: bool = False
    move_amount: float = 2.0


class Perspective:
    """One team's SMAC view of a :class:`Battle`."""

    def __init__(self, battle: Battle, team: int, flags: FeatureFlags):
        self.b = battle
        self.team = team
        self.flags = flags
        spec = battle.spec
        roster = battle.roster
        idx0 = np.flatnonzero(roster.team == 0)
        idx1 = np.flatnonzero(roster.team == 1)
        if team == 0:
            own, opp = idx0, idx1
        else:
            # team 1 as learners: agents sorted SMAC's way (type rank, x, y); team 0 seen as enemies
            rank = {_base(n): i for i, n in enumerate(spec.ally_type_order)}
            key = [(rank.get(_base(roster.names[u]), 99), *roster.start_pos[u]) for u in idx1]
            own = idx1[sorted(range(len(idx1)), key=lambda k: key[k])]
            opp = idx0
        self.own, self.opp = np.ascontiguousarray(own, dtype=np.int64), np.ascontiguousarray(opp, dtype=np.int64)
        self.n_agents, self.n_enemies = len(own), len(opp)
        self.n_actions = N_ACTIONS_NO_ATTACK + self.n_enemies
        races = (spec.ally_race, spec.enemy_race) if team == 0 else (spec.enemy_race, spec.ally_race)
        self.shield_bits_ally = 1 if races[0] == "P" else 0
        self.shield_bits_enemy = 1 if races[1] == "P" else 0
        self.unit_type_bits = bits = spec.unit_type_bits
        ally_rank = {_base(n): i for i, n in enumerate(spec.ally_type_order)}
        enemy_rank = {_base(n): i for i, n in enumerate(spec.enemy_type_order)}
        self.own_type = np.zeros((self.n_agents, bits), dtype=np.float32)
        self.opp_type = np.zeros((self.n_enemies, bits), dtype=np.float32)
        if bits:
            for a, u in enumerate(own):
                self.own_type[a, ally_rank[_base(roster.names[u])]] = 1
            for j, u in enumerate(opp):
                self.opp_type[j, enemy_rank[_base(roster.names[u])]] = 1
        is_medivac = np.array([roster.types[u].is_healer for u in own])
        self.medivac = is_medivac & (spec.map_type == "MMM")
        self.any_medivac = bool(self.medivac.any())
        self.max_cd = np.array([roster.types[u].smac_max_cooldown for u in own], dtype=np.float64)
        self.others = np.array([[j for j in range(self.n_agents) if j != a] for a in range(self.n_agents)], dtype=np.int64).reshape(self.n_agents, self.n_agents - 1)
        # heal targets of a medivac: allies that are not medivacs (SMAC: by unit type)
        self.healable = ~is_medivac
        w, h = spec.map_size
        (x0, y0), (x1, y1) = spec.playable_area
        self.center = np.array([w / 2.0, h / 2.0])
        self.max_dist = np.array([x1 - x0, y1 - y0], dtype=np.float64)
        self.map_w, self.map_h = w, h
        self.own_hp_max = battle.hp_max[own]
        self.opp_hp_max = battle.hp_max[opp]
        self.own_sh_max = np.maximum(battle.shield_max[own], 1e-12)
        self.opp_sh_max = np.maximum(battle.shield_max[opp], 1e-12)
        ma = int(flags.move_amount)
        self._pathing = np.ascontiguousarray(battle.pathing, dtype=np.bool_)
        self._surround = np.array([(0, 2 * ma), (0, -2 * ma), (2 * ma, 0), (-2 * ma, 0), (ma, ma), (-ma, -ma), (ma, -ma), (-ma, ma), (0, 0)], dtype=np.int64)

    # ------------------------------------------------------------- sizes
    def obs_move_feats_size(self) -> int:
        f = self.flags
        return N_ACTIONS_MOVE + (N_OBS_PATHING if f.obs_pathing_grid else 0) + (N_OBS_HEIGHT if f.obs_terrain_height else 0)

    def obs_enemy_feats_size(self) -> tuple[int, int]:
        nf = 4 + self.unit_type_bits
        if self.flags.obs_all_health:
            nf += 1 + self.shield_bits_enemy
        return self.n_enemies, nf

    def obs_ally_feats_size(self) -> tuple[int, int]:
        nf = 4 + self.unit_type_bits
        if self.flags.obs_all_health:
            nf += 1 + self.shield_bits_ally
        if self.flags.obs_last_action:
            nf += self.n_actions
        return self.n_agents - 1, nf

    def obs_own_feats_size(self) -> int:
        n = self.unit_type_bits
        if self.flags.obs_own_health or self.flags.obs_all_health:
            n += 1 + self.shield_bits_ally
        if self.flags.obs_timestep_number:
            n += 1
        return n

    def obs_size(self) -> int:
        ne, nfe = self.obs_enemy_feats_size()
        na, nfa = self.obs_ally_feats_size()
        return self.obs_move_feats_size() + ne * nfe + na * nfa + self.obs_own_feats_size()

    def state_ally_feats(self) -> int:
        return 4 + self.shield_bits_ally + self.unit_type_bits

    def state_enemy_feats(self) -> int:
        return 3 + self.shield_bits_enemy + self.unit_type_bits

    def state_size(self) -> int:
        if self.flags.obs_instead_of_state:
            return self.obs_size() * self.n_agents
        size = self.n_agents * self.state_ally_feats() + self.n_enemies * self.state_enemy_feats()
        if self.flags.state_last_action:
            size += self.n_agents * self.n_actions
        if self.flags.state_timestep_number:
            size += 1
        return size

    def ally_state_attr_names(self) -> list[str]:
        names = ["health", "energy/cooldown", "rel_x", "rel_y"]
        if self.shield_bits_ally:
            names.append("shield")
        return names + [f"type_{b}" for b in range(self.unit_type_bits)]

    def enemy_state_attr_names(self) -> list[str]:
        names = ["health", "rel_x", "rel_y"]
        if self.shield_bits_enemy:
            names.append("shield")
        return names + [f"type_{b}" for b in range(self.unit_type_bits)]

    # ---------------------------------------------------------- features
    def avail_actions(self) -> np.ndarray:
        """int32 [E, n_agents, n_actions]."""
        b = self.b
        out = np.empty((b.E, self.n_agents, self.n_actions), dtype=np.int32)
        avail_kernel(b.pos, b.alive, b.dist, self.own, self.opp, self.medivac, self.healable, self._pathing, self.flags.move_amount / 2.0, out)
        return out

    def observations(self, avail: np.ndarray, last_action: np.ndarray, steps: np.ndarray, limit: int) -> np.ndarray:
        """float32 [E, n_agents, obs_size] in SMAC's order."""
        b, f = self.b, self.flags
        out = np.empty((b.E, self.n_agents, self.obs_size()), dtype=np.float32)
        obs_kernel(
            b.pos, b.alive, b.dist, b.delta, b.hp, b.shield, b.hp_max, b.shield_max, self.own, self.opp,
            self.others, self.own_type, self.opp_type, avail, last_action, steps / limit, self._pathing,
            b.terrain.height, self._surround, f.obs_all_health, f.obs_own_health or f.obs_all_health,
            f.obs_last_action, f.obs_pathing_grid, f.obs_terrain_height, f.obs_timestep_number,
            self.shield_bits_ally, self.shield_bits_enemy, out,
        )  # fmt: skip
        return out

    def state(self, last_action: np.ndarray, steps: np.ndarray, limit: int, obs: np.ndarray | None = None) -> np.ndarray:
        """float32 [E, state_size] in SMAC's order."""
        b, f = self.b, self.flags
        if f.obs_instead_of_state:
            return obs.reshape(b.E, -1).astype(np.float32)
        out = np.empty((b.E, self.state_size()), dtype=np.float32)
        state_kernel(
            b.pos, b.alive, b.hp, b.shield, b.cooldown, b.energy, b.hp_max, b.shield_max, self.max_cd,
            self.medivac, self.own, self.opp, self.own_type, self.opp_type, self.center, self.max_dist,
            last_action, steps / limit, self.shield_bits_ally, self.shield_bits_enemy,
            f.state_last_action, f.state_timestep_number, out,
        )  # fmt: skip
        return out

    # ----------------------------------------------------------- actions
    def orders(self, actions: np.ndarray, kind: np.ndarray, dest: np.ndarray, target: np.ndarray) -> None:
        """Write the orders for actions [E, n_agents] (already checked available) into kind/dest/target."""
        b = self.b
        own = self.own
        a = actions
        k = np.full(a.shape, 1, dtype=np.int64)  # STOP
        k[a == 0] = 0
        move = (a >= 2) & (a <= 5)
        k[move] = 2  # MOVE
        attack = a >= N_ACTIONS_NO_ATTACK
        j = np.maximum(a - N_ACTIONS_NO_ATTACK, 0)
        is_heal = attack & self.medivac[None]
        k[attack] = 3  # ATTACK
        k[is_heal] = 4  # HEAL
        step = np.array([[0, 0], [0, 0], [0, 1], [0, -1], [1, 0], [-1, 0]], dtype=np.float64) * self.flags.move_amount
        pos = b.pos[:, own]
        dest[:, own] = pos + step[clamp(a, 0, 5)]
        tgt = np.where(is_heal, own[clamp(j, 0, self.n_agents - 1)], self.opp[clamp(j, 0, self.n_enemies - 1)])
        target[:, own] = np.where(attack, tgt, -1)
        kind[:, own] = k
