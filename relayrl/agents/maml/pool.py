"""Where a meta-batch's tasks are sampled: in this process, or spread over Ray actors.

Both pools take the same requests (a policy's weights and how many inner steps to run) and
return, per request, one :class:`Episodes` per inner step plus the post-adaptation one, with
the tasks in meta-batch order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from relayrl.agents.maml.batch import Episodes
from relayrl.agents.maml.sampler import TaskSampler
from relayrl.platform.config import ExperimentConfig


@dataclasses.dataclass(frozen=True)
class SampleRequest:
    """Sample the meta-batch's tasks with one policy."""

    name: str  # also the queue table it travels through when distributed
    weights: dict[str, np.ndarray]
    version: int
    num_inner_steps: int  # 0 = just collect (the joint "pretrained" policy)


class LocalSamplerPool:
    """One in-process :class:`TaskSampler` per request name (tests, debugging, small runs)."""

    num_workers = 0
    restarts = 0

    def __init__(self, cfg: ExperimentConfig):
        self.cfg = cfg
        self.samplers: dict[str, TaskSampler] = {}

    def sample(self, requests: Sequence[SampleRequest], tasks: Sequence[dict],
               iteration: int) -> dict[str, list[Episodes]]:
        out = {}
        for r in requests:
            out[r.name] = self._sampler(r.name).sample(r.weights, tasks, r.num_inner_steps)
        return out

    def _sampler(self, name: str) -> TaskSampler:
        if name not in self.samplers:
            seed = self.cfg.seed * 1000 + len(self.samplers)  # in first-use order
            self.samplers[name] = TaskSampler(self.cfg.env.id, self.cfg.learner, seed=seed)
        return self.samplers[name]

    def state_dict(self) -> dict[str, Any]:
        """Each sampler's generators, in the order they were created (their seeds follow it)."""
        return {"local": [(name, s.state_dict()) for name, s in self.samplers.items()]}

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Restore the samplers' generators; False if ``state`` came from another kind of pool."""
        if "local" not in state:
            return False
        for name, st in state["local"]:
            self._sampler(name).load_state_dict(st)
        return True

    def close(self) -> None:
        for s in self.samplers.values():
            s.close()


def make_pool(cfg: ExperimentConfig, obs_dim: int, act_dim: int) -> Any:
    from relayrl.agents.maml.distributed import RaySamplerPool

    return RaySamplerPool(cfg, obs_dim, act_dim)
