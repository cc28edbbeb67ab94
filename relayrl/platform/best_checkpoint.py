"""``best_checkpoint/``: the iteration with the highest ``episode_return_mean`` so far.

Finn et al. (2017) evaluate "the model with the best average return during training" (for
MAML, the post-adaptation return on the meta-batch); ``run.keep_best: true`` keeps that model
next to the periodic checkpoints, in the same format, so ``relayrl eval-meta`` and
``relayrl eval`` read it as they read any checkpoint. ``best.json`` inside it names the
iteration and the return.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

BEST_DIR = "best_checkpoint"
BEST_INFO = "best.json"


class BestCheckpoint:
    """Rewrite ``<run>/best_checkpoint`` whenever an iteration beats the best return so far."""

    def __init__(self, run_dir: str | Path, *, resumed_iteration: int | None = None):
        self.dir = Path(run_dir) / BEST_DIR
        self.best = -math.inf
        info = self.dir / BEST_INFO
        if not info.is_file():
            return
        try:
            rec = json.loads(info.read_text())
            iteration, best = int(rec["iteration"]), float(rec["episode_return_mean"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            from relayrl.platform.config import ConfigError

            raise ConfigError(
                f"{info}: corrupt best-checkpoint record (expected JSON with an integer "
                "'iteration' and a number 'episode_return_mean'); move or delete "
                f"{self.dir} to let the run find its best model again") from None
        if resumed_iteration is not None and iteration > resumed_iteration:
            # Saved after the checkpoint the run resumes from: those iterations run again
            # (identically) and find it again.
            shutil.rmtree(self.dir)
            return
        self.best = best

    def update(self, trainer: Any, metrics: dict[str, Any]) -> bool:
        """Save ``trainer`` if this iteration's return is the best yet; True if it was."""
        ret = float(metrics.get("episode_return_mean", math.nan))
        if math.isnan(ret) or ret <= self.best:
            return False
        tmp = self.dir.with_name(BEST_DIR + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        # Replay contents are for resuming, not evaluating; a best model is evaluated.
        trainer.save(str(tmp), include_replay=False)
        (tmp / BEST_INFO).write_text(json.dumps({"iteration": int(metrics["iteration"]),
                                                 "episode_return_mean": ret}))
        old = self.dir.with_name(BEST_DIR + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.dir.exists():
            self.dir.rename(old)
        tmp.rename(self.dir)
        shutil.rmtree(old, ignore_errors=True)
        self.best = ret
        return True
