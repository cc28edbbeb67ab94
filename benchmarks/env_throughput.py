"""Env steps/s of each environment family, raw and inside a relayrl rollout worker.

For every family the same vector env (``relayrl.envs.make_vector_env``, the same number of
sub-envs, the same seed) is stepped two ways, interleaved in one run so drifting load on
the shared machine hits both alike:

- ``raw``:    a plain loop in a Ray task (1 CPU, so both figures come from the same kind of
              process): the ``random`` algorithm's policy picks the actions, ``venv.step``
              applies them; nothing else.
- ``worker``: one ``RolloutWorker`` Ray actor (1 CPU) with the same policy, driven as the
              experiment driver drives it (one ``sample`` call of ``steps_per_call`` vector
              steps in flight); replay writes are off (``learner.write_replay: false``) so the
              figure is the worker's own overhead: the Ray calls and the per-step bookkeeping.

Two measures, medians over the repeats:

- wall-clock steps/s, ``overhead_wall = 1 - worker / raw``;
- CPU seconds per 1,000 env steps of the stepping process (all its threads, from
  ``/proc/<pid>/stat``, Linux), ``overhead_cpu = worker / raw - 1``. On a shared machine
  the wall-clock figures swing with other people's load; CPU time per step does not,
  so it is the fairer measure of what the worker adds (it leaves out the driver's share
  of each call, one call per ``steps_per_call`` vector steps).

A last section times 2D navigation's numpy vector env against gymnasium's SyncVectorEnv of
the same single envs (same tasks, same actions), the reason the navigation family has its
own vector env.

Prints one JSON document.

    python benchmarks/env_throughput.py [--quick] [--families atari,mujoco] [--num-envs 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import ray

FAMILIES = {
    "atari": ("ALE/Pong-v5", {}),
    "mujoco_halfcheetah": ("relayrl/HalfCheetahVel-v0", {}),
    "mujoco_ant": ("relayrl/AntDir-v0", {}),
    "navigation": ("relayrl/Navigation2D-v0", {}),
    "predator_prey": ("relayrl/PredatorPrey-v0", {}),
}
GROUPS = {"mujoco": ("mujoco_halfcheetah", "mujoco_ant")}


def _config(env_id: str, env_kwargs: dict, num_envs: int, steps_per_call: int):
    from relayrl.platform.config import experiment_from_dict

    return experiment_from_dict({
        "name": "env-throughput", "algorithm": "random", "seed": 0,
        "env": {"id": env_id, "num_envs": num_envs, "kwargs": env_kwargs},
        "rollout": {"num_workers": 1, "num_cpus_per_worker": 1, "steps_per_call": steps_per_call},
        "learner": {"write_replay": False},
    })


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_raw(cfg, seconds: float) -> tuple[float, float]:
    """Vector env steps with the random policy, nothing else (run as a Ray task).

    Returns (steps/s, CPU seconds per 1,000 steps).
    """
    from relayrl.agents.registry import get_algorithm
    from relayrl.envs import make_vector_env
    from relayrl.platform.algorithm import EnvInfo

    venv = make_vector_env(cfg.env.id, cfg.env.num_envs, seed=cfg.seed, env_kwargs=cfg.env.kwargs)
    policy = get_algorithm("random").make_policy(cfg, EnvInfo.from_vector_env(cfg.env.id, venv), seed=0)
    obs, _ = venv.reset(seed=cfg.seed)
    for _ in range(20):  # warm up
        obs, *_ = venv.step(policy.compute_actions(obs, env_steps=0)[0])
    steps, start, cpu0 = 0, time.perf_counter(), _cpu_seconds(os.getpid())
    while time.perf_counter() - start < seconds:
        for _ in range(16):
            obs, *_ = venv.step(policy.compute_actions(obs, env_steps=0)[0])
        steps += 16 * cfg.env.num_envs
    rate = steps / (time.perf_counter() - start)
    cpu = _cpu_seconds(os.getpid()) - cpu0
    venv.close()
    return rate, 1000 * cpu / steps


def bench_worker(cfg, seconds: float) -> tuple[float, float]:
    """The same vector env inside one RolloutWorker actor, one sample call in flight.

    Returns (steps/s, CPU seconds of the actor process per 1,000 steps).
    """
    from relayrl.platform.rollout import RolloutWorker

    worker = RolloutWorker.options(num_cpus=cfg.rollout.num_cpus_per_worker).remote(cfg, 0, None)
    n = cfg.rollout.steps_per_call
    ray.get(worker.sample.remote(8))  # warm up (env built, first calls)
    pid = ray.get(worker.pid.remote())
    steps, start, cpu0 = 0, time.perf_counter(), _cpu_seconds(pid)
    ref = worker.sample.remote(n)
    while True:
        stats = ray.get(ref)
        steps += stats["env_steps"]
        if time.perf_counter() - start >= seconds:
            break
        ref = worker.sample.remote(n)
    rate = steps / (time.perf_counter() - start)
    cpu = _cpu_seconds(pid) - cpu0
    ray.kill(worker)
    return rate, 1000 * cpu / steps


def bench_navigation_vectorization(num_envs: int, seconds: float) -> dict[str, float]:
    """Steps/s of NavigationVectorEnv vs SyncVectorEnv of Navigation2DEnv, same tasks and actions."""
    import gymnasium as gym
    import numpy as np

    from relayrl.envs.meta import make_task_vector_env, sample_tasks

    tasks = sample_tasks("relayrl/Navigation2D-v0", num_envs, np.random.default_rng(0))
    actions = np.random.default_rng(0).uniform(-0.1, 0.1, size=(num_envs, 2)).astype(np.float32)
    envs = {
        "numpy_vector_env": make_task_vector_env("relayrl/Navigation2D-v0", tasks),
        "gymnasium_sync_vector_env": gym.vector.SyncVectorEnv(
            [lambda t=t: gym.make("relayrl/Navigation2D-v0", task=t) for t in tasks]
        ),
    }
    rates = {}
    for name, venv in envs.items():
        venv.reset(seed=0)
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(20):
                venv.step(actions)
            steps += 20 * num_envs
        rates[name] = steps / (time.perf_counter() - start)
        venv.close()
    return rates


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--families", default=",".join(FAMILIES),
                   help=f"comma-separated, from {', '.join([*FAMILIES, *GROUPS])}")
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--steps-per-call", type=int, default=64, help="vector steps per sample call")
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="2 s per figure, 1 repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 2.0, 1
    names: list[str] = []
    for key in args.families.split(","):
        if key not in FAMILIES and key not in GROUPS:
            p.error(f"unknown family {key!r}; allowed: {', '.join([*FAMILIES, *GROUPS])}")
        names += GROUPS.get(key, (key,))

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    raw_task = ray.remote(num_cpus=1)(bench_raw)
    out = {
        "command": " ".join(["python", "benchmarks/env_throughput.py", *(argv or sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()},
        "num_envs": args.num_envs, "steps_per_call": args.steps_per_call,
        "seconds": args.seconds, "repeats": args.repeats, "results": {},
    }
    for name in names:
        env_id, kwargs = FAMILIES[name]
        cfg = _config(env_id, kwargs, args.num_envs, args.steps_per_call)
        rate: dict[str, list[float]] = {"raw": [], "worker": []}
        cpu: dict[str, list[float]] = {"raw": [], "worker": []}
        for _ in range(args.repeats):  # interleaved
            for key, (r, c) in (
                ("raw", ray.get(raw_task.remote(cfg, args.seconds))),
                ("worker", bench_worker(cfg, args.seconds)),
            ):
                rate[key].append(r)
                cpu[key].append(c)
        med = {k: statistics.median(v) for k, v in rate.items()}
        med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
        out["results"][name] = {
            "env_id": env_id,
            "steps_per_s_median": {k: round(v, 1) for k, v in med.items()},
            "steps_per_s_all": {k: [round(x, 1) for x in v] for k, v in rate.items()},
            "cpu_s_per_1k_steps_median": {k: round(v, 4) for k, v in med_cpu.items()},
            "cpu_s_per_1k_steps_all": {k: [round(x, 4) for x in v] for k, v in cpu.items()},
            "overhead_wall": round(1 - med["worker"] / med["raw"], 3),
            "overhead_cpu": round(med_cpu["worker"] / med_cpu["raw"] - 1, 3),
        }
        print(json.dumps({name: out["results"][name]}), file=sys.stderr, flush=True)
    nav: dict[str, dict[str, list[float]]] = {}
    for n in (20, 400):  # a 2D-navigation meta-batch (20 tasks), and 20 trajectories x 20 tasks
        runs: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for k, v in bench_navigation_vectorization(n, min(args.seconds, 2.0)).items():
                runs.setdefault(k, []).append(v)
        med = {k: statistics.median(v) for k, v in runs.items()}
        nav[str(n)] = {
            "steps_per_s_median": {k: round(v, 1) for k, v in med.items()},
            "ratio_numpy_vs_sync": round(med["numpy_vector_env"] / med["gymnasium_sync_vector_env"], 1),
        }
    out["navigation_vectorization"] = nav
    print(json.dumps({"navigation_vectorization": nav}), file=sys.stderr, flush=True)
    out["machine"]["load_avg_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
