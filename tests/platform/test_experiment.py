"""The runtime end to end on real Ray with real envs: workers, replay, learner, TensorBoard."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import ray

from relayrl.platform.config import load_experiment

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "tune_configs" / "quickstart.yaml"

SMALL = [
    "rollout.num_workers=2", "rollout.num_cpus_per_worker=0.5", "rollout.steps_per_call=16",
    "env.num_envs=2", "learner.learning_starts=200", "learner.batch_size=32",
    "learner.hidden_sizes=[32]", "run.iteration_env_steps=400", "stop.env_steps=100000",
]


def _small_cfg(*extra: str):
    return load_experiment(QUICKSTART, [*SMALL, *extra])


@pytest.mark.parametrize("calls_in_flight", [1, 2])
def test_iterations_collect_learn_and_publish(ray_session, calls_in_flight):
    from relayrl.platform.experiment import Experiment

    exp = Experiment(_small_cfg("learner.updates_per_env_step=0.5", "learner.publish_every=5",
                                f"rollout.calls_in_flight={calls_in_flight}"))
    try:
        m1 = exp.train_iteration()
        m2 = exp.train_iteration()
    finally:
        exp.close()
    assert m2["env_steps"] >= 800 and m2["env_steps"] > m1["env_steps"]
    # the replay ratio holds: updates ~ 0.5 x (env steps after learning_starts)
    due = 0.5 * (m2["env_steps"] - 200)
    assert abs(m2["learner/num_updates"] - due) <= 64 + calls_in_flight * 0.5 * 2 * 2 * 16
    assert m2["learner/weights_version"] >= 2  # weights were published to the workers
    assert math.isfinite(m2["learner/loss"])
    assert m2["replay/size"] > 0 and m2["replay/inserts_per_s"] > 0
    assert m2["episodes_total"] > 0 and m2["episode_return_mean"] > 0


def _when_available(call, timeout: float = 120.0):
    """ray.get(call()), retried while the actor is still restarting."""
    deadline = time.time() + timeout
    while True:
        try:
            return ray.get(call(), timeout=60)
        except ray.exceptions.ActorUnavailableError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.parametrize("calls_in_flight", [1, 2])
def test_killed_worker_is_restarted_and_the_run_goes_on(ray_session, calls_in_flight):
    from relayrl.platform.experiment import Experiment

    exp = Experiment(_small_cfg("learner.updates_per_env_step=0.1",
                                f"rollout.calls_in_flight={calls_in_flight}"))
    try:
        exp.train_iteration()
        victim = exp.workers[0]
        old_pid = ray.get(victim.pid.remote())
        ray.kill(victim, no_restart=False)  # as if the worker's process crashed
        steps_before = exp.env_steps
        for _ in range(10):  # the loop notices when the dead worker's call comes back
            m = exp.train_iteration()
            if m["rollout/worker_restarts"] >= 1:
                break
        m = exp.train_iteration()  # and goes on with the restarted worker
        new_pid = _when_available(lambda: exp.workers[0].pid.remote())
        stats = _when_available(lambda: exp.workers[0].sample.remote(1, 0))
    finally:
        exp.close()
    assert m["rollout/worker_restarts"] == 1  # one crash counts once, however many calls were queued
    assert new_pid != old_pid
    assert stats["restart"] == 1 and stats["weights_version"] >= 0  # got weights after restart
    assert m["env_steps"] > steps_before


def test_train_writes_standard_tensorboard_names_and_checkpoints(ray_session, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from relayrl.platform.evaluate import evaluate_checkpoint
    from relayrl.platform.runner import train

    cfg = _small_cfg("stop.iterations=3", "run.checkpoint_every=1", "run.video_every=2",
                     "run.keep_checkpoints=2", "learner.updates_per_env_step=0.25",
                     "run.keep_best=true")
    m = train(cfg, logdir=str(tmp_path), progress=False)
    run = Path(m["run_dir"])
    acc = EventAccumulator(str(run))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    for name in ("episode_return_mean", "episode_len_mean", "env_steps", "env_steps_per_s",
                 "learner/loss", "learner/updates_per_s", "replay/size",
                 "replay/inserts_per_s", "replay/samples_per_insert"):
        assert name in tags, f"{name} missing from {sorted(tags)}"
    assert any("hyperparameters" in t for t in acc.Tags()["tensors"])
    video = acc.Images("episode_video")  # an animated GIF of one greedy episode
    assert len(video) == 1 and video[0].encoded_image_string[:6] == b"GIF89a"
    ckpts = sorted(run.glob("checkpoint_*"))
    assert [c.name for c in ckpts] == ["checkpoint_000002", "checkpoint_000003"]  # newest 2
    result = evaluate_checkpoint(ckpts[-1], episodes=3, num_envs=2)
    assert len(result["returns"]) == 3 and all(r > 0 for r in result["returns"])
    # keep_best: the best iteration's model, kept past keep_checkpoints, without the replay
    # contents a periodic checkpoint carries for resuming
    best = run / "best_checkpoint"
    assert 1 <= json.loads((best / "best.json").read_text())["iteration"] <= 3
    assert (ckpts[-1] / "replay").is_dir() and not (best / "replay").exists()
    assert len(evaluate_checkpoint(best, episodes=1, num_envs=1)["returns"]) == 1


def test_restore_continues_counters(ray_session, tmp_path):
    from relayrl.platform.experiment import Experiment

    exp = Experiment(_small_cfg("learner.updates_per_env_step=0.25"))
    try:
        exp.train_iteration()
        path = exp.save(tmp_path / "ck")
        steps, updates = exp.env_steps, exp.num_updates
    finally:
        exp.close()
    exp2 = Experiment(_small_cfg("learner.updates_per_env_step=0.25"))
    try:
        exp2.restore(path)
        assert (exp2.env_steps, exp2.num_updates) == (steps, updates)
        assert exp2.client.info()["replay"]["size"] > 0
        m = exp2.train_iteration()
    finally:
        exp2.close()
    assert m["env_steps"] > steps and m["iteration"] == 2


def test_learner_as_its_own_actor(ray_session):
    from relayrl.platform.experiment import Experiment

    exp = Experiment(_small_cfg("resources.learner_placement=actor",
                                "resources.learner_num_cpus=0.5",
                                "learner.updates_per_env_step=0.25"))
    try:
        t = time.time()
        m = exp.train_iteration()
    finally:
        exp.close()
    assert exp.learner.remote
    assert m["learner/num_updates"] > 0 and time.time() - t < 120


@pytest.mark.timeout(400)
def test_dqn_learns_cartpole(ray_session, tmp_path):
    """A cut-down quickstart: clear learning within 30k env steps (full target: see README)."""
    from relayrl.platform.runner import train

    cfg = load_experiment(QUICKSTART, ["stop.env_steps=30000", "stop.episode_return_mean=150",
                                       "stop.time_s=240", "run.checkpoint_every=0"])
    m = train(cfg, logdir=str(tmp_path), progress=False)
    assert m["episode_return_mean"] >= 150, m
