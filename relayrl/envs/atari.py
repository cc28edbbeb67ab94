"""Atari 2600 games through ale-py with the standard DQN preprocessing.

Preprocessing (Mnih et al. 2015; Machado et al. 2018 for sticky actions), every step of
it configurable through :class:`AtariConfig`:

* up to ``noop_max`` (30) no-op frames at the start of each episode, a random number each time;
* each action repeated for ``frame_skip`` (4) frames; the observed frame is the pixel-wise max
  of the last two (Atari sprites flicker between frames);
* grayscale, resized to 84 x 84, the last ``frame_stack`` (4) frames stacked: ``[4, 84, 84]``
  uint8 (the stack is zero-padded at the start of an episode);
* rewards clipped to [-1, 1] if ``reward_clipping`` (off by default, so returns are game
  scores; DQN-style learners turn it on);
* ``repeat_action_probability`` sticky actions (0.25, ALE v5's default) and the minimal or
  full (18) action set;
* a lost life is reported apart from the end of the game: ``info["lives"]`` and a boolean
  ``info["life_loss"]``, True on each step where the life counter went down (the last life
  included), while ``terminated`` is only the game over.

Vector envs use ale-py's native ``AtariVectorEnv`` (C++ threads, the same preprocessing in
C++); a single env (``relayrl/Atari-v0``, used for rendering and videos) composes gymnasium's
``AtariPreprocessing`` and ``FrameStackObservation`` on ALE's own env. With no-ops off and no
sticky actions the two produce identical observations (tests check this).

Ids: ``make_vector_env`` / ``make_env`` accept any ALE id (``"ALE/Pong-v5"``; the id's own
sticky-action and action-set defaults apply: v5 sticky, ``...NoFrameskip-v4`` not) or
``"relayrl/Atari-v0"`` with ``env_kwargs={"game": "pong"}``; the other keys of ``env_kwargs``
are :class:`AtariConfig` fields. Game names are ALE ROM names (``ms_pacman``) or the CamelCase
of the ids (``MsPacman``); list them with
``python -c "import ale_py.roms; print(ale_py.roms.get_all_rom_ids())"``.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

import ale_py
import gymnasium as gym
import numpy as np
from ale_py import roms
from ale_py.vector_env import AtariVectorEnv
from gymnasium.wrappers import AtariPreprocessing, ClipReward, FrameStackObservation

from relayrl.envs.atari_scores import rom_name

gym.register_envs(ale_py)

ATARI_ID = "relayrl/Atari-v0"
ALE_ENTRY_POINT = "ale_py.env:AtariEnv"


@dataclasses.dataclass(frozen=True)
class AtariConfig:
    """Preprocessing and emulator settings of one Atari env (single or vector)."""

    noop_max: int = 30  # no-op frames at episode start: a random number, at most this
    frame_skip: int = 4  # emulator frames per agent step (the action is repeated)
    max_pool: bool = True  # observe the max over the last two frames of each skip
    screen_size: int = 84  # observations are screen_size x screen_size grayscale
    frame_stack: int = 4  # observations stack this many preprocessed frames
    reward_clipping: bool = False  # clip rewards to [-1, 1]
    full_action_space: bool = False  # all 18 actions instead of the game's minimal set
    repeat_action_probability: float = 0.25  # sticky actions (ALE v5 default)
    use_fire_reset: bool = False  # press FIRE after reset in games that need it
    max_episode_frames: int = 108_000  # truncate after this many emulator frames (30 min)
    num_threads: int = 1  # C++ threads of the vector env (a rollout worker holds 1 CPU)

    def __post_init__(self) -> None:
        for name in ("frame_skip", "screen_size", "frame_stack", "max_episode_frames", "num_threads"):
            _check_int(name, getattr(self, name), low=1)
        _check_int("noop_max", self.noop_max, low=0)
        for name in ("max_pool", "reward_clipping", "full_action_space", "use_fire_reset"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Atari: {name} must be True or False; got {getattr(self, name)!r}")
        p = self.repeat_action_probability
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Atari: repeat_action_probability must be a number in [0, 1]; got {p!r}")

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any], defaults: dict[str, Any] | None = None) -> AtariConfig:
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise ValueError(
                f"Atari: unknown env_kwargs {unknown}; allowed: game, render_mode, {', '.join(allowed)}"
            )
        return cls(**{**(defaults or {}), **kwargs})


def _check_int(name: str, value: Any, *, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"Atari: {name} must be an int >= {low}; got {value!r}")


def check_game(game: Any) -> str:
    """The ALE ROM name of ``game``, or one clear error naming how to see the valid ones."""
    valid = roms.get_all_rom_ids()
    rom = rom_name(game) if isinstance(game, str) else None
    if rom not in valid:
        close = difflib.get_close_matches(str(rom or game), valid, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(
            f"unknown Atari game {game!r}{hint}; valid names are ALE ROM names such as pong, "
            f"breakout, ms_pacman ({len(valid)} in all: "
            "python -c \"import ale_py.roms; print(ale_py.roms.get_all_rom_ids())\")"
        )
    return rom


def resolve(env_id: str, env_kwargs: dict[str, Any] | None) -> tuple[str, AtariConfig, str | None]:
    """(ROM name, config, render_mode) for an Atari id and its env_kwargs."""
    kwargs = dict(env_kwargs or {})
    render_mode = kwargs.pop("render_mode", None)
    defaults: dict[str, Any] = {}
    if env_id == ATARI_ID:
        game = kwargs.pop("game", "pong")
    else:
        if "game" in kwargs:
            raise ValueError(f"{env_id}: the game is part of the id; drop env_kwargs['game'] or use {ATARI_ID}")
        spec_kwargs = gym.spec(env_id).kwargs
        game = spec_kwargs["game"]
        for key in ("repeat_action_probability", "full_action_space"):
            if key in spec_kwargs:
                defaults[key] = spec_kwargs[key]
    return check_game(game), AtariConfig.from_kwargs(kwargs, defaults), render_mode


class LifeLossInfo(gym.Wrapper):
    """Adds ``info["life_loss"]``: True on the steps where ALE's life counter went down."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._lives = int(info["lives"])
        info["life_loss"] = False
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = int(info["lives"])
        info["life_loss"] = lives < self._lives
        self._lives = lives
        return obs, reward, terminated, truncated, info


