"""MAML-TRPO as the platform sees it: a config class and its own Trainer (``schedule: meta``).

MAML's meta-iteration (sample tasks, adapt per task, meta-update through the adaptation)
does not fit the generic off-/on-policy loop, so the algorithm hands the platform a
:class:`~relayrl.agents.maml.trainer.MAMLTrainer` instead of tables, adder and learner.
"""

from __future__ import annotations

from relayrl.agents.maml.config import MAMLConfig
from relayrl.platform.config import ConfigError, ExperimentConfig


class MAMLTRPO:
    name = "maml_trpo"
    config_cls = MAMLConfig
    schedule = "meta"

    def check_config(self, cfg: ExperimentConfig) -> None:
        from relayrl.envs.meta import TASK_FAMILIES

        if cfg.env.id not in TASK_FAMILIES:
            raise ConfigError(
                f"env.id: {cfg.env.id!r} is not a meta-RL task family; algorithm maml_trpo "
                f"allows: {', '.join(sorted(TASK_FAMILIES))}")
        from relayrl.agents.maml.distributed import check_worker_memory

        check_worker_memory(cfg)

    def make_trainer(self, cfg: ExperimentConfig):
        from relayrl.agents.maml.trainer import MAMLTrainer

        return MAMLTrainer(cfg)
