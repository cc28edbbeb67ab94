"""Env steps/s of relayrl's rollout workers vs the raw vector env vs RLlib's EnvRunners.

All three act uniformly at random so the figure is the cost of stepping and moving experience,
not of a network. relayrl's workers also write every transition into a replay table (frames
stored once for Pong), which the others do not: that cost is included.

Same run, interleaved repeats, medians and ratios:

- ``raw_total``:   one gymnasium / ale-py vector env with workers x envs_per_worker sub-envs
- ``raw_worker``:  one vector env with envs_per_worker sub-envs (what one worker steps)
- ``relayrl``:     ``workers`` RolloutWorker actors, envs_per_worker sub-envs each
- ``relayrl_1``:   one RolloutWorker actor (per-worker overhead vs ``raw_worker``)
- ``rllib``:       ``workers`` remote SingleAgentEnvRunner actors, envs_per_worker each

    python benchmarks/rollout_throughput.py [--quick] [--envs cartpole,pong]
        [--envs-per-worker 8,32] [--steps-per-call 256] [--calls-in-flight 1,2] [--write-md PATH]
    python benchmarks/rollout_throughput.py --from-json RUN.json --write-md PATH   # re-render
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import ray

ENVS = {"cartpole": "CartPole-v1", "pong": "ALE/Pong-v5"}


def bench_raw(env_id: str, num_envs: int, seconds: float) -> float:
    from relayrl.envs import make_vector_env

    venv = make_vector_env(env_id, num_envs, seed=0)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    for _ in range(20):
        venv.step(venv.action_space.sample())
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        venv.step(venv.action_space.sample())
        steps += num_envs
    rate = steps / (time.perf_counter() - start)
    venv.close()
    return rate


def _relayrl_cfg(env_id: str, num_envs: int, workers: int, steps_per_call: int,
                 calls_in_flight: int = 1):
    from relayrl.platform.config import experiment_from_dict

    return experiment_from_dict({
        "name": "bench", "algorithm": "random", "env": {"id": env_id, "num_envs": num_envs},
        "rollout": {"num_workers": workers, "num_cpus_per_worker": 0.5,
                    "steps_per_call": steps_per_call, "calls_in_flight": calls_in_flight},
        "learner": {"replay_capacity": 200_000},
    })


def bench_relayrl(env_id: str, num_envs: int, workers: int, seconds: float,
                  steps_per_call: int, calls_in_flight: int = 1) -> float:
    from relayrl.agents.registry import get_algorithm
    from relayrl.platform.algorithm import EnvInfo
    from relayrl.platform.replay import ReplayClient
    from relayrl.platform.rollout import start_workers

    cfg = _relayrl_cfg(env_id, num_envs, workers, steps_per_call, calls_in_flight)
    info = EnvInfo.probe(cfg)
    client = ReplayClient.create(get_algorithm("random").tables(cfg, info))
    handles = start_workers(cfg, client)
    steps_per_call = cfg.rollout.steps_per_call
    ray.get([w.sample.remote(8) for w in handles.values()])  # warm up
    # as the training loop does: rollout.calls_in_flight calls queued per worker
    inflight = {w.sample.remote(steps_per_call): w for w in handles.values()
                for _ in range(cfg.rollout.calls_in_flight)}
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        ready, _ = ray.wait(list(inflight), num_returns=1)
        for ref in ready:
            w = inflight.pop(ref)
            steps += ray.get(ref)["env_steps"]
            inflight[w.sample.remote(steps_per_call)] = w
    elapsed = time.perf_counter() - start
    ray.get(list(inflight))
    inserted = client.info()["replay"]["num_inserts"]
    for w in handles.values():
        ray.kill(w)
    client.close()
    assert inserted > 0
    return steps / elapsed


def _rllib_env_creator(env_id: str):
    import gymnasium as gym

    if env_id.startswith("ALE/"):
        def make_atari(cfg):
            # runs inside each EnvRunner process, which must register ALE's ids itself
            import ale_py
            from ray.rllib.env.wrappers.atari_wrappers import wrap_atari_for_new_api_stack

            gym.register_envs(ale_py)
            return wrap_atari_for_new_api_stack(gym.make(env_id, frameskip=1), dim=84,
                                                framestack=4)

        return make_atari
    return lambda cfg: gym.make(env_id)


def bench_rllib(env_id: str, num_envs: int, workers: int, seconds: float,
                steps_per_call: int) -> float:
    from ray import tune
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    name = f"bench-{env_id.replace('/', '-')}"
    tune.register_env(name, _rllib_env_creator(env_id))
    config = (
        PPOConfig()
        .environment(name)
        .env_runners(num_envs_per_env_runner=num_envs, num_cpus_per_env_runner=0.5,
                     rollout_fragment_length=steps_per_call)
    )
    Runner = ray.remote(num_cpus=0.5)(SingleAgentEnvRunner)
    runners = [Runner.remote(config=config, worker_index=i + 1) for i in range(workers)]
    per_call = steps_per_call * num_envs

    ray.get([r.sample.remote(num_timesteps=num_envs * 8, random_actions=True) for r in runners])
    inflight = {r.sample.remote(num_timesteps=per_call, random_actions=True): r for r in runners}
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        ready, _ = ray.wait(list(inflight), num_returns=1)
        for ref in ready:
            r = inflight.pop(ref)
            steps += sum(len(e) for e in ray.get(ref))
            inflight[r.sample.remote(num_timesteps=per_call, random_actions=True)] = r
    elapsed = time.perf_counter() - start
    ray.get(list(inflight))
    for r in runners:
        ray.kill(r)
    return steps / elapsed


def markdown(out: dict, command: str) -> str:
    """The results table of one run (what benchmarks/results/rollout.md holds)."""
    m, w = out["machine"], out["workers"]
    spc = out.get("steps_per_call", 64)
    lines = [
        "# Rollout throughput: relayrl workers vs raw vector env vs RLlib EnvRunners", "",
        "Produced by:", "", f"    {command}", "",
        f"{w} workers, uniformly random actions, {spc} vector steps per remote call (relayrl) "
        f"and per rollout fragment (RLlib), {out['seconds']} s per figure, {out['repeats']} "
        f"interleaved repeats (medians); relayrl's workers also write every transition into a "
        f"replay table. Machine: {m['cpus']} CPUs, load average {m['load_avg_start'][0]:.1f} at "
        f"the start and {m['load_avg_end'][0]:.1f} at the end; compare within a row.", "",
        "| env | envs per worker | relayrl calls in flight per worker | raw vector env, all envs | "
        f"raw, one worker's envs | relayrl, {w} workers | relayrl, 1 worker | RLlib, {w} EnvRunners | "
        "relayrl / raw (all envs) | relayrl 1 worker / raw (its envs) | relayrl / RLlib |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in out["results"].items():  # older runs keyed rows by env id alone
        med = r["steps_per_s_median"]
        n = r.get("envs_per_worker", out.get("envs_per_worker"))
        k = r.get("calls_in_flight", 1)
        lines.append(
            f"| {r.get('env', key)} | {n} | {k} | {med['raw_total']:,.0f} | {med['raw_worker']:,.0f} | "
            f"{med['relayrl']:,.0f} | {med['relayrl_1']:,.0f} | {med['rllib']:,.0f} | "
            f"{r['ratio_relayrl_vs_raw_total']:.2f} | {r['ratio_relayrl_1_vs_raw_worker']:.2f} | "
            f"{r['ratio_relayrl_vs_rllib']:.2f} |")
    lines += ["", "Env steps per second; every repeat's figure is in the JSON the script prints.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envs", default="cartpole,pong")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--envs-per-worker", default="8",
                   help="comma-separated; one row per value (e.g. 8,32)")
    p.add_argument("--steps-per-call", type=int, default=256,
                   help="vector steps per relayrl sample call and per RLlib rollout fragment")
    p.add_argument("--calls-in-flight", default="1",
                   help="comma-separated rollout.calls_in_flight values; one row per value")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="2 s per figure, 1 repeat")
    p.add_argument("--write-md", default=None, help="also write the markdown table here")
    p.add_argument("--from-json", default=None, help="render the table of an earlier run's JSON")
    args = p.parse_args(argv)
    command = "python benchmarks/rollout_throughput.py " + " ".join(argv or sys.argv[1:])
    if args.from_json:
        with open(args.from_json) as f:
            out = json.load(f)
        if args.write_md:
            with open(args.write_md, "w") as f:
                f.write(markdown(out, out.get("command", command)))
        print(markdown(out, out.get("command", command)))
        return 0
    if args.quick:
        args.seconds, args.repeats = 2.0, 1
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    w, spc = args.workers, args.steps_per_call
    sizes = [int(x) for x in args.envs_per_worker.split(",")]
    queued = [int(x) for x in args.calls_in_flight.split(",")]
    out = {"command": command,
           "machine": {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()},
           "workers": w, "envs_per_worker": sizes, "steps_per_call": spc, "calls_in_flight": queued,
           "seconds": args.seconds, "repeats": args.repeats, "results": {}}
    for key in args.envs.split(","):
        env_id = ENVS[key]
        for n, k in [(n, k) for n in sizes for k in queued]:
            runs: dict[str, list[float]] = {
                k: [] for k in ("raw_total", "raw_worker", "relayrl", "relayrl_1", "rllib")}
            for _ in range(args.repeats):  # interleaved, so drifting load hits all alike
                runs["raw_total"].append(bench_raw(env_id, n * w, args.seconds))
                runs["raw_worker"].append(bench_raw(env_id, n, args.seconds))
                runs["relayrl"].append(bench_relayrl(env_id, n, w, args.seconds, spc, k))
                runs["relayrl_1"].append(bench_relayrl(env_id, n, 1, args.seconds, spc, k))
                runs["rllib"].append(bench_rllib(env_id, n, w, args.seconds, spc))
            med = {k: statistics.median(v) for k, v in runs.items()}
            row = f"{env_id} x{n}" + (f" k{k}" if k != 1 else "")
            out["results"][row] = {
                "env": env_id, "envs_per_worker": n, "calls_in_flight": k,
                "steps_per_s_median": {k: round(v, 1) for k, v in med.items()},
                "steps_per_s_all": {k: [round(x, 1) for x in v] for k, v in runs.items()},
                "ratio_relayrl_vs_raw_total": round(med["relayrl"] / med["raw_total"], 3),
                "ratio_relayrl_1_vs_raw_worker": round(med["relayrl_1"] / med["raw_worker"], 3),
                "ratio_relayrl_vs_rllib": round(med["relayrl"] / med["rllib"], 3),
            }
            print(json.dumps({row: out["results"][row]}), file=sys.stderr, flush=True)
    out["machine"]["load_avg_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    if args.write_md:
        with open(args.write_md, "w") as f:
            f.write(markdown(out, command))
    ray.shutdown()
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    sys.exit(main())
