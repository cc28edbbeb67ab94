"""Predator-prey (mixed cooperative/competitive): the particle world's ``simple_tag``.

Built on ``mpe2`` (the maintained successor of PettingZoo's MPE), wrapped to relayrl's
:class:`~relayrl.envs.multiagent.TeamEnv`: team 0 is the predators (mpe2's "adversaries",
slower, +10 to every predator for each predator-prey collision), team 1 the prey (faster,
-10 for each collision it suffers, and a penalty for leaving the arena). Within a team the
agents cooperate; the teams compete.

* ``step([predator_actions, prey_actions])`` -> (team rewards [2], terminated, info). A team's
  reward is the mean of its agents' rewards (for the predators all equal the shared catch
  reward); ``info["agent_rewards"]`` keeps each agent's own, ``info["catches"]`` counts the
  predator-prey contacts of the step.
* The episode ends after ``episode_limit`` steps (25, the MPE default): as in SMAC, that step
  returns ``terminated=True`` with ``info["episode_limit"] = True``.
* Actions are mpe2's discrete five: 0 stay, 1 left, 2 right, 3 down, 4 up; all always available.
* Observations per agent are mpe2's; the state (the same for both teams) is every agent's
  observation concatenated, mpe2's ``state()``.

``relayrl/PredatorPrey-v0`` is a gymnasium view of the same game with every agent under one
controller (observation = the state, action = MultiDiscrete, reward = one team's), so
gymnasium tooling, vector envs and videos work on it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from relayrl.envs.multiagent import TeamEnv

TEAM_NAMES = ("predators", "prey")
N_ACTIONS = 5
CATCH_REWARD = 10.0


class PredatorPreyEnv(TeamEnv):
    """simple_tag as a two-team :class:`TeamEnv` (predators = team 0, prey = team 1)."""

    team_names = TEAM_NAMES

    def __init__(
        self,
        *,
        num_predators: int = 3,
        num_prey: int = 1,
        num_obstacles: int = 2,
        episode_limit: int = 25,
        seed: int | None = None,
        render_mode: str | None = None,
    ):
        from mpe2 import simple_tag_v3

        for name, value, low in (
            ("num_predators", num_predators, 1),
            ("num_prey", num_prey, 1),
            ("num_obstacles", num_obstacles, 0),
            ("episode_limit", episode_limit, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"PredatorPreyEnv: {name} must be an int >= {low}; got {value!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"PredatorPreyEnv: render_mode must be None or 'rgb_array'; got {render_mode!r}")
        self.episode_limit = int(episode_limit)
        self.render_mode = render_mode
        self._env = simple_tag_v3.parallel_env(
            num_good=num_prey,
            num_adversaries=num_predators,
            num_obstacles=num_obstacles,
            max_cycles=episode_limit,
            continuous_actions=False,
            render_mode=render_mode,
        )
        names = list(self._env.possible_agents)
        self._agents = (
            [a for a in names if a.startswith("adversary")],
            [a for a in names if not a.startswith("adversary")],
        )
        self._seed = seed
        self._obs: dict[str, np.ndarray] = {}
        self._terminated = True

    # -- TeamEnv ---------------------------------------------------------------------------
    def n_agents(self, team: int) -> int:
        return len(self._agents[self._check_team(team)])

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; ``seed`` (or the constructor's, on the first reset) seeds it."""
        if seed is None and self._seed is not None:
            seed, self._seed = self._seed, None
        self._obs, _ = self._env.reset(seed=seed)
        self._steps = 0
        self._terminated = False

    def step(self, actions: Sequence[Sequence[int]]) -> tuple[np.ndarray, bool, dict[str, Any]]:
        if self._terminated:
            raise RuntimeError("PredatorPreyEnv.step called after the episode ended; call reset() first")
        if len(actions) != len(TEAM_NAMES):
            raise ValueError(
                f"PredatorPreyEnv.step takes one action list per team {list(TEAM_NAMES)}; got {len(actions)} lists"
            )
        joint = {}
        for team, team_actions in enumerate(actions):
            for agent, a in zip(self._agents[team], self._check_actions(team, team_actions), strict=True):
                joint[agent] = a
        obs, rewards, terminations, truncations, _ = self._env.step(joint)
        self._obs = obs
        self._steps += 1
        team_rewards = np.array(
            [np.mean([rewards[a] for a in agents]) for agents in self._agents], dtype=np.float32
        )
        limit = self._steps >= self.episode_limit
        self._terminated = limit or any(terminations.values()) or any(truncations.values())
        info = {
            "episode_limit": bool(limit),
            "agent_rewards": {a: float(r) for a, r in rewards.items()},
            "catches": int(round(float(team_rewards[0]) / CATCH_REWARD)),
        }
        return team_rewards, self._terminated, info

    def get_obs(self, team: int) -> list[np.ndarray]:
        return [np.asarray(self._obs[a], dtype=np.float32) for a in self._agents[self._check_team(team)]]

    def get_obs_size(self, team: int) -> int:
        return int(self._env.observation_space(self._agents[self._check_team(team)][0]).shape[0])

    def get_state(self, team: int) -> np.ndarray:
        self._check_team(team)
        return np.asarray(self._env.state(), dtype=np.float32)

    def get_state_size(self, team: int) -> int:
        self._check_team(team)
        return int(self._env.state_space.shape[0])

    def get_avail_actions(self, team: int) -> list[list[int]]:
        return [[1] * N_ACTIONS for _ in range(self.n_agents(team))]

    def get_total_actions(self, team: int) -> int:
        self._check_team(team)
        return N_ACTIONS

    def get_env_info(self, team: int) -> dict[str, Any]:
        return {
            "team": TEAM_NAMES[self._check_team(team)],
            "state_shape": self.get_state_size(team),
            "obs_shape": self.get_obs_size(team),
            "n_actions": N_ACTIONS,
            "n_agents": self.n_agents(team),
            "episode_limit": self.episode_limit,
        }

    def render(self) -> np.ndarray | None:
        return self._env.render() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        self._env.close()

    # -- checks ----------------------------------------------------------------------------
    def _check_team(self, team: Any) -> int:
        if isinstance(team, bool) or not isinstance(team, (int, np.integer)) or team not in (0, 1):
            raise ValueError(f"PredatorPreyEnv: team must be 0 (predators) or 1 (prey); got {team!r}")
        return int(team)

    def _check_actions(self, team: int, actions: Sequence[int]) -> list[int]:
        a = np.asarray(actions)
        n = self.n_agents(team)
        if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer) or (a.size and (a.min() < 0 or a.max() >= N_ACTIONS)):
            raise ValueError(
                f"PredatorPreyEnv: team {TEAM_NAMES[team]} needs {n} int actions in [0, {N_ACTIONS}); "
                f"got {np.asarray(actions).tolist()!r}"
            )
        return [int(x) for x in a]


