"""``SMACLikeTeamEnv``: both sides of a battle played by learners (competitive self-play).

Implements relayrl's :class:`~relayrl.envs.multiagent.TeamEnv` protocol. Team 0
("allies") is SMAC's learner side; team 1 ("enemies") is SMAC's built-in side, here given
its own SMAC view: its units in SMAC's agent order (type, x, y) as its "allies", team 0 as
its "enemies" (enemy type encoding), its own available actions and its own SMAC reward
(damage and kills it deals, scaled by its ``max_reward``). Move directions stay absolute
(north is +y for both sides). With ``opponent="builtin"`` team 1 is the attack-move AI
and only team 0 acts, exactly as in :class:`SMACLikeEnv`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from relayrl.envs.smaclike.core import BattleCore, InvalidActionError
from relayrl.envs.smaclike.env import make_config
from relayrl.envs.smaclike.maps import load_map
from relayrl.envs.smaclike.reward import LOST, ONGOING, WON

OPPONENTS = ("learner", "builtin")


class SMACLikeTeamEnv:
    """Two learner teams (or one against the built-in AI) on a SMAC-like map."""

    def __init__(self, map_name: str = "3m", opponent: str = "learner", seed: int | None = None, **flags: Any):
        if opponent not in OPPONENTS:
            raise ValueError(f"SMACLikeTeamEnv: opponent={opponent!r}; allowed: {OPPONENTS}")
        self.config = cfg = make_config(map_name, seed, flags, "SMACLikeTeamEnv")
        self.spec = spec = load_map(map_name)
        self.opponent = opponent
        teams = (0, 1) if opponent == "learner" else (0,)
        self.team_names: tuple[str, ...] = ("allies", "enemies")[: len(teams)]
        self.episode_limit = spec.episode_limit
        self._rng = np.random.default_rng(seed)
        self._core = BattleCore(spec, cfg, 1, self._rng, learner_teams=teams)
        self._teams = teams
        self._steps = 0
        self._terminated = False

    # ------------------------------------------------------------ protocol
    def n_agents(self, team: int) -> int:
        return self._persp(team).n_agents

    def reset(self) -> None:
        self._core.reset()
        self._steps = 0
        self._terminated = False

    def step(self, actions: Sequence[Sequence[int]]) -> tuple[np.ndarray, bool, dict[str, Any]]:
        """One action sequence per team (order of ``team_names``) -> (rewards [n_teams], terminated, info).

        info: ``winner`` (team name, or None for a draw / ongoing battle), ``battle_won`` (one
        bool per team), ``dead_allies`` / ``dead_enemies`` per team, and ``episode_limit`` when
        the step limit ended the battle.
        """
        if self._terminated:
            raise RuntimeError("SMACLikeTeamEnv.step called after the episode terminated; call reset() first")
        if len(actions) != len(self._teams):
            raise InvalidActionError(f"expected one action sequence per team {self.team_names}, got {len(actions)}")
        checked = {t: self._core.check_actions(t, [int(a) for a in acts]) for t, acts in zip(self._teams, actions)}
        out = self._core.step(checked)
        self._steps += 1
        codes = {t: int(out[t][1][0]) for t in self._teams}
        ended = codes[0] != ONGOING
        timeout = not ended and self._steps >= self.episode_limit
        terminated = ended or timeout
        rewards = np.array([
            float(self._core.keeper[t].finish(out[t][0], np.array([codes[t] if codes[t] in (WON, LOST) else ONGOING]))[0])
            for t in self._teams
        ])
        won = [codes[t] == WON for t in self._teams]
        winner = next((self.team_names[i] for i, w in enumerate(won) if w), None)
        info: dict[str, Any] = {
            "winner": winner,
            "battle_won": won,
            "dead_allies": [int(out[t][2][0]) for t in self._teams],
            "dead_enemies": [int(out[t][3][0]) for t in self._teams],
        }
        if timeout:
            info["episode_limit"] = True
        self._terminated = terminated
        return rewards, terminated, info

    def get_obs(self, team: int) -> list[np.ndarray]:
        obs = self._core.obs(self._team(team))[0]
        return [obs[i] for i in range(obs.shape[0])]

    def get_state(self, team: int) -> np.ndarray:
        return self._core.state(self._team(team))[0]

    def get_avail_actions(self, team: int) -> list[list[int]]:
        return self._core.avail(self._team(team))[0].tolist()

    def get_env_info(self, team: int) -> dict[str, Any]:
        p = self._persp(team)
        return {
            "state_shape": p.state_size(),
            "obs_shape": p.obs_size(),
            "n_actions": p.n_actions,
            "n_agents": p.n_agents,
            "episode_limit": self.episode_limit,
            "agent_features": p.ally_state_attr_names(),
            "enemy_features": p.enemy_state_attr_names(),
        }

    def render(self, mode: str = "rgb_array") -> np.ndarray:
        if mode != "rgb_array":
            raise ValueError(f"render(mode={mode!r}): only 'rgb_array' is supported")
        from relayrl.envs.smaclike.render import Renderer

        if not hasattr(self, "_renderer"):
            self._renderer = Renderer(self._core.battle)
        return self._renderer.frame(0)

    def close(self) -> None:
        pass

    # ----------------------------------------------------------- internals
    def _team(self, team: int) -> int:
        if team not in self._teams:
            raise ValueError(f"team={team!r}; this env's learner teams are {list(self._teams)} ({self.team_names})")
        return team

    def _persp(self, team: int):
        return self._core.persp[self._team(team)]