class _ActionCheck(gym.Wrapper):
    """One clear error for an action outside the discrete action set."""

    def step(self, action):
        n = self.action_space.n
        if np.ndim(action) != 0 or not np.issubdtype(np.asarray(action).dtype, np.integer) or not 0 <= action < n:
            raise ValueError(f"Atari: action must be an int in [0, {n}); got {action!r}")
        return self.env.step(action)


def make_atari_env(game: str = "pong", render_mode: str | None = None, **config: Any) -> gym.Env:
    """One preprocessed Atari env (the ``relayrl/Atari-v0`` entry point)."""
    rom = check_game(game)
    cfg = AtariConfig.from_kwargs(config)
    if cfg.use_fire_reset:
        raise ValueError("Atari: use_fire_reset is supported by vector envs only; make the single env without it")
    if not cfg.max_pool:
        raise ValueError("Atari: max_pool=False is supported by vector envs only")
    env = ale_py.env.AtariEnv(
        game=rom,
        frameskip=1,  # AtariPreprocessing skips and max-pools
        repeat_action_probability=cfg.repeat_action_probability,
        full_action_space=cfg.full_action_space,
        max_num_frames_per_episode=cfg.max_episode_frames,
        render_mode=render_mode,
    )
    env = AtariPreprocessing(
        env, noop_max=cfg.noop_max, frame_skip=cfg.frame_skip, screen_size=cfg.screen_size,
        terminal_on_life_loss=False, grayscale_obs=True,
    )
    env = FrameStackObservation(env, cfg.frame_stack, padding_type="zero")
    env = LifeLossInfo(env)
    if cfg.reward_clipping:
        env = ClipReward(env, -1.0, 1.0)
    return _ActionCheck(env)


def make_atari_vector_env(
    env_id: str, num_envs: int, env_kwargs: dict[str, Any] | None = None
) -> gym.vector.VectorEnv:
    """ale-py's native vector env with the preprocessing, NEXT_STEP autoreset, life-loss info."""
    rom, cfg, render_mode = resolve(env_id, env_kwargs)
    if render_mode is not None:
        raise ValueError(
            f"{env_id}: the Atari vector env does not render; use make_env({ATARI_ID!r}, "
            f"env_kwargs={{'game': {rom!r}, 'render_mode': 'rgb_array'}}) for pictures"
        )
    return PreprocessedAtariVectorEnv(rom, num_envs, cfg)


class PreprocessedAtariVectorEnv(AtariVectorEnv):
    """AtariVectorEnv with float32 rewards, ``info["life_loss"]`` and checked actions."""

    def __init__(self, rom: str, num_envs: int, cfg: AtariConfig):
        super().__init__(
            rom, num_envs,
            num_threads=cfg.num_threads,
            max_num_frames_per_episode=cfg.max_episode_frames,
            repeat_action_probability=float(cfg.repeat_action_probability),
            full_action_space=cfg.full_action_space,
            autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP,
            img_height=cfg.screen_size, img_width=cfg.screen_size, grayscale=True,
            stack_num=cfg.frame_stack, frameskip=cfg.frame_skip, maxpool=cfg.max_pool,
            noop_max=cfg.noop_max, episodic_life=False, life_loss_info=False,
            reward_clipping=cfg.reward_clipping, use_fire_reset=cfg.use_fire_reset,
        )
        self.game = rom
        self.config = cfg
        self._lives = np.zeros(num_envs, dtype=np.int32)
        self._resetting = np.zeros(num_envs, dtype=bool)

    def reset(self, *, seed=None, options=None):
        if isinstance(seed, np.integer):
            seed = int(seed)
        obs, info = super().reset(seed=seed, options=options)
        self._lives = info["lives"].copy()
        self._resetting[:] = False
        info["life_loss"] = np.zeros(self.num_envs, dtype=bool)
        return obs, info

    def step(self, actions):
        actions = np.asarray(actions)
        n = self.single_action_space.n
        if actions.shape != (self.num_envs,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(
                f"Atari vector env ({self.game}): actions must be an int array of shape "
                f"({self.num_envs},); got {actions.dtype} array of shape {actions.shape}"
            )
        if actions.size and (actions.min() < 0 or actions.max() >= n):
            raise ValueError(
                f"Atari vector env ({self.game}): actions must be in [0, {n}); got {actions.tolist()}"
            )
        obs, reward, terminated, truncated, info = super().step(actions.astype(np.int32, copy=False))
        lives = info["lives"]
        info["life_loss"] = (lives < self._lives) & ~self._resetting
        self._lives = lives.copy()
        self._resetting = terminated | truncated
        return obs, reward.astype(np.float32), terminated, truncated, info

    def render(self):
        raise NotImplementedError(
            f"the Atari vector env does not render; use make_env({ATARI_ID!r}, "
            "env_kwargs={'render_mode': 'rgb_array', ...})"
        )
