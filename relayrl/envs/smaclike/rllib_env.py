"""RLlib ``MultiAgentEnv`` (new API stack) over :class:`SMACLikeEnv`.

Built from an ``env_config`` dict: ``{"map_name": "3m", "seed": 0, "unavailable_action":
"stop", **SMAC flags}``. Observations are ``{"observations", "action_mask"}`` dicts (the
layout of RLlib's ``ActionMaskingTorchRLModule``, which then never picks an unavailable
action); a dead
agent is terminated and stops receiving observations; ``__all__`` ends with the battle
(truncated instead when SMAC's episode limit is hit). RLlib's default modules ignore action
masks, so with them ``unavailable_action="stop"`` turns an unavailable choice into "stop" (counted in
``infos[agent]["replaced_actions"]``); ``"raise"`` keeps SMAC's strictness.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from relayrl.envs.smaclike.adapter_common import (
    UNAVAILABLE_ACTION_MODES,
    agent_names,
    clean_actions,
    observation_space,
)
from relayrl.envs.smaclike.env import SMACLikeEnv


class SMACLikeRLlibEnv(MultiAgentEnv):
    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__()
        cfg = dict(config or {})
        mode = cfg.pop("unavailable_action", "raise")
        if mode not in UNAVAILABLE_ACTION_MODES:
            raise ValueError(f"unavailable_action={mode!r}; allowed: {UNAVAILABLE_ACTION_MODES}")
        self.unavailable_action = mode
        self.env = SMACLikeEnv(cfg.pop("map_name", "3m"), seed=cfg.pop("seed", None), **cfg)
        self.possible_agents = agent_names(self.env.n_agents)
        self.agents = []
        obs_space = observation_space(self.env.get_obs_size(), self.env.n_actions, "observations", np.float32)
        act_space = spaces.Discrete(self.env.n_actions)
        self.observation_spaces = {a: obs_space for a in self.possible_agents}
        self.action_spaces = {a: act_space for a in self.possible_agents}
        self.observation_space = spaces.Dict(self.observation_spaces)
        self.action_space = spaces.Dict(self.action_spaces)

    def _observe(self, names) -> dict[str, dict[str, np.ndarray]]:
        obs = self.env._core.obs(0)[0]
        avail = self.env._core.avail(0)[0]
        idx = {n: i for i, n in enumerate(self.possible_agents)}
        return {n: {"observations": obs[idx[n]], "action_mask": avail[idx[n]].astype(np.float32)} for n in names}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.env.reseed(seed)
        self.env.reset()
        self.agents = list(self.possible_agents)
        return self._observe(self.agents), {a: {} for a in self.agents}

    def step(self, action_dict: dict[str, int]):
        avail = self.env._core.avail(0)[0]
        acts, replaced = clean_actions(action_dict, self.possible_agents, avail, self.unavailable_action, "SMACLikeRLlibEnv")
        reward, terminated, info = self.env.step(acts)
        acting = list(self.agents)
        timeout = self.env.last_outcome == "timeout"
        alive = self.env._core.battle.alive[0, self.env._p.own]
        idx = {n: i for i, n in enumerate(self.possible_agents)}
        terms = {n: bool((terminated and not timeout) or not alive[idx[n]]) for n in acting}
        truncs = {n: bool(timeout) for n in acting}
        terms["__all__"] = bool(terminated and not timeout)
        truncs["__all__"] = bool(timeout)
        rewards = {n: float(reward) for n in acting}
        infos = {n: {"battle_won": bool(info["battle_won"]), "replaced_actions": replaced} for n in acting}
        obs = self._observe(acting)
        self.agents = [n for n in acting if not (terms[n] or truncs[n])]
        return obs, rewards, terms, truncs, infos

    def render(self):
        return self.env.render(mode="rgb_array")
