"""Hand-made maps for precise tests: open 32 x 32 ground, units exactly where asked."""

from __future__ import annotations

import json
from pathlib import Path

from relayrl.envs.smaclike import SMACLikeEnv

OPEN = ["." * 32] * 32
FLAT = ["0" * 32] * 32


def write_map(
    tmp_path: Path,
    allies: list[tuple[str, float, float]],
    enemies: list[tuple[str, float, float]],
    *,
    map_type: str = "marines",
    races: tuple[str, str] = ("T", "T"),
    unit_type_bits: int = 0,
    ally_type_order: list[str] | None = None,
    enemy_type_order: list[str] | None = None,
    orders: dict | None = None,
    limit: int = 100,
    pathing: list[str] | None = None,
    name: str = "handmade",
) -> str:
    """Write a map file and return its path; ``enemies`` hold position unless ``orders`` says otherwise."""
    spec = {
        "name": name,
        "n_agents": len(allies),
        "n_enemies": len(enemies),
        "episode_limit": limit,
        "ally_race": races[0],
        "enemy_race": races[1],
        "unit_type_bits": unit_type_bits,
        "map_type": map_type,
        "map_size": [32, 32],
        "ally_type_order": ally_type_order or sorted({u for u, _, _ in allies}),
        "enemy_type_order": enemy_type_order or [],
        "allies": [{"unit": u, "count": 1, "at": [x, y]} for u, x, y in allies],
        "enemies": [{"unit": u, "count": 1, "at": [x, y]} for u, x, y in enemies],
        "enemy_orders": orders or {"kind": "hold"},
        "terrain": {"pathing": pathing or OPEN, "cliff_level": FLAT},
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(spec))
    return str(path)


def env_on(tmp_path: Path, allies, enemies, seed: int = 0, flags: dict | None = None, **kw) -> SMACLikeEnv:
    env = SMACLikeEnv(write_map(tmp_path, allies, enemies, **kw), seed=seed, **(flags or {}))
    env.reset()
    return env
