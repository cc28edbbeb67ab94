"""One distributed meta-iteration on real Ray: sampler actors, the replay queue, the learner."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from relayrl.agents.maml.distributed import task_shares
from relayrl.platform.config import load_experiment

NAV = str(Path(__file__).resolve().parents[2] / "tune_configs" / "maml_navigation.yaml")
SMALL = ["learner.meta_batch_size=4", "learner.trajectories_per_task=3",
         "rollout.num_cpus_per_worker=0.5", "learner.pretrained_baseline=true"]


def test_task_shares_cover_the_meta_batch_once():
    assert task_shares(5, 2) == [(0, 3), (3, 5)]
    assert task_shares(2, 4) == [(0, 1), (1, 2)]  # idle workers get nothing
    for n, w in [(40, 3), (20, 20), (7, 1)]:
        shares = task_shares(n, w)
        assert shares[0][0] == 0 and shares[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(shares, shares[1:]))
        sizes = [b - a for a, b in shares]
        assert max(sizes) - min(sizes) <= 1


@pytest.mark.timeout(600)
def test_one_distributed_meta_iteration_through_the_queue(ray_session, tmp_path):
    from relayrl.agents.maml.trainer import MAMLTrainer

    torch.set_num_threads(1)
    cfg = load_experiment(NAV, SMALL + ["rollout.num_workers=2"])
    trainer = MAMLTrainer(cfg)
    try:
        before = {k: v.detach().clone() for k, v in trainer.meta.params.items()}
        m = trainer.train_iteration()
        # Both workers sampled their half of the meta-batch and wrote it to the queue.
        stats = trainer.pool.last_stats
        assert sorted((s["worker_index"], s["num_tasks"]) for s in stats) == [
            (0, 2), (0, 2), (1, 2), (1, 2)]  # MAML and the joint policy, 2 tasks each
        info = trainer.pool.client.info()
        for table in ("maml", "joint"):
            assert info[table]["size"] == 0  # the learner drained the queue
        for key in ("iteration", "env_steps", "env_steps_per_s", "time_total_s",
                    "episode_return_mean", "learner/pre_return", "learner/post_return",
                    "learner/kl", "learner/surrogate_improvement", "learner/line_search_steps"):
            assert key in m and not (isinstance(m[key], float) and math.isnan(m[key])), key
        assert m["iteration"] == 1
        # 4 tasks x 3 episodes x (pre + post + joint), each at most 100 steps
        assert 4 * 3 * 3 <= m["env_steps"] <= 4 * 3 * 3 * 100
        assert m["learner/kl"] <= cfg.learner.max_kl
        std = float(trainer.meta.params["log_std"].detach().exp().mean())
        assert m["learner/action_std"] == pytest.approx(std)
        changed = any(not torch.equal(before[k], v.detach()) for k, v in trainer.meta.params.items())
        assert changed == bool(m["learner/step_accepted"])
        # A checkpoint written here is what eval-meta reads.
        path = trainer.save(tmp_path / "checkpoint_000001")
    finally:
        trainer.close()
    from relayrl.agents.maml.evaluate import load_policies

    env_id, lc, policies = load_policies(path)
    assert env_id == "relayrl/Navigation2D-v0" and set(policies) == {"maml", "pretrained", "random init"}
    np.testing.assert_array_equal(policies["maml"]["w0"], trainer.meta.get_weights()["w0"])


def test_two_inner_steps_sample_between_the_steps_and_report_each_return():
    """num_inner_steps 2 with the meta-test's schedule (alpha, alpha / 2), in-process samplers:
    three batches per task (before, between, after the steps) and a TRPO step through both."""
    from relayrl.agents.maml.trainer import MAMLTrainer

    torch.set_num_threads(1)
    cfg = load_experiment(NAV, SMALL + ["learner.num_inner_steps=2",
                                        "learner.later_inner_lr_scale=0.5",
                                        "learner.pretrained_baseline=false"])
    trainer = MAMLTrainer(cfg, distributed=False)
    try:
        m = trainer.train_iteration()
    finally:
        trainer.close()
    assert {"learner/pre_return", "learner/return_after_step_1", "learner/post_return"} <= set(m)
    assert "learner/return_after_step_2" not in m  # that one is post_return
    # 4 tasks x 3 episodes x 3 batches, each episode 1-100 steps
    assert 4 * 3 * 3 <= m["env_steps"] <= 4 * 3 * 3 * 100
    assert m["learner/step_accepted"] == 1.0 and 0 < m["learner/kl"] <= cfg.learner.max_kl


@pytest.mark.timeout(600)
def test_relayrl_train_then_eval_meta(ray_session, tmp_path, capsys):
    """The platform's train loop drives the MAML trainer; eval-meta reads its checkpoint."""
    import json

    from relayrl.agents.maml.evaluate import eval_meta_main
    from relayrl.platform.runner import train

    torch.set_num_threads(1)
    cfg = load_experiment(NAV, SMALL + ["rollout.num_workers=1", "stop.iterations=2",
                                        "run.checkpoint_every=0", "run.keep_best=true"])
    metrics = train(cfg, logdir=str(tmp_path), progress=False)
    assert metrics["iteration"] == 2
    best = json.loads((Path(metrics["run_dir"]) / "best_checkpoint" / "best.json").read_text())
    assert best["iteration"] in (1, 2)
    assert list(Path(metrics["run_dir"]).glob("events.out.tfevents*"))  # TensorBoard
    capsys.readouterr()
    assert eval_meta_main(metrics["checkpoint"], num_tasks=2, seed=1) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("| policy | 0 steps | 1 step | 2 steps | 3 steps |")
    result = json.loads(lines[-1])
    assert set(result["returns"]) == {"maml", "pretrained", "random init"}
    assert result["num_tasks"] == 2 and "oracle" in result
    # the meta-test step size can differ from training's (--inner-lr)
    assert eval_meta_main(metrics["checkpoint"], num_tasks=2, seed=1, inner_lr=0.2) == 0
    other = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert cfg.learner.inner_lr != 0.2
    assert other["inner_lr"] == 0.2 and result["inner_lr"] == cfg.learner.inner_lr
    # later steps take half the first step's size, as the paper's meta-test scripts
    assert other["inner_lrs"] == [0.2, 0.1, 0.1]
    # each baseline adapts with the grid step size that was best on the validation tasks
    from relayrl.agents.maml.evaluate import BASELINE_LR_GRID

    for name in ("pretrained", "random init"):
        tried = result["baseline_lr_tuning"][name]
        best = max(BASELINE_LR_GRID, key=lambda a: tried[str(a)])
        assert result["inner_lrs_per_policy"][name][0] == best
    assert result["inner_lrs_per_policy"]["maml"] == result["inner_lrs"]
    assert other["returns"]["maml"][0] == result["returns"]["maml"][0]  # same tasks, same init
    # --tasks-file: the listed goals in place of the fresh draw, named in the result
    goals = tmp_path / "goals.json"
    goals.write_text(json.dumps([{"goal": [0.3, -0.2]}, {"goal": [-0.1, 0.4]}, {"goal": [0.0, 0.5]}]))
    assert eval_meta_main(metrics["checkpoint"], seed=1, tasks_file=str(goals)) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert listed["num_tasks"] == 3 and listed["tasks_file"] == str(goals)
    assert all(len(r) == 3 for r in listed["returns_per_task"]["maml"])
