"""The task-family interface shared by the meta-RL environments (MAML's task distributions).

A *task family* is an environment whose dynamics or reward depend on a task drawn from a
distribution: a goal position, a target velocity, a running direction. The learner needs to
draw tasks (``sample_tasks``), pin an environment to one (``set_task``) and read it back
(``get_task``); the helpers here validate tasks so a bad one fails with one clear message.

Until a task is set explicitly, an environment draws its own task from its seeded RNG on the
first reset and on every reset that passes a seed, so ``make_vector_env`` on a family id
yields a deterministic spread of tasks without any task bookkeeping by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def check_task_keys(family: str, task: Any, keys: Sequence[str]) -> Mapping[str, Any]:
    """Reject anything but a mapping with exactly ``keys``."""
    if not isinstance(task, Mapping) or set(task) != set(keys):
        got = sorted(task) if isinstance(task, Mapping) else type(task).__name__
        raise ValueError(
            f"{family}: a task must be a dict with keys {sorted(keys)}; got {got!r}"
        )
    return task


def check_scalar_in_range(family: str, key: str, value: Any, low: float, high: float) -> float:
    """A finite real number in ``[low, high]``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{family}: task[{key!r}] must be a number in [{low}, {high}]; got {value!r}"
        ) from None
    if not (np.isfinite(x) and low <= x <= high):
        raise ValueError(f"{family}: task[{key!r}] = {x} is outside the family's range [{low}, {high}]")
    return x


def check_direction(family: str, value: Any) -> int:
    """A running direction: +1 (forward) or -1 (backward)."""
    if isinstance(value, (bool, np.bool_)) or value not in (-1, 1):
        raise ValueError(f"{family}: task['direction'] must be +1 or -1; got {value!r}")
    return int(value)


def check_rng(family: str, n: Any, rng: Any) -> int:
    """``sample_tasks`` arguments: a non-negative int count and a numpy Generator."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{family}.sample_tasks: n must be a non-negative int; got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{family}.sample_tasks: rng must be a numpy.random.Generator "
            f"(e.g. np.random.default_rng(seed)); got {type(rng).__name__}"
        )
    return int(n)


def check_action_shape(env_name: str, action: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The action as a float array of exactly ``shape``; anything else is one clear error."""
    a = np.asarray(action, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{env_name}: action must have shape {shape}; got shape {a.shape}")
    return a
