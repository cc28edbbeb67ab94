"""The battle kernel: E independent battles on one map, stepped together with numpy.

State is a set of arrays with a leading env dimension and one column per unit (units of
team 0 first, in SMAC's agent order, then team 1 in creation order). One call to
:meth:`Battle.step` advances every battle by ``step_mul`` game loops (SMAC's 8):

1. orders: learner actions arrive as orders (stop / move / attack / heal); built-in units
   attack-move: keep a live target in sight, else take the closest enemy they can hit in
   sight range, else walk to the ordered point (then hunt the closest enemy);
2. movement at the unit's speed towards the goal, around walls on walkable cells, with
   ground units pushed apart where their discs overlap;
3. attacks: a unit whose target is in range (edge to edge) fires when its cooldown runs
   out within the step; hits are resolved shields first, then armor per hit (min 0.5),
   with the baneling's burst and the colossus' line splash;
4. medivac healing paid with energy, shield regeneration after 10 s unhurt, zerg
   regeneration, energy regeneration, deaths.

Every time is counted in game loops, so the rates per SMAC step are exact (a marine fires
every 13.8 loops, i.e. 0.58 times per step) although events inside one step are resolved
simultaneously rather than loop by loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from relayrl.envs.smaclike.maps import MapSpec, _terrain, spawn_positions
from relayrl.envs.smaclike.units import (
    ATTRIBUTES,
    SHIELD_REGEN_DELAY_LOOPS,
    SHIELD_REGEN_PER_LOOP,
    WEAPON_RANDOM_DELAY_LOOPS,
    ZERG_REGEN_PER_LOOP,
    UnitType,
    get_unit_type,
)

# order kinds
NONE, STOP, MOVE, ATTACK, HEAL, AMOVE = 0, 1, 2, 3, 4, 5


def clamp(a, lo, hi):
    """np.clip without its per-call overhead (it dominates on small arrays)."""
    return np.minimum(np.maximum(a, lo), hi)


@dataclass(frozen=True)
class Roster:
    """Static per-unit columns of one map: who is where at the start and what each unit can do."""

    names: tuple[str, ...]
    types: tuple[UnitType, ...]
    team: np.ndarray  # int [U]
    start_pos: np.ndarray  # float [U, 2]
    n_team0: int


def _base(name: str) -> str:
    return name[:-3] if name.endswith("_rl") else name


@lru_cache(maxsize=64)
def build_roster(spec: MapSpec) -> Roster:
    """Spawn both sides as SMAC's map script does and order team 0 as SMAC orders its agents.

    SMAC sorts its agents by (unit type id, x, y); the map's ``ally_type_order`` lists the
    learner-side unit types in increasing type id. Enemies keep their creation order.
    """
    occupied: list = []
    allies = spawn_positions(spec, spec.allies, occupied)
    enemies = spawn_positions(spec, spec.enemies, occupied)
    rank = {_base(n): i for i, n in enumerate(spec.ally_type_order)}
    allies = sorted(allies, key=lambda u: (rank[_base(u[0])], u[1], u[2]))
    units = allies + enemies
    return Roster(
        names=tuple(u[0] for u in units),
        types=tuple(get_unit_type(u[0]) for u in units),
        team=np.array([0] * len(allies) + [1] * len(enemies)),
        start_pos=np.array([[u[1], u[2]] for u in units], dtype=np.float64),
        n_team0=len(allies),
    )


@lru_cache(maxsize=64)
def _hit_damage(names: tuple[str, ...]) -> np.ndarray:
    """Raw damage of one hit of unit i on unit j (base + attribute bonus), before shields and armor."""
    kinds = sorted(set(names))
    table = {(a, b): get_unit_type(a).damage_against(get_unit_type(b)) for a in kinds for b in kinds}
    out = np.array([[table[a, b] for b in names] for a in names])
    out.setflags(write=False)
    return out


class Battle:
    """E battles of one map. Arrays: ``pos`` [E, U, 2], ``hp``/``shield``/``energy``/``cooldown`` [E, U]."""

    def __init__(self, spec: MapSpec, num_envs: int, rng: np.random.Generator, step_mul: int = 8):
        self.spec = spec
        self.E = int(num_envs)
        self.rng = rng
        self.step_mul = int(step_mul)
        self.roster = roster = build_roster(spec)
        self.terrain = _terrain(spec)
        ts = roster.types
        U = self.U = len(ts)
        self.team = roster.team
        col = lambda f: np.array([f(t) for t in ts], dtype=np.float64)  # noqa: E731
        self.hp_max = col(lambda t: t.hp)
        self.shield_max = col(lambda t: t.shield)
        self.armor = col(lambda t: t.armor)
        self.radius = col(lambda t: t.radius)
        self.speed = col(lambda t: t.speed)
        self.sight = col(lambda t: t.sight)
        self.range = col(lambda t: t.range)
        self.cooldown_loops = col(lambda t: t.cooldown)
        self.attacks = col(lambda t: t.attacks)
        self.energy_max = col(lambda t: t.energy_max)
        self.energy_start = col(lambda t: t.energy_start)
        self.energy_regen = col(lambda t: t.energy_regen)
        self.heal_rate = col(lambda t: t.heal_rate)
        self.heal_cost = col(lambda t: t.heal_energy_per_hp)
        self.heal_range = col(lambda t: t.heal_range)
        self.has_weapon = np.array([t.has_weapon for t in ts])
        self.is_healer = np.array([t.is_healer for t in ts])
        self.is_air = np.array([t.air for t in ts])
        self.ground = ~self.is_air
        self.static = self.speed == 0
        self.zerg = np.array([t.race == "Z" for t in ts])
        self.bio = np.array(["biological" in t.attributes for t in ts])
        self.suicide = np.array([t.suicide for t in ts])
        self.threat = self.has_weapon | self.is_healer
        air_target = np.array([t.air or t.also_air_target for t in ts])
        ground_target = ~self.is_air
        hits_g = np.array([t.hits_ground for t in ts])
        hits_a = np.array([t.hits_air for t in ts])
        enemy = self.team[:, None] != self.team[None, :]
        # can_hit[i, j]: i's weapon can target j
        self.can_hit = enemy & self.has_weapon[:, None] & (
            (hits_g[:, None] & ground_target[None, :]) | (hits_a[:, None] & air_target[None, :])
        )
        self.can_heal = (~enemy) & self.is_healer[:, None] & self.bio[None, :] & ground_target[None, :]
        np.fill_diagonal(self.can_heal, False)
        # raw damage of one hit of i on j (base + attribute bonus), before shields and armor
        self.hit_damage = _hit_damage(roster.names)
        self.attr = np.array([[a in t.attributes for a in ATTRIBUTES] for t in ts])
        self.splash_line = np.array([t.splash == "line" for t in ts])
        self.splash_burst = np.array([t.splash == "burst" for t in ts])
        self.splash_radius = col(lambda t: t.splash_radius)
        self.line_half = col(lambda t: t.line_half_length)
        self.any_splash = bool(self.splash_line.any() or self.splash_burst.any())
        self.any_healer = bool(self.is_healer.any())
        w, h = spec.map_size
        self.map_w, self.map_h = w, h
        self.pathing = self.terrain.pathing
        # builtin orders of team 1 (SMAC's enemies)
        self.order_kind = spec.enemy_order_kind
        self.order_to = np.array(spec.enemy_order_to if spec.enemy_order_to else (0.0, 0.0))
        self._offdiag = ~np.eye(U, dtype=bool)
        self._rsum = self.radius[:, None] + self.radius[None, :]
        self._share = np.where(self.static[:, None], 0.0, np.where(self.static[None, :], 1.0, 0.5))
        ang = (np.arange(U)[:, None] - np.arange(U)[None, :]) * 2.399963  # coincident units: fixed directions
        self._tie = np.stack([np.cos(ang), np.sin(ang)], axis=-1)[None]
        self._ei = np.arange(self.E)[:, None]
        self._ui = np.arange(U)[None, :]
        self.step_count = np.zeros(self.E, dtype=np.int64)
        self._alloc()
        self.reset(np.ones(self.E, dtype=bool))

    # ------------------------------------------------------------------ state
    def _alloc(self):
        E, U = self.E, self.U
        self.pos = np.zeros((E, U, 2))
        self.hp = np.zeros((E, U))
        self.shield = np.zeros((E, U))
        self.energy = np.zeros((E, U))
        self.cooldown = np.zeros((E, U))
        self.since_damage = np.zeros((E, U))
        self.alive = np.zeros((E, U), dtype=bool)
        self.ai_target = np.full((E, U), -1, dtype=np.int64)
        self.hunting = np.zeros((E, U), dtype=bool)
        self.shot_target = np.full((E, U), -1, dtype=np.int64)  # for rendering: who hit whom last step
        self.heal_target = np.full((E, U), -1, dtype=np.int64)
        self.dist = np.zeros((E, U, U))
        self.delta = np.zeros((E, U, U, 2))

    def reset(self, mask: np.ndarray) -> None:
        """Put the battles selected by ``mask`` [E] back to their spawn state."""
        m = np.asarray(mask, dtype=bool)
        self.pos[m] = self.roster.start_pos
        self.hp[m] = self.hp_max
        self.shield[m] = self.shield_max
        self.energy[m] = self.energy_start
        self.cooldown[m] = 0.0
        self.since_damage[m] = SHIELD_REGEN_DELAY_LOOPS
        self.alive[m] = True
        self.ai_target[m] = -1
        self.hunting[m] = False
        self.shot_target[m] = -1
        self.heal_target[m] = -1
        self.step_count[m] = 0
        self._update_geometry()

    def _update_geometry(self) -> None:
        # delta[e, i, j] = pos_j - pos_i ; dist[e, i, j] = |pos_j - pos_i|
        self.delta = self.pos[:, None, :, :] - self.pos[:, :, None, :]
        self.dist = np.hypot(self.delta[..., 0], self.delta[..., 1])

    # ---------------------------------------------------------------- terrain
    def walkable(self, xy: np.ndarray) -> np.ndarray:
        """Whether points [..., 2] are inside the map on walkable cells (SMAC: int() of x and y)."""
        x, y = xy[..., 0], xy[..., 1]
        inside = (x >= 0) & (x < self.map_w) & (y >= 0) & (y < self.map_h)
        cx = clamp(x.astype(np.int64), 0, self.map_w - 1)
        cy = clamp(y.astype(np.int64), 0, self.map_h - 1)
        return inside & self.pathing[cx, cy]

    def _cell(self, xy: np.ndarray) -> np.ndarray:
        cx = clamp(xy[..., 0].astype(np.int64), 0, self.map_w - 1)
        cy = clamp(xy[..., 1].astype(np.int64), 0, self.map_h - 1)
        return cx * self.map_h + cy

    def _steer(self, pos: np.ndarray, goal: np.ndarray, ground: np.ndarray) -> np.ndarray:
        """Point to head for: the goal itself, or the next cell of the shortest walk when a wall is in the way."""
        t = self.terrain
        if t.dist is None:
            return goal
        c, g = self._cell(pos), self._cell(goal)
        d_walk = t.dist[c, g]
        dx = np.abs(c // self.map_h - g // self.map_h)
        dy = np.abs(c % self.map_h - g % self.map_h)
        octile = np.maximum(dx, dy) + (np.sqrt(2.0) - 1.0) * np.minimum(dx, dy)
        blocked = ground & (d_walk > octile + 1e-3) & np.isfinite(d_walk)
        if not blocked.any():
            return goal
        hop = t.next_hop[c, g]
        hop_xy = np.stack([hop // self.map_h + 0.5, hop % self.map_h + 0.5], axis=-1)
        return np.where(blocked[..., None], hop_xy, goal)

    # ------------------------------------------------------------------ orders
    def builtin_orders(self, team: int, kind: np.ndarray, dest: np.ndarray, target: np.ndarray) -> None:
        """Fill the orders of ``team``'s units with the built-in AI (attack-move), in place."""
        sel = self.team == team
        kind[:, sel] = AMOVE
        if self.order_kind == "hold":
            dest[:, sel] = self.pos[:, sel]
        elif self.order_kind == "attack_move" and team == 1:
            dest[:, sel] = self.order_to
        else:  # attack the other side's units wherever they are
            self.hunting[:, sel] = True
        target[:, sel] = -1

    def _acquire(self, amove: np.ndarray, dest: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Built-in targeting: keep a live target in sight, else the closest hittable enemy in sight."""
        E, U = self.E, self.U
        ei, ui = self._ei, self._ui
        D = self.dist
        in_sight = D <= self.sight[None, :, None]
        if self.order_kind == "hold":  # holding units only engage what is in weapon range
            gap = D - self.radius[None, :, None] - self.radius[None, None, :]
            in_sight = in_sight & ((gap <= self.range[None, :, None] + 1e-6) | (self.team[None, :, None] == 0))
        cand = self.alive[:, None, :] & self.can_hit[None] & in_sight
        score = np.where(cand, D + np.where(self.threat, 0.0, 1000.0)[None, None, :], np.inf)
        best = np.argmin(score, axis=2)
        has = np.isfinite(score[ei, ui, best])
        cur = self.ai_target
        cur_c = clamp(cur, 0, U - 1)
        keep = (cur >= 0) & cand[ei, ui, cur_c]
        tgt = np.where(keep, cur, np.where(has, best, -1))
        tgt = np.where(amove & self.has_weapon[None], tgt, -1)
        self.ai_target = tgt
        heal = np.full((E, U), -1, dtype=np.int64)
        if self.any_healer:
            hurt = self.alive & (self.hp < self.hp_max[None])
            hc = hurt[:, None, :] & self.can_heal[None] & in_sight
            hs = np.where(hc, D, np.inf)
            hb = np.argmin(hs, axis=2)
            hh = np.isfinite(hs[ei, ui, hb])
            heal = np.where(amove & self.is_healer[None] & hh, hb, -1)
        # units without a target walk to the ordered point; once there (or when hunting) they
        # go for the closest enemy anywhere, as the game's AI sends idle units after the enemy.
        if self.order_kind != "hold":
            arrived = np.hypot(*(dest - self.pos).transpose(2, 0, 1)) < 1.0
            self.hunting |= amove & arrived & ~self.static[None]
        hunt = amove & self.hunting
        if hunt.any():
            enemy_alive = self.alive[:, None, :] & (self.team[None, :, None] != self.team[None, None, :])
            hd = np.where(enemy_alive, D, np.inf)
            near = np.argmin(hd, axis=2)
            found = np.isfinite(hd[ei, ui, near])
            near_pos = self.pos[ei, near]
            dest = np.where((hunt & found)[..., None], near_pos, dest)
        return tgt, heal, dest

    # -------------------------------------------------------------------- step
    def step(self, kind: np.ndarray, dest: np.ndarray, target: np.ndarray) -> None:
        """Advance every battle by ``step_mul`` game loops under the given orders.

        kind [E, U] (NONE/STOP/MOVE/ATTACK/HEAL/AMOVE), dest [E, U, 2] for MOVE/AMOVE,
        target [E, U] unit index for ATTACK/HEAL.
        """
        E, U, L = self.E, self.U, float(self.step_mul)
        alive = self.alive
        pos = self.pos
        kind = np.where(alive, kind, NONE)
        amove = kind == AMOVE
        att = np.where(kind == ATTACK, target, -1)
        heal = np.where(kind == HEAL, target, -1)
        if amove.any():
            ai_t, ai_h, dest = self._acquire(amove, dest)
            att = np.where(amove, ai_t, att)
            heal = np.where(amove & (ai_h >= 0), ai_h, heal)
        eidx = ei = self._ei
        ui = self._ui
        # an attack needs a live target the weapon can hit; a heal a live biological ally
        att_c = clamp(att, 0, U - 1)
        att = np.where((att >= 0) & alive[eidx, att_c] & self.can_hit[ui, att_c], att, -1)
        heal_c = clamp(heal, 0, U - 1)
        heal = np.where((heal >= 0) & alive[eidx, heal_c] & self.can_heal[ui, heal_c], heal, -1)
        has_att, has_heal = att >= 0, heal >= 0
        tgt = np.where(has_att, att, np.where(has_heal, heal, 0))
        gap = self.dist[ei, ui, tgt] - self.radius[None] - self.radius[tgt]
        reach = np.where(has_att, self.range[None], self.heal_range[None])
        tgt_pos = pos[eidx, tgt]
        walk_to_dest = (kind == MOVE) | (amove & ~has_att & ~has_heal)
        need = np.where(has_att | has_heal, gap - reach, 0.0)
        goal = np.where((has_att | has_heal)[..., None], tgt_pos, pos)
        dest_dist = np.hypot(dest[..., 0] - pos[..., 0], dest[..., 1] - pos[..., 1])
        need = np.where(walk_to_dest, dest_dist, need)
        goal = np.where(walk_to_dest[..., None], dest, goal)
        need = np.maximum(need, 0.0)
        travel = np.where(need > 0, need / np.maximum(self.speed[None], 1e-12), 0.0)  # loops to get there
        step_len = np.minimum(need, self.speed[None] * L)
        moving = (step_len > 1e-9) & ~self.static[None] & alive
        new_pos = pos
        if moving.any():
            aim = self._steer(pos, goal, self.ground[None] & moving)
            vec = aim - pos
            norm = np.hypot(vec[..., 0], vec[..., 1])
            unit = vec / np.maximum(norm, 1e-12)[..., None]
            new_pos = pos + unit * np.where(moving, step_len, 0.0)[..., None]
            new_pos = self._keep_on_ground(pos, new_pos)
        self.pos = new_pos
        self._update_geometry()
        self._separate()

        # ---- attacks: fire if the target is in range after moving and the weapon is ready in time
        gap_after = (
            self.dist[ei, ui, tgt] - self.radius[None] - self.radius[tgt]
        )
        fire_time = np.maximum(self.cooldown, travel)
        fires = has_att & (gap_after <= self.range[None] + 1e-6) & (fire_time < L)
        jitter = self.rng.uniform(*WEAPON_RANDOM_DELAY_LOOPS, size=(E, U))
        self.cooldown = np.where(
            fires, np.maximum(fire_time + self.cooldown_loops[None] + jitter - L, 0.0), np.maximum(self.cooldown - L, 0.0)
        )
        heals = has_heal & (gap_after <= self.heal_range[None] + 1e-6)
        self.shot_target = np.where(fires, att, -1)
        self.heal_target = np.where(heals, heal, -1)

        damaged = np.zeros((E, U), dtype=bool)
        if fires.any():
            damaged = self._apply_hits(fires, att)
        if heals.any():
            self._apply_heals(heals, heal, np.maximum(L - travel, 0.0))

        # ---- regeneration
        not_hit = ~damaged
        regen_loops = clamp(self.since_damage + L - SHIELD_REGEN_DELAY_LOOPS, 0.0, L)
        self.shield = np.where(
            not_hit & self.alive,
            np.minimum(self.shield + SHIELD_REGEN_PER_LOOP * regen_loops, self.shield_max[None]),
            self.shield,
        )
        self.since_damage = np.where(damaged, 0.0, self.since_damage + L)
        regen = np.where(self.zerg, ZERG_REGEN_PER_LOOP * L, 0.0)
        self.hp = np.where(self.alive & (self.hp > 0), np.minimum(self.hp + regen[None], self.hp_max[None]), self.hp)
        self.energy = np.minimum(self.energy + self.energy_regen[None] * L, self.energy_max[None])
        # ---- deaths (banelings die by exploding)
        dead = self.alive & ((self.hp <= 0) | (fires & self.suicide[None]))
        if dead.any():
            self.alive = self.alive & ~dead
            self.hp = np.where(dead, 0.0, self.hp)
            self.shield = np.where(dead, 0.0, self.shield)
            self.energy = np.where(dead, 0.0, self.energy)
        self.step_count += 1

    def _keep_on_ground(self, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Ground units may not enter unwalkable cells: slide along the wall, else stay."""
        if self.is_air.any():  # fliers ignore walls but stay above the map
            new = np.where(self.is_air[None, :, None], clamp(new, 0.0, np.array([self.map_w, self.map_h]) - 1e-6), new)
        ok = self.walkable(new) | self.is_air[None]
        if ok.all():
            return new
        slide_x = np.stack([new[..., 0], old[..., 1]], axis=-1)
        slide_y = np.stack([old[..., 0], new[..., 1]], axis=-1)
        ok_x = self.walkable(slide_x)
        ok_y = self.walkable(slide_y)
        fallback = np.where(ok_x[..., None], slide_x, np.where(ok_y[..., None], slide_y, old))
        return np.where(ok[..., None], new, fallback)

    def _separate(self, iterations: int = 2) -> None:
        """Push apart overlapping live ground units (static ones do not move); updates pos and geometry."""
        solid = self.alive & self.ground[None]
        for _ in range(iterations):
            # self.delta[e, i, j] = pos_j - pos_i ; overlap of the discs of i and j
            over = self._rsum - self.dist
            over = np.where(solid[:, :, None] & solid[:, None, :] & self._offdiag, over, 0.0)
            if not (over > 1e-9).any():
                return
            over = np.maximum(over, 0.0) * self._share
            dn = self.dist
            direction = np.where((dn > 1e-9)[..., None], -self.delta / np.maximum(dn, 1e-12)[..., None], self._tie)
            pushed = self.pos + np.einsum("eij,eijk->eik", over, direction)
            ok = self.walkable(pushed) | ~solid
            self.pos = np.where(ok[..., None], pushed, self.pos)
            self._update_geometry()

    def _apply_hits(self, fires: np.ndarray, att: np.ndarray) -> np.ndarray:
        """Resolve every hit of this step: shields absorb first, armor then reduces each hit (min 0.5)."""
        E, U = self.E, self.U
        e_i, s_i = np.nonzero(fires & ~(self.splash_burst | self.splash_line)[None])
        v_i = att[e_i, s_i]
        reps = self.attacks[s_i].astype(np.int64)
        env_l, src_l, vic_l = [np.repeat(e_i, reps)], [np.repeat(s_i, reps)], [np.repeat(v_i, reps)]
        if self.any_splash:
            for env, src, vic in self._splash_hits(fires, att):
                env_l.append(env)
                src_l.append(src)
                vic_l.append(vic)
        env, src, vic = np.concatenate(env_l), np.concatenate(src_l), np.concatenate(vic_l)
        if len(env) == 0:
            return np.zeros((E, U), dtype=bool)
        raw = self.hit_damage[src, vic]
        key = env * U + vic
        order = np.lexsort((src, key))  # per victim, hits in shooter order
        key, raw, vic, env = key[order], raw[order], vic[order], env[order]
        cum = np.cumsum(raw)
        first = np.r_[True, key[1:] != key[:-1]]
        start_idx = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
        before = cum - raw - (cum[start_idx] - raw[start_idx])  # raw damage earlier on this victim
        sh0 = self.shield[env, vic]
        to_shield = clamp(sh0 - before, 0.0, raw)
        rest = raw - to_shield
        to_hp = np.where(rest > 0, np.maximum(rest - self.armor[vic], 0.5), 0.0)
        flat = E * U
        self.shield = self.shield - np.bincount(key, to_shield, minlength=flat).reshape(E, U)
        self.hp = self.hp - np.bincount(key, to_hp, minlength=flat).reshape(E, U)
        return np.bincount(key, minlength=flat).reshape(E, U) > 0

    def _splash_hits(self, fires: np.ndarray, att: np.ndarray):
        """Hits of splash weapons: baneling burst (disc around itself) and colossus line."""
        victims_ok = self.alive & self.ground[None]  # neither splash weapon hits air
        enemy = self.team[:, None] != self.team[None, :]
        burst = fires & self.splash_burst[None]
        if burst.any():
            e, s = np.nonzero(burst)
            d = self.dist[e, s]  # [n, U]
            hit = victims_ok[e] & enemy[s] & (d <= self.splash_radius[s][:, None] + self.radius[None, :])
            n_i, v = np.nonzero(hit)
            yield e[n_i], s[n_i], v
        line = fires & self.splash_line[None]
        if line.any():
            e, s = np.nonzero(line)
            t = att[e, s]
            axis = self.pos[e, t] - self.pos[e, s]
            axis /= np.maximum(np.hypot(axis[:, 0], axis[:, 1]), 1e-12)[:, None]
            perp = np.stack([-axis[:, 1], axis[:, 0]], axis=1)
            rel = self.pos[e] - self.pos[e, t][:, None, :]  # [n, U, 2]
            along = np.abs(np.einsum("nuk,nk->nu", rel, perp))
            across = np.abs(np.einsum("nuk,nk->nu", rel, axis))
            r = self.radius[None, :]
            hit = victims_ok[e] & enemy[s] & (along <= self.line_half[s][:, None] + r) & (across <= r)
            hit[np.arange(len(e)), t] = True
            n_i, v = np.nonzero(hit)
            reps = self.attacks[s[n_i]].astype(np.int64)
            yield np.repeat(e[n_i], reps), np.repeat(s[n_i], reps), np.repeat(v, reps)

    def _apply_heals(self, heals: np.ndarray, target: np.ndarray, loops: np.ndarray) -> None:
        """Medivacs restore ``heal_rate`` hp per loop in range, paying energy per hp healed."""
        E, U = self.E, self.U
        e, s = np.nonzero(heals)
        t = target[e, s]
        ok = self.alive[e, t] & (self.hp[e, t] > 0)
        e, s, t = e[ok], s[ok], t[ok]
        if len(e) == 0:
            return
        want = self.heal_rate[s] * loops[e, s]
        afford = self.energy[e, s] / np.maximum(self.heal_cost[s], 1e-12)
        missing = self.hp_max[t] - self.hp[e, t]
        amount = np.maximum(np.minimum(np.minimum(want, afford), missing), 0.0)
        self.energy[e, s] -= amount * self.heal_cost[s]
        add = np.bincount(e * U + t, amount, minlength=E * U).reshape(E, U)
        self.hp = np.minimum(self.hp + add, self.hp_max[None])
