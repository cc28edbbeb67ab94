"""Episodic Backward Update (Lee, Sung, Cho, Lee, NeurIPS 2019) on the relayrl platform.

Uniform one-step replay rarely picks the one rewarding transition of a sparse task, and early
on every bootstrapped target is zero anyway. EBU samples one whole episode and sweeps it from
its end to its start, so a reward reaches every state of the episode in one pass:

1. ``Q~ = Q_target(S_{k+1}, .)`` for every transition of the episode (a ``[T, A]`` table);
   rows whose next state is terminal are 0.
2. ``y_T = R_T`` (or ``R_T + gamma max_a Q~[T, a]`` when the episode was truncated, not ended).
3. For ``k = T-1 .. 1``:  ``Q~[k, A_{k+1}] <- beta y_{k+1} + (1 - beta) Q~[k, A_{k+1}]``,
   ``y_k = R_k + gamma max_a Q~[k, a]``.
4. Regress ``Q(S_k, A_k)`` on ``y_k`` in minibatches taken from the episode's end.

This module holds the pure backward pass (:func:`backward_targets`) and the algorithm as the
platform sees it (:class:`EBU`: one whole-episode table, an episode adder, the learner of
:mod:`relayrl.agents.dqn.ebu_learner`). Adaptive EBU trains one Q-head per beta and acts with
the head whose recent online return is best.
"""

from __future__ import annotations

import numpy as np
import torch

from relayrl.agents.dqn.ebu_config import EBUConfig

Array = np.ndarray | torch.Tensor


def _to_numpy(x: Array, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"backward_targets: {name} must be a numpy array or torch tensor, "
                    f"got {type(x).__name__}")


def backward_targets(
    q_next: Array,  # [T, A] target network's Q(S_{k+1}, .)
    actions: Array,  # [T] A_k
    rewards: Array,  # [T] R_k
    terminals: Array,  # [T] true when S_{k+1} is terminal (not merely truncated)
    gamma: float,
    beta: float,
) -> Array:
    """EBU targets ``y`` [T] for one episode of transitions ``(S_k, A_k, R_k, S_{k+1})``.

    Index ``k`` is 0-based here: row ``k`` of ``q_next`` is ``Q~(S_{k+1}, .)`` and the action
    that was taken *in* ``S_{k+1}`` is ``actions[k + 1]``, which is the entry the backward
    pass overwrites. A terminal in the middle of the episode (e.g. a lost life treated as
    terminal) stops the propagation there: its row is 0 and no later value crosses it. A last
    transition that is not terminal (time limit, or a piece of a longer episode) bootstraps
    from ``q_next``. ``beta = 0`` gives one-step Q-learning targets; ``beta = 1`` the pure
    backward (Monte-Carlo-like, max over the episode's own continuation) targets.

    Accepts numpy arrays or torch tensors and returns the same kind (a tensor on the device
    and in the float dtype of ``q_next``; a numpy array of ``q_next``'s float dtype).
    """
    if not 0.0 <= float(beta) <= 1.0:
        raise ValueError(f"backward_targets: beta={beta} must be in [0, 1]")
    if not 0.0 <= float(gamma) <= 1.0:
        raise ValueError(f"backward_targets: gamma={gamma} must be in [0, 1]")
    q = _to_numpy(q_next, "q_next").astype(np.float64)  # copy: Q~ is modified below
    a = _to_numpy(actions, "actions").astype(np.int64)
    r = _to_numpy(rewards, "rewards").astype(np.float64)
    d = _to_numpy(terminals, "terminals").astype(bool)
    if q.ndim != 2:
        raise ValueError(f"backward_targets: q_next must be [T, num_actions], got shape {q.shape}")
    T, num_actions = q.shape
    for name, x in (("actions", a), ("rewards", r), ("terminals", d)):
        if x.shape != (T,):
            raise ValueError(f"backward_targets: {name} must have shape [T]=({T},) like q_next's "
                             f"first axis, got {x.shape}")
    if T and (a.min() < 0 or a.max() >= num_actions):
        raise ValueError(f"backward_targets: actions must be in [0, {num_actions}), got range "
                         f"[{a.min()}, {a.max()}]")

    # Step 1: rows of terminal next states are 0.
    q[d] = 0.0
    # Split row k of Q~ into the entry the sweep overwrites (action A_{k+1}) and the max of the
    # others, so the sequential loop below is scalar arithmetic.
    q_taken = np.zeros(T)  # [T] Q~[k, A_{k+1}]
    q_other = np.full(T, -np.inf)  # [T] max_{a != A_{k+1}} Q~[k, a]
    if T > 1:
        rows = np.arange(T - 1)
        nxt = a[1:]
        q_taken[:-1] = q[rows, nxt]
        if num_actions > 1:
            masked = q[:-1].copy()
            masked[rows, nxt] = -np.inf
            q_other[:-1] = masked.max(axis=1)
    # Step 2: the last transition: R_T, bootstrapped from Q~ only if S_{T+1} is not terminal.
    y = np.empty(T)
    if T:
        y[-1] = r[-1] + gamma * q[-1].max()
    # Step 3: sweep backward.  Q~[k, A_{k+1}] <- beta y_{k+1} + (1 - beta) Q~[k, A_{k+1}];
    #                          y_k = R_k + gamma max_a Q~[k, a]   (0 when S_{k+1} is terminal)
    r_l, d_l, taken_l, other_l = r.tolist(), d.tolist(), q_taken.tolist(), q_other.tolist()
    y_next = float(y[-1]) if T else 0.0
    for k in range(T - 2, -1, -1):
        if d_l[k]:
            y_k = r_l[k]
        else:
            mixed = beta * y_next + (1.0 - beta) * taken_l[k]
            y_k = r_l[k] + gamma * max(mixed, other_l[k])
        y[k] = y_k
        y_next = y_k

    if isinstance(q_next, torch.Tensor):
        dtype = q_next.dtype if q_next.is_floating_point() else torch.float32
        return torch.as_tensor(y, dtype=dtype, device=q_next.device)
    out_dtype = q_next.dtype if np.issubdtype(q_next.dtype, np.floating) else np.float32
    return y.astype(out_dtype)


