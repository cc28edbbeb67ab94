"""Learner families by the name used in YAML (``algorithm: dqn``).

A plain dict of import paths, imported lazily so that choosing DQN does not import MuJoCo or
the MAML code. An unknown name lists the valid ones.
"""

from __future__ import annotations

import importlib
from typing import Any

from relayrl.platform.config import ConfigError

ALGORITHMS: dict[str, str] = {
    "dqn": "relayrl.agents.dqn.algorithm:DQN",
    "maml_trpo": "relayrl.agents.maml.algorithm:MAMLTRPO",
    "ebu": "relayrl.agents.dqn.ebu:EBU",
    "random": "relayrl.agents.random_agent:RandomAgent",
    "pg": "relayrl.agents.pg.algorithm:PG",
}


def get_algorithm(name: str) -> Any:
    """The Algorithm registered under ``name``."""
    if name not in ALGORITHMS:
        raise ConfigError(
            f"algorithm: unknown algorithm {name!r}; allowed: {', '.join(sorted(ALGORITHMS))}"
        )
    module, attr = ALGORITHMS[name].split(":")
    return getattr(importlib.import_module(module), attr)()
