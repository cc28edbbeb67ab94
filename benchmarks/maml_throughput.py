"""Meta-batch sampling throughput with 1, 2 and 4 sampler actors on a multi-node Ray cluster.

    python benchmarks/maml_throughput.py --workers 1 2 4 --iterations 5

Starts a ``ray.cluster_utils.Cluster`` with one 1-CPU node per sampler actor (several Ray
nodes on this machine), and for each worker count samples the same 2D-navigation meta-batch
(the paper's 20 tasks x 20 trajectories, pre- and post-adaptation, with the local inner
step) ``--iterations`` times through the replay queue tables. It also times full
meta-iterations (sampling + TRPO meta-update in the driver) with 2 workers. Prints one JSON
object: median seconds per meta-batch, meta-batches per second, and speedups relative to one
worker. On a machine with fewer cores than workers the speedup is bounded by the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

NAV = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tune_configs",
                   "maml_navigation.yaml")


def measure(num_workers: int, iterations: int, full_iterations: int, overrides: list[str]) -> dict:
    import ray
    import torch
    from ray.cluster_utils import Cluster

    from relayrl.agents.maml.pool import SampleRequest
    from relayrl.agents.maml.trainer import MAMLTrainer
    from relayrl.envs.meta import sample_tasks
    from relayrl.platform.config import load_experiment

    torch.set_num_threads(1)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    for _ in range(num_workers - 1):
        cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    cluster.wait_for_nodes()
    try:
        cfg = load_experiment(NAV, [f"rollout.num_workers={num_workers}",
                                    "rollout.num_cpus_per_worker=1",
                                    "learner.pretrained_baseline=false", *overrides])
        trainer = MAMLTrainer(cfg)
        try:
            import numpy as np

            tasks = sample_tasks(cfg.env.id, cfg.learner.meta_batch_size, np.random.default_rng(0))
            req = [SampleRequest("maml", trainer.meta.get_weights(), 0, cfg.learner.num_inner_steps)]
            trainer.pool.sample(req, tasks, 0)  # warm-up: actors built, envs created
            times, steps = [], 0
            for it in range(iterations):
                start = time.perf_counter()
                eps = trainer.pool.sample(req, tasks, it + 1)["maml"]
                times.append(time.perf_counter() - start)
                steps += sum(e.env_steps for e in eps)
            nodes = sorted({s["node_id"] for s in trainer.pool.last_stats})
            full = [trainer.train_iteration()["time_this_iter_s"] for _ in range(full_iterations)]
        finally:
            trainer.close()
    finally:
        ray.shutdown()
        cluster.shutdown()
    med = statistics.median(times)
    return {"workers": num_workers, "nodes_used": len(nodes), "sample_s": times,
            "env_id": cfg.env.id, "meta_batch_size": cfg.learner.meta_batch_size,
            "trajectories_per_task": cfg.learner.trajectories_per_task,
            "median_sample_s": med, "meta_batches_per_s": 1.0 / med,
            "env_steps_per_s": steps / sum(times), "meta_iteration_s": full,
            "median_meta_iteration_s": statistics.median(full) if full else None}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--full-iterations", type=int, default=3,
                   help="full meta-iterations timed (with 2 workers only)")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    rows = [measure(w, args.iterations, args.full_iterations if w == 2 else 0, args.overrides)
            for w in args.workers]
    base = rows[0]["median_sample_s"]
    for r in rows:
        r["speedup_vs_first"] = base / r["median_sample_s"]
    command = "python benchmarks/maml_throughput.py " + " ".join(sys.argv[1:])
    print(json.dumps({"benchmark": "maml_throughput", "cpu_count": os.cpu_count(),
                      "command": command, "load_avg_end": os.getloadavg(),
                      "overrides": args.overrides, "rows": rows}))


if __name__ == "__main__":
    main()
