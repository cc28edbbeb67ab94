"""MAML's 2D navigation task family: a point robot walks to a goal in the plane.

From Finn et al. (2017), section 5.3: the point starts at the origin, the observation is its
position, the action is its velocity clipped to [-0.1, 0.1] per axis, the reward is minus the
Euclidean distance to the goal after the move, and the episode ends when the point is within
0.01 of the goal in both axes; goals are uniform in [-0.5, 0.5]^2 and the horizon is 100 steps.

Meta-RL steps this environment millions of times, so the dynamics are one numpy function on a
batch of points (:func:`navigation_step`) shared by the single environment and by
:class:`NavigationVectorEnv`, which runs one task per row with no per-env Python objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from relayrl.envs.tasks import check_action_shape, check_rng, check_task_keys

FAMILY = "Navigation2D"
GOAL_LOW, GOAL_HIGH = -0.5, 0.5
MAX_SPEED = 0.1  # per axis, per step
GOAL_TOLERANCE = 0.01  # per axis
HORIZON = 100
RENDER_SIZE = 256
RENDER_EXTENT = 1.0  # the picture shows [-1, 1]^2


def sample_goals(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` goals uniform in [-0.5, 0.5]^2 -> [n, 2]."""
    return rng.uniform(GOAL_LOW, GOAL_HIGH, size=(n, 2))


def check_goal(task: Any) -> np.ndarray:
    """The task's goal as a float64 [2] array inside the family's square, or a clear error."""
    task = check_task_keys(FAMILY, task, ("goal",))
    goal = np.asarray(task["goal"], dtype=np.float64)
    if goal.shape != (2,) or not np.all(np.isfinite(goal)):
        raise ValueError(f"{FAMILY}: task['goal'] must be 2 finite numbers; got {task['goal']!r}")
    if np.any(goal < GOAL_LOW) or np.any(goal > GOAL_HIGH):
        raise ValueError(
            f"{FAMILY}: task['goal'] = {goal.tolist()} is outside the family's range "
            f"[{GOAL_LOW}, {GOAL_HIGH}]^2"
        )
    return goal


def navigation_step(
    pos: np.ndarray, action: np.ndarray, goal: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of a batch of points: pos, action, goal [N, 2] -> new pos, reward, terminated [N].

    s_{t+1} = s_t + clip(a_t, -0.1, 0.1)
    r_t     = -|| s_{t+1} - g ||_2
    done    = |s_{t+1} - g|_inf < 0.01
    """
    new_pos = pos + np.clip(action, -MAX_SPEED, MAX_SPEED)
    delta = new_pos - goal
    reward = -np.sqrt(np.einsum("ij,ij->i", delta, delta))
    terminated = np.all(np.abs(delta) < GOAL_TOLERANCE, axis=1)
    return new_pos, reward, terminated


def render_navigation(pos: np.ndarray, goal: np.ndarray, size: int = RENDER_SIZE) -> np.ndarray:
    """A top-down picture [size, size, 3] uint8: grid, goal (green), point (blue)."""
    frame = np.full((size, size, 3), 255, dtype=np.uint8)
    scale = size / (2 * RENDER_EXTENT)

    def to_px(p: np.ndarray) -> tuple[float, float]:
        return (p[0] + RENDER_EXTENT) * scale, (RENDER_EXTENT - p[1]) * scale  # (col, row)

    # the goal square [-0.5, 0.5]^2 in light grey, the axes in darker grey
    lo, hi = int(round((RENDER_EXTENT + GOAL_LOW) * scale)), int(round((RENDER_EXTENT + GOAL_HIGH) * scale))
    frame[lo:hi, lo:hi] = 235
    mid = size // 2
    frame[mid, :] = 200
    frame[:, mid] = 200
    rows, cols = np.mgrid[0:size, 0:size]
    for p, radius, color in ((goal, 0.05, (40, 170, 60)), (pos, 0.035, (30, 80, 220))):
        c, r = to_px(np.asarray(p, dtype=np.float64))
        frame[(cols - c) ** 2 + (rows - r) ** 2 <= (radius * scale) ** 2] = color
    return frame


class Navigation2DEnv(gym.Env):
    """One point robot and one goal; the time limit comes from registration (TimeLimit)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, task: dict | None = None, render_mode: str | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"{FAMILY}: render_mode must be None or 'rgb_array'; got {render_mode!r}")
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-MAX_SPEED, MAX_SPEED, shape=(2,), dtype=np.float32)
        self._explicit_task = task is not None
        self._goal = check_goal(task) if task is not None else np.zeros(2)
        self._pos = np.zeros(2)
        self._has_reset = False

    # -- task interface -------------------------------------------------------------------
    @staticmethod
    def sample_tasks(n: int, rng: np.random.Generator) -> list[dict]:
        n = check_rng(FAMILY, n, rng)
        return [{"goal": g} for g in sample_goals(n, rng)]

    @staticmethod
    def check_task(task: Any) -> np.ndarray:
        """The task's goal, or a clear error if the task is not in the family."""
        return check_goal(task)

    def set_task(self, task: dict) -> None:
        self._goal = check_goal(task)
        self._explicit_task = True

    def get_task(self) -> dict:
        return {"goal": self._goal.copy()}

    @property
    def task(self) -> dict:
        return self.get_task()

    @task.setter
    def task(self, task: dict) -> None:
        self.set_task(task)

    # -- gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if not self._explicit_task and (seed is not None or not self._has_reset):
            self._goal = sample_goals(1, self.np_random)[0]
        self._has_reset = True
        self._pos = np.zeros(2)
        return self._pos.astype(np.float32), {}

    def step(self, action):
        a = check_action_shape(FAMILY, action, (2,))
        pos, reward, terminated = navigation_step(self._pos[None], a[None], self._goal[None])
        self._pos = pos[0]
        return self._pos.astype(np.float32), float(reward[0]), bool(terminated[0]), False, {}

    def render(self):
        if self.render_mode == "rgb_array":
            return render_navigation(self._pos, self._goal)
        return None


