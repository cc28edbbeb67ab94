"""What the PettingZoo and RLlib adapters share: agent names, spaces, action clean-up."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

UNAVAILABLE_ACTION_MODES = ("raise", "stop")


def agent_names(n_agents: int) -> list[str]:
    return [f"agent_{i}" for i in range(n_agents)]


def observation_space(obs_size: int, n_actions: int, obs_key: str = "observation", mask_dtype=np.int8) -> spaces.Dict:
    """SMAC features lie in [-1, 1]; the mask marks the available actions.

    PettingZoo's convention is ``observation`` with an int8 mask; RLlib's action-masking
    module reads ``observations`` and a float mask.
    """
    return spaces.Dict(
        {
            obs_key: spaces.Box(-1.0, 1.0, (obs_size,), np.float32),
            "action_mask": spaces.Box(0, 1, (n_actions,), mask_dtype),
        }
    )


def clean_actions(requested: dict, names: list[str], avail: np.ndarray, mode: str, owner: str) -> tuple[list[int], int]:
    """Actions in agent order; dead agents no-op; unavailable ones raise or become 'stop' (mode)."""
    acts, replaced = [], 0
    for i, name in enumerate(names):
        if avail[i, 0] == 1:  # dead: only no-op exists
            acts.append(0)
            continue
        if name not in requested:
            raise ValueError(f"{owner}: no action for live agent {name!r}")
        a = int(requested[name])
        if not 0 <= a < avail.shape[1] or avail[i, a] != 1:
            if mode == "raise":
                allowed = np.flatnonzero(avail[i]).tolist()
                raise ValueError(f"{owner}: agent {name!r} cannot perform action {a} (available: {allowed}); pass unavailable_action='stop' to replace such actions by 'stop'")
            a, replaced = 1, replaced + 1
        acts.append(a)
    return acts, replaced