def spread_betas(num_heads: int) -> tuple[float, ...]:
    """Adaptive EBU's betas: ``num_heads`` values spread evenly over [0, 1]."""
    if num_heads == 1:
        return (0.5,)
    return tuple(float(b) for b in np.linspace(0.0, 1.0, num_heads))



# ----------------------------------------------------------------------------- the algorithm


def episode_signature(env_info, num_heads: int) -> tuple:
    """Per step: obs/next_obs (frames stored once for image stacks), action, reward, flags."""
    from relayrl.platform.replay import Field, FrameStackField

    if env_info.is_image:
        stack, h, w = env_info.obs_shape
        obs = (FrameStackField("obs", frame_shape=(h, w), stack=stack, dtype="uint8"),)
    else:
        shape, dtype = env_info.obs_shape, str(env_info.observation_space.dtype)
        obs = (Field("obs", shape, dtype), Field("next_obs", shape, dtype))
    fields = obs + (
        Field("action", (), "int64"),
        Field("reward", (), "float32"),
        Field("terminated", (), "bool"),
        Field("truncated", (), "bool"),
    )
    if num_heads > 1:
        fields += (Field("head", (), "int64"),)  # adaptive EBU: the head that acted
    return fields


class EBU:
    """EBU as the platform sees it: one whole-episode table, an episode adder, learner, policy."""

    name = "ebu"
    config_cls = EBUConfig
    schedule = "off_policy"

    def check_config(self, cfg) -> None:
        from relayrl.agents.dqn.algorithm import DQN

        DQN().check_config(cfg)

    def tables(self, cfg, env_info) -> list:
        from relayrl.agents.dqn.ebu_learner import EBULearner
        from relayrl.platform.replay import MinSize, TableConfig

        lc = cfg.learner
        env_info.require_discrete(self.name)
        return [
            TableConfig(
                name=EBULearner.table,
                capacity=lc.replay_capacity,  # episodes; the real bound is max_total_steps
                kind="episode",
                max_episode_length=lc.max_episode_length,
                max_total_steps=lc.replay_capacity,  # transitions, as DQN's replay_capacity
                sampler="uniform",
                remover="fifo",
                rate_limiter=MinSize(1),
                signature=episode_signature(env_info, lc.num_heads),
                num_shards=lc.replay_shards,
                seed=cfg.seed,
            )
        ]

    def make_policy(self, cfg, env_info, seed: int = 0):
        from relayrl.agents.dqn.ebu_policy import EBUPolicy

        return EBUPolicy(cfg.learner, env_info.obs_shape, env_info.num_actions, seed=seed,
                         num_heads=cfg.learner.num_heads)

    def make_adder(self, cfg, env_info, client, num_envs: int):
        from relayrl.agents.dqn.ebu_learner import EBULearner
        from relayrl.platform.replay import EpisodeAdder

        return EpisodeAdder(
            client, EBULearner.table, num_envs,
            max_episode_length=cfg.learner.max_episode_length,
            frame_stack=env_info.obs_shape[0] if env_info.is_image else None,
        )

    def make_learner(self, cfg, env_info, client):
        from relayrl.agents.dqn.ebu_learner import EBULearner

        return EBULearner(cfg, env_info, client)
