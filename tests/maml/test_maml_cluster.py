"""The meta-batch spread over sampler actors on several Ray nodes (ray.cluster_utils.Cluster).

The cluster runs in a child process so that it does not collide with the session's local Ray
instance (``ray_session``); the child prints one JSON line that the test checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

NAV = str(Path(__file__).resolve().parents[2] / "tune_configs" / "maml_navigation.yaml")


def run_on_cluster(num_nodes: int, num_workers: int, iterations: int, meta_batch: int,
                   trajectories: int, env_id: str = "relayrl/Navigation2D-v0") -> dict:
    """Start ``num_nodes`` one-CPU nodes, run meta-iterations with one-CPU sampler actors."""
    import numpy as np
    import ray
    import torch
    from ray.cluster_utils import Cluster

    from relayrl.agents.maml.pool import SampleRequest
    from relayrl.agents.maml.trainer import MAMLTrainer
    from relayrl.envs.meta import sample_tasks
    from relayrl.platform.config import load_experiment

    torch.set_num_threads(1)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    for _ in range(num_nodes - 1):
        cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    cluster.wait_for_nodes()
    try:
        cfg = load_experiment(NAV, [
            f"rollout.num_workers={num_workers}", "rollout.num_cpus_per_worker=1",
            f"learner.meta_batch_size={meta_batch}", f"learner.trajectories_per_task={trajectories}",
            "learner.pretrained_baseline=false", f"env.id={env_id}"])
        trainer = MAMLTrainer(cfg)
        out: dict = {"iterations": [], "sample_s": []}
        try:
            for _ in range(iterations):
                m = trainer.train_iteration()
                out["iterations"].append({
                    "nodes": sorted({s["node_id"] for s in trainer.pool.last_stats}),
                    "tasks_per_worker": sorted((s["worker_index"], s["num_tasks"])
                                               for s in trainer.pool.last_stats),
                    "post_return": m["learner/post_return"]})
            # Sampling throughput alone: the same meta-batch request, timed.
            tasks = sample_tasks(env_id, meta_batch, np.random.default_rng(0))
            req = [SampleRequest("maml", trainer.meta.get_weights(), trainer.meta.num_updates, 1)]
            for it in range(iterations):
                start = time.perf_counter()
                trainer.pool.sample(req, tasks, iterations + it)
                out["sample_s"].append(time.perf_counter() - start)
            out["num_nodes"] = len(ray.nodes())
        finally:
            trainer.close()
        return out
    finally:
        ray.shutdown()
        cluster.shutdown()


def run_child(*args: int | str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *map(str, args)], capture_output=True,
                          text=True, timeout=540)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(600)
def test_tasks_are_spread_over_two_nodes():
    out = run_child(2, 2, 1, 4, 3)
    assert out["num_nodes"] == 2
    it = out["iterations"][0]
    assert len(it["nodes"]) == 2  # one sampler actor per node, each with half the tasks
    assert it["tasks_per_worker"] == [[0, 2], [1, 2]]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_meta_batch_throughput_grows_with_workers():
    # HalfCheetah: stepping MuJoCo is the work, so a second node's sampler halves it (2D
    # navigation samples a meta-batch in ~0.5 s, where Ray's call overheads dominate).
    cheetah = "relayrl/HalfCheetahVel-v0"
    one = run_child(2, 1, 3, 4, 5, cheetah)
    two = run_child(2, 2, 3, 4, 5, cheetah)
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    speedup = median(one["sample_s"]) / median(two["sample_s"])
    assert speedup > 1.2, (one["sample_s"], two["sample_s"])


if __name__ == "__main__":
    nodes, workers, iters, meta_batch, trajectories = map(int, sys.argv[1:6])
    print(json.dumps(run_on_cluster(nodes, workers, iters, meta_batch, trajectories, *sys.argv[6:])))
