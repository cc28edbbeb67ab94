"""Episode videos for TensorBoard: play one episode headless and keep its rgb frames.

``record_episode`` works for every id ``make_env`` knows (Atari, MuJoCo, navigation,
predator-prey, gymnasium's own). MuJoCo renders offscreen through EGL (``relayrl.envs``
sets ``MUJOCO_GL=egl`` unless the user chose a backend). Frames are capped to
``frame_size`` pixels on their longer side so a 200-step episode stays a few MB;
``SummaryWriter.add_video`` wants ``[N, T, C, H, W]``, i.e. ``frames.transpose(0, 3, 1, 2)[None]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from relayrl.envs import make_env
from relayrl.envs.meta import NAVIGATION_ID, TASK_FAMILIES


def record_episode(
    env_id: str,
    act_fn: Callable[[Any], Any],
    *,
    seed: int,
    max_steps: int,
    env_kwargs: dict[str, Any] | None = None,
    frame_size: int = 256,
) -> np.ndarray:
    """Frames ``[T, H, W, 3]`` uint8 of one episode: the reset frame, then one per step.

    ``act_fn(obs) -> action`` acts in a single env. The episode stops at termination,
    truncation or after ``max_steps`` steps, so ``T <= max_steps + 1``.
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"record_episode: max_steps must be a positive int; got {max_steps!r}")
    kwargs = {**(env_kwargs or {}), "render_mode": "rgb_array"}
    if env_id in TASK_FAMILIES and env_id != NAVIGATION_ID:
        # MuJoCo renders at the requested size directly (its default is 480 x 480).
        kwargs.setdefault("width", frame_size)
        kwargs.setdefault("height", frame_size)
    env = make_env(env_id, env_kwargs=kwargs)
    try:
        obs, _ = env.reset(seed=seed)
        frames = [_frame(env.render(), env_id, frame_size)]
        for _ in range(max_steps):
            obs, _, terminated, truncated, _ = env.step(act_fn(obs))
            frames.append(_frame(env.render(), env_id, frame_size))
            if terminated or truncated:
                break
    finally:
        env.close()
    return np.stack(frames)


def _frame(frame: Any, env_id: str, frame_size: int) -> np.ndarray:
    """One rgb frame as uint8 [H, W, 3], the longer side at most ``frame_size``."""
    if frame is None:
        raise RuntimeError(f"{env_id}: render() returned nothing with render_mode='rgb_array'")
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise RuntimeError(f"{env_id}: render() returned shape {frame.shape}, not [H, W, 3]")
    h, w = frame.shape[:2]
    if max(h, w) > frame_size:
        import cv2

        scale = frame_size / max(h, w)
        frame = cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(frame, dtype=np.uint8)
