"""Takes one policy version's sequences from the queue and does the actor-critic update."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from relayrl.agents.pg.config import PGConfig
from relayrl.agents.pg.losses import actor_critic_loss, gae
from relayrl.agents.pg.networks import ActorCritic

warnings.filterwarnings("ignore", message="The given NumPy array is not writable")


class PGLearner:
    table = "rollouts"

    def __init__(self, cfg: PGConfig, model: ActorCritic, client: Any, seed: int = 0):
        torch.manual_seed(seed)
        self.cfg = cfg
        self.model = model
        self.client = client
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        self.num_updates = 0  # == the version of the policy that acts now

    def _take_batch(self) -> dict[str, np.ndarray]:
        """Everything queued (at least one sequence): the current version's fragments."""
        size = int(self.client.info(self.table)[self.table]["size"])
        return self.client.sample(self.table, max(size, 1), timeout=self.cfg.sample_timeout_s).data

    def update(self) -> dict[str, float]:
        c = self.cfg
        d = self._take_batch()
        t = {k: torch.as_tensor(v) for k, v in d.items()}
        # Steps acted by an older version (left over in a worker's partial sequence) are dropped.
        current = t["version"] == self.num_updates  # [B, L]
        mask_t = (t["mask"] & current).float()
        obs_t, next_obs_t = t["obs"].float(), t["next_obs"].float()  # [B, L, obs]
        with torch.no_grad():
            v_t, v_tp1 = self.model.value(obs_t), self.model.value(next_obs_t)  # [B, L]
            adv_t = gae(t["reward"].float(), v_t, v_tp1, t["terminated"].float(),
                        (t["terminated"] | t["truncated"]).float(), mask_t,
                        gamma=c.gamma, lam=c.gae_lambda)
            ret_t = adv_t + v_t  # [B, L] value targets
            if c.normalize_advantages and mask_t.sum() > 1:
                valid = adv_t[mask_t.bool()]
                adv_t = (adv_t - valid.mean()) / (valid.std() + 1e-8) * mask_t
        for _ in range(c.num_epochs):
            dist = self.model.dist(obs_t)
            loss, extra = actor_critic_loss(
                dist.log_prob(t["action"]), adv_t, self.model.value(obs_t), ret_t,
                dist.entropy(), mask_t, value_coef=c.value_coef, entropy_coef=c.entropy_coef)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.max_grad_norm)
            self.opt.step()
        self.num_updates += 1
        return {"loss": float(loss), "grad_norm": float(grad_norm),
                "batch_steps": float(mask_t.sum()),
                "stale_steps": float((t["mask"] & ~current).sum()),
                **{k: float(v) for k, v in extra.items()}}

    def get_weights(self) -> dict[str, Any]:
        params = {k: v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}
        return {"params": params, "version": self.num_updates}

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "num_updates": self.num_updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.num_updates = state["num_updates"]
