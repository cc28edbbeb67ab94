"""SMAC-like multi-agent battles in pure numpy.

``SMACLikeEnv`` is a drop-in for SMAC's ``StarCraft2Env`` (same constructor flags,
methods, sizes and feature layouts); ``SMACLikeVecEnv`` steps many battles in one numpy
call; ``SMACLikeTeamEnv`` lets learners play both sides. Adapters for PettingZoo and
RLlib live in ``pettingzoo_env`` and ``rllib_env`` (imported lazily). See README.md.
"""

from relayrl.envs.smaclike.config import SMACLikeConfig
from relayrl.envs.smaclike.core import InvalidActionError
from relayrl.envs.smaclike.env import SMACLikeEnv
from relayrl.envs.smaclike.maps import MapError, MapSpec, list_maps, load_map

__all__ = [
    "InvalidActionError",
    "MapError",
    "MapSpec",
    "SMACLikeConfig",
    "SMACLikeEnv",
    "SMACLikeTeamEnv",
    "SMACLikeVecEnv",
    "list_maps",
    "load_map",
]


def __getattr__(name):
    if name == "SMACLikeVecEnv":
        from relayrl.envs.smaclike.vec_env import SMACLikeVecEnv

        return SMACLikeVecEnv
    if name == "SMACLikeTeamEnv":
        from relayrl.envs.smaclike.team_env import SMACLikeTeamEnv

        return SMACLikeTeamEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
