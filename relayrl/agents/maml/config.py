"""MAML-TRPO's settings: the YAML ``learner:`` section of ``algorithm: maml_trpo``.

Defaults are Finn et al. (2017)'s locomotion settings; ``tune_configs/maml_*.yaml`` set each
family's own (meta-batch 20 for 2D navigation, 40 trajectories for Ant).
"""

from __future__ import annotations

import dataclasses
import math

from relayrl.platform.config import check

HVP_METHODS = ("exact", "finite_difference")


@dataclasses.dataclass(frozen=True)
class MAMLConfig:
    """Hyperparameters of MAML with a TRPO meta-update; units are named."""

    # --- policy: Gaussian MLP with a learned, state-independent log-std
    hidden_sizes: tuple[int, ...] = (100, 100)  # ReLU layers
    init_log_std: float = 0.0  # log of the initial action std
    min_std: float = 0.0  # not in the paper: a floor on the action std (0 = none, the paper).
    # Meta-training shrinks the std, and a vanilla-PG step on the mean grows as 1 / std, so
    # the later adaptation steps of the meta-test (which nothing trains) overshoot; see
    # benchmarks/results/maml_notes.md. Every use of the policy (sampling, both losses, the
    # KL, the pretrained baseline, eval-meta) sees max(std, min_std)
    normalize_actions: bool = True  # the policy acts in [-1, 1]^d, rescaled to the env's box
    # (rllab's ``normalize`` wrapper, around every env of the paper's code: on 2D navigation a
    # unit-std policy then moves +-0.1 per step, not +-1 clipped to the box)
    # --- inner loop (adaptation): vanilla policy gradient with a linear feature baseline
    num_inner_steps: int = 1  # gradient steps of adaptation during meta-training
    inner_lr: float = 0.1  # alpha
    later_inner_lr_scale: float = 1.0  # not in the paper (which trains one step): with
    # num_inner_steps > 1, steps 2, 3, ... use this x alpha. 0.5 trains the schedule the
    # meta-test applies (alpha, then alpha / 2), so the later steps are meta-trained too
    first_order: bool = False  # drop the second-order term of the meta-gradient (FOMAML)
    trajectories_per_task: int = 20  # episodes per task per inner step (and after adaptation)
    meta_batch_size: int = 40  # tasks per meta-iteration
    gamma: float = 0.99  # discount per env step
    gae_lambda: float = 1.0  # lambda of generalized advantage estimation
    baseline_reg: float = 1e-5  # ridge coefficient of the linear feature baseline
    normalize_advantages: bool = True  # per task, before the inner step and the surrogate
    # --- outer loop (meta-update): TRPO
    max_kl: float = 0.01  # trust region: mean KL(old || new) over tasks, post-adaptation states
    pre_update_kl: bool = False  # not in the paper: the trust region also bounds the KL of the
    # unadapted policy on the pre-update states (the two KLs summed). With a large alpha the
    # post-adaptation KL alone lets theta move far along directions the inner step undoes,
    # and the unadapted policy can run away (2D navigation, alpha 0.5: 2 of 4 seeds)
    cg_iters: int = 10  # conjugate-gradient iterations
    cg_damping: float = 1e-5  # added to the Hessian-vector product
    line_search_ratio: float = 0.8  # backtracking shrink factor
    line_search_steps: int = 15  # backtracking attempts before rejecting the step
    hvp_subsample: float = 1.0  # fraction of each task's episodes used in Hessian-vector
    # products (rllab's subsample_factor; the gradient and the line search use all of them)
    hvp_method: str = "exact"  # "exact": double-backward Hessian-vector products;
    # "finite_difference": rllab's finite differences, which the paper's TRPO used (in float32
    # at rllab's epsilon they are mostly rounding; see trpo.finite_difference_hvp)
    # --- baselines for the meta-test (relayrl eval-meta)
    pretrained_baseline: bool = False  # also train one TRPO policy on all tasks jointly
    # --- runtime
    sample_timeout_s: float = 600.0  # how long the learner waits for a meta-batch
    worker_memory_mb: float = 2048.0  # memory one rollout worker may use for its tasks' envs

    def __post_init__(self):
        check(len(self.hidden_sizes) >= 1 and all(h >= 1 for h in self.hidden_sizes),
              f"learner.hidden_sizes: got {list(self.hidden_sizes)}, need >= 1 positive sizes")
        check(math.isfinite(self.min_std) and self.min_std >= 0,
              f"learner.min_std: got {self.min_std}, must be >= 0 (0 turns the floor off)")
        check(self.num_inner_steps >= 1,
              f"learner.num_inner_steps: got {self.num_inner_steps}, must be >= 1 (MAML adapts "
              "with at least one gradient step; use algorithm trpo for no adaptation)")
        check(self.inner_lr > 0, f"learner.inner_lr: got {self.inner_lr}, must be > 0")
        check(math.isfinite(self.later_inner_lr_scale) and self.later_inner_lr_scale > 0,
              f"learner.later_inner_lr_scale: got {self.later_inner_lr_scale}, must be > 0")
        check(self.trajectories_per_task >= 1,
              f"learner.trajectories_per_task: got {self.trajectories_per_task}, must be >= 1")
        check(self.meta_batch_size >= 1,
              f"learner.meta_batch_size: got {self.meta_batch_size}, must be >= 1")
        check(0.0 <= self.gamma <= 1.0, f"learner.gamma: got {self.gamma}, must be in [0, 1]")
        check(0.0 <= self.gae_lambda <= 1.0,
              f"learner.gae_lambda: got {self.gae_lambda}, must be in [0, 1]")
        check(self.baseline_reg > 0, f"learner.baseline_reg: got {self.baseline_reg}, must be > 0")
        check(self.max_kl > 0, f"learner.max_kl: got {self.max_kl}, must be > 0")
        check(self.cg_iters >= 1, f"learner.cg_iters: got {self.cg_iters}, must be >= 1")
        check(self.cg_damping >= 0, f"learner.cg_damping: got {self.cg_damping}, must be >= 0")
        check(0 < self.line_search_ratio < 1,
              f"learner.line_search_ratio: got {self.line_search_ratio}, must be in (0, 1)")
        check(self.line_search_steps >= 1,
              f"learner.line_search_steps: got {self.line_search_steps}, must be >= 1")
        check(0 < self.hvp_subsample <= 1,
              f"learner.hvp_subsample: got {self.hvp_subsample}, must be in (0, 1]")
        check(self.hvp_method in HVP_METHODS,
              f"learner.hvp_method: got {self.hvp_method!r}, expected one of {list(HVP_METHODS)}")
        check(self.hvp_method == "exact" or self.hvp_subsample == 1.0,
              f"learner.hvp_subsample: got {self.hvp_subsample} with hvp_method "
              f"{self.hvp_method!r}; subsampling applies to exact products only (use 1.0)")
        check(self.sample_timeout_s > 0, "learner.sample_timeout_s must be > 0")
        check(self.worker_memory_mb > 0, "learner.worker_memory_mb must be > 0")

    @property
    def inner_lrs(self) -> list[float]:
        """The step size of each adaptation step of meta-training."""
        return [self.inner_lr] + [self.inner_lr * self.later_inner_lr_scale] * (self.num_inner_steps - 1)

    @property
    def min_log_std(self) -> float:
        """log(min_std), -inf when there is no floor."""
        return math.log(self.min_std) if self.min_std > 0 else -math.inf
