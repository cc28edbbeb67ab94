"""Compiled (numba) loops that fill SMAC's available actions, observations and state.

They write the layouts documented in ``features.py`` for all battles in one call; the
reasons for compiling are those of ``kernel.py`` (tiny arrays, per-call overhead).
"""

from __future__ import annotations

import numba

SIGHT = 9.0
SHOOT = 6.0


@numba.njit(cache=True)
def avail_kernel(pos, alive, dist, own, opp, medivac, healable, pathing, m, out):
    """out[E, A, 6 + N] (int32): SMAC's available actions."""
    E, A = out.shape[0], out.shape[1]
    N = opp.shape[0]
    w, h = pathing.shape
    for e in range(E):
        for a in range(A):
            u = own[a]
            for k in range(out.shape[2]):
                out[e, a, k] = 0
            if not alive[e, u]:
                out[e, a, 0] = 1
                continue
            out[e, a, 1] = 1
            x, y = pos[e, u, 0], pos[e, u, 1]
            for k in range(4):
                px = x + (m if k == 2 else (-m if k == 3 else 0.0))
                py = y + (m if k == 0 else (-m if k == 1 else 0.0))
                xi, yi = int(px), int(py)  # int() truncates towards zero, as in SMAC
                if 0 <= xi < w and 0 <= yi < h and pathing[xi, yi]:
                    out[e, a, 2 + k] = 1
            if medivac[a]:
                for j in range(min(A, N)):
                    t = own[j]
                    if alive[e, t] and healable[j] and dist[e, u, t] <= SHOOT:
                        out[e, a, 6 + j] = 1
            else:
                for j in range(N):
                    t = opp[j]
                    if alive[e, t] and dist[e, u, t] <= SHOOT:
                        out[e, a, 6 + j] = 1


@numba.njit(cache=True)
def _unit_feats(out, base, e, t, hp, shield, hp_max, shield_max, with_health, with_shield):
    if with_health:
        out[base] = hp[e, t] / hp_max[t]
        base += 1
        if with_shield:
            out[base] = shield[e, t] / max(shield_max[t], 1e-12)
            base += 1
    return base


@numba.njit(cache=True)
def obs_kernel(
    pos, alive, dist, delta, hp, shield, hp_max, shield_max, own, opp, others, own_type, opp_type,
    avail, last_action, t_frac, pathing, height, surround,
    all_health, own_health, obs_last_action, obs_pathing, obs_height, obs_timestep, sh_ally, sh_enemy, out,
):
    """out[E, A, obs_size] (float32): SMAC's observation of every agent."""
    E, A, size = out.shape
    N = opp.shape[0]
    bits = own_type.shape[1]
    n_act = avail.shape[2]
    w, h = pathing.shape
    nfe = 4 + bits + ((1 + sh_enemy) if all_health else 0)
    nfa = 4 + bits + ((1 + sh_ally) if all_health else 0) + (n_act if obs_last_action else 0)
    for e in range(E):
        for a in range(A):
            row = out[e, a]
            row[:] = 0.0
            u = own[a]
            if not alive[e, u]:
                continue
            for k in range(4):
                row[k] = avail[e, a, 2 + k]
            i = 4
            xi, yi = int(pos[e, u, 0]), int(pos[e, u, 1])
            if obs_pathing:
                for k in range(8):
                    px, py = xi + surround[k, 0], yi + surround[k, 1]
                    row[i] = pathing[px, py] if (0 <= px < w and 0 <= py < h) else 1.0
                    i += 1
            if obs_height:
                for k in range(9):
                    px, py = xi + surround[k, 0], yi + surround[k, 1]
                    row[i] = height[px, py] if (0 <= px < w and 0 <= py < h) else 1.0
                    i += 1
            for j in range(N):
                t = opp[j]
                base = i + j * nfe
                d = dist[e, u, t]
                if alive[e, t] and d < SIGHT:
                    row[base] = avail[e, a, 6 + j]
                    row[base + 1] = d / SIGHT
                    row[base + 2] = delta[e, u, t, 0] / SIGHT
                    row[base + 3] = delta[e, u, t, 1] / SIGHT
                    b = _unit_feats(row, base + 4, e, t, hp, shield, hp_max, shield_max, all_health, sh_enemy)
                    for k in range(bits):
                        row[b + k] = opp_type[j, k]
            i += N * nfe
            for k2 in range(A - 1):
                ja = others[a, k2]
                t = own[ja]
                base = i + k2 * nfa
                d = dist[e, u, t]
                if alive[e, t] and d < SIGHT:
                    row[base] = 1.0
                    row[base + 1] = d / SIGHT
                    row[base + 2] = delta[e, u, t, 0] / SIGHT
                    row[base + 3] = delta[e, u, t, 1] / SIGHT
                    b = _unit_feats(row, base + 4, e, t, hp, shield, hp_max, shield_max, all_health, sh_ally)
                    for k in range(bits):
                        row[b + k] = own_type[ja, k]
                    b += bits
                    if obs_last_action:
                        for k in range(n_act):
                            row[b + k] = last_action[e, ja, k]
            i += (A - 1) * nfa
            i = _unit_feats(row, i, e, u, hp, shield, hp_max, shield_max, own_health, sh_ally)
            for k in range(bits):
                row[i + k] = own_type[a, k]
            i += bits
            if obs_timestep:
                row[i] = t_frac[e]
                i += 1


