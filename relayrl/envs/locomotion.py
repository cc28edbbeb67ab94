"""MAML's MuJoCo locomotion task families on gymnasium's v5 HalfCheetah and Ant models.

Rewards as in Finn et al. (2017), section 5.3, with v_x the torso's forward velocity
(gymnasium's ``x_velocity``: x displacement over one control step divided by dt):

    HalfCheetahVel: r = -|v_x - v_goal| - 0.05 |a|^2,                     v_goal ~ U[0, 2]
    HalfCheetahDir: r = d * v_x - 0.05 |a|^2,                               d ~ U{-1, +1}
    AntVel:         r = -|v_x - v_goal| + 1 - 0.005 |a|^2 - contact cost,   v_goal ~ U[0, 3]
    AntDir:         r = d * v_x + 1 - 0.005 |a|^2 - contact cost,           d ~ U{-1, +1}

The contact cost is gymnasium Ant-v5's own (5e-4 * sum of the squared external contact
forces clipped to [-1, 1]), which equals the rllab formula MAML used; the Ant terminates
when its torso leaves z in [0.2, 1.0], as in both. The horizon (200) is the TimeLimit set at
registration. Everything else (observations, initial-state noise, frame skip 5) is
gymnasium's v5 default. This module imports MuJoCo; ``relayrl.envs`` loads it lazily.

Known differences from the authors' rllab code: it measured v_x as the torso subtree's
centre-of-mass velocity (here: the torso body's displacement per step, gymnasium's
definition), used rllab's observations, and gave the Ant an alive bonus of 0.05 where the
project's reference (and gymnasium's Ant) use 1; pass ``healthy_reward=0.05`` (any Ant-v5
keyword works) to match that code.
"""

from __future__ import annotations

import warnings
from typing import Any

import mujoco
import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.ant_v5 import AntEnv
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

from relayrl.envs.tasks import (
    check_action_shape,
    check_direction,
    check_rng,
    check_scalar_in_range,
    check_task_keys,
)


def _mujoco_warning(message: str) -> None:
    warnings.warn(f"MuJoCo: {message}", RuntimeWarning, stacklevel=2)


# MuJoCo prints its warnings straight to stderr, and gymnasium's half_cheetah.xml sets the
# deprecated ``settotalmass``: one line per env built, thousands in a meta-test. As Python
# warnings they show once per message and can be filtered. A handler the user set is kept.
if mujoco.get_mju_user_warning() is None:
    mujoco.set_mju_user_warning(_mujoco_warning)

HALF_CHEETAH_CTRL_COST = 0.05
ANT_CTRL_COST = 0.005
ANT_ALIVE_BONUS = 1.0


class _TaskMixin:
    """Task bookkeeping shared by the four families (see relayrl.envs.tasks for the rules).

    A subclass sets ``family`` and ``task_key`` and implements ``_check`` / ``_draw``.
    """

    family: str
    task_key: str

    def _init_task(self, task: dict | None) -> None:
        self._explicit_task = task is not None
        self._task_value = self.check_task(task) if task is not None else self._default()
        self._has_reset = False

    @classmethod
    def check_task(cls, task: Any):
        raise NotImplementedError

    @classmethod
    def _draw(cls, rng: np.random.Generator):
        raise NotImplementedError

    @classmethod
    def _default(cls):
        raise NotImplementedError

    @classmethod
    def sample_tasks(cls, n: int, rng: np.random.Generator) -> list[dict]:
        n = check_rng(cls.family, n, rng)
        return [{cls.task_key: cls._draw(rng)} for _ in range(n)]

    def set_task(self, task: dict) -> None:
        self._task_value = self.check_task(task)
        self._explicit_task = True

    def get_task(self) -> dict:
        return {self.task_key: self._task_value}

    @property
    def task(self) -> dict:
        return self.get_task()

    @task.setter
    def task(self, task: dict) -> None:
        self.set_task(task)

    def _maybe_draw_task(self, seed: int | None) -> None:
        """Called after the RNG is (re)seeded in reset."""
        if not self._explicit_task and (seed is not None or not self._has_reset):
            self._task_value = self._draw(self.np_random)
        self._has_reset = True

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = super().reset(seed=seed, options=options)
        # MujocoEnv.reset seeded self.np_random and drew the initial state; drawing the task
        # afterwards keeps the initial states identical to the plain v5 env with the same seed.
        self._maybe_draw_task(seed)
        return obs, info


