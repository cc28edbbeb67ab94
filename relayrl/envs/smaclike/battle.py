"""The battle state: E independent battles on one map, stepped together by one kernel call.

State is a set of numpy arrays with a leading env dimension and one column per unit (units
of team 0 first, in SMAC's agent order, then team 1 in creation order). One call to
:meth:`Battle.step` (the compiled loop of ``kernel.py``) advances every battle by
``step_mul`` game loops (SMAC's 8):

1. orders: learner actions arrive as orders (stop / move / attack / heal); built-in units
   attack-move: keep a live target in sight, else take the closest enemy they can hit in
   sight range, else walk to the ordered point (then hunt the closest enemy);
2. movement at the unit's speed towards the goal, around walls on walkable cells; ground
   units are solid discs of SC2's inner radius, pushed apart until no two overlap (the
   colossus steps over them);
3. attacks: a unit whose target is in range (edge to edge) fires when its cooldown runs
   out within the step, in the order of the game loops the attacks happen on (none on a
   target killed earlier in the step, none by a unit killed earlier); hits are resolved
   shields first, then armor per hit (min 0.5), with the baneling's burst (also when a
   baneling is killed) and the colossus' line splash;
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

from relayrl.envs.smaclike.kernel import (
    ORDER_ATTACK_ALLIES,
    ORDER_ATTACK_MOVE,
    ORDER_HOLD,
    _geometry,
    step_kernel,
)
from relayrl.envs.smaclike.maps import MapSpec, _terrain, spawn_positions
from relayrl.envs.smaclike.units import (
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
        self.U = len(ts)
        self.team = roster.team
        col = lambda f: np.array([f(t) for t in ts], dtype=np.float64)  # noqa: E731
        self.hp_max = col(lambda t: t.hp)
        self.shield_max = col(lambda t: t.shield)
        self.armor = col(lambda t: t.armor)
        self.radius = col(lambda t: t.radius)
        self.inner_radius = col(lambda t: t.inner_radius)
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
        self.solid = np.array([t.ground_collision for t in ts])  # bumps into other ground units
        self.static = self.speed == 0
        self.zerg = np.array([t.race == "Z" for t in ts])
        self.bio = np.array(["biological" in t.attributes for t in ts])
        self.suicide = np.array([t.suicide for t in ts])
        self.burst_on_death = np.array([t.burst_on_death for t in ts])
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
        self.splash_line = np.array([t.splash == "line" for t in ts])
        self.splash_burst = np.array([t.splash == "burst" for t in ts])
        self.splash_radius = col(lambda t: t.splash_radius)
        self.line_half = col(lambda t: t.line_half_length)
        w, h = spec.map_size
        self.map_w, self.map_h = w, h
        self.pathing = self.terrain.pathing
        # builtin orders of team 1 (SMAC's enemies)
        self.order_kind = spec.enemy_order_kind
        self.order_to = np.array(spec.enemy_order_to if spec.enemy_order_to else (0.0, 0.0))
        self.step_count = np.zeros(self.E, dtype=np.int64)
        t = self.terrain
        order_code = {"attack_move": ORDER_ATTACK_MOVE, "attack_allies": ORDER_ATTACK_ALLIES, "hold": ORDER_HOLD}[self.order_kind]
        f8 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
        b1 = lambda a: np.ascontiguousarray(a, dtype=np.bool_)  # noqa: E731
        self._kernel_static = (
            np.ascontiguousarray(self.team, dtype=np.int64), f8(self.radius), f8(self.speed), f8(self.sight), f8(self.range),
            f8(self.cooldown_loops), f8(self.attacks), f8(self.hp_max), f8(self.shield_max), f8(self.armor),
            f8(self.energy_max), f8(self.energy_regen), f8(self.heal_rate), f8(self.heal_cost), f8(self.heal_range),
            b1(self.has_weapon), b1(self.is_healer), b1(self.is_air), b1(self.static), b1(self.zerg), b1(self.suicide),
            b1(self.burst_on_death), f8(self.inner_radius), b1(self.solid), b1(self.threat), b1(self.splash_line), b1(self.splash_burst), f8(self.splash_radius), f8(self.line_half),
            b1(self.can_hit), b1(self.can_heal), f8(self.hit_damage),
            b1(self.pathing),
            t.dist if t.dist is not None else np.zeros((1, 1), np.float32),
            t.next_hop if t.next_hop is not None else np.zeros((1, 1), np.int32),
            t.dist is not None, order_code, f8(self.order_to), float(self.step_mul),
            SHIELD_REGEN_PER_LOOP, SHIELD_REGEN_DELAY_LOOPS, ZERG_REGEN_PER_LOOP,
        )  # fmt: skip
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
        _geometry(self.pos, self.dist, self.delta)

    # ---------------------------------------------------------------- terrain
    def walkable(self, xy: np.ndarray) -> np.ndarray:
        """Whether points [..., 2] are inside the map on walkable cells (SMAC: int() of x and y)."""
        x, y = xy[..., 0], xy[..., 1]
        inside = (x >= 0) & (x < self.map_w) & (y >= 0) & (y < self.map_h)
        cx = clamp(x.astype(np.int64), 0, self.map_w - 1)
        cy = clamp(y.astype(np.int64), 0, self.map_h - 1)
        return inside & self.pathing[cx, cy]

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

    # -------------------------------------------------------------------- step
    def step(self, kind: np.ndarray, dest: np.ndarray, target: np.ndarray) -> None:
        """Advance every battle by ``step_mul`` game loops under the given orders (in the compiled kernel).

        kind [E, U] (NONE/STOP/MOVE/ATTACK/HEAL/AMOVE), dest [E, U, 2] for MOVE/AMOVE,
        target [E, U] unit index for ATTACK/HEAL. ``kind`` and ``dest`` may be overwritten.
        """
        jitter = self.rng.uniform(*WEAPON_RANDOM_DELAY_LOOPS, size=(self.E, self.U))
        step_kernel(
            self.pos, self.hp, self.shield, self.energy, self.cooldown, self.since_damage, self.alive,
            self.ai_target, self.hunting, self.shot_target, self.heal_target, self.dist, self.delta,
            kind, dest, target, jitter, *self._kernel_static,
        )  # fmt: skip
        self.step_count += 1
