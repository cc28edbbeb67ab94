"""Unit types: the SC2 statistics a battle needs, loaded from ``units.json``.

Everything is kept in SC2's own units (game seconds at "Normal" speed, 16 game loops per
game second) and converted to per-game-loop rates here, so the simulation works in game
loops like the engine SMAC drives. A SMAC step is ``step_mul = 8`` game loops.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOOPS_PER_GAME_SECOND = 16.0
# Protoss shields: +2 per game second once the unit has not been damaged for 10 game seconds.
SHIELD_REGEN_PER_LOOP = 2.0 / LOOPS_PER_GAME_SECOND
SHIELD_REGEN_DELAY_LOOPS = 10.0 * LOOPS_PER_GAME_SECOND
# Zerg units and structures regenerate 0.2734 hp per game second (0.38/s at "Faster").
ZERG_REGEN_PER_LOOP = 0.2734 / LOOPS_PER_GAME_SECOND
# SC2 weapons add a random delay in [-0.0625, +0.125] game seconds to every cooldown; this is
# where the engine's run-to-run variation comes from (spawns and orders are deterministic).
WEAPON_RANDOM_DELAY_LOOPS = (-0.0625 * LOOPS_PER_GAME_SECOND, 0.125 * LOOPS_PER_GAME_SECOND)

ATTRIBUTES = ("light", "armored", "biological", "mechanical", "massive", "structure")
UNITS_FILE = Path(__file__).with_name("units.json")


@dataclass(frozen=True)
class UnitType:
    """One unit type, with times already in game loops and speeds per game loop."""

    name: str
    race: str  # "T", "P" or "Z"
    smac_type: int  # the SC2 unit type id SMAC tests (e.g. 54 = medivac)
    smac_max_cooldown: float  # SMAC's normaliser of the cooldown (energy) state feature
    hp: float
    shield: float
    armor: float
    attributes: frozenset[str]
    air: bool  # flies: no collision, no pathing
    also_air_target: bool  # hittable by anti-air weapons although on the ground (colossus)
    radius: float  # SC2's Radius: attack ranges and splash are measured from this edge
    speed: float  # distance per game loop
    sight: float  # acquisition range of the built-in AI
    # weapon (damage 0 means no weapon)
    damage: float = 0.0
    attacks: int = 0
    bonus: tuple[tuple[str, float], ...] = ()
    cooldown: float = 0.0  # game loops
    range: float = 0.0  # edge to edge, as in SC2
    hits_ground: bool = False
    hits_air: bool = False
    splash: str = ""  # "", "line" (colossus) or "burst" (baneling)
    splash_radius: float = 0.0
    line_half_length: float = 0.0
    inner_radius: float = 0.0  # SC2's InnerRadius: the solid footprint other ground units bump into
    ground_collision: bool = True  # False for fliers and the colossus, which steps over ground units
    suicide: bool = False  # the unit dies when it attacks (baneling)
    burst_on_death: bool = False  # its splash also goes off when it is killed (baneling)
    # medivac
    energy_start: float = 0.0
    energy_max: float = 0.0
    energy_regen: float = 0.0  # per game loop
    heal_rate: float = 0.0  # hp per game loop
    heal_energy_per_hp: float = 0.0
    heal_range: float = 0.0

    @property
    def has_weapon(self) -> bool:
        return self.damage > 0

    @property
    def is_healer(self) -> bool:
        return self.heal_rate > 0

    def damage_against(self, target: UnitType) -> float:
        """Damage of one hit before armor and shields: base plus the bonus the target's attributes earn."""
        return self.damage + sum(v for attr, v in self.bonus if attr in target.attributes)


def _resolve(raw: dict, name: str, seen: tuple[str, ...] = ()) -> dict:
    if name not in raw or name.startswith("_"):
        raise KeyError(f"unknown unit type {name!r}; known: {sorted(k for k in raw if not k.startswith('_'))}")
    entry = dict(raw[name])
    base = entry.pop("base", None)
    if base is None:
        return entry
    if base in seen:
        raise ValueError(f"unit type {name!r}: circular 'base' chain {seen + (base,)}")
    merged = _resolve(raw, base, seen + (name,))
    merged.update(entry)
    return merged


def _build(name: str, d: dict) -> UnitType:
    weapon = d.get("weapon") or {}
    energy = d.get("energy") or {}
    heal = d.get("heal") or {}
    per_loop = 1.0 / LOOPS_PER_GAME_SECOND
    unknown = set(d.get("attributes", ())) - set(ATTRIBUTES)
    if unknown:
        raise ValueError(f"unit type {name!r}: unknown attributes {sorted(unknown)}; allowed: {ATTRIBUTES}")
    return UnitType(
        name=name,
        race=d["race"],
        smac_type=int(d["smac_type"]),
        smac_max_cooldown=float(d["smac_max_cooldown"]),
        hp=float(d["hp"]),
        shield=float(d.get("shield", 0)),
        armor=float(d.get("armor", 0)),
        attributes=frozenset(d.get("attributes", ())),
        air=bool(d.get("air", False)),
        also_air_target=bool(d.get("also_air_target", False)),
        radius=float(d["radius"]),
        inner_radius=float(d.get("inner_radius", d["radius"])),
        ground_collision=bool(d.get("ground_collision", not d.get("air", False))),
        speed=float(d["speed"]) * per_loop,
        sight=float(d["sight"]),
        damage=float(weapon.get("damage", 0)),
        attacks=int(weapon.get("attacks", 0)),
        bonus=tuple(sorted((str(k), float(v)) for k, v in weapon.get("bonus", {}).items())),
        cooldown=float(weapon.get("cooldown", 0)) * LOOPS_PER_GAME_SECOND,
        range=float(weapon.get("range", 0)),
        hits_ground=bool(weapon.get("hits_ground", False)),
        hits_air=bool(weapon.get("hits_air", False)),
        splash=str(weapon.get("splash", "")),
        splash_radius=float(weapon.get("splash_radius", 0)),
        line_half_length=float(weapon.get("line_half_length", 0)),
        suicide=bool(weapon.get("suicide", False)),
        burst_on_death=bool(weapon.get("burst_on_death", False)),
        energy_start=float(energy.get("start", 0)),
        energy_max=float(energy.get("max", 0)),
        energy_regen=float(energy.get("regen", 0)) * per_loop,
        heal_rate=float(heal.get("rate", 0)) * per_loop,
        heal_energy_per_hp=float(heal.get("energy_per_hp", 0)),
        heal_range=float(heal.get("range", 0)),
    )


@cache
def unit_types() -> dict[str, UnitType]:
    """All unit types of ``units.json`` by name."""
    raw = json.loads(UNITS_FILE.read_text())
    return {name: _build(name, _resolve(raw, name)) for name in raw if not name.startswith("_")}


def get_unit_type(name: str) -> UnitType:
    types = unit_types()
    if name not in types:
        raise KeyError(f"unknown unit type {name!r}; known: {sorted(types)}")
    return types[name]