@numba.njit(cache=True)
def state_kernel(
    pos, alive, hp, shield, cooldown, energy, hp_max, shield_max, max_cd, medivac, own, opp, own_type, opp_type,
    center, max_dist, last_action, t_frac, sh_ally, sh_enemy, state_last_action, state_timestep, out,
):
    """out[E, state_size] (float32): SMAC's global state."""
    E = out.shape[0]
    A, N = own.shape[0], opp.shape[0]
    bits = own_type.shape[1]
    nfa = 4 + sh_ally + bits
    nfe = 3 + sh_enemy + bits
    for e in range(E):
        s = out[e]
        s[:] = 0.0
        for a in range(A):
            u = own[a]
            if not alive[e, u]:
                continue
            b = a * nfa
            s[b] = hp[e, u] / hp_max[u]
            s[b + 1] = (energy[e, u] if medivac[a] else cooldown[e, u]) / max_cd[a]
            s[b + 2] = (pos[e, u, 0] - center[0]) / max_dist[0]
            s[b + 3] = (pos[e, u, 1] - center[1]) / max_dist[1]
            if sh_ally:
                s[b + 4] = shield[e, u] / max(shield_max[u], 1e-12)
            for k in range(bits):
                s[b + nfa - bits + k] = own_type[a, k]
        off = A * nfa
        for j in range(N):
            t = opp[j]
            if not alive[e, t]:
                continue
            b = off + j * nfe
            s[b] = hp[e, t] / hp_max[t]
            s[b + 1] = (pos[e, t, 0] - center[0]) / max_dist[0]
            s[b + 2] = (pos[e, t, 1] - center[1]) / max_dist[1]
            if sh_enemy:
                s[b + 3] = shield[e, t] / max(shield_max[t], 1e-12)
            for k in range(bits):
                s[b + nfe - bits + k] = opp_type[j, k]
        i = off + N * nfe
        if state_last_action:
            for a in range(A):
                for k in range(last_action.shape[2]):
                    s[i] = last_action[e, a, k]
                    i += 1
        if state_timestep:
            s[i] = t_frac[e]


@numba.njit(cache=True)
def reward_kernel(
    hp, shield, alive, own, opp, prev_own, prev_opp, dead_own, dead_opp, own_medivac, opp_medivac,
    sparse, only_positive, death_value, neg_scale, reward, code, n_dead_own, n_dead_opp,
):
    """SMAC's reward_battle and update_units' end code (2 ongoing, 1 won, -1 lost, 0 draw) per battle."""
    E = hp.shape[0]
    A, N = own.shape[0], opp.shape[0]
    any_med_own = own_medivac.any()
    any_med_opp = opp_medivac.any()
    for e in range(E):
        d_ally, d_enemy, d_deaths = 0.0, 0.0, 0.0
        alive_own, alive_opp, alive_own_non_med, alive_opp_med = 0, 0, 0, 0
        for a in range(A):
            u = own[a]
            if alive[e, u]:
                alive_own += 1
                if not own_medivac[a]:
                    alive_own_non_med += 1
            if not dead_own[e, a]:
                if not alive[e, u]:
                    dead_own[e, a] = True
                    if not only_positive:
                        d_deaths -= death_value * neg_scale
                    d_ally += prev_own[e, a] * neg_scale
                else:
                    d_ally += neg_scale * (prev_own[e, a] - hp[e, u] - shield[e, u])
        for j in range(N):
            t = opp[j]
            if alive[e, t]:
                alive_opp += 1
                if opp_medivac[j]:
                    alive_opp_med += 1
            if not dead_opp[e, j]:
                if not alive[e, t]:
                    dead_opp[e, j] = True
                    d_deaths += death_value
                    d_enemy += prev_opp[e, j]
                else:
                    d_enemy += prev_opp[e, j] - hp[e, t] - shield[e, t]
        if sparse:
            reward[e] = 0.0
        elif only_positive:
            reward[e] = abs(d_enemy + d_deaths)  # abs: enemy shield regeneration
        else:
            reward[e] = d_enemy + d_deaths - d_ally
        n_dead_own[e] = A - alive_own
        n_dead_opp[e] = N - alive_opp
        only_med_own = any_med_own and alive_own_non_med == 0
        only_med_opp = any_med_opp and alive_opp == 1 and alive_opp_med == 1
        if (alive_own == 0 and alive_opp > 0) or only_med_own:
            code[e] = -1
        elif (alive_own > 0 and alive_opp == 0) or only_med_opp:
            code[e] = 1
        elif alive_own == 0 and alive_opp == 0:
            code[e] = 0
        else:
            code[e] = 2
