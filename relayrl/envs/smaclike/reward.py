"""SMAC's reward and end-of-battle rules, for one team's perspective over E battles."""

from __future__ import annotations

import numpy as np

from relayrl.envs.smaclike.config import SMACLikeConfig
from relayrl.envs.smaclike.feature_kernels import reward_kernel
from relayrl.envs.smaclike.features import Perspective

# game end codes, as SMAC's update_units returns them
ONGOING, WON, LOST, DRAW = 2, 1, -1, 0


class Scorekeeper:
    """Dense SMAC reward of one team: damage and kills dealt (and optionally taken), scaled.

    Per step (``reward_battle``)::

        delta_enemy  = sum over enemies alive last step of (hp + shield lost); all of it on death
        delta_deaths = reward_death_value * (enemies killed)
                       [- reward_death_value * neg_scale * (allies killed) if not only_positive]
        delta_ally   = neg_scale * (ally hp + shield lost)
        r = |delta_enemy + delta_deaths|                if reward_only_positive
        r = delta_enemy + delta_deaths - delta_ally      otherwise

    plus ``reward_win`` / ``reward_defeat`` at the end (``reward_sparse``: just +1 / -1),
    then divided by ``max_reward / reward_scale_rate`` with ``max_reward = n_enemies *
    reward_death_value + reward_win + sum of the enemies' max health and shield``; a perfect
    episode thus returns ``reward_scale_rate`` (20).
    """

    def __init__(self, persp: Perspective, cfg: SMACLikeConfig):
        self.p = persp
        self.cfg = cfg
        b = persp.b
        opp = persp.opp
        self.max_reward = float(
            persp.n_enemies * cfg.reward_death_value + cfg.reward_win + np.sum(b.hp_max[opp] + b.shield_max[opp])
        )
        E = b.E
        self.dead_own = np.zeros((E, persp.n_agents), dtype=bool)
        self.dead_opp = np.zeros((E, persp.n_enemies), dtype=bool)
        self.prev_own = np.zeros((E, persp.n_agents))
        self.prev_opp = np.zeros((E, persp.n_enemies))
        self.own_medivac = np.array([b.is_healer[u] for u in persp.own]) & (b.spec.map_type == "MMM")
        self.opp_medivac = np.array([b.is_healer[u] for u in persp.opp]) & (b.spec.map_type == "MMM")

    def reset(self, mask: np.ndarray) -> None:
        self.dead_own[mask] = False
        self.dead_opp[mask] = False

    def before_step(self) -> None:
        b, p = self.p.b, self.p
        self.prev_own = b.hp[:, p.own] + b.shield[:, p.own]
        self.prev_opp = b.hp[:, p.opp] + b.shield[:, p.opp]

    def after_step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(reward before scaling and end bonus [E], end code [E], dead own count, dead opp count)."""
        b, p, cfg = self.p.b, self.p, self.cfg
        E = b.E
        reward, code = np.empty(E), np.empty(E, dtype=np.int64)
        dead_own, dead_opp = np.empty(E, dtype=np.int64), np.empty(E, dtype=np.int64)
        reward_kernel(
            b.hp, b.shield, b.alive, p.own, p.opp, self.prev_own, self.prev_opp, self.dead_own, self.dead_opp,
            self.own_medivac, self.opp_medivac, cfg.reward_sparse, cfg.reward_only_positive,
            float(cfg.reward_death_value), float(cfg.reward_negative_scale), reward, code, dead_own, dead_opp,
        )  # fmt: skip
        return reward, code, dead_own, dead_opp

    def finish(self, reward: np.ndarray, code: np.ndarray) -> np.ndarray:
        """Add the win / defeat reward and scale, as SMAC's ``step`` does."""
        cfg = self.cfg
        reward = reward.astype(np.float64)
        if cfg.reward_sparse:
            reward = np.where(code == WON, 1.0, np.where(code == LOST, -1.0, reward))
        else:
            reward = reward + np.where(code == WON, cfg.reward_win, 0.0) + np.where(code == LOST, cfg.reward_defeat, 0.0)
        if cfg.reward_scale:
            reward = reward / (self.max_reward / cfg.reward_scale_rate)
        return reward
