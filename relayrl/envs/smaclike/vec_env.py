"""``SMACLikeVecEnv``: many SMAC-like battles of one map stepped by one numpy kernel call.

Arrays carry a leading env dimension. Finished battles restart on their own ("auto-reset"):
the arrays returned by :meth:`step` already belong to the new episode for those envs, and
``info["final_obs"]``, ``info["final_state"]``, ``info["final_avail_actions"]`` hold the
last observation of the finished one (rows of envs that did not finish are zeros), which is
what a learner needs to bootstrap or to store pymarl's terminal "post" transition.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relayrl.envs.smaclike.core import BattleCore
from relayrl.envs.smaclike.env import make_config
from relayrl.envs.smaclike.maps import load_map
from relayrl.envs.smaclike.reward import LOST, ONGOING, WON


class SMACLikeVecEnv:
    """``num_envs`` battles of ``map_name`` against the built-in AI, with SMAC's flags."""

    def __init__(self, map_name: str = "8m", num_envs: int = 8, seed: int | None = None, **flags: Any):
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"SMACLikeVecEnv: num_envs={num_envs!r} must be a positive int")
        self.config = cfg = make_config(map_name, seed, flags, "SMACLikeVecEnv")
        self.spec = spec = load_map(map_name)
        self.num_envs = num_envs
        self._rng = np.random.default_rng(seed)
        self._core = BattleCore(spec, cfg, num_envs, self._rng, learner_teams=(0,))
        p = self._p = self._core.persp[0]
        self.n_agents, self.n_enemies, self.n_actions = p.n_agents, p.n_enemies, p.n_actions
        self.episode_limit = spec.episode_limit
        self.obs_size = p.obs_size()
        self.state_size = p.state_size()
        self.episode_returns = np.zeros(num_envs)
        self.battles_won = 0
        self.battles_game = 0
        self.timeouts = 0

    def get_env_info(self) -> dict[str, Any]:
        return {
            "state_shape": self.state_size,
            "obs_shape": self.obs_size,
            "n_actions": self.n_actions,
            "n_agents": self.n_agents,
            "episode_limit": self.episode_limit,
            "num_envs": self.num_envs,
        }

    def reset(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Restart every battle; returns obs [E, A, obs], state [E, S], avail [E, A, n_actions]."""
        self._core.reset()
        self.episode_returns[:] = 0.0
        return self._arrays()

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = self._core
        return c.obs(0), c.state(0), c.avail(0)

    def get_avail_actions(self) -> np.ndarray:
        return self._core.avail(0)

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """actions [E, A] -> (obs, state, avail, reward [E], terminated [E], info).

        info: ``battle_won``, ``dead_allies``, ``dead_enemies``, ``episode_limit`` (the
        battle hit the step limit), ``episode_return``, ``episode_length`` (valid where
        terminated) and the ``final_*`` arrays described in the module docstring.
        """
        c = self._core
        acts = c.check_actions(0, actions)
        raw, code, dead_own, dead_opp = c.step({0: acts})[0]
        ended = code != ONGOING
        timeout = ~ended & (c.steps >= self.episode_limit)
        terminated = ended | timeout
        reward = c.keeper[0].finish(raw, np.where((code == WON) | (code == LOST), code, ONGOING))
        self.episode_returns += reward
        info: dict[str, np.ndarray] = {
            "battle_won": code == WON,
            "dead_allies": dead_own,
            "dead_enemies": dead_opp,
            "episode_limit": timeout,
            "episode_return": np.where(terminated, self.episode_returns, 0.0),
            "episode_length": np.where(terminated, c.steps, 0),
        }
        if terminated.any():
            self.battles_game += int(terminated.sum())
            self.battles_won += int((code == WON).sum())
            self.timeouts += int(timeout.sum())
            mask = terminated[:, None]
            info["final_obs"] = np.where(mask[..., None], c.obs(0), 0.0).astype(np.float32)
            info["final_state"] = np.where(mask, c.state(0), 0.0).astype(np.float32)
            info["final_avail_actions"] = np.where(mask[..., None], c.avail(0), 0)
            c.reset(terminated)
            self.episode_returns[terminated] = 0.0
        obs, state, avail = self._arrays()
        return obs, state, avail, reward, terminated, info

    def get_stats(self) -> dict[str, Any]:
        return {
            "battles_won": self.battles_won,
            "battles_game": self.battles_game,
            "battles_draw": self.timeouts,
            "win_rate": self.battles_won / self.battles_game if self.battles_game else 0.0,
            "timeouts": self.timeouts,
        }

    @property
    def perspective(self):
        """The learner side's :class:`~relayrl.envs.smaclike.features.Perspective` (for scripted policies)."""
        return self._p

    def render(self, env_index: int = 0) -> np.ndarray:
        from relayrl.envs.smaclike.render import Renderer

        if not hasattr(self, "_renderer"):
            self._renderer = Renderer(self._core.battle)
        return self._renderer.frame(env_index)

    def close(self) -> None:
        pass
