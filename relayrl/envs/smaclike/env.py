"""``SMACLikeEnv``: SMAC's ``StarCraft2Env`` API on the numpy battle kernel (one battle)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from relayrl.envs.smaclike.config import SMACLikeConfig
from relayrl.envs.smaclike.core import BattleCore, InvalidActionError
from relayrl.envs.smaclike.maps import load_map
from relayrl.envs.smaclike.reward import DRAW, LOST, ONGOING, WON

_FLAG_NAMES = tuple(f.name for f in dataclasses.fields(SMACLikeConfig) if f.name not in ("map_name", "seed"))


def make_config(map_name: str, seed: int | None, flags: dict[str, Any], owner: str) -> SMACLikeConfig:
    unknown = sorted(set(flags) - set(_FLAG_NAMES))
    if unknown:
        raise TypeError(f"{owner}: unknown argument(s) {unknown}; SMAC's flags are: {', '.join(_FLAG_NAMES)}")
    return SMACLikeConfig(map_name=map_name, seed=seed, **flags)


class SMACLikeEnv:
    """A SMAC battle against the built-in AI; drop-in for ``smac.env.StarCraft2Env``.

    ``SMACLikeEnv(map_name="3m", seed=0, obs_last_action=True, ...)`` takes every keyword of
    SMAC's constructor; ``map_name`` is a shipped map (see :func:`list_maps`) or the path of
    a map ``.json`` file. Methods and their return values are SMAC's.
    """

    def __init__(self, map_name: str = "8m", seed: int | None = None, **flags: Any):
        self.config = cfg = make_config(map_name, seed, flags, "SMACLikeEnv")
        self.map_name = map_name
        self.spec = spec = load_map(map_name)
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._core = BattleCore(spec, cfg, 1, self._rng, learner_teams=(0,))
        p = self._core.persp[0]
        self._p = p
        self.n_agents = p.n_agents
        self.n_enemies = p.n_enemies
        self.episode_limit = spec.episode_limit
        self.n_actions = p.n_actions
        self.n_actions_no_attack = 6
        self.n_actions_move = 4
        self.shield_bits_ally = p.shield_bits_ally
        self.shield_bits_enemy = p.shield_bits_enemy
        self.unit_type_bits = p.unit_type_bits
        self.map_type = spec.map_type
        self.map_x, self.map_y = spec.map_size
        self.max_distance_x, self.max_distance_y = (float(v) for v in p.max_dist)
        self.pathing_grid = spec.pathing_grid
        self.terrain_height = spec.terrain_height
        self.max_reward = self._core.keeper[0].max_reward
        self.reward_scale = cfg.reward_scale
        self.reward_scale_rate = cfg.reward_scale_rate
        self.continuing_episode = cfg.continuing_episode
        self.ally_state_attr_names = p.ally_state_attr_names()
        self.enemy_state_attr_names = p.enemy_state_attr_names()
        self._episode_count = 0
        self._episode_steps = 0
        self._total_steps = 0
        self.battles_won = 0
        self.battles_game = 0
        self.timeouts = 0
        self.force_restarts = 0
        self.reward = 0.0
        self._terminated = False
        self._renderer = None
        self.last_outcome: str | None = None  # after a step: "won", "lost", "draw", "timeout" or None

    # ---------------------------------------------------------------- SMAC API
    def reset(self) -> tuple[list[np.ndarray], np.ndarray]:
        """Start a new battle; returns (observations, state)."""
        self._core.reset()
        self._episode_steps = 0
        self._terminated = False
        self.last_outcome = None
        return self.get_obs(), self.get_state()

    def step(self, actions) -> tuple[float, bool, dict[str, Any]]:
        """One agent step (``step_mul`` game loops); returns (reward, terminated, info)."""
        if self._terminated:
            raise RuntimeError("SMACLikeEnv.step called after the episode terminated; call reset() first")
        acts = self._core.check_actions(0, [int(a) if np.ndim(a) == 0 and not isinstance(a, (str, bytes)) else a for a in actions] if isinstance(actions, (list, tuple)) else actions)
        out = self._core.step({0: acts})
        raw, code, dead_own, dead_opp = (v[0] for v in out[0])
        self._total_steps += 1
        self._episode_steps += 1
        info: dict[str, Any] = {"battle_won": False, "dead_allies": int(dead_own), "dead_enemies": int(dead_opp)}
        terminated = False
        code = int(code)
        self.last_outcome = {WON: "won", LOST: "lost", DRAW: "draw"}.get(code)
        if code != ONGOING:
            terminated = True
            self.battles_game += 1
            if code == WON:
                self.battles_won += 1
                info["battle_won"] = True
        elif self._episode_steps >= self.episode_limit:
            terminated = True
            self.last_outcome = "timeout"
            if self.continuing_episode:
                info["episode_limit"] = True
            self.battles_game += 1
            self.timeouts += 1
        if terminated:
            self._episode_count += 1
            self._terminated = True
        reward = float(self._core.keeper[0].finish(np.array([raw]), np.array([code if code in (WON, LOST) else ONGOING]))[0])
        self.reward = reward
        return reward, terminated, info

    def get_obs(self) -> list[np.ndarray]:
        obs = self._core.obs(0)[0]
        return [obs[i] for i in range(self.n_agents)]

    def get_obs_agent(self, agent_id: int) -> np.ndarray:
        self._check_agent(agent_id)
        return self._core.obs(0)[0, agent_id]

    def get_obs_size(self) -> int:
        return self._p.obs_size()

    def get_obs_move_feats_size(self) -> int:
        return self._p.obs_move_feats_size()

    def get_obs_enemy_feats_size(self) -> tuple[int, int]:
        return self._p.obs_enemy_feats_size()

    def get_obs_ally_feats_size(self) -> tuple[int, int]:
        return self._p.obs_ally_feats_size()

    def get_obs_own_feats_size(self) -> int:
        return self._p.obs_own_feats_size()

    def get_state(self) -> np.ndarray:
        return self._core.state(0)[0]

    def get_state_size(self) -> int:
        return self._p.state_size()

    def get_avail_actions(self) -> list[list[int]]:
        return self._core.avail(0)[0].tolist()

    def get_avail_agent_actions(self, agent_id: int) -> list[int]:
        self._check_agent(agent_id)
        return self._core.avail(0)[0, agent_id].tolist()

    def get_total_actions(self) -> int:
        return self.n_actions

    def get_ally_num_attributes(self) -> int:
        return len(self.ally_state_attr_names)

    def get_enemy_num_attributes(self) -> int:
        return len(self.enemy_state_attr_names)

    def get_env_info(self) -> dict[str, Any]:
        return {
            "state_shape": self.get_state_size(),
            "obs_shape": self.get_obs_size(),
            "n_actions": self.get_total_actions(),
            "n_agents": self.n_agents,
            "episode_limit": self.episode_limit,
            "agent_features": list(self.ally_state_attr_names),
            "enemy_features": list(self.enemy_state_attr_names),
        }

    def get_stats(self) -> dict[str, Any]:
        return {
            "battles_won": self.battles_won,
            "battles_game": self.battles_game,
            "battles_draw": self.timeouts,
            "win_rate": self.battles_won / self.battles_game if self.battles_game else 0.0,
            "timeouts": self.timeouts,
            "restarts": self.force_restarts,
        }

    def get_visibility_matrix(self) -> np.ndarray:
        """bool [n_agents, n_agents + n_enemies]: who each live agent sees (alive, closer than 9)."""
        b, p = self._core.battle, self._p
        units = np.concatenate([p.own, p.opp])
        vis = (b.dist[0][p.own][:, units] < 9) & b.alive[0, units][None] & b.alive[0, p.own][:, None]
        vis[np.arange(self.n_agents), np.arange(self.n_agents)] = False
        return vis

    def get_unit_types(self) -> list[int]:
        """SC2 unit type ids of the agents then the enemies (SMAC's order)."""
        types = self._core.battle.roster.types
        return [types[u].smac_type for u in np.concatenate([self._p.own, self._p.opp])]

    def seed(self) -> int | None:
        """The seed given at construction (SMAC's meaning: returns it, does not reseed)."""
        return self._seed

    def render(self, mode: str = "rgb_array") -> np.ndarray:
        """A top-down frame of the battle as uint8 [H, W, 3] (terrain, units, health, attacks)."""
        if mode != "rgb_array":
            raise ValueError(f"render(mode={mode!r}): only 'rgb_array' is supported (there is no game window)")
        if self._renderer is None:
            from relayrl.envs.smaclike.render import Renderer

            self._renderer = Renderer(self._core.battle)
        return self._renderer.frame(0)

    def save_replay(self) -> None:
        raise NotImplementedError("SMACLikeEnv has no SC2 replays; record frames with render(mode='rgb_array') instead")

    def close(self) -> None:
        self._renderer = None

    # ------------------------------------------------------------- internals
    def reseed(self, seed: int | None) -> None:
        """Restart the random stream (weapon delays) from ``seed``; adapters call this on ``reset(seed=...)``."""
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._core.battle.rng = self._rng

    def _check_agent(self, agent_id: int) -> None:
        if not 0 <= int(agent_id) < self.n_agents:
            raise InvalidActionError(f"agent_id={agent_id} out of range 0..{self.n_agents - 1}")

    @property
    def battle(self):
        """The underlying :class:`~relayrl.envs.smaclike.battle.Battle` (one env), for tests and tools."""
        return self._core.battle
