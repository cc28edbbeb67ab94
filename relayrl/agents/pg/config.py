"""Settings of ``algorithm: pg`` (the YAML ``learner:`` section)."""

from __future__ import annotations

import dataclasses

from relayrl.platform.config import check


@dataclasses.dataclass(frozen=True)
class PGConfig:
    """Policy-gradient hyperparameters; one learner update per policy version."""

    hidden_sizes: tuple[int, ...] = (64, 64)
    lr: float = 2e-3  # Adam
    gamma: float = 0.99
    gae_lambda: float = 0.95  # GAE(lambda); 1.0 = Monte-Carlo returns minus the baseline
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5
    normalize_advantages: bool = True
    num_epochs: int = 1  # gradient steps on each version's batch (1 = vanilla PG)
    queue_size: int = 4096  # sequences the queue table holds at most
    sample_timeout_s: float = 120.0

    def __post_init__(self):
        check(self.lr > 0, f"learner.lr: got {self.lr}, must be > 0")
        check(0 <= self.gamma <= 1, f"learner.gamma: got {self.gamma}, must be in [0, 1]")
        check(0 <= self.gae_lambda <= 1, f"learner.gae_lambda: got {self.gae_lambda}, must be in [0, 1]")
        check(self.num_epochs >= 1, f"learner.num_epochs: got {self.num_epochs}, must be >= 1")
        check(self.queue_size >= 1, "learner.queue_size must be >= 1")
