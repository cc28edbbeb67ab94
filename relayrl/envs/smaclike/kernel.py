"""The compiled inner loop of :meth:`Battle.step` (numba), one call for all E battles.

numpy alone spends almost all its time on per-call overhead here (a 3m battle has 6 units,
so every array operation is tiny): ``benchmarks/smaclike_throughput.py`` measured about
1,000 single-env steps per second, half the target. The same rules compiled run an order
of magnitude faster for one battle and stay fast for 64. The rules are those described in
``battle.py``; every quantity is in game loops.
"""

from __future__ import annotations

import math

import numba
import numpy as np

NONE, STOP, MOVE, ATTACK, HEAL, AMOVE = 0, 1, 2, 3, 4, 5
ORDER_ATTACK_MOVE, ORDER_ATTACK_ALLIES, ORDER_HOLD = 0, 1, 2
# Collision relaxation: at most this many passes per step, stopping once no two ground units
# overlap by more than the tolerance (map units; a zergling's radius is 0.375).
SEPARATION_PASSES = 30
SEPARATION_TOLERANCE = 0.02
# The passes only look at pairs found within the touching distance plus NEAR_MARGIN, a list
# rebuilt every NEAR_REFRESH passes (a pass moves a unit by far less than the margin).
NEAR_MARGIN = 0.25
NEAR_REFRESH = 6
# Weapon range (edge to edge) below which a unit fights in melee (zealot 0.1, zergling 0.1, baneling 0.25).
MELEE_RANGE = 1.0


@numba.njit(cache=True, inline="always")
def _walkable(x, y, pathing):
    w, h = pathing.shape
    if x < 0.0 or y < 0.0 or x >= w or y >= h:
        return False
    return pathing[int(x), int(y)]


@numba.njit(cache=True, inline="always")
def _nudge(e, i, px, py, pos, pathing):
    """Move unit i by (px, py) if it stays on walkable ground, else slide along the wall."""
    if px == 0.0 and py == 0.0:
        return
    nx, ny = pos[e, i, 0] + px, pos[e, i, 1] + py
    if _walkable(nx, ny, pathing):
        pos[e, i, 0], pos[e, i, 1] = nx, ny
    elif _walkable(nx, pos[e, i, 1], pathing):
        pos[e, i, 0] = nx
    elif _walkable(pos[e, i, 0], ny, pathing):
        pos[e, i, 1] = ny


@numba.njit(cache=True, inline="always")
def _deal(e, v, raw, n_hits, shield, armor, d_shield, d_hp, damaged):
    """Accumulate ``n_hits`` hits of ``raw`` damage on unit v: shields absorb first, then armor per hit (min 0.5)."""
    for _ in range(n_hits):
        sh = shield[e, v] - d_shield[v]
        to_sh = min(max(sh, 0.0), raw)
        rest = raw - to_sh
        d_shield[v] += to_sh
        if rest > 0:
            d_hp[v] += max(rest - armor[v], 0.5)
    damaged[v] = True


@numba.njit(cache=True, inline="always")
def _burst(e, i, alive, is_air, team, dist, radius, splash_radius, hit_damage, attacks, shield, armor, d_shield, d_hp, damaged):
    """A baneling's Volatile Burst around itself: every enemy ground unit whose disc reaches within the
    splash radius takes the full hit (base + bonus vs light); friendly units are never hurt."""
    for v in range(alive.shape[1]):
        if not alive[e, v] or is_air[v] or team[v] == team[i]:
            continue
        if dist[e, i, v] <= splash_radius[i] + radius[v]:
            _deal(e, v, hit_damage[i, v], int(attacks[i]), shield, armor, d_shield, d_hp, damaged)


@numba.njit(cache=True)
def _geometry(pos, dist, delta):
    E, U = pos.shape[0], pos.shape[1]
    for e in range(E):
        for i in range(U):
            for j in range(U):
                dx = pos[e, j, 0] - pos[e, i, 0]
                dy = pos[e, j, 1] - pos[e, i, 1]
                delta[e, i, j, 0] = dx
                delta[e, i, j, 1] = dy
                dist[e, i, j] = math.sqrt(dx * dx + dy * dy)


