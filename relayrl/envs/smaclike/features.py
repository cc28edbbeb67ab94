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
        self.own, self.opp = own, opp
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
        self.max_cd = np.array([roster.types[u].smac_max_cooldown for u in own])
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
        self._pad = 2 * ma + 2
        self._padded: dict = {}
        self._surround = np.array([(0, 2 * ma), (0, -2 * ma), (2 * ma, 0), (-2 * ma, 0), (ma, ma), (-ma, -ma), (ma, -ma), (-ma, ma), (0, 0)])

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
    def _grid_lookup(self, grid: np.ndarray, xi: np.ndarray, yi: np.ndarray, outside) -> np.ndarray:
        """grid[xi, yi], or ``outside`` beyond the map (SMAC's check_bounds), via a padded copy."""
        key = (id(grid), outside)
        padded = self._padded.get(key)
        if padded is None:
            padded = self._padded[key] = np.pad(grid, self._pad, constant_values=outside)
        P = self._pad
        return padded[clamp(xi + P, 0, padded.shape[0] - 1), clamp(yi + P, 0, padded.shape[1] - 1)]

    def avail_actions(self) -> np.ndarray:
        """int32 [E, n_agents, n_actions]."""
        b = self.b
        E, A = b.E, self.n_agents
        alive = b.alive[:, self.own]
        pos = b.pos[:, self.own]
        m = self.flags.move_amount / 2.0
        avail = np.zeros((E, A, self.n_actions), dtype=np.int32)
        avail[..., 1] = 1
        x, y = pos[..., 0], pos[..., 1]
        for k, (px, py) in enumerate(((x, y + m), (x, y - m), (x + m, y), (x - m, y))):
            xi, yi = np.trunc(px).astype(np.int64), np.trunc(py).astype(np.int64)
            avail[..., 2 + k] = self._grid_lookup(b.pathing, xi, yi, False)
        d = b.dist[:, self.own[:, None], self.opp[None, :]]
        avail[..., N_ACTIONS_NO_ATTACK:] = b.alive[:, None, self.opp] & (d <= SHOOT_RANGE)
        if self.any_medivac:
            dd = b.dist[:, self.own[:, None], self.own[None, :]]
            heal = b.alive[:, None, self.own] & self.healable[None, None, :] & (dd <= SHOOT_RANGE)
            rows = np.zeros((E, A, self.n_enemies), dtype=np.int32)
            k = min(A, self.n_enemies)  # SMAC's n_actions only reach the first n_enemies allies
            rows[..., :k] = heal[..., :k]
            avail[..., N_ACTIONS_NO_ATTACK:] = np.where(self.medivac[None, :, None], rows, avail[..., N_ACTIONS_NO_ATTACK:])
        avail = np.where(alive[..., None], avail, 0)
        avail[..., 0] = ~alive
        return avail

    def observations(self, avail: np.ndarray, last_action: np.ndarray, steps: np.ndarray, limit: int) -> np.ndarray:
        """float32 [E, n_agents, obs_size] in SMAC's order."""
        b, f = self.b, self.flags
        E, A, N = b.E, self.n_agents, self.n_enemies
        own, opp = self.own, self.opp
        alive_a = b.alive[:, own]
        parts = []
        # --- movement features
        parts.append(avail[..., 2:6].astype(np.float32))
        if f.obs_pathing_grid or f.obs_terrain_height:
            pos = b.pos[:, own]
            xi = np.trunc(pos[..., 0]).astype(np.int64)[..., None] + self._surround[None, None, :, 0]
            yi = np.trunc(pos[..., 1]).astype(np.int64)[..., None] + self._surround[None, None, :, 1]
            if f.obs_pathing_grid:
                parts.append(self._grid_lookup(b.pathing, xi[..., :8], yi[..., :8], True).astype(np.float32))
            if f.obs_terrain_height:
                parts.append(self._grid_lookup(b.terrain.height, xi, yi, 1.0).astype(np.float32))
        # --- enemy features
        d = b.dist[:, own[:, None], opp[None, :]]
        delta = b.delta[:, own[:, None], opp[None, :]]
        vis = alive_a[..., None] & b.alive[:, None, opp] & (d < SIGHT_RANGE)
        cols = [avail[..., N_ACTIONS_NO_ATTACK : N_ACTIONS_NO_ATTACK + N], d / SIGHT_RANGE, delta[..., 0] / SIGHT_RANGE, delta[..., 1] / SIGHT_RANGE]
        if f.obs_all_health:
            cols.append(np.broadcast_to((b.hp[:, opp] / self.opp_hp_max)[:, None, :], (E, A, N)))
            if self.shield_bits_enemy:
                cols.append(np.broadcast_to((b.shield[:, opp] / self.opp_sh_max)[:, None, :], (E, A, N)))
        enemy = np.stack(cols, axis=-1).astype(np.float32)
        if self.unit_type_bits:
            enemy = np.concatenate([enemy, np.broadcast_to(self.opp_type[None, None], (E, A, N, self.unit_type_bits))], axis=-1)
        enemy = enemy * vis[..., None]
        parts.append(enemy.reshape(E, A, -1))
        # --- ally features (the other agents, in agent order)
        if A > 1:
            oth = own[self.others]  # [A, A-1] unit indices
            d = b.dist[:, own[:, None], oth]
            delta = b.delta[:, own[:, None], oth]
            vis = alive_a[..., None] & b.alive[:, oth] & (d < SIGHT_RANGE)
            cols = [np.ones_like(d), d / SIGHT_RANGE, delta[..., 0] / SIGHT_RANGE, delta[..., 1] / SIGHT_RANGE]
            if f.obs_all_health:
                cols.append(b.hp[:, oth] / self.own_hp_max[self.others][None])
                if self.shield_bits_ally:
                    cols.append(b.shield[:, oth] / self.own_sh_max[self.others][None])
            ally = [np.stack(cols, axis=-1).astype(np.float32)]
            if self.unit_type_bits:
                ally.append(np.broadcast_to(self.own_type[self.others][None], (E, A, A - 1, self.unit_type_bits)))
            if f.obs_last_action:
                ally.append(last_action[:, self.others].astype(np.float32))
            ally = np.concatenate(ally, axis=-1) if len(ally) > 1 else ally[0]
            parts.append((ally * vis[..., None]).reshape(E, A, -1))
        # --- own features
        own_cols = []
        if f.obs_own_health or f.obs_all_health:
            own_cols.append((b.hp[:, own] / self.own_hp_max)[..., None])
            if self.shield_bits_ally:
                own_cols.append((b.shield[:, own] / self.own_sh_max)[..., None])
        if self.unit_type_bits:
            own_cols.append(np.broadcast_to(self.own_type[None], (E, A, self.unit_type_bits)))
        if f.obs_timestep_number:
            own_cols.append(np.broadcast_to((steps / limit)[:, None, None], (E, A, 1)))
        if own_cols:
            parts.append(np.concatenate(own_cols, axis=-1).astype(np.float32))
        obs = np.concatenate(parts, axis=-1).astype(np.float32, copy=False)
        return obs * alive_a[..., None]

    def state(self, last_action: np.ndarray, steps: np.ndarray, limit: int, obs: np.ndarray | None = None) -> np.ndarray:
        """float32 [E, state_size] in SMAC's order."""
        b, f = self.b, self.flags
        E = b.E
        if f.obs_instead_of_state:
            return obs.reshape(E, -1).astype(np.float32)
        own, opp = self.own, self.opp
        rel = (b.pos - self.center) / self.max_dist  # [E, U, 2]
        cd = b.cooldown[:, own] / self.max_cd
        if self.any_medivac:
            cd = np.where(self.medivac[None], b.energy[:, own] / self.max_cd, cd)
        cols = [b.hp[:, own] / self.own_hp_max, cd, rel[:, own, 0], rel[:, own, 1]]
        if self.shield_bits_ally:
            cols.append(b.shield[:, own] / self.own_sh_max)
        ally = np.stack(cols, axis=-1)
        if self.unit_type_bits:
            ally = np.concatenate([ally, np.broadcast_to(self.own_type[None], (E, self.n_agents, self.unit_type_bits))], axis=-1)
        ally = ally * b.alive[:, own, None]
        cols = [b.hp[:, opp] / self.opp_hp_max, rel[:, opp, 0], rel[:, opp, 1]]
        if self.shield_bits_enemy:
            cols.append(b.shield[:, opp] / self.opp_sh_max)
        enemy = np.stack(cols, axis=-1)
        if self.unit_type_bits:
            enemy = np.concatenate([enemy, np.broadcast_to(self.opp_type[None], (E, self.n_enemies, self.unit_type_bits))], axis=-1)
        enemy = enemy * b.alive[:, opp, None]
        parts = [ally.reshape(E, -1), enemy.reshape(E, -1)]
        if f.state_last_action:
            parts.append(last_action.reshape(E, -1))
        if f.state_timestep_number:
            parts.append((steps / limit)[:, None])
        return np.concatenate(parts, axis=-1).astype(np.float32)

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
