"""The acting side of DQN: epsilon-greedy over a CPU Q-network copy (what workers hold)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from relayrl.agents.dqn.config import DQNConfig
from relayrl.agents.dqn.networks import QNetwork


def linear_epsilon(cfg: DQNConfig, env_steps: int) -> float:
    frac = min(1.0, env_steps / max(1, cfg.epsilon_decay_steps))
    return cfg.epsilon_start + frac * (cfg.epsilon_end - cfg.epsilon_start)


def build_q_network(cfg: DQNConfig, obs_shape, num_actions: int, num_heads: int = 1) -> QNetwork:
    return QNetwork(obs_shape, num_actions, torso=cfg.torso, hidden_sizes=cfg.hidden_sizes,
                    dueling=cfg.dueling, num_heads=num_heads)


class EpsilonGreedyPolicy:
    """Greedy in Q with probability 1 - epsilon(env_steps), uniform otherwise."""

    def __init__(self, cfg: DQNConfig, obs_shape, num_actions: int, seed: int = 0,
                 num_heads: int = 1):
        torch.set_num_threads(1)  # workers share cores; one thread each scales best
        self.cfg = cfg
        self.num_actions = num_actions
        self.net = build_q_network(cfg, obs_shape, num_actions, num_heads).eval()
        self.head = 0  # adaptive EBU: the head currently followed
        self.rng = np.random.default_rng(seed)

    def set_weights(self, weights: Any) -> None:
        if isinstance(weights, dict) and "state_dict" in weights:
            self.head = int(weights.get("head", 0))
            weights = weights["state_dict"]
        self.net.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            q = self.net(torch.as_tensor(obs))
            if q.dim() == 3:
                q = q[:, self.head]
            return q.argmax(dim=1).numpy()

    def compute_actions(self, obs: np.ndarray, *, env_steps: int, explore: bool = True):
        eps = linear_epsilon(self.cfg, env_steps) if explore else self.cfg.eval_epsilon
        actions = self.greedy(obs)
        if eps > 0:
            random = self.rng.random(len(actions)) < eps
            actions[random] = self.rng.integers(0, self.num_actions, size=int(random.sum()))
        return actions.astype(np.int64), {}
