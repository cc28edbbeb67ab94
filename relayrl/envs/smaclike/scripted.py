"""Scripted policies for sanity checks, benchmarks and demos (vectorised over battles).

Each takes a :class:`~relayrl.envs.smaclike.features.Perspective`, the available actions
[E, n_agents, n_actions] and a numpy Generator, and returns actions [E, n_agents].
"""

from __future__ import annotations

import numpy as np

from relayrl.envs.smaclike.features import N_ACTIONS_NO_ATTACK, Perspective


def random_policy(persp: Perspective, avail: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniformly random among the available actions of each agent."""
    u = rng.random(avail.shape) * avail
    return np.argmax(u + avail * 1e-9, axis=-1)


def idle_policy(persp: Perspective, avail: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Doing nothing: stop when alive, no-op when dead."""
    return np.where(avail[..., 0] == 1, 0, 1)


def focus_fire_policy(persp: Perspective, avail: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shoot the weakest enemy (health + shield) already within weapon range, the closer one among
    equally weak; if none is in range, attack the closest enemy that can be attacked; otherwise
    walk towards the closest enemy. Agents thus finish off hurt enemies without leaving their
    formation to chase a weak one that is out of range.

    "Weakest" counts the shots already committed this step: agents choose in index order, and
    one whose weapon fires within this step subtracts its damage from its target, so once a
    target is certain to die the next agents shoot the next weakest instead of idling on a
    corpse (SC2 drops an attack on a unit that died earlier in the step). Cooldowns are in
    SMAC's state, so a centralised controller sees them too.

    Medivacs heal the most hurt ally in reach, otherwise follow the closest ally.
    """
    b = persp.b
    E, A, _ = avail.shape
    N = persp.n_enemies
    opp_hp = b.hp[:, persp.opp] + b.shield[:, persp.opp]  # [E, N]
    can_att = avail[..., N_ACTIONS_NO_ATTACK:] == 1  # [E, A, N] (for a medivac: heal ally j)
    dist = b.dist[:, persp.own[:, None], persp.opp[None, :]]  # [E, A, N]
    gap = dist - b.radius[persp.own][None, :, None] - b.radius[persp.opp][None, None, :]
    in_range = can_att & (gap <= b.range[persp.own][None, :, None] + 1e-6)
    # in range: health first (distance only breaks ties; health moves in steps >= 0.5), ranked
    # below every target out of range, which are ranked by distance
    score = np.where(in_range, opp_hp[:, None, :] + 1e-3 * dist - 1e9, np.where(can_att, dist, np.inf))
    if persp.any_medivac:
        own_frac = np.zeros((E, N))
        own_frac[:, : persp.n_agents] = b.hp[:, persp.own] / persp.own_hp_max
        score = np.where(persp.medivac[None, :, None], np.where(can_att & (own_frac[:, None, :] < 1.0), own_frac[:, None, :], np.inf), score)
    best = np.argmin(score, axis=-1)
    has = np.isfinite(np.min(score, axis=-1))
    # walk towards the closest live enemy (medivacs: the closest ally that is not a medivac)
    d = np.where(b.alive[:, None, persp.opp], b.dist[:, persp.own[:, None], persp.opp[None, :]], np.inf)
    near = persp.opp[np.argmin(d, axis=-1)]
    if persp.any_medivac:
        dd = np.where(b.alive[:, None, persp.own] & persp.healable[None, None, :], b.dist[:, persp.own[:, None], persp.own[None, :]], np.inf)
        near = np.where(persp.medivac[None], persp.own[np.argmin(dd, axis=-1)], near)
    vec = b.pos[np.arange(E)[:, None], near] - b.pos[:, persp.own]
    horizontal = np.abs(vec[..., 0]) > np.abs(vec[..., 1])
    first = np.where(horizontal, np.where(vec[..., 0] > 0, 4, 5), np.where(vec[..., 1] > 0, 2, 3))
    second = np.where(horizontal, np.where(vec[..., 1] > 0, 2, 3), np.where(vec[..., 0] > 0, 4, 5))
    ok1 = np.take_along_axis(avail, first[..., None], axis=-1)[..., 0] == 1
    ok2 = np.take_along_axis(avail, second[..., None], axis=-1)[..., 0] == 1
    move = np.where(ok1, first, np.where(ok2, second, 1))
    act = np.where(has, N_ACTIONS_NO_ATTACK + best, move)
    act = _spread_overkill(persp, act, opp_hp, in_range, dist)
    return np.where(avail[..., 0] == 1, 0, act)


def _spread_overkill(persp: Perspective, act: np.ndarray, opp_hp: np.ndarray, in_range: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Re-pick each agent's in-range target as the weakest one not yet doomed by the shots of the
    agents before it this step (see :func:`focus_fire_policy`)."""
    b = persp.b
    E, A = act.shape
    rows = np.arange(E)
    left = opp_hp.copy()  # health + shield still standing after the shots committed so far
    per_shot = np.maximum(b.hit_damage[np.ix_(persp.own, persp.opp)] - b.armor[persp.opp][None, :], 0.5)
    per_shot = per_shot * b.attacks[persp.own][:, None]  # [A, N]
    fires = b.cooldown[:, persp.own] <= b.step_mul  # weapon ready within this step [E, A]
    out = act.copy()
    for a in range(A):
        if persp.any_medivac and persp.medivac[a]:
            continue
        score = np.where(in_range[:, a] & (left > 0), left + 1e-3 * dist[:, a], np.inf)
        t = np.argmin(score, axis=-1)
        has = np.isfinite(score[rows, t])
        out[has, a] = N_ACTIONS_NO_ATTACK + t[has]  # else keep: every target in range is doomed
        hit = has & fires[:, a]
        left[rows[hit], t[hit]] -= per_shot[a, t[hit]]
    return out


POLICIES = {"random": random_policy, "idle": idle_policy, "focus_fire": focus_fire_policy}
