"""Standard metric names, TensorBoard event files and progress lines.

Every run writes one TensorBoard directory with the same names, whatever the algorithm:

- ``episode_return_mean``, ``episode_len_mean`` (over the last ``window`` episodes),
  ``env_steps``, ``env_steps_per_s``
- ``learner/...`` (``learner/loss``, ``learner/updates_per_s``, algorithm-specific)
- ``replay/...`` (``replay/size``, ``replay/inserts_per_s``, ``replay/samples_per_insert``,
  and per table ``replay/<table>/...``)
- ``rollout/...`` (``rollout/worker_restarts``, ``rollout/weights_lag``)

Hyperparameters go in as a markdown table under the text tab (as CleanRL does), so every run
says what it ran. The writer is ``torch.utils.tensorboard.SummaryWriter``.
"""

from __future__ import annotations

import collections
import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


class EpisodeStats:
    """Returns and lengths of the most recent finished episodes."""

    def __init__(self, window: int = 100):
        self.returns: collections.deque[float] = collections.deque(maxlen=window)
        self.lengths: collections.deque[int] = collections.deque(maxlen=window)
        self.num_episodes = 0

    def extend(self, returns: Iterable[float], lengths: Iterable[int]) -> None:
        for r, n in zip(returns, lengths):
            self.returns.append(float(r))
            self.lengths.append(int(n))
            self.num_episodes += 1

    def summary(self) -> dict[str, float]:
        if not self.returns:
            return {"episode_return_mean": math.nan, "episode_len_mean": math.nan,
                    "episodes_total": 0}
        return {
            "episode_return_mean": float(np.mean(self.returns)),
            "episode_return_max": float(np.max(self.returns)),
            "episode_return_min": float(np.min(self.returns)),
            "episode_len_mean": float(np.mean(self.lengths)),
            "episodes_total": self.num_episodes,
        }


def replay_metrics(info: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Flatten the replay client's ``info()`` into ``replay/...`` scalars.

    The un-prefixed ``replay/size`` etc. sum over tables (rates) so a one-table run reads
    naturally; each table also gets its own ``replay/<table>/...`` entries.
    """
    out: dict[str, float] = {}
    totals = collections.defaultdict(float)
    keys = ("size", "inserts_per_s", "samples_per_s", "samples_per_insert",
            "blocked_insert_s", "blocked_sample_s", "num_inserts", "num_samples")
    for table, tinfo in info.items():
        for k in keys:
            v = tinfo.get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[f"replay/{table}/{k}"] = float(v)
                totals[k] += float(v)
    for k in ("size", "inserts_per_s", "samples_per_s", "blocked_insert_s",
              "blocked_sample_s", "num_inserts", "num_samples"):
        if k in totals:
            out[f"replay/{k}"] = totals[k]
    if totals.get("num_inserts"):
        out["replay/samples_per_insert"] = totals["num_samples"] / totals["num_inserts"]
    return out


def hparams_markdown(config: Mapping[str, Any], prefix: str = "") -> str:
    rows = []

    def walk(d: Mapping[str, Any], p: str) -> None:
        for k, v in d.items():
            if isinstance(v, Mapping) and v:
                walk(v, f"{p}{k}.")
            else:
                rows.append(f"|{p}{k}|{v}|")

    walk(config, prefix)
    return "|param|value|\n|-|-|\n" + "\n".join(rows)


class TensorBoardLogger:
    """One event-file directory per run (per Tune trial)."""

    def __init__(self, logdir: str, config: Mapping[str, Any] | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.logdir = logdir
        self.writer = SummaryWriter(log_dir=logdir)
        if config is not None:
            self.writer.add_text("hyperparameters", hparams_markdown(config))

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        for k, v in metrics.items():
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                if math.isfinite(float(v)):
                    self.writer.add_scalar(k, float(v), global_step=step)
        self.writer.flush()

    def log_video(self, tag: str, frames: np.ndarray, step: int, fps: int = 15) -> None:
        """``frames`` [T, H, W, 3] uint8 -> an animated image in TensorBoard's images tab.

        This is what ``SummaryWriter.add_video`` writes, but encoded with Pillow: torch's
        encoder needs moviepy 1.x, which current moviepy releases no longer provide.
        """
        from torch.utils.tensorboard.summary import Summary

        gif = encode_gif(frames, fps)
        t, h, w, c = np.asarray(frames).shape
        image = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=gif)
        summary = Summary(value=[Summary.Value(tag=tag, image=image)])
        self.writer._get_file_writer().add_summary(summary, global_step=step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def encode_gif(frames: np.ndarray, fps: int = 15) -> bytes:
    """[T, H, W, 3] uint8 frames -> GIF bytes (looping)."""
    import io

    from PIL import Image

    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(1, int(1000 / fps)), loop=0)
    return buf.getvalue()


def progress_line(m: Mapping[str, Any]) -> str:
    def f(key: str, fmt: str) -> str:
        v = m.get(key)
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)

    return (
        f"iter {m.get('iteration', 0):>4}  env_steps {f('env_steps', ',d'):>10}  "
        f"return {f('episode_return_mean', '8.2f')}  len {f('episode_len_mean', '7.1f')}  "
        f"steps/s {f('env_steps_per_s', ',.0f'):>7}  updates {f('learner/num_updates', ',d'):>8}  "
        f"loss {f('learner/loss', '.4f')}  replay {f('replay/size', ',.0f')}  "
        f"time {f('time_total_s', '.0f')}s"
    )


def print_progress(m: Mapping[str, Any]) -> None:
    print(progress_line(m), file=sys.stdout, flush=True)