class _VelocityTask(_TaskMixin):
    task_key = "velocity"
    velocity_high: float

    @classmethod
    def check_task(cls, task: Any) -> float:
        task = check_task_keys(cls.family, task, ("velocity",))
        return check_scalar_in_range(cls.family, "velocity", task["velocity"], 0.0, cls.velocity_high)

    @classmethod
    def _draw(cls, rng: np.random.Generator) -> float:
        return float(rng.uniform(0.0, cls.velocity_high))

    @classmethod
    def _default(cls) -> float:
        return cls.velocity_high / 2

    def _task_reward(self, x_velocity: float) -> float:
        return -abs(x_velocity - self._task_value)


class _DirectionTask(_TaskMixin):
    task_key = "direction"

    @classmethod
    def check_task(cls, task: Any) -> int:
        task = check_task_keys(cls.family, task, ("direction",))
        return check_direction(cls.family, task["direction"])

    @classmethod
    def _draw(cls, rng: np.random.Generator) -> int:
        return int(rng.choice((-1, 1)))

    @classmethod
    def _default(cls) -> int:
        return 1

    def _task_reward(self, x_velocity: float) -> float:
        return self._task_value * x_velocity


class _HalfCheetahTask(HalfCheetahEnv):
    family = "HalfCheetah"

    def __init__(self, task: dict | None = None, **kwargs: Any):
        kwargs.setdefault("ctrl_cost_weight", HALF_CHEETAH_CTRL_COST)
        super().__init__(**kwargs)
        utils.EzPickle.__init__(self, task=task, **kwargs)  # pickles rebuild the same task
        self._init_task(task)

    def step(self, action):
        action = check_action_shape(self.family, action, self.action_space.shape)
        obs, _, terminated, truncated, info = super().step(action)
        ctrl_cost = self.control_cost(action)  # 0.05 * |a|^2
        reward = self._task_reward(info["x_velocity"]) - ctrl_cost
        info["reward_task"] = reward + ctrl_cost
        return obs, float(reward), terminated, truncated, info


class _AntTask(AntEnv):
    family = "Ant"

    def __init__(self, task: dict | None = None, **kwargs: Any):
        kwargs.setdefault("ctrl_cost_weight", ANT_CTRL_COST)
        kwargs.setdefault("healthy_reward", ANT_ALIVE_BONUS)
        super().__init__(**kwargs)
        utils.EzPickle.__init__(self, task=task, **kwargs)  # pickles rebuild the same task
        self._init_task(task)

    def step(self, action):
        action = check_action_shape(self.family, action, self.action_space.shape)
        obs, _, terminated, truncated, info = super().step(action)
        # info["reward_ctrl"] = -0.005 |a|^2, info["reward_contact"] = -contact cost,
        # info["reward_survive"] = the alive bonus (1), all computed by Ant-v5 itself.
        task_reward = self._task_reward(info["x_velocity"])
        reward = task_reward + info["reward_survive"] + info["reward_ctrl"] + info["reward_contact"]
        info["reward_task"] = task_reward
        return obs, float(reward), terminated, truncated, info


class HalfCheetahVelEnv(_VelocityTask, _HalfCheetahTask):
    """HalfCheetah rewarded for running at a goal forward velocity in [0, 2]."""

    family = "HalfCheetahVel"
    velocity_high = 2.0


class HalfCheetahDirEnv(_DirectionTask, _HalfCheetahTask):
    """HalfCheetah rewarded for running forward (+1) or backward (-1)."""

    family = "HalfCheetahDir"


class AntVelEnv(_VelocityTask, _AntTask):
    """Ant rewarded for running at a goal forward velocity in [0, 3]."""

    family = "AntVel"
    velocity_high = 3.0


class AntDirEnv(_DirectionTask, _AntTask):
    """Ant rewarded for running forward (+1) or backward (-1)."""

    family = "AntDir"
