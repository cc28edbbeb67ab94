"""DQN's learning side: sample transitions, regress on the (double-)DQN target, sync target."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import torch

from relayrl.agents.dqn.losses import dqn_loss
from relayrl.agents.dqn.policy import build_q_network
from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ExperimentConfig

# Sampled batches arrive as read-only views of Ray's object store; the learner never writes
# into them, so torch's warning about non-writable arrays is noise here.
warnings.filterwarnings("ignore", message="The given NumPy array is not writable")


def learner_device(cfg: ExperimentConfig) -> torch.device:
    """The GPU when one was requested and Ray gave us one, else the CPU."""
    if cfg.resources.num_gpus > 0 and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def make_optimizer(params, lc) -> torch.optim.Optimizer:
    if lc.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lc.lr, alpha=0.95, eps=lc.optimizer_eps, centered=True)
    return torch.optim.Adam(params, lr=lc.lr, eps=lc.optimizer_eps)


def sync_target(target: torch.nn.Module, online: torch.nn.Module, tau: float) -> None:
    """target <- tau * online + (1 - tau) * target (tau = 1: hard copy)."""
    with torch.no_grad():
        for t, o in zip(target.parameters(), online.parameters()):
            t.mul_(1.0 - tau).add_(o, alpha=tau)


class DQNLearner:
    """Samples a batch from the ``replay`` table per update."""

    table = "replay"

    def __init__(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any):
        self.cfg = cfg.learner
        self.client = client
        self.device = learner_device(cfg)
        torch.manual_seed(cfg.seed)
        self.q = build_q_network(self.cfg, env_info.obs_shape, env_info.num_actions).to(self.device)
        self.target = copy.deepcopy(self.q).requires_grad_(False)
        self.opt = make_optimizer(self.q.parameters(), self.cfg)
        self.num_updates = 0

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x, device=self.device)

    def update(self) -> dict[str, float]:
        lc = self.cfg
        batch = self.client.sample(self.table, lc.batch_size, timeout=lc.sample_timeout_s)
        d = batch.data
        loss, extra = dqn_loss(
            self.q, self.target,
            self._tensor(d["obs"]), self._tensor(d["action"]),
            self._tensor(d["reward"]).float(), self._tensor(d["discount"]).float(),
            self._tensor(d["next_obs"]),
            self._tensor(batch.weights).float(),
            double_q=lc.double_q, huber_delta=lc.huber_delta,
        )
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(
            self.q.parameters(), lc.max_grad_norm if lc.max_grad_norm else float("inf")
        )
        self.opt.step()
        if lc.prioritized:
            self.client.update_priorities(
                self.table, batch.keys, extra["priorities"].cpu().numpy() + 1e-6
            )
        self.num_updates += 1
        if self.num_updates % lc.target_update_period == 0:
            sync_target(self.target, self.q, lc.target_update_tau)
        return {
            "loss": float(loss.item()),
            "q_mean": float(extra["q_mean"].item()),
            "td_error_abs": float(extra["priorities"].mean().item()),
            "grad_norm": float(grad_norm.item()),
        }

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy() for k, v in self.q.state_dict().items()}

    def state_dict(self) -> dict[str, Any]:
        return {
            "q": self.q.state_dict(), "target": self.target.state_dict(),
            "opt": self.opt.state_dict(), "num_updates": self.num_updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.q.load_state_dict(state["q"])
        self.target.load_state_dict(state["target"])
        self.opt.load_state_dict(state["opt"])
        self.num_updates = state["num_updates"]