class PredatorPreyGymEnv(gym.Env):
    """Every agent under one controller; reward = ``reward_team``'s team reward.

    Observation: the state (all agents' observations, predators first); action:
    MultiDiscrete with one entry per agent, predators first; ``info["team_rewards"]`` has
    both teams' rewards. The episode limit is a truncation here, as gymnasium expects.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        *,
        num_predators: int = 3,
        num_prey: int = 1,
        num_obstacles: int = 2,
        episode_limit: int = 25,
        reward_team: str = "predators",
        render_mode: str | None = None,
    ):
        if reward_team not in TEAM_NAMES:
            raise ValueError(f"PredatorPrey: reward_team must be one of {list(TEAM_NAMES)}; got {reward_team!r}")
        self.render_mode = render_mode
        self.team_env = PredatorPreyEnv(
            num_predators=num_predators, num_prey=num_prey, num_obstacles=num_obstacles,
            episode_limit=episode_limit, render_mode=render_mode,
        )
        self._reward_team = TEAM_NAMES.index(reward_team)
        self._split = self.team_env.n_agents(0)
        n = self._split + self.team_env.n_agents(1)
        size = self.team_env.get_state_size(0)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)
        self.action_space = gym.spaces.MultiDiscrete([N_ACTIONS] * n)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is None and not hasattr(self, "_started"):
            seed = int(self.np_random.integers(2**31))  # an unseeded first reset still gets a seed
        self._started = True
        self.team_env.reset(seed=seed)
        return self.team_env.get_state(0), {}

    def step(self, action):
        a = np.asarray(action)
        if a.shape != self.action_space.shape:
            raise ValueError(
                f"PredatorPrey: action must have shape {self.action_space.shape} (one per agent, "
                f"predators first); got shape {a.shape}"
            )
        rewards, ended, info = self.team_env.step([a[: self._split], a[self._split :]])
        truncated = info.pop("episode_limit")
        terminated = ended and not truncated
        info["team_rewards"] = rewards
        return self.team_env.get_state(0), float(rewards[self._reward_team]), terminated, truncated, info

    def render(self):
        return self.team_env.render()

    def close(self):
        self.team_env.close()
