"""Replay throughput and memory: relayrl's replay service against RLlib's episode buffers.

One run measures, on the same synthetic experience, for 84x84x4 uint8 (Atari-like) and
4-float observations:

- ``relayrl``: the replay service as a Ray actor with the client in this (driver) process.
  ``insert/s``: prebuilt chunks of 64 transitions (as TransitionAdder sends them, frames
  included), 4 calls in flight. ``adder steps/s``: the TransitionAdder end to end (8 envs).
  ``sample/s`` for a uniform and a prioritized table at batch 32 and 256 (stacks rebuilt,
  data delivered to the driver as numpy). Memory: growth of the service actor's anonymous
  resident memory while the uniform table fills, and the table's array bytes.
- ``rllib_erb`` / ``rllib_per``: RLlib's ``EpisodeReplayBuffer`` and
  ``PrioritizedEpisodeReplayBuffer`` in-process, fed ``SingleAgentEpisode`` fragments of 64
  steps built from the same steps (what EnvRunners return). ``sample/s`` calls
  ``sample(num_items=B, n_step=1)`` as RLlib's DQN does; converting the sampled episodes to
  a train batch (the learner connector) is not timed. Memory: growth of the process's
  anonymous resident memory.

Each contender runs in a fresh subprocess (so memory growth is its own); the parent prints one
JSON document. Observations are synthetic (random pixels, episodes of random length, stacks
built like gymnasium's FrameStackObservation: four frames, padded with the reset frame).

    python benchmarks/replay_throughput.py --quick            # ~2 minutes
    python benchmarks/replay_throughput.py --write-md benchmarks/results/replay.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

NUM_ENVS = 8
CHUNK = 64
KINDS = {"atari": ((4, 84, 84), np.uint8), "vector": ((4,), np.float32)}


def anon_rss_bytes() -> int:
    """Anonymous resident memory of this process (numpy arrays live there; Ray's shared
    object store pages, which the service's arguments pass through, do not)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status (Linux only)")


# ---- the shared experience ------------------------------------------------------------------

def steps(kind: str, n: int, seed: int) -> Iterator[tuple]:
    """``n`` transitions from ``NUM_ENVS`` synthetic envs, as a vector env yields them.

    Yields ``(obs, action, reward, terminated, truncated, next_obs)`` with ``[N, ...]`` arrays;
    an env whose episode ended starts the next one at its next step (the autoreset step is
    already masked out).
    """
    rng = np.random.default_rng(seed)
    shape, dtype = KINDS[kind]
    lengths = (200, 2000) if kind == "atari" else (20, 500)

    def reset():
        return rng.integers(lengths[0], lengths[1]), new_obs(None)

    def new_obs(prev):
        if kind == "vector":
            return rng.standard_normal(4).astype(np.float32)
        frame = rng.integers(0, 256, (84, 84), dtype=np.uint8)
        if prev is None:  # reset: the stack is the first frame four times
            return np.repeat(frame[None], 4, axis=0)
        return np.concatenate([prev[1:], frame[None]])

    remaining, obs = zip(*[reset() for _ in range(NUM_ENVS)])
    remaining, obs = list(remaining), list(obs)
    done = 0
    while done < n:
        nxt = [new_obs(o) for o in obs]
        remaining = [r - 1 for r in remaining]
        term = np.array([r <= 0 for r in remaining])
        yield (np.stack(obs), rng.integers(0, 6, NUM_ENVS), rng.standard_normal(NUM_ENVS),
               term, np.zeros(NUM_ENVS, bool), np.stack(nxt))
        done += NUM_ENVS
        for i in range(NUM_ENVS):
            if term[i]:
                remaining[i], nxt[i] = reset()
        obs = nxt
    del shape, dtype


def signature(kind: str):
    from relayrl.platform.replay import Field, FrameStackField

    if kind == "atari":
        obs = (FrameStackField("obs", (84, 84), 4),)
    else:
        obs = (Field("obs", (4,), "float32"), Field("next_obs", (4,), "float32"))
    return obs + (Field("action", (), "int64"), Field("reward", (), "float32"),
                  Field("discount", (), "float32"))


# ---- contenders -------------------------------------------------------------------------------

def timed_samples(sample, batch: int, seconds: float, windows: int = 3) -> float:
    """Median over ``windows`` windows of ``seconds / windows`` (the machine is shared)."""
    sample(batch)  # warm up
    rates = []
    for _ in range(windows):
        calls, t0 = 0, time.perf_counter()
        while calls < 2 or time.perf_counter() - t0 < seconds / windows:
            sample(batch)
            calls += 1
        rates.append(calls * batch / (time.perf_counter() - t0))
    return float(np.median(rates))


def run_relayrl(kind: str, n: int, seconds: float, seed: int) -> dict[str, Any]:
    import ray

    from relayrl.platform.replay import MinSize, ReplayClient, TableConfig, TransitionAdder

    # A fresh local instance even if another Ray cluster runs on this machine.
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    sig = signature(kind)
    tables = [TableConfig(name=name, capacity=n, signature=sig, sampler=sampler,
                          rate_limiter=MinSize(256))
              for name, sampler in (("uniform", "uniform"), ("prioritized", "prioritized"))]
    client = ReplayClient.create(tables, num_cpus=0)

    chunks: list[dict] = []
    send = client.insert_async

    def capture(table, items, priorities=None, timeout=None):
        chunks.append(items)
        return send(table, items, priorities, timeout)

    client.insert_async = capture  # the adder's chunks are kept for the ingest test below
    frame_stack = 4 if kind == "atari" else None
    adder = TransitionAdder(client, "uniform", NUM_ENVS, chunk_size=CHUNK, frame_stack=frame_stack)
    rss0 = client.memory()[0]["rss_anon_bytes"]
    data = list(steps(kind, n, seed))  # generated up front so only the adder is timed
    t0 = time.perf_counter()
    for step in data:
        adder.add(*step)
    adder.flush()
    adder_rate = len(data) * NUM_ENVS / (time.perf_counter() - t0)
    del data
    mem = client.memory()[0]
    size = client.info("uniform")["uniform"]["size"]
    frames = client.info("uniform")["uniform"].get("frames_written", 0)

    client.insert_async = send
    inflight, t0 = [], time.perf_counter()
    for items in chunks:
        inflight.append(client.insert_async("prioritized", items))
        if len(inflight) > 4:
            done, inflight = ray.wait(inflight, num_returns=1)
            ray.get(done)
    ray.get(inflight)
    insert_rate = sum(len(c["action"]) for c in chunks) / (time.perf_counter() - t0)

    out = {
        "contender": "relayrl", "kind": kind, "transitions": size,
        "insert_per_s": insert_rate, "adder_steps_per_s": adder_rate,
        "rss_growth_bytes": mem["rss_anon_bytes"] - rss0,
        "table_bytes": mem["table_bytes/uniform"],
        "frames_per_transition": frames / size if frames else None,
    }
    for table in ("uniform", "prioritized"):
        for batch in (32, 256):
            out[f"sample_per_s/{table}/{batch}"] = timed_samples(
                lambda b, t=table: client.sample(t, b, timeout=60), batch, seconds)
    client.close()
    ray.shutdown()
    return out


def rllib_fragments(kind: str, n: int, seed: int):
    """The same steps as RLlib EnvRunners return them: per env, episode fragments of 64."""
    from ray.rllib.env.single_agent_episode import SingleAgentEpisode

    open_frags: list[dict | None] = [None] * NUM_ENVS
    episode_no = [0] * NUM_ENVS
    t_in_episode = [0] * NUM_ENVS
    batch: list = []

    def close(i):
        f = open_frags[i]
        ep = SingleAgentEpisode(
            id_=f"{i}-{episode_no[i]}", observations=f["obs"], actions=f["actions"],
            rewards=f["rewards"], terminated=f["terminated"], t_started=f["t0"],
            len_lookback_buffer=0)
        batch.append(ep.to_numpy())
        open_frags[i] = None

    for obs, action, reward, term, _trunc, next_obs in steps(kind, n, seed):
        for i in range(NUM_ENVS):
            if open_frags[i] is None:
                open_frags[i] = {"obs": [obs[i]], "actions": [], "rewards": [],
                                 "terminated": False, "t0": t_in_episode[i]}
            f = open_frags[i]
            f["obs"].append(next_obs[i])
            f["actions"].append(int(action[i]))
            f["rewards"].append(float(reward[i]))
            t_in_episode[i] += 1
            if term[i]:
                f["terminated"] = True
                close(i)
                episode_no[i] += 1
                t_in_episode[i] = 0
            elif len(f["actions"]) == CHUNK:
                close(i)
        if len(batch) >= NUM_ENVS:
            yield batch
            batch = []
    for i in range(NUM_ENVS):  # what the envs are still in the middle of
        if open_frags[i] is not None and open_frags[i]["actions"]:
            close(i)
    if batch:
        yield batch


def rllib_array_bytes(buf) -> int:
    """Bytes of the numpy arrays an RLlib episode buffer holds (its trees counted at 8 B/node)."""
    total = 0
    for ep in buf.episodes:
        for part in (ep.observations, ep.actions, ep.rewards):
            data = getattr(part, "data", None)
            total += data.nbytes if isinstance(data, np.ndarray) else 0
    for tree in ("_sum_segment", "_min_segment"):
        values = getattr(getattr(buf, tree, None), "value", None)
        total += 8 * len(values) if values is not None else 0
    return total


def run_rllib(kind: str, n: int, seconds: float, seed: int, prioritized: bool) -> dict[str, Any]:
    from ray.rllib.utils.replay_buffers.episode_replay_buffer import EpisodeReplayBuffer
    from ray.rllib.utils.replay_buffers.prioritized_episode_buffer import (
        PrioritizedEpisodeReplayBuffer,
    )

    rss0 = anon_rss_bytes()
    batches = list(rllib_fragments(kind, n, seed))  # built before the timed part
    buf = (PrioritizedEpisodeReplayBuffer if prioritized else EpisodeReplayBuffer)(capacity=n)
    t0 = time.perf_counter()
    for b in batches:
        buf.add(b)
    insert_rate = buf.get_num_timesteps() / (time.perf_counter() - t0)
    del batches
    import gc

    gc.collect()
    # The buffer copied the fragments on add; with ours gone, what remains is the buffer's
    # (plus heap the allocator kept: an upper bound; the arrays it holds: a lower bound).
    out = {
        "contender": "rllib_per" if prioritized else "rllib_erb", "kind": kind,
        "transitions": buf.get_num_timesteps(), "insert_per_s": insert_rate,
        "rss_growth_bytes": anon_rss_bytes() - rss0, "table_bytes": rllib_array_bytes(buf),
    }

    def sample(b):
        if prioritized:
            return buf.sample(num_items=b, n_step=1, beta=0.4)
        return buf.sample(num_items=b, n_step=1, sample_episodes=True)

    for batch in (32, 256):
        out[f"sample_per_s/{'prioritized' if prioritized else 'uniform'}/{batch}"] = \
            timed_samples(sample, batch, seconds)
    return out


# ---- orchestration ----------------------------------------------------------------------------

def child(args) -> None:
    kind, n, seconds, seed = args.kind, args.transitions, args.seconds, args.seed
    if args.child == "relayrl":
        out = run_relayrl(kind, n, seconds, seed)
    else:
        out = run_rllib(kind, n, seconds, seed, prioritized=args.child == "rllib_per")
    print("RESULT " + json.dumps(out), flush=True)


def markdown(doc: dict[str, Any], command: str) -> str:
    lines = [
        "# Replay throughput and memory", "",
        "Produced by:", "", f"    {command}", "",
        f"{doc['transitions']} transitions per contender, {NUM_ENVS} synthetic envs, chunks / "
        f"fragments of {CHUNK} steps; machine: {doc['machine']}. Rates are transitions per "
        "second (higher is better; sample rates are the median of 3 windows); memory is extrapolated to 1M transitions from the "
        "measured growth. Each contender ran in its own process, one after the other, in the "
        "same run.", "",
    ]
    for kind in KINDS:
        rows = [r for r in doc["results"] if r["kind"] == kind]
        lines += [f"## {kind} observations ({'x'.join(map(str, KINDS[kind][0]))} "
                  f"{np.dtype(KINDS[kind][1]).name})", "",
                  "| contender | insert/s | sample/s uniform B=32 | B=256 | sample/s prioritized "
                  "B=32 | B=256 | GB per 1M: RSS growth | GB per 1M: arrays held |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            def f(key, r=r):
                v = r.get(key)
                return f"{v:,.0f}" if v is not None else "-"
            gb = r["rss_growth_bytes"] / r["transitions"] * 1e6 / 1e9
            arrays = r["table_bytes"] / r["transitions"] * 1e6 / 1e9
            lines.append(f"| {r['contender']} | {f('insert_per_s')} | "
                         f"{f('sample_per_s/uniform/32')} | {f('sample_per_s/uniform/256')} | "
                         f"{f('sample_per_s/prioritized/32')} | "
                         f"{f('sample_per_s/prioritized/256')} | {gb:.2f} | {arrays:.2f} |")
        rel = next(r for r in rows if r["contender"] == "relayrl")
        lines += ["", f"relayrl adder end to end: {rel['adder_steps_per_s']:,.0f} env steps/s"
                  + (f"; {rel['frames_per_transition']:.3f} frames stored per transition"
                     if rel.get("frames_per_transition") else "") + ".", ""]
        lines += [f"Ratios ({kind}): " + "; ".join(
            f"{k}: {v:.2f}" for k, v in doc["ratios"][kind].items()), ""]
    return "\n".join(lines) + "\n"


def ratios(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for kind in KINDS:
        r = {x["contender"]: x for x in results if x["kind"] == kind}
        rel, erb, per = r["relayrl"], r["rllib_erb"], r["rllib_per"]
        out[kind] = {
            "sample B=256 relayrl prioritized / rllib PER":
                rel["sample_per_s/prioritized/256"] / per["sample_per_s/prioritized/256"],
            "sample B=256 relayrl uniform / rllib ERB":
                rel["sample_per_s/uniform/256"] / erb["sample_per_s/uniform/256"],
            "insert relayrl / rllib PER": rel["insert_per_s"] / per["insert_per_s"],
            # Conservative: our RSS growth (upper bound) over RLlib's arrays (lower bound).
            "memory relayrl RSS / rllib ERB arrays":
                rel["rss_growth_bytes"] / erb["table_bytes"],
            "memory relayrl RSS / rllib PER arrays":
                rel["rss_growth_bytes"] / per["table_bytes"],
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="10k transitions, 2 s per sample rate")
    p.add_argument("--transitions", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None, help="time per sample-rate measurement")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write-md", default=None, help="also write the results table here")
    p.add_argument("--child", choices=["relayrl", "rllib_erb", "rllib_per"], help=argparse.SUPPRESS)
    p.add_argument("--kind", choices=list(KINDS), help=argparse.SUPPRESS)
    args = p.parse_args()
    args.transitions = args.transitions or (10_000 if args.quick else 100_000)
    args.seconds = args.seconds or (2.0 if args.quick else 5.0)
    if args.child:
        child(args)
        return
    results = []
    for kind in KINDS:
        for contender in ("relayrl", "rllib_erb", "rllib_per"):
            cmd = [sys.executable, os.path.abspath(__file__), "--child", contender, "--kind", kind,
                   "--transitions", str(args.transitions), "--seconds", str(args.seconds),
                   "--seed", str(args.seed)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                sys.stderr.write(proc.stderr[-4000:])
                raise SystemExit(f"{contender} ({kind}) failed with exit code {proc.returncode}")
            results.append(json.loads(line[0][len("RESULT "):]))
            print(f"done: {contender} {kind}", file=sys.stderr, flush=True)
    doc = {
        "benchmark": "replay_throughput", "transitions": args.transitions,
        "seconds_per_rate": args.seconds, "num_envs": NUM_ENVS, "chunk": CHUNK,
        "machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end",
        "results": results, "ratios": ratios(results),
    }
    print(json.dumps(doc, indent=1))
    if args.write_md:
        command = "python benchmarks/replay_throughput.py " + " ".join(
            a for a in sys.argv[1:] if not a.startswith("--write-md") and a != args.write_md)
        with open(args.write_md, "w") as f:
            f.write(markdown(doc, command.strip()))


if __name__ == "__main__":
    main()
