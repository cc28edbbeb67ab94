"""Meta-RL task families: ids, task sampling, and one vector env per batch of tasks.

The five families of Finn et al. (2017) are registered with gymnasium by ``relayrl.envs``:

=============================  =====================================  =======  =========
id                             task                                   horizon  module
=============================  =====================================  =======  =========
``relayrl/Navigation2D-v0``    ``{"goal": array([x, y])}``, [-.5,.5]^2   100     navigation
``relayrl/HalfCheetahVel-v0``  ``{"velocity": v}``, v in [0, 2]          200     locomotion
``relayrl/HalfCheetahDir-v0``  ``{"direction": +1 or -1}``               200     locomotion
``relayrl/AntVel-v0``          ``{"velocity": v}``, v in [0, 3]          200     locomotion
``relayrl/AntDir-v0``          ``{"direction": +1 or -1}``               200     locomotion
=============================  =====================================  =======  =========

A meta-batch is one vector env with one task per sub-env::

    tasks = sample_tasks("relayrl/AntDir-v0", 40, np.random.default_rng(0))
    venv = make_task_vector_env("relayrl/AntDir-v0", tasks, seed=0)
    venv.call("get_task")          # the 40 tasks, in order
    set_tasks(venv, new_tasks)     # next meta-iteration, same envs

Navigation uses :class:`~relayrl.envs.navigation.NavigationVectorEnv` (numpy rows); the
MuJoCo families use gymnasium's ``SyncVectorEnv`` (one process: the rollout worker is
already one Ray actor per CPU). Both autoreset with NEXT_STEP semantics.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

NAVIGATION_ID = "relayrl/Navigation2D-v0"

#: family id -> (entry point, horizon in env steps)
TASK_FAMILIES: dict[str, tuple[str, int]] = {
    NAVIGATION_ID: ("relayrl.envs.navigation:Navigation2DEnv", 100),
    "relayrl/HalfCheetahVel-v0": ("relayrl.envs.locomotion:HalfCheetahVelEnv", 200),
    "relayrl/HalfCheetahDir-v0": ("relayrl.envs.locomotion:HalfCheetahDirEnv", 200),
    "relayrl/AntVel-v0": ("relayrl.envs.locomotion:AntVelEnv", 200),
    "relayrl/AntDir-v0": ("relayrl.envs.locomotion:AntDirEnv", 200),
}


def check_family(env_id: str) -> str:
    if env_id not in TASK_FAMILIES:
        raise ValueError(
            f"unknown task family {env_id!r}; allowed: {', '.join(sorted(TASK_FAMILIES))}"
        )
    return env_id


def family_class(env_id: str) -> type:
    """The family's env class (its ``sample_tasks`` / ``check_task`` need no instance)."""
    from gymnasium.envs.registration import load_env_creator

    return load_env_creator(TASK_FAMILIES[check_family(env_id)][0])


def sample_tasks(env_id: str, n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` tasks drawn from the family's task distribution."""
    return family_class(env_id).sample_tasks(n, rng)


def check_task(env_id: str, task: dict) -> None:
    """Raise one clear ValueError if ``task`` is not a task of the family ``env_id``."""
    family_class(env_id).check_task(task)


def make_task_vector_env(
    env_id: str,
    tasks: Sequence[dict],
    *,
    seed: int | None = None,
    render_mode: str | None = None,
) -> gym.vector.VectorEnv:
    """One sub-env per task; horizon by truncation; NEXT_STEP autoreset.

    With ``seed``, the sub-envs are reset once with ``seed + i`` (and the action space
    seeded), so the caller's next ``reset()`` is deterministic too.
    """
    check_family(env_id)
    if len(tasks) == 0:
        raise ValueError(f"{env_id}: make_task_vector_env needs at least one task")
    if env_id == NAVIGATION_ID:
        from relayrl.envs.navigation import HORIZON, NavigationVectorEnv

        venv: gym.vector.VectorEnv = NavigationVectorEnv(
            len(tasks), tasks, horizon=HORIZON, render_mode=render_mode
        )
    else:
        import relayrl.envs  # noqa: F401  (registration)

        def make_one(task: dict):
            return lambda: gym.make(env_id, task=task, render_mode=render_mode)

        for task in tasks:  # fail on a bad task here, not inside a sub-env constructor
            check_task(env_id, task)
        from relayrl.envs.vector import CheckedSyncVectorEnv

        venv = CheckedSyncVectorEnv([make_one(t) for t in tasks], name=env_id)
    if seed is not None:
        venv.reset(seed=seed)
        venv.action_space.seed(seed)
    return venv


def set_tasks(venv: gym.vector.VectorEnv, tasks: Sequence[dict]) -> None:
    """Give sub-env ``i`` the task ``tasks[i]``.

    The reward follows the new task from the next step; reset the vector env to start the
    new tasks' episodes from their initial states.
    """
    if len(tasks) != venv.num_envs:
        raise ValueError(f"got {len(tasks)} tasks for a vector env of {venv.num_envs}; pass one per env")
    venv.set_attr("task", list(tasks))


def rng_states(venv: gym.vector.VectorEnv) -> list[dict | None]:
    """Each sub-env's generator state (reset noise, task draws): what a checkpoint keeps so
    a resumed run draws what the uninterrupted one would have."""
    from relayrl.envs.navigation import NavigationVectorEnv

    if isinstance(venv, NavigationVectorEnv):
        return venv.rng_states()
    return [e.unwrapped.np_random.bit_generator.state for e in venv.envs]


def set_rng_states(venv: gym.vector.VectorEnv, states: Sequence[dict | None]) -> None:
    """Put back what :func:`rng_states` returned (same number of sub-envs)."""
    from relayrl.envs.navigation import NavigationVectorEnv

    if len(states) != venv.num_envs:
        raise ValueError(f"got {len(states)} generator states for a vector env of {venv.num_envs}")
    if isinstance(venv, NavigationVectorEnv):
        venv.set_rng_states(states)
        return
    for env, st in zip(venv.envs, states):
        if st is not None:
            env.unwrapped.np_random.bit_generator.state = st


def get_tasks(venv: gym.vector.VectorEnv) -> list[dict]:
    """The current task of each sub-env."""
    return list(venv.call("get_task"))
