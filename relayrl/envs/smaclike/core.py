"""What the single, batched and two-team environments share: battles plus SMAC bookkeeping."""

from __future__ import annotations

import numpy as np

from relayrl.envs.smaclike.battle import NONE, Battle
from relayrl.envs.smaclike.config import SMACLikeConfig
from relayrl.envs.smaclike.features import Perspective
from relayrl.envs.smaclike.maps import MapSpec
from relayrl.envs.smaclike.reward import ONGOING, Scorekeeper


class InvalidActionError(ValueError):
    """An action list SMAC would refuse: wrong length, out of range, or not available."""


class BattleCore:
    """E battles, the learner teams' perspectives and reward keepers, last actions and step counts."""

    def __init__(self, spec: MapSpec, cfg: SMACLikeConfig, num_envs: int, rng: np.random.Generator, learner_teams: tuple[int, ...]):
        self.spec, self.cfg = spec, cfg
        self.battle = Battle(spec, num_envs, rng, step_mul=cfg.step_mul)
        self.E = num_envs
        self.learner_teams = learner_teams
        self.builtin_teams = tuple(t for t in (0, 1) if t not in learner_teams)
        flags = cfg.feature_flags
        self.persp = {t: Perspective(self.battle, t, flags) for t in learner_teams}
        self.keeper = {t: Scorekeeper(self.persp[t], cfg) for t in learner_teams}
        self.last_action = {t: np.zeros((num_envs, p.n_agents, p.n_actions), dtype=np.float32) for t, p in self.persp.items()}
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.limit = spec.episode_limit
        self._cache: dict = {}
        U = self.battle.U
        self._kind = np.zeros((num_envs, U), dtype=np.int64)
        self._dest = np.zeros((num_envs, U, 2))
        self._target = np.full((num_envs, U), -1, dtype=np.int64)

    # -------------------------------------------------------------- episode
    def reset(self, mask: np.ndarray | None = None) -> None:
        mask = np.ones(self.E, dtype=bool) if mask is None else mask
        self.battle.reset(mask)
        for t in self.learner_teams:
            self.keeper[t].reset(mask)
            self.last_action[t][mask] = 0.0
        self.steps[mask] = 0
        self._cache = {}

    def check_actions(self, team: int, actions) -> np.ndarray:
        """int64 [E, n_agents] from whatever sequence was given; SMAC's assertion, with a clear message."""
        p = self.persp[team]
        try:
            arr = np.asarray(actions)
            if arr.dtype == object or arr.dtype.kind not in "iuf" and arr.dtype.kind != "b":
                raise ValueError
            acts = arr.astype(np.int64)
        except (TypeError, ValueError) as e:
            raise InvalidActionError(f"actions must be integers, got {actions!r}") from e
        if self.E == 1 and acts.ndim == 1:
            acts = acts[None]
        if acts.shape != (self.E, p.n_agents):
            raise InvalidActionError(
                f"expected {p.n_agents} actions (one per agent{'' if self.E == 1 else f', for each of {self.E} envs'}), got shape {tuple(np.shape(actions))}"
            )
        if np.any(arr != acts):
            raise InvalidActionError(f"actions must be whole numbers, got {actions!r}")
        avail = self.avail(team)
        bad_range = (acts < 0) | (acts >= p.n_actions)
        ok = ~bad_range & (avail[np.arange(self.E)[:, None], np.arange(p.n_agents)[None, :], np.minimum(np.maximum(acts, 0), p.n_actions - 1)] == 1)
        if not ok.all():
            e, a = (int(v) for v in np.argwhere(~ok)[0])
            act = int(acts[e, a])
            where = f"env {e}: " if self.E > 1 else ""
            if bad_range[e, a]:
                raise InvalidActionError(f"{where}agent {a} chose action {act}, outside 0..{p.n_actions - 1}")
            allowed = np.flatnonzero(avail[e, a]).tolist()
            raise InvalidActionError(f"{where}agent {a} cannot perform action {act} (available actions: {allowed})")
        return acts

    def step(self, actions: dict[int, np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Apply checked actions per learner team; returns per team (raw reward [E], end code [E])."""
        b = self.battle
        kind, dest, target = self._kind, self._dest, self._target
        kind[:] = NONE
        target[:] = -1
        for t, acts in actions.items():
            p = self.persp[t]
            p.orders(acts, kind, dest, target)
            self.last_action[t] = np.eye(p.n_actions, dtype=np.float32)[acts]
        for t in self.builtin_teams:
            b.builtin_orders(t, kind, dest, target)
        for t in self.learner_teams:
            self.keeper[t].before_step()
        b.step(kind, dest, target)
        self.steps += 1
        self._cache = {}
        out = {}
        for t in self.learner_teams:
            reward, code, dead_own, dead_opp = self.keeper[t].after_step()
            out[t] = (reward, code, dead_own, dead_opp)
        return out

    # ------------------------------------------------------------- features
    def avail(self, team: int) -> np.ndarray:
        key = ("avail", team)
        if key not in self._cache:
            self._cache[key] = self.persp[team].avail_actions()
        return self._cache[key]

    def obs(self, team: int) -> np.ndarray:
        key = ("obs", team)
        if key not in self._cache:
            self._cache[key] = self.persp[team].observations(self.avail(team), self.last_action[team], self.steps, self.limit)
        return self._cache[key]

    def state(self, team: int) -> np.ndarray:
        key = ("state", team)
        if key not in self._cache:
            p = self.persp[team]
            obs = self.obs(team) if p.flags.obs_instead_of_state else None
            self._cache[key] = p.state(self.last_action[team], self.steps, self.limit, obs)
        return self._cache[key]


__all__ = ["BattleCore", "InvalidActionError", "ONGOING"]
