"""MAML checkpoints: resuming continues the uninterrupted run bit for bit; the best model.

A checkpoint keeps the learners, the task draw and every sampler's generators (action noise
and the sub-envs' own: MuJoCo's reset noise), in-process and on Ray sampler actors.
``run.keep_best`` keeps the iteration with the best post-adaptation return (the paper's
model selection).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from relayrl.platform.config import load_experiment

CONFIGS = Path(__file__).resolve().parents[2] / "tune_configs"
SMALL = ["learner.meta_batch_size=4", "learner.trajectories_per_task=3",
         "rollout.num_cpus_per_worker=0.5", "learner.pretrained_baseline=true"]


def comparable(m: dict) -> dict:
    """The metrics that do not depend on the wall clock."""
    return {k: v for k, v in m.items() if "time" not in k and "per_s" not in k}


def run_with_resume(cfg, tmp_path: Path, *, before: int, after: int, distributed: bool):
    """(metrics of the uninterrupted run's last ``after`` iterations, its weights) and the
    same after saving at ``before`` and resuming in a new trainer."""
    from relayrl.agents.maml.trainer import MAMLTrainer

    whole = MAMLTrainer(cfg, distributed=distributed)
    try:
        ms = [whole.train_iteration() for _ in range(before + after)]
        want = [comparable(m) for m in ms[before:]], whole.meta.get_weights()
    finally:
        whole.close()
    first = MAMLTrainer(cfg, distributed=distributed)
    try:
        for _ in range(before):
            first.train_iteration()
        path = first.save(tmp_path / f"checkpoint_{before:06d}")
    finally:
        first.close()
    resumed = MAMLTrainer(cfg, distributed=distributed)
    try:
        resumed.restore(path)
        got = [comparable(resumed.train_iteration()) for _ in range(after)], resumed.meta.get_weights()
    finally:
        resumed.close()
    return want, got


def assert_same_run(want, got):
    (want_metrics, want_weights), (got_metrics, got_weights) = want, got
    assert got_metrics == want_metrics
    for k in want_weights:
        assert (got_weights[k] == want_weights[k]).all(), k


@pytest.mark.parametrize("family, overrides", [
    ("maml_navigation.yaml", SMALL),
    # MuJoCo's reset noise comes from each sub-env's own generator, kept in the checkpoint too
    ("maml_half_cheetah_vel.yaml", ["learner.meta_batch_size=2", "learner.trajectories_per_task=2",
                                    "learner.pretrained_baseline=false"]),
])
def test_resumed_run_is_the_uninterrupted_run_in_process(tmp_path, family, overrides):
    torch.set_num_threads(1)
    cfg = load_experiment(str(CONFIGS / family), overrides)
    want, got = run_with_resume(cfg, tmp_path, before=1, after=2, distributed=False)
    assert_same_run(want, got)


@pytest.mark.timeout(600)
def test_resumed_run_is_the_uninterrupted_run_on_ray_samplers(ray_session, tmp_path):
    torch.set_num_threads(1)
    cfg = load_experiment(str(CONFIGS / "maml_navigation.yaml"), SMALL + ["rollout.num_workers=2"])
    want, got = run_with_resume(cfg, tmp_path, before=1, after=1, distributed=True)
    assert_same_run(want, got)


def test_checkpoint_without_sampler_states_resumes_with_a_warning(tmp_path):
    """Older checkpoints (and a pool of another kind) still resume, only not bit for bit."""
    from relayrl.agents.maml.trainer import MAMLTrainer

    cfg = load_experiment(str(CONFIGS / "maml_navigation.yaml"), SMALL)
    trainer = MAMLTrainer(cfg, distributed=False)
    try:
        trainer.train_iteration()
        path = Path(trainer.save(tmp_path / "checkpoint_000001"))
    finally:
        trainer.close()
    state = torch.load(path / "learner.pt", weights_only=False)
    del state["samplers"]
    torch.save(state, path / "learner.pt")
    resumed = MAMLTrainer(cfg, distributed=False)
    try:
        with pytest.warns(UserWarning, match="no sampler generator states.*not bit-identical"):
            resumed.restore(path)
        assert resumed.iteration == 1
        assert resumed.train_iteration()["iteration"] == 2
    finally:
        resumed.close()


def test_best_checkpoint_is_the_iteration_with_the_best_return(tmp_path):
    from relayrl.agents.maml.evaluate import load_policies
    from relayrl.agents.maml.trainer import MAMLTrainer
    from relayrl.platform.best_checkpoint import BestCheckpoint

    torch.set_num_threads(1)
    cfg = load_experiment(str(CONFIGS / "maml_navigation.yaml"),
                          SMALL + ["learner.pretrained_baseline=false"])
    trainer = MAMLTrainer(cfg, distributed=False)
    best = BestCheckpoint(tmp_path)
    returns, weights = [], []
    try:
        for _ in range(5):
            m = trainer.train_iteration()
            best.update(trainer, m)
            returns.append(m["episode_return_mean"])
            weights.append(trainer.meta.get_weights())
    finally:
        trainer.close()
    i = max(range(5), key=returns.__getitem__)
    info = json.loads((tmp_path / "best_checkpoint" / "best.json").read_text())
    assert info == {"iteration": i + 1, "episode_return_mean": returns[i]}
    _, _, policies = load_policies(tmp_path / "best_checkpoint")  # what eval-meta reads
    assert all((policies["maml"][k] == weights[i][k]).all() for k in weights[i])
    assert not list(tmp_path.glob("best_checkpoint.*"))  # no temporary directories left

    # Resuming from an earlier checkpoint drops a best saved after it (those iterations run
    # again); resuming from a later one keeps it as the bar to beat.
    assert BestCheckpoint(tmp_path, resumed_iteration=5).best == returns[i]
    if i > 0:
        assert BestCheckpoint(tmp_path, resumed_iteration=i).best == float("-inf")
        assert not (tmp_path / "best_checkpoint").exists()


@pytest.mark.parametrize("text", ["{not json", '{"iteration": 3}', '{"iteration": "x", '
                                  '"episode_return_mean": 1.0}'])
def test_a_damaged_best_record_is_one_clear_error_and_nothing_is_deleted(tmp_path, text):
    from relayrl.platform.best_checkpoint import BestCheckpoint
    from relayrl.platform.config import ConfigError

    best_dir = tmp_path / "best_checkpoint"
    best_dir.mkdir()
    (best_dir / "learner.pt").write_bytes(b"weights")
    (best_dir / "best.json").write_text(text)
    with pytest.raises(ConfigError, match=r"best\.json: corrupt best-checkpoint record .*'iteration'"
                                          r".*'episode_return_mean'.*move or delete"):
        BestCheckpoint(tmp_path, resumed_iteration=1)
    assert (best_dir / "learner.pt").read_bytes() == b"weights"