@numba.njit(cache=True)
def step_kernel(
    # state, updated in place: [E, U] (pos [E, U, 2]; dist [E, U, U]; delta [E, U, U, 2])
    pos, hp, shield, energy, cooldown, since_damage, alive, ai_target, hunting, shot_target, heal_target, dist, delta,
    # orders [E, U] (dest [E, U, 2]) and the weapon random delay of this step [E, U]
    kind, dest, target, jitter,
    # static per unit [U] / per pair [U, U]
    team, radius, speed, sight, rng_, cooldown_loops, attacks, hp_max, shield_max, armor, energy_max, energy_regen,
    heal_rate, heal_cost, heal_range, has_weapon, is_healer, is_air, static, zerg, suicide, burst_on_death,
    inner_radius, solid, threat,
    splash_line, splash_burst, splash_radius, line_half, can_hit, can_heal, hit_damage,
    # map
    pathing, path_dist, next_hop, has_paths, order_kind, order_to, loops,
    shield_regen_per_loop, shield_regen_delay, zerg_regen_per_loop,
):
    E, U = hp.shape[0], hp.shape[1]
    w, h = pathing.shape
    att = np.empty(U, np.int64)
    heal = np.empty(U, np.int64)
    need = np.empty(U)
    travel = np.empty(U)
    goal = np.empty((U, 2))
    new = np.empty((U, 2))
    fires = np.zeros(U, np.bool_)
    heals = np.zeros(U, np.bool_)
    d_shield = np.zeros(U)
    d_hp = np.zeros(U)
    damaged = np.zeros(U, np.bool_)
    burst_done = np.zeros(U, np.bool_)
    fire_at = np.empty(U)
    near_i = np.empty(U * (U - 1) // 2 + 1, np.int64)
    near_j = np.empty(U * (U - 1) // 2 + 1, np.int64)
    lost_before = np.zeros(U)
    for e in range(E):
        # ---------------------------------------------------------------- targets
        for i in range(U):
            att[i] = -1
            heal[i] = -1
            if not alive[e, i]:
                kind[e, i] = NONE
                continue
            k = kind[e, i]
            if k == ATTACK:
                att[i] = target[e, i]
            elif k == HEAL:
                heal[i] = target[e, i]
            elif k == AMOVE:
                # built-in: keep a live target still in sight, else the closest in sight (threats
                # first); a melee unit whose target is out of its reach (often: behind its own
                # friends, who are solid) while another enemy is within it attacks that one
                best, best_score = -1, np.inf
                near_t, near_d = -1, np.inf
                cur = ai_target[e, i]
                keep = False
                cur_in_reach = False
                for j in range(U):
                    if not (alive[e, j] and can_hit[i, j]) or dist[e, i, j] > sight[i]:
                        continue
                    in_reach = dist[e, i, j] - radius[i] - radius[j] <= rng_[i] + 1e-6
                    if order_kind == ORDER_HOLD and team[i] == 1 and not in_reach:
                        continue
                    if j == cur:
                        keep = True
                        cur_in_reach = in_reach
                    score = dist[e, i, j] + (0.0 if threat[j] else 1000.0)
                    if score < best_score:
                        best, best_score = j, score
                    if in_reach and score < near_d:
                        near_t, near_d = j, score
                t = cur if keep else best
                if keep and not cur_in_reach and near_t >= 0 and rng_[i] < MELEE_RANGE:
                    t = near_t
                if not has_weapon[i]:
                    t = -1
                ai_target[e, i] = t
                att[i] = t
                if is_healer[i]:
                    hb, hd = -1, np.inf
                    for j in range(U):
                        if alive[e, j] and hp[e, j] < hp_max[j] and can_heal[i, j] and dist[e, i, j] <= sight[i] and dist[e, i, j] < hd:
                            hb, hd = j, dist[e, i, j]
                    heal[i] = hb
                if order_kind != ORDER_HOLD and not static[i]:
                    if math.hypot(dest[e, i, 0] - pos[e, i, 0], dest[e, i, 1] - pos[e, i, 1]) < 1.0:
                        hunting[e, i] = True
                if hunting[e, i]:
                    nb, nd = -1, np.inf
                    for j in range(U):
                        if alive[e, j] and team[j] != team[i] and dist[e, i, j] < nd:
                            nb, nd = j, dist[e, i, j]
                    if nb >= 0:
                        dest[e, i, 0] = pos[e, nb, 0]
                        dest[e, i, 1] = pos[e, nb, 1]
            # an attack needs a live target the weapon can hit; a heal a live biological ally
            if att[i] >= 0 and not (alive[e, att[i]] and can_hit[i, att[i]]):
                att[i] = -1
            if heal[i] >= 0 and not (alive[e, heal[i]] and can_heal[i, heal[i]]):
                heal[i] = -1
        # --------------------------------------------------------------- movement
        for i in range(U):
            new[i, 0] = pos[e, i, 0]
            new[i, 1] = pos[e, i, 1]
            need[i] = 0.0
            travel[i] = 0.0
            if not alive[e, i]:
                continue
            k = kind[e, i]
            t = att[i] if att[i] >= 0 else heal[i]
            if t >= 0:
                reach = rng_[i] if att[i] >= 0 else heal_range[i]
                need[i] = dist[e, i, t] - radius[i] - radius[t] - reach
                goal[i, 0], goal[i, 1] = pos[e, t, 0], pos[e, t, 1]
            elif k == MOVE or k == AMOVE:
                need[i] = math.hypot(dest[e, i, 0] - pos[e, i, 0], dest[e, i, 1] - pos[e, i, 1])
                goal[i, 0], goal[i, 1] = dest[e, i, 0], dest[e, i, 1]
            if need[i] <= 0.0:
                need[i] = 0.0
                continue
            travel[i] = need[i] / speed[i] if speed[i] > 0 else np.inf
            step_len = min(need[i], speed[i] * loops)
            if step_len <= 1e-9 or static[i]:
                continue
            ax, ay = goal[i, 0], goal[i, 1]
            if has_paths and not is_air[i]:
                # steer to the next cell of the shortest walk when a wall blocks the straight line
                cx, cy = min(max(int(pos[e, i, 0]), 0), w - 1), min(max(int(pos[e, i, 1]), 0), h - 1)
                gx, gy = min(max(int(ax), 0), w - 1), min(max(int(ay), 0), h - 1)
                c, g = cx * h + cy, gx * h + gy
                dw = path_dist[c, g]
                ddx, ddy = abs(cx - gx), abs(cy - gy)
                octile = max(ddx, ddy) + (math.sqrt(2.0) - 1.0) * min(ddx, ddy)
                if dw > octile + 1e-3 and dw < np.inf:
                    hop = next_hop[c, g]
                    ax, ay = hop // h + 0.5, hop % h + 0.5
            vx, vy = ax - pos[e, i, 0], ay - pos[e, i, 1]
            norm = max(math.hypot(vx, vy), 1e-12)
            nx, ny = pos[e, i, 0] + vx / norm * step_len, pos[e, i, 1] + vy / norm * step_len
            if is_air[i]:
                new[i, 0] = min(max(nx, 0.0), w - 1e-6)
                new[i, 1] = min(max(ny, 0.0), h - 1e-6)
            elif _walkable(nx, ny, pathing):
                new[i, 0], new[i, 1] = nx, ny
            elif _walkable(nx, pos[e, i, 1], pathing):  # slide along the wall
                new[i, 0] = nx
            elif _walkable(pos[e, i, 0], ny, pathing):
                new[i, 1] = ny
        for i in range(U):
            pos[e, i, 0], pos[e, i, 1] = new[i, 0], new[i, 1]
        # ------------------------------------------- push overlapping ground units apart
        # SC2's ground units are solid discs of their inner radius (marine, zergling, baneling:
        # 0.375, as their radius; zealot, marauder, hydralisk: 0.375 inside a larger radius;
        # the colossus steps over them), so a clump keeps its units that far apart instead of
        # stacking onto one point. Each pass visits every overlapping pair and moves both units
        # half the overlap apart (a static unit does not move; the other takes all of it), in
        # place, sweeping the pairs forwards and backwards on alternate passes so no unit index
        # is favoured, until the deepest overlap is below SEPARATION_TOLERANCE.
        n_near = 0
        for sweep in range(SEPARATION_PASSES):
            if sweep % NEAR_REFRESH == 0:
                # broad phase: the pairs close enough to touch during the next passes
                n_near = 0
                for i in range(U):
                    if not alive[e, i] or not solid[i]:
                        continue
                    for j in range(i + 1, U):
                        if not alive[e, j] or not solid[j] or (static[i] and static[j]):
                            continue
                        reach = inner_radius[i] + inner_radius[j] + NEAR_MARGIN
                        dx, dy = pos[e, i, 0] - pos[e, j, 0], pos[e, i, 1] - pos[e, j, 1]
                        if abs(dx) < reach and abs(dy) < reach and dx * dx + dy * dy < reach * reach:
                            near_i[n_near], near_j[n_near] = i, j
                            n_near += 1
                if n_near == 0:
                    break
            deepest = 0.0
            for q in range(n_near):
                k = q if sweep % 2 == 0 else n_near - 1 - q
                i, j = near_i[k], near_j[k]
                dx, dy = pos[e, i, 0] - pos[e, j, 0], pos[e, i, 1] - pos[e, j, 1]
                d = math.sqrt(dx * dx + dy * dy)
                over = inner_radius[i] + inner_radius[j] - d
                if over <= 1e-9:
                    continue
                deepest = max(deepest, over)
                if d > 1e-9:
                    ux, uy = dx / d, dy / d
                else:  # coincident: a fixed direction per pair
                    ang = i * 2.399963 + j * 0.7548777
                    ux, uy = math.cos(ang), math.sin(ang)
                share_i = 0.0 if static[i] else (1.0 if static[j] else 0.5)
                _nudge(e, i, over * share_i * ux, over * share_i * uy, pos, pathing)
                _nudge(e, j, -over * (1.0 - share_i) * ux, -over * (1.0 - share_i) * uy, pos, pathing)
            if deepest < SEPARATION_TOLERANCE:
                break
        for i in range(U):
            for j in range(U):
                dx = pos[e, j, 0] - pos[e, i, 0]
                dy = pos[e, j, 1] - pos[e, i, 1]
                delta[e, i, j, 0] = dx
                delta[e, i, j, 1] = dy
                dist[e, i, j] = math.sqrt(dx * dx + dy * dy)
        # ------------------------------------------------------------------ attacks
        for i in range(U):
            fires[i] = False
            heals[i] = False
            burst_done[i] = False
            d_shield[i] = 0.0
            d_hp[i] = 0.0
            damaged[i] = False
            shot_target[e, i] = -1
            heal_target[e, i] = -1
            fire_at[i] = max(cooldown[e, i], travel[i])  # loop of this step at which the shot goes off
            if att[i] >= 0:
                t = att[i]
                if dist[e, i, t] - radius[i] - radius[t] <= rng_[i] + 1e-6 and fire_at[i] < loops:
                    fires[i] = True
            if heal[i] >= 0:
                t = heal[i]
                if dist[e, i, t] - radius[i] - radius[t] <= heal_range[i] + 1e-6:
                    heals[i] = True
                    heal_target[e, i] = t
        # Attacks go off in the order of the game loop they happen on within the step; per victim,
        # shields absorb first, then armor per hit (min 0.5). A unit killed on an earlier loop does
        # not attack, and an attack whose target died on an earlier loop does not happen: SC2
        # drops the order, so no shot is wasted and no baneling thrown away, and the cooldown is
        # not spent (the unit picks a new target at the next step). Attacks on the same loop are
        # simultaneous: the checks look at damage from earlier loops only.
        order = np.argsort(fire_at)
        group_at = -1.0
        for k in range(U):
            i = order[k]
            if not fires[i]:
                continue
            if fire_at[i] > group_at:
                group_at = fire_at[i]
                for v in range(U):
                    lost_before[v] = d_hp[v]
            t = att[i]
            n_hits = int(attacks[i])
            if hp[e, i] - lost_before[i] <= 0.0:
                fires[i] = False  # killed before its shot
                continue
            if hp[e, t] - lost_before[t] <= 0.0:
                fires[i] = False  # its target is dead already
                continue
            shot_target[e, i] = t
            if splash_burst[i]:
                burst_done[i] = True
                _burst(e, i, alive, is_air, team, dist, radius, splash_radius, hit_damage, attacks, shield, armor, d_shield, d_hp, damaged)
            elif splash_line[i]:
                axx, axy = pos[e, t, 0] - pos[e, i, 0], pos[e, t, 1] - pos[e, i, 1]
                an = max(math.hypot(axx, axy), 1e-12)
                axx, axy = axx / an, axy / an
                for v in range(U):
                    if not alive[e, v] or is_air[v] or team[v] == team[i]:
                        continue
                    rx, ry = pos[e, v, 0] - pos[e, t, 0], pos[e, v, 1] - pos[e, t, 1]
                    along = abs(-rx * axy + ry * axx)
                    across = abs(rx * axx + ry * axy)
                    if v == t or (along <= line_half[i] + radius[v] and across <= radius[v]):
                        _deal(e, v, hit_damage[i, v], n_hits, shield, armor, d_shield, d_hp, damaged)
            else:
                _deal(e, t, hit_damage[i, t], n_hits, shield, armor, d_shield, d_hp, damaged)
        for i in range(U):
            if fires[i]:
                cooldown[e, i] = max(fire_at[i] + cooldown_loops[i] + jitter[e, i] - loops, 0.0)
            else:
                cooldown[e, i] = max(cooldown[e, i] - loops, 0.0)
        for v in range(U):
            shield[e, v] -= d_shield[v]
            hp[e, v] -= d_hp[v]
        # A baneling killed before it could attack still bursts as it dies (SC2's BanelingExplode
        # behaviour); a burst can kill further banelings, whose bursts follow in the same step.
        while True:
            chained = False
            for v in range(U):
                d_shield[v] = 0.0
                d_hp[v] = 0.0
            for i in range(U):
                if alive[e, i] and burst_on_death[i] and not burst_done[i] and hp[e, i] <= 0:
                    burst_done[i] = True
                    chained = True
                    _burst(e, i, alive, is_air, team, dist, radius, splash_radius, hit_damage, attacks, shield, armor, d_shield, d_hp, damaged)
            if not chained:
                break
            for v in range(U):
                shield[e, v] -= d_shield[v]
                hp[e, v] -= d_hp[v]
        # ------------------------------------------------------------------- heals
        for i in range(U):
            if not heals[i]:
                continue
            t = heal[i]
            if not alive[e, t] or hp[e, t] <= 0:
                continue
            want = heal_rate[i] * max(loops - travel[i], 0.0)
            afford = energy[e, i] / max(heal_cost[i], 1e-12)
            amount = max(min(want, afford, hp_max[t] - hp[e, t]), 0.0)
            energy[e, i] -= amount * heal_cost[i]
            hp[e, t] = min(hp[e, t] + amount, hp_max[t])
        # ------------------------------------------------ regeneration and deaths
        for i in range(U):
            if alive[e, i] and not damaged[i]:
                regen = min(max(since_damage[e, i] + loops - shield_regen_delay, 0.0), loops)
                shield[e, i] = min(shield[e, i] + shield_regen_per_loop * regen, shield_max[i])
            since_damage[e, i] = 0.0 if damaged[i] else since_damage[e, i] + loops
            if alive[e, i] and hp[e, i] > 0 and zerg[i]:
                hp[e, i] = min(hp[e, i] + zerg_regen_per_loop * loops, hp_max[i])
            energy[e, i] = min(energy[e, i] + energy_regen[i] * loops, energy_max[i])
            if alive[e, i] and (hp[e, i] <= 0 or (fires[i] and suicide[i])):
                alive[e, i] = False
                hp[e, i] = 0.0
                shield[e, i] = 0.0
                energy[e, i] = 0.0
