"""PettingZoo ``ParallelEnv`` over :class:`SMACLikeEnv`.

Observations are dicts ``{"observation": SMAC obs, "action_mask": available actions}``
(PettingZoo's convention, used by its test utilities and many libraries). An agent whose
unit dies is terminated and leaves ``agents``; everyone is terminated when the battle is
decided, and truncated when SMAC's episode limit is reached. All agents share SMAC's
team reward. ``state()`` is SMAC's global state.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from relayrl.envs.smaclike.adapter_common import (
    UNAVAILABLE_ACTION_MODES,
    agent_names,
    clean_actions,
    observation_space,
)
from relayrl.envs.smaclike.env import SMACLikeEnv


class SMACLikeParallelEnv(ParallelEnv):
    metadata = {"name": "smaclike_v0", "render_modes": ["rgb_array"], "is_parallelizable": True}

    def __init__(self, map_name: str = "3m", seed: int | None = None, render_mode: str | None = None, unavailable_action: str = "raise", **flags: Any):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: None, 'rgb_array'")
        if unavailable_action not in UNAVAILABLE_ACTION_MODES:
            raise ValueError(f"unavailable_action={unavailable_action!r}; allowed: {UNAVAILABLE_ACTION_MODES}")
        self.env = SMACLikeEnv(map_name, seed=seed, **flags)
        self.render_mode = render_mode
        self.unavailable_action = unavailable_action
        self.possible_agents = agent_names(self.env.n_agents)
        self.agents: list[str] = []
        self._obs_space = observation_space(self.env.get_obs_size(), self.env.n_actions)
        self._act_space = spaces.Discrete(self.env.n_actions)
        self.state_space = spaces.Box(-1.0, 1.0, (self.env.get_state_size(),), np.float32)

    @functools.cache  # noqa: B019 - PettingZoo requires the same object per agent
    def observation_space(self, agent: str) -> spaces.Dict:
        return self._obs_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_space

    def _observe(self, names) -> dict[str, dict[str, np.ndarray]]:
        obs = self.env.get_obs()
        avail = self.env._core.avail(0)[0]
        idx = {n: i for i, n in enumerate(self.possible_agents)}
        return {n: {"observation": obs[idx[n]], "action_mask": avail[idx[n]].astype(np.int8)} for n in names}

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.env.reseed(seed)
            self._act_space.seed(seed)
        self.env.reset()
        self.agents = list(self.possible_agents)
        return self._observe(self.agents), {n: {} for n in self.agents}

    def step(self, actions: dict[str, int]):
        avail = self.env._core.avail(0)[0]
        acts, replaced = clean_actions(actions, self.possible_agents, avail, self.unavailable_action, "SMACLikeParallelEnv")
        reward, terminated, info = self.env.step(acts)
        acting = list(self.agents)
        timeout = self.env.last_outcome == "timeout"
        alive = self.env._core.battle.alive[0, self.env._p.own]
        idx = {n: i for i, n in enumerate(self.possible_agents)}
        terms = {n: bool((terminated and not timeout) or not alive[idx[n]]) for n in acting}
        truncs = {n: bool(timeout) for n in acting}
        rewards = {n: float(reward) for n in acting}
        infos = {n: dict(info, replaced_actions=replaced) for n in acting}
        obs = self._observe(acting)
        self.agents = [n for n in acting if not (terms[n] or truncs[n])]
        return obs, rewards, terms, truncs, infos

    def state(self) -> np.ndarray:
        return self.env.get_state()

    def render(self):
        if self.render_mode is None:
            return None
        return self.env.render(mode="rgb_array")

    def close(self):
        self.env.close()
