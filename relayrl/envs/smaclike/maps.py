"""Maps as data: one JSON file per map, validated into a frozen :class:`MapSpec`.

A map file says what SMAC's map registry says (agents, enemies, episode limit, races,
unit-type bits, map type), which units spawn where and in which order, what the built-in
AI is ordered to do, and the terrain as two character grids (north row first):
``pathing`` ('.' walkable, '#' not) and ``cliff_level`` (digits). Users add a map by
writing such a file and passing its path as ``map_name``.

The shipped maps take their spawn points, creation order, AI orders, 32 x 32 size and
pathing / cliff grids from SMAC's published ``.SC2Map`` files (``Objects``,
``MapScript.galaxy``, ``t3CellFlags``, ``t3SyncCliffLevel``); see README.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from relayrl.envs.smaclike.units import UnitType, get_unit_type, unit_types

MAPS_DIR = Path(__file__).with_name("maps")
MAP_TYPES = (
    "marines",
    "MMM",
    "stalkers_and_zealots",
    "stalkers",
    "zealots",
    "hydralisks",
    "colossus",
    "colossi_stalkers_zealots",
    "bane",
)
ORDER_KINDS = ("attack_move", "attack_allies", "hold")
RACES = ("T", "P", "Z")


class MapError(ValueError):
    """A map name or map file that cannot be used; the message says what and what is allowed."""


@dataclass(frozen=True)
class SpawnGroup:
    unit: str
    count: int
    at: tuple[float, float]


@dataclass(frozen=True)
class MapSpec:
    name: str
    n_agents: int
    n_enemies: int
    episode_limit: int
    ally_race: str
    enemy_race: str
    unit_type_bits: int
    map_type: str
    map_size: tuple[int, int]
    playable_area: tuple[tuple[float, float], tuple[float, float]]
    ally_type_order: tuple[str, ...]
    enemy_type_order: tuple[str, ...]
    allies: tuple[SpawnGroup, ...]
    enemies: tuple[SpawnGroup, ...]
    enemy_order_kind: str
    enemy_order_to: tuple[float, float] | None
    pathing_rows: tuple[str, ...] = field(repr=False)
    cliff_rows: tuple[str, ...] = field(repr=False)

    # ----------------------------------------------------------------- terrain
    @property
    def pathing_grid(self) -> np.ndarray:
        """bool [map_x, map_y], indexed ``[x, y]`` like SMAC's ``pathing_grid``."""
        return _terrain(self).pathing

    @property
    def terrain_height(self) -> np.ndarray:
        """float [map_x, map_y] in [0, 1], indexed ``[x, y]`` like SMAC's ``terrain_height``."""
        return _terrain(self).height


@dataclass(frozen=True)
class Terrain:
    pathing: np.ndarray  # bool [W, H]
    height: np.ndarray  # float [W, H]
    # Shortest-path tables over walkable cells (None when every straight line is clear).
    dist: np.ndarray | None  # float32 [C, C], C = W * H, cell = x * H + y
    next_hop: np.ndarray | None  # int32 [C, C]: neighbour cell to walk to first


def _terrain(spec: MapSpec) -> Terrain:
    return _terrain_cached(spec.name, spec.pathing_rows, spec.cliff_rows)


@lru_cache(maxsize=64)
def _terrain_cached(name: str, pathing_rows: tuple[str, ...], cliff_rows: tuple[str, ...]) -> Terrain:
    h = len(pathing_rows)
    w = len(pathing_rows[0])
    pathing = np.array([[c == "." for c in row] for row in pathing_rows[::-1]], dtype=bool).T
    levels = np.array([[int(c) for c in row] for row in cliff_rows[::-1]], dtype=np.float64).T
    # SC2 cliff levels are 2 world units apart above a base of 8; SMAC divides the game's
    # 0..255 height byte (z in [-16, 16]) by 255, i.e. (z + 16) / 32.
    height = (8.0 + 2.0 * levels + 16.0) / 32.0
    dist, next_hop = _shortest_paths(pathing) if _needs_paths(pathing) else (None, None)
    assert pathing.shape == (w, h)
    return Terrain(pathing=pathing, height=height, dist=dist, next_hop=next_hop)


