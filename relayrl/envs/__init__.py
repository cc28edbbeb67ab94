"""relayrl's environments, registered with gymnasium under ``relayrl/...`` ids.

``import relayrl.envs`` registers every id below and nothing heavy is imported until an env
is built (ale-py, MuJoCo and mpe2 load lazily). Two entry points cover every id, gymnasium's
own included::

    env = make_env("relayrl/AntDir-v0")                     # one gymnasium.Env
    venv = make_vector_env("ALE/Pong-v5", 8, seed=0)        # a gymnasium VectorEnv

Every vector env autoresets with gymnasium's NEXT_STEP semantics: after a step where
sub-env ``i`` ended, the next ``step`` resets it and returns its reset observation in row
``i`` (with reward 0 and both flags False); rollout workers rely on this.

The ids (details in each module):

============================  ==========================================================
``relayrl/Atari-v0``          any ALE game, DQN preprocessing; ``game="breakout"`` and the
                              :class:`~relayrl.envs.atari.AtariConfig` fields as kwargs.
                              ``ALE/<Game>-v5`` ids get the same preprocessing here.
``relayrl/Navigation2D-v0``   MAML's point robot (goal tasks), horizon 100
``relayrl/HalfCheetahVel-v0`` MAML's locomotion task families on gymnasium's MuJoCo v5
``relayrl/HalfCheetahDir-v0`` models, horizon 200 (:mod:`relayrl.envs.meta`: task
``relayrl/AntVel-v0``         sampling, one vector env per batch of tasks)
``relayrl/AntDir-v0``
``relayrl/PredatorPrey-v0``   particle-world predator-prey, all agents under one controller
                              (the two-team interface is :class:`~relayrl.envs.predator_prey.PredatorPreyEnv`)
``relayrl/DigitMaze-v0``      EBU's maze seen through handwritten digits (:mod:`relayrl.envs.digit_maze`)
============================  ==========================================================

Rendering is headless: ``render_mode="rgb_array"`` works without a display, MuJoCo through
EGL (``MUJOCO_GL=egl`` is set here unless the user set it, so import ``relayrl.envs``
before ``mujoco``); :func:`relayrl.envs.video.record_episode` films one episode.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import gymnasium as gym

from relayrl.envs import digit_maze  # registers relayrl/DigitMaze-v0 itself (numpy only)
from relayrl.envs.atari_scores import human_normalized_score
from relayrl.envs.meta import (
    NAVIGATION_ID,
    TASK_FAMILIES,
    make_task_vector_env,
    sample_tasks,
    set_tasks,
)

# MuJoCo picks its OpenGL backend when it is first imported; without a display only an
# offscreen one works. Mesa's EGL renders on the CPU without a GPU.
os.environ.setdefault("MUJOCO_GL", "egl")

ATARI_ID = "relayrl/Atari-v0"

#: id -> (entry point, max_episode_steps or None)
_REGISTRY: dict[str, tuple[str, int | None]] = {
    ATARI_ID: ("relayrl.envs.atari:make_atari_env", None),  # kwargs: game=..., AtariConfig fields
    **TASK_FAMILIES,
    "relayrl/PredatorPrey-v0": ("relayrl.envs.predator_prey:PredatorPreyGymEnv", None),
}

ENV_IDS: tuple[str, ...] = (*_REGISTRY, digit_maze.ENV_ID)


def _register_all() -> None:
    for env_id, (entry_point, horizon) in _REGISTRY.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=entry_point, max_episode_steps=horizon)


_register_all()


def _check_id(env_id: Any) -> str:
    if not isinstance(env_id, str) or env_id not in gym.registry:
        raise ValueError(
            f"unknown environment id {env_id!r}; relayrl's ids are {', '.join(ENV_IDS)}; "
            "any id of gymnasium's registry also works (list them with "
            "`python -c 'import gymnasium, ale_py, relayrl.envs; gymnasium.pprint_registry()'`)"
        )
    return env_id


def _is_atari_id(env_id: Any) -> bool:
    """relayrl/Atari-v0 or any id ale-py registers (imported only when the id may be one)."""
    if not isinstance(env_id, str):
        return False
    if env_id == ATARI_ID:
        return True
    if env_id not in gym.registry:
        import ale_py

        gym.register_envs(ale_py)
        if env_id not in gym.registry and env_id.startswith("ALE/"):
            from relayrl.envs.atari import check_game
            from relayrl.envs.atari_scores import rom_name

            check_game(rom_name(env_id))  # raises, naming the valid games
    spec = gym.registry.get(env_id)
    return spec is not None and spec.entry_point == "ale_py.env:AtariEnv"


def _check_num_envs(num_envs: Any) -> int:
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int; got {num_envs!r}")
    return num_envs


def make_env(env_id: str, *, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """One environment, wrapped as ``gymnasium.make`` wraps it (TimeLimit, checkers).

    Atari ids (``ALE/Pong-v5`` included) get the same preprocessing as in
    :func:`make_vector_env`, as ``relayrl/Atari-v0``.
    """
    if _is_atari_id(env_id) and env_id != ATARI_ID:
        from relayrl.envs.atari import resolve

        rom, cfg, render_mode = resolve(env_id, env_kwargs)
        return gym.make(ATARI_ID, game=rom, render_mode=render_mode, **dataclasses.asdict(cfg))
    return gym.make(_check_id(env_id), **(env_kwargs or {}))


def make_vector_env(
    env_id: str,
    num_envs: int,
    *,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> gym.vector.VectorEnv:
    """A vector env of ``num_envs`` copies of ``env_id`` with NEXT_STEP autoreset.

    ``seed`` resets the sub-envs once with ``seed + i`` and seeds the action space, so the
    caller's next ``reset()`` (seeded or not) is deterministic.
    """
    num_envs = _check_num_envs(num_envs)
    kwargs = dict(env_kwargs or {})
    if _is_atari_id(env_id):
        from relayrl.envs.atari import make_atari_vector_env

        venv = make_atari_vector_env(env_id, num_envs, kwargs)
    elif env_id == NAVIGATION_ID:
        from relayrl.envs.navigation import NavigationVectorEnv

        task = kwargs.pop("task", None)
        venv: gym.vector.VectorEnv = NavigationVectorEnv(
            num_envs, None if task is None else [task] * num_envs, **kwargs
        )
    else:
        from relayrl.envs.vector import CheckedSyncVectorEnv

        _check_id(env_id)
        venv = CheckedSyncVectorEnv(
            [lambda: gym.make(env_id, **kwargs) for _ in range(num_envs)], name=env_id
        )
    if seed is not None:
        venv.reset(seed=seed)
        venv.action_space.seed(seed)
    return venv


__all__ = [
    "ATARI_ID",
    "ENV_IDS",
    "human_normalized_score",
    "make_env",
    "make_task_vector_env",
    "make_vector_env",
    "sample_tasks",
    "set_tasks",
]
