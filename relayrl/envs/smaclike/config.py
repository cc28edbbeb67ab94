"""SMAC's constructor flags as one typed, frozen, validated config."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from relayrl.envs.smaclike.features import FeatureFlags

DIFFICULTIES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "A")


@dataclass(frozen=True)
class SMACLikeConfig:
    """Every keyword of SMAC's ``StarCraft2Env``, with SMAC's defaults."""

    map_name: str = "8m"
    step_mul: int = 8  # game loops per agent step
    move_amount: float = 2  # how far a move order points, in map units
    difficulty: str = "7"  # accepted for compatibility: the built-in AI does not vary with it
    game_version: str | None = None  # accepted and ignored (there is no game binary)
    seed: int | None = None
    continuing_episode: bool = False
    obs_all_health: bool = True
    obs_own_health: bool = True
    obs_last_action: bool = False
    obs_pathing_grid: bool = False
    obs_terrain_height: bool = False
    obs_instead_of_state: bool = False
    obs_timestep_number: bool = False
    state_last_action: bool = True
    state_timestep_number: bool = False
    reward_sparse: bool = False
    reward_only_positive: bool = True
    reward_death_value: float = 10
    reward_win: float = 200
    reward_defeat: float = 0
    reward_negative_scale: float = 0.5
    reward_scale: bool = True
    reward_scale_rate: float = 20
    replay_dir: str = ""  # accepted and ignored (no SC2 replays)
    replay_prefix: str = ""
    window_size_x: int = 1920
    window_size_y: int = 1200
    heuristic_ai: bool = False
    heuristic_rest: bool = False
    debug: bool = False

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            expected = {"bool": bool, "int": int, "float": (int, float), "str": str}.get(str(f.type))
            if expected is bool and not isinstance(value, bool):
                raise TypeError(f"SMACLikeEnv: {f.name}={value!r} must be a bool (True or False)")
            if expected in (int, (int, float)) and (isinstance(value, bool) or not isinstance(value, expected)):
                raise TypeError(f"SMACLikeEnv: {f.name}={value!r} must be a number")
            if expected is str and not isinstance(value, str):
                raise TypeError(f"SMACLikeEnv: {f.name}={value!r} must be a string")
        if str(self.difficulty) not in DIFFICULTIES:
            raise ValueError(f"SMACLikeEnv: difficulty={self.difficulty!r}; allowed: {DIFFICULTIES}")
        if self.step_mul < 1:
            raise ValueError(f"SMACLikeEnv: step_mul={self.step_mul} must be >= 1 game loop")
        if self.move_amount <= 0 or self.move_amount != int(self.move_amount):
            raise ValueError(f"SMACLikeEnv: move_amount={self.move_amount} must be a positive whole number (SMAC indexes the pathing grid with it)")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise TypeError(f"SMACLikeEnv: seed={self.seed!r} must be an int or None")
        if self.heuristic_ai or self.heuristic_rest:
            raise ValueError("SMACLikeEnv: heuristic_ai / heuristic_rest are not supported; use a scripted policy on top of the env instead")

    @property
    def feature_flags(self) -> FeatureFlags:
        return FeatureFlags(
            obs_all_health=self.obs_all_health,
            obs_own_health=self.obs_own_health or self.obs_all_health,
            obs_last_action=self.obs_last_action,
            obs_pathing_grid=self.obs_pathing_grid,
            obs_terrain_height=self.obs_terrain_height,
            obs_instead_of_state=self.obs_instead_of_state,
            obs_timestep_number=self.obs_timestep_number,
            state_last_action=self.state_last_action,
            state_timestep_number=self.state_timestep_number,
            move_amount=float(self.move_amount),
        )