def _needs_paths(pathing: np.ndarray) -> bool:
    """False when the walkable cells form one axis-aligned rectangle (straight lines never blocked)."""
    xs, ys = np.nonzero(pathing)
    if len(xs) == 0:
        return False
    box = pathing[xs.min() : xs.max() + 1, ys.min() : ys.max() + 1]
    return not bool(box.all())


_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1))


def _shortest_paths(pathing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs walking distances on the 8-connected grid (no corner cutting) and first hops."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    w, h = pathing.shape
    n = w * h
    xs, ys = np.meshgrid(np.arange(w), np.arange(h), indexing="ij")
    rows, cols, vals = [], [], []
    nb_cell = np.full((8, w, h), -1, dtype=np.int64)
    nb_cost = np.full((8, w, h), np.inf)
    for k, (dx, dy) in enumerate(_NEIGHBOURS):
        nx, ny = xs + dx, ys + dy
        ok = (nx >= 0) & (nx < w) & (ny >= 0) & (ny < h) & pathing
        nxc, nyc = np.clip(nx, 0, w - 1), np.clip(ny, 0, h - 1)
        ok &= pathing[nxc, nyc]
        if dx and dy:  # no cutting a blocked corner
            ok &= pathing[np.clip(xs + dx, 0, w - 1), ys] & pathing[xs, np.clip(ys + dy, 0, h - 1)]
        cost = math.sqrt(2.0) if dx and dy else 1.0
        src = (xs * h + ys)[ok]
        dst = (nxc * h + nyc)[ok]
        rows.append(src)
        cols.append(dst)
        vals.append(np.full(src.shape, cost))
        nb_cell[k][ok] = dst
        nb_cost[k][ok] = cost
    graph = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    dist = dijkstra(graph, directed=True).astype(np.float32)  # [C, C]
    best = np.full((n, n), np.inf, dtype=np.float32)
    hop = np.tile(np.arange(n, dtype=np.int32)[:, None], (1, n))
    for k in range(8):
        src = nb_cell[k].reshape(-1)
        valid = src >= 0
        cand = np.full((n, n), np.inf, dtype=np.float32)
        cand[valid] = nb_cost[k].reshape(-1)[valid, None] + dist[src[valid]]
        better = cand < best
        best[better] = cand[better]
        hop[better] = np.broadcast_to(src[:, None], (n, n))[better]
    return dist, hop


# ----------------------------------------------------------------------------- loading
def list_maps() -> list[str]:
    """Names of the maps shipped with relayrl."""
    return list(_shipped_maps())


@lru_cache(maxsize=1)
def _shipped_maps() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in MAPS_DIR.glob("*.json")))


def load_map(map_name: str) -> MapSpec:
    """A shipped map by name, or a user map by the path of its JSON file."""
    path = Path(map_name)
    if path.suffix == ".json" and path.is_file():
        return _load_path(str(path.resolve()), path.stat().st_mtime_ns)
    if map_name not in list_maps():
        raise MapError(
            f"unknown map {map_name!r}; known maps: {', '.join(list_maps())} "
            "(or pass the path of a map .json file)"
        )
    return _load_path(str(MAPS_DIR / f"{map_name}.json"), 0)


@lru_cache(maxsize=64)
def _load_path(path: str, _mtime: int) -> MapSpec:
    try:
        raw = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise MapError(f"map file {path}: not valid JSON ({e})") from e
    return parse_map(raw, source=path)


_KEYS = {
    "name", "n_agents", "n_enemies", "episode_limit", "ally_race", "enemy_race", "unit_type_bits",
    "map_type", "map_size", "playable_area", "ally_type_order", "enemy_type_order", "allies",
    "enemies", "enemy_orders", "terrain", "notes",
}  # fmt: skip