class NavigationVectorEnv(VectorEnv):
    """``num_envs`` navigation tasks stepped as numpy rows, NEXT_STEP autoreset, horizon built in.

    Row ``i`` behaves exactly like ``gymnasium.make("relayrl/Navigation2D-v0")`` seeded with
    ``seed + i`` inside a ``SyncVectorEnv`` (the tests check this), only without the per-env
    Python overhead. ``call("get_task")``, ``call("set_task", task)``,
    ``set_attr("task", tasks)`` and ``set_tasks(tasks)`` work as on gymnasium's vector envs.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int,
        tasks: Sequence[dict] | None = None,
        *,
        horizon: int = HORIZON,
        render_mode: str | None = None,
    ):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"{FAMILY}: num_envs must be a positive int; got {num_envs!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"{FAMILY}: render_mode must be None or 'rgb_array'; got {render_mode!r}")
        self.num_envs = int(num_envs)
        self.horizon = int(horizon)
        self.render_mode = render_mode
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.single_action_space = gym.spaces.Box(-MAX_SPEED, MAX_SPEED, shape=(2,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._goals = np.zeros((self.num_envs, 2))
        self._explicit = np.zeros(self.num_envs, dtype=bool)
        if tasks is not None:
            self.set_tasks(tasks)
        self._pos = np.zeros((self.num_envs, 2))
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self._has_reset = False

    # -- tasks ------------------------------------------------------------------------------
    sample_tasks = staticmethod(Navigation2DEnv.sample_tasks)

    def set_tasks(self, tasks: Sequence[dict]) -> None:
        """One task per row; the rows keep them until set again."""
        if len(tasks) != self.num_envs:
            raise ValueError(f"{FAMILY}: got {len(tasks)} tasks for {self.num_envs} envs; pass one per env")
        self._goals = np.stack([check_goal(t) for t in tasks])
        self._explicit[:] = True

    def get_tasks(self) -> list[dict]:
        return [{"goal": g.copy()} for g in self._goals]

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        if name == "get_task":
            return tuple(self.get_tasks())
        if name == "set_task":
            self.set_tasks([args[0] if args else kwargs["task"]] * self.num_envs)
            return (None,) * self.num_envs
        if name == "sample_tasks":
            return tuple(self.sample_tasks(*args, **kwargs) for _ in range(self.num_envs))
        if name == "render":
            return self.render()
        raise AttributeError(
            f"NavigationVectorEnv.call: no method {name!r}; allowed: get_task, set_task, sample_tasks, render"
        )

    def get_attr(self, name: str) -> tuple[Any, ...]:
        if name == "task":
            return tuple(self.get_tasks())
        if name in ("horizon", "render_mode"):
            return (getattr(self, name),) * self.num_envs
        raise AttributeError(f"NavigationVectorEnv.get_attr: no attribute {name!r}; allowed: task, horizon, render_mode")

    def set_attr(self, name: str, values: Any) -> None:
        if name != "task":
            raise AttributeError(f"NavigationVectorEnv.set_attr: only 'task' can be set; got {name!r}")
        self.set_tasks(list(values) if isinstance(values, (list, tuple)) else [values] * self.num_envs)

    def rng_states(self) -> list[dict | None]:
        """Each row's generator state (None before its first reset), for checkpoints."""
        return [None if g is None else g.bit_generator.state for g in self._rngs]

    def set_rng_states(self, states: Sequence[dict | None]) -> None:
        if len(states) != self.num_envs:
            raise ValueError(f"{FAMILY}: got {len(states)} generator states for {self.num_envs} envs")
        for i, st in enumerate(states):
            if st is None:
                self._rngs[i] = None
                continue
            if self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(0)
            self._rngs[i].bit_generator.state = st

    # -- gymnasium VectorEnv API ---------------------------------------------------------------
    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict | None = None):
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"{FAMILY}: got {len(seeds)} seeds for {self.num_envs} envs")
        for i, s in enumerate(seeds):
            if s is not None or self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(s)
            if not self._explicit[i] and (s is not None or not self._has_reset):
                self._goals[i] = sample_goals(1, self._rngs[i])[0]
        self._has_reset = True
        self._pos[:] = 0.0
        self._t[:] = 0
        self._autoreset[:] = False
        return self._pos.astype(np.float32), {}

    def step(self, actions):
        a = check_action_shape(f"{FAMILY} vector env", actions, (self.num_envs, 2))
        pos, reward, terminated = navigation_step(self._pos, a, self._goals)
        t = self._t + 1
        truncated = t >= self.horizon
        # NEXT_STEP autoreset: rows that ended last step only reset now and report nothing else.
        r = self._autoreset
        if r.any():
            pos[r] = 0.0
            t[r] = 0
            reward[r] = 0.0
            terminated[r] = False
            truncated[r] = False
        self._pos, self._t = pos, t
        self._autoreset = terminated | truncated
        return self._pos.astype(np.float32), reward, terminated, truncated, {}

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode != "rgb_array":
            return None
        return tuple(render_navigation(p, g) for p, g in zip(self._pos, self._goals, strict=True))
