"""The acting side: sample from the current policy; tag each step with the policy version."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from relayrl.agents.pg.networks import ActorCritic


class PGPolicy:
    def __init__(self, model: ActorCritic, seed: int = 0):
        torch.set_num_threads(1)
        self.model = model.eval()
        self.version = 0
        self.rng = np.random.default_rng(seed)

    def set_weights(self, weights: dict[str, Any]) -> None:
        self.model.load_state_dict({k: torch.as_tensor(v) for k, v in weights["params"].items()})
        self.version = int(weights["version"])

    def compute_actions(self, obs: np.ndarray, *, env_steps: int, explore: bool = True):
        with torch.no_grad():
            dist = self.model.dist(torch.as_tensor(obs, dtype=torch.float32))
        # Sampled with the worker's own numpy generator, so each worker's stream is seeded.
        if self.model.discrete:
            probs = dist.probs.numpy()  # [N, A]
            if explore:
                u = self.rng.random((len(probs), 1))
                actions = np.minimum((probs.cumsum(1) < u).sum(1), probs.shape[1] - 1)
            else:
                actions = probs.argmax(1)
        else:
            mean = dist.mean.numpy()
            std = self.model.log_std.detach().exp().numpy()
            actions = (mean + std * self.rng.standard_normal(mean.shape) if explore else mean)
            actions = actions.astype(np.float32)
        version = np.full(len(obs), self.version, dtype=np.int64)
        return actions, {"version": version}