def _finite_point(value, where: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError) as e:
        raise MapError(f"{where}: expected a point [x, y] of two numbers, got {value!r}") from e
    if not (math.isfinite(x) and math.isfinite(y)):
        raise MapError(f"{where}: position {value!r} is not finite (NaN or infinity); positions must be finite numbers")
    return x, y


def parse_map(raw: dict, source: str = "<dict>") -> MapSpec:
    """Validate a map dictionary (the content of a map file) into a :class:`MapSpec`."""
    if not isinstance(raw, dict):
        raise MapError(f"map {source}: expected a JSON object at the top level")
    unknown = set(raw) - _KEYS
    if unknown:
        raise MapError(f"map {source}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    missing = (_KEYS - {"notes", "enemy_type_order", "playable_area"}) - set(raw)
    if missing:
        raise MapError(f"map {source}: missing keys {sorted(missing)}")
    where = f"map {source}"
    for race_key in ("ally_race", "enemy_race"):
        if raw[race_key] not in RACES:
            raise MapError(f"{where}: {race_key}={raw[race_key]!r}; allowed: {RACES}")
    if raw["map_type"] not in MAP_TYPES:
        raise MapError(f"{where}: map_type={raw['map_type']!r}; allowed: {MAP_TYPES}")
    known_units = unit_types()

    def groups(key: str) -> tuple[SpawnGroup, ...]:
        out = []
        for i, g in enumerate(raw[key]):
            if g.get("unit") not in known_units:
                raise MapError(f"{where}: {key}[{i}].unit={g.get('unit')!r}; known unit types: {sorted(known_units)}")
            count = g.get("count")
            if not isinstance(count, int) or count < 1:
                raise MapError(f"{where}: {key}[{i}].count={count!r}; must be a positive integer")
            out.append(SpawnGroup(g["unit"], count, _finite_point(g.get("at"), f"{where}: {key}[{i}].at")))
        return tuple(out)

    allies, enemies = groups("allies"), groups("enemies")
    for key, grp, n in (("allies", allies, raw["n_agents"]), ("enemies", enemies, raw["n_enemies"])):
        if sum(g.count for g in grp) != n:
            raise MapError(f"{where}: {key} spawn {sum(g.count for g in grp)} units but n_{'agents' if key == 'allies' else 'enemies'}={n}")
    w, h = (int(v) for v in raw["map_size"])
    rows_p, rows_c = raw["terrain"].get("pathing"), raw["terrain"].get("cliff_level")
    for tkey, rows, alphabet in (("pathing", rows_p, ".#"), ("cliff_level", rows_c, "0123456789")):
        if not isinstance(rows, list) or len(rows) != h or any(len(r) != w for r in rows):
            raise MapError(f"{where}: terrain.{tkey} must be {h} strings of {w} characters (map_size={[w, h]})")
        bad = {c for r in rows for c in r} - set(alphabet)
        if bad:
            raise MapError(f"{where}: terrain.{tkey} has characters {sorted(bad)}; allowed: {list(alphabet)}")
    area = raw.get("playable_area", [[0, 0], [w, h]])
    p0 = _finite_point(area[0], f"{where}: playable_area[0]")
    p1 = _finite_point(area[1], f"{where}: playable_area[1]")
    for key, grp in (("allies", allies), ("enemies", enemies)):
        for i, g in enumerate(grp):
            if not (0 <= g.at[0] < w and 0 <= g.at[1] < h):
                raise MapError(f"{where}: {key}[{i}].at={list(g.at)} lies outside the {w} x {h} map")
    orders = raw["enemy_orders"]
    if orders.get("kind") not in ORDER_KINDS:
        raise MapError(f"{where}: enemy_orders.kind={orders.get('kind')!r}; allowed: {ORDER_KINDS}")
    to = _finite_point(orders["to"], f"{where}: enemy_orders.to") if orders["kind"] == "attack_move" else None
    ally_order = tuple(raw["ally_type_order"])
    enemy_order = tuple(raw.get("enemy_type_order", ()))
    for key, grp, order in (("allies", allies, ally_order), ("enemies", enemies, enemy_order or None)):
        if order is None:
            continue
        missing_types = {g.unit for g in grp} - set(order)
        if missing_types:
            raise MapError(f"{where}: {key} use {sorted(missing_types)} which {key[:-1]}_type_order {list(order)} does not list")
    bits = int(raw["unit_type_bits"])
    if bits and (len(ally_order) > bits or len(enemy_order) > bits):
        raise MapError(f"{where}: unit_type_bits={bits} is smaller than the number of unit types listed")
    return MapSpec(
        name=str(raw["name"]),
        n_agents=int(raw["n_agents"]),
        n_enemies=int(raw["n_enemies"]),
        episode_limit=int(raw["episode_limit"]),
        ally_race=raw["ally_race"],
        enemy_race=raw["enemy_race"],
        unit_type_bits=bits,
        map_type=raw["map_type"],
        map_size=(w, h),
        playable_area=(p0, p1),
        ally_type_order=ally_order,
        enemy_type_order=enemy_order,
        allies=allies,
        enemies=enemies,
        enemy_order_kind=orders["kind"],
        enemy_order_to=to,
        pathing_rows=tuple(rows_p),
        cliff_rows=tuple(rows_c),
    )


# ----------------------------------------------------------------------------- spawning
def _placement_offsets() -> np.ndarray:
    """Candidate offsets around a spawn point, nearest first (ties broken by angle)."""
    step = 0.125
    r = np.arange(-10.0, 10.0 + step, step)
    ox, oy = np.meshgrid(r, r, indexing="ij")
    ox, oy = ox.ravel(), oy.ravel()
    d = np.hypot(ox, oy)
    keep = d <= 10.0
    ox, oy, d = ox[keep], oy[keep], d[keep]
    ang = np.mod(np.arctan2(oy, ox), 2 * np.pi)
    order = np.lexsort((ang, np.round(d, 6)))
    return np.stack([ox[order], oy[order]], axis=1)


def spawn_positions(spec: MapSpec, groups: tuple[SpawnGroup, ...], occupied: list[tuple[float, float, float, str]]) -> list[tuple[str, float, float]]:
    """Place units the way SC2's unit creation does: each at the free walkable spot nearest its point.

    ``occupied`` holds (x, y, footprint radius, layer) of units placed earlier (it is extended in
    place), so groups created one after another at the same point pack around each other. The
    footprint is the unit's inner radius (what other ground units bump into); units only keep
    clear of units of their own layer (ground, air, or the colossus that steps over ground units).
    """
    pathing = spec.pathing_grid
    w, h = spec.map_size
    offsets = _placement_offsets()
    placed = []
    for g in groups:
        ut: UnitType = get_unit_type(g.unit)
        layer = "air" if ut.air else ("ground" if ut.ground_collision else "over_ground")
        cand = np.asarray(g.at) + offsets
        # The unit's disc must stand on walkable cells (air units ignore the ground).
        ok = np.ones(len(cand), dtype=bool)
        if not ut.air:
            for ex, ey in ((0, 0), (ut.inner_radius, 0), (-ut.inner_radius, 0), (0, ut.inner_radius), (0, -ut.inner_radius)):
                px, py = cand[:, 0] + ex, cand[:, 1] + ey
                inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
                cx = np.clip(px.astype(int), 0, w - 1)
                cy = np.clip(py.astype(int), 0, h - 1)
                ok &= inside & pathing[cx, cy]
        for _ in range(g.count):
            free = ok.copy()
            for ox, oy, orad, olayer in occupied:
                if olayer == layer:
                    free &= np.hypot(cand[:, 0] - ox, cand[:, 1] - oy) >= orad + ut.inner_radius - 1e-9
            idx = np.flatnonzero(free)
            if len(idx) == 0:
                raise MapError(f"map {spec.name}: no free walkable spot within 10 of {list(g.at)} for a {g.unit}")
            x, y = (float(v) for v in cand[idx[0]])
            occupied.append((x, y, ut.inner_radius, layer))
            placed.append((g.unit, x, y))
    return placed
