"""The service as Ray actors: many writers and readers at once, blocking, sharding, pickling."""

import concurrent.futures
import sys
import time

import numpy as np
import pytest
import ray
import ray.cloudpickle
from scipy import stats

from relayrl.platform.replay import (
    Field,
    MinSize,
    ReplayClient,
    ReplayConfigError,
    ReplayError,
    ReplayTimeoutError,
    SampleToInsertRatio,
    SignatureError,
    TableConfig,
)
from relayrl.platform.replay.metrics import flatten_info

# Workers cannot import test modules by name: ship this module's helpers by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

SIG = (Field("obs", (2,), "float32"), Field("item", (), "int64"))


def chunk(ids):
    ids = np.asarray(ids, dtype=np.int64)
    return {"obs": np.stack([ids, -ids], axis=1).astype(np.float32), "item": ids}


@ray.remote(num_cpus=0)
def writer(client, table, ids, chunk_size, timeout=30.0):
    for k in range(0, len(ids), chunk_size):
        client.insert(table, chunk(ids[k:k + chunk_size]), timeout=timeout)
    return len(ids)


@ray.remote(num_cpus=0)
def reader(client, table, batches, batch_size, timeout=30.0):
    seen = []
    for _ in range(batches):
        seen.append(client.sample(table, batch_size, timeout=timeout).data["item"])
    return np.concatenate(seen)


@ray.remote(num_cpus=0)
def drain(client, table, batch_size, timeout):
    """Sample until the rate limiter stops us for ``timeout`` seconds; return items seen."""
    seen = []
    while True:
        try:
            seen.append(client.sample(table, batch_size, timeout=timeout).data["item"])
        except ReplayTimeoutError:
            return np.concatenate(seen) if seen else np.zeros(0, np.int64)


def test_queue_hands_each_item_to_exactly_one_reader(make_client):
    client = make_client(TableConfig.queue("onpolicy", 16, SIG))
    ids = [np.arange(w * 1000, w * 1000 + 64) for w in range(2)]
    writes = [writer.remote(client, "onpolicy", i, 8) for i in ids]
    reads = [reader.remote(client, "onpolicy", 16, 4) for _ in range(2)]
    assert sum(ray.get(writes)) == 128
    seen = np.concatenate(ray.get(reads))
    assert len(seen) == 128 and sorted(seen.tolist()) == sorted(np.concatenate(ids).tolist())
    info = client.info("onpolicy")["onpolicy"]
    assert info["size"] == 0 and info["num_inserts"] == info["num_samples"] == 128
    assert info["rate_limiter"]["observed_max_cursor"] <= 16


def test_ratio_limiter_holds_under_concurrent_writers_and_readers(make_client):
    spi, min_size, e = 2.0, 20, 12.0
    cfg = TableConfig(name="r", capacity=10_000, signature=SIG,
                      rate_limiter=SampleToInsertRatio(spi, min_size, e))
    client = make_client(cfg)
    writes = [writer.remote(client, "r", np.arange(w * 1000, w * 1000 + 150), 5)
              for w in range(2)]
    reads = [drain.remote(client, "r", 4, 1.0) for _ in range(2)]
    assert sum(ray.get(writes)) == 300
    sampled = sum(len(x) for x in ray.get(reads))
    rl = client.info("r")["r"]["rate_limiter"]
    # After every operation in stage 2 the cursor stayed inside [offset - e, offset + e].
    assert rl["min_diff"] == spi * min_size - e and rl["max_diff"] == spi * min_size + e
    assert rl["min_diff"] <= rl["observed_min_cursor"] <= rl["observed_max_cursor"] <= rl["max_diff"]
    assert rl["samples"] == sampled
    assert abs(spi * 300 - sampled - spi * min_size) <= e
    assert client.info("r")["r"]["blocked_insert_s"] > 0  # writers really were held back


def test_a_waiting_sample_does_not_block_writers(make_client):
    client = make_client(TableConfig(name="t", capacity=100, signature=SIG,
                                     rate_limiter=MinSize(10)))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.sample, "t", 4, 20.0)
        time.sleep(0.3)
        assert not pending.done()  # waiting for 10 items
        client.insert("t", chunk(np.arange(10)), timeout=5)  # gets through meanwhile
        assert len(pending.result(timeout=10).keys) == 4
    assert client.info("t")["t"]["blocked_sample_s"] > 0.2


def test_blocking_calls_time_out_with_a_clear_error(make_client):
    client = make_client(TableConfig.queue("q", 4, SIG),
                         TableConfig(name="t", capacity=10, signature=SIG,
                                     rate_limiter=MinSize(5)))
    with pytest.raises(ReplayTimeoutError, match=r"table 't': sample of 2 timed out.*0 items"):
        client.sample("t", 2, timeout=0.2)
    client.insert("q", chunk(range(4)), timeout=10)
    with pytest.raises(ReplayTimeoutError, match=r"table 'q': insert timed out.*0 of 1 items"):
        client.insert("q", chunk([9]), timeout=0.2)
    with pytest.raises(ReplayConfigError, match="batch of 5 can never be sampled"):
        client.sample("q", 5, timeout=0.2)
    with pytest.raises(SignatureError, match="table 't'.*'item'"):
        client.insert("t", {"obs": np.zeros((1, 2), np.float32), "item": np.zeros(1, np.int32)})
    with pytest.raises(ReplayError, match="no replay table 'nope'"):
        client.sample("nope", 1)


def test_sharded_prioritized_sampling_stays_proportional(make_client):
    alpha = 0.8
    cfg = TableConfig(name="p", capacity=200, signature=SIG, sampler="prioritized",
                      priority_exponent=alpha, num_shards=2, seed=1)
    client = make_client(cfg)
    ids = np.arange(24)
    prio = 1.0 + ids % 6  # 4 chunks alternate over the 2 shards, with different masses
    for k in range(0, 24, 6):
        client.insert("p", chunk(ids[k:k + 6]), priorities=prio[k:k + 6] * (1 + k), timeout=10)
    p = prio * (1 + 6 * (ids // 6))
    sizes = [s["size"] for s in ray.get([a.info.remote() for a in client._actors])
             for s in s.values()]
    assert sorted(sizes) == [12, 12]
    counts = np.zeros(24)
    for _ in range(8):
        b = client.sample("p", 500)
        counts += np.bincount(b.data["item"], minlength=24)
        expect_p = p[b.data["item"]] ** alpha / np.sum(p ** alpha)
        assert np.allclose(b.probabilities, expect_p)  # global P(i), not per shard
        w = (24 * expect_p) ** -0.4
        assert np.allclose(b.weights, w / w.max(), rtol=1e-5)
    expected = p ** alpha / np.sum(p ** alpha) * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    # Keys route priority updates to the right shard: one item gets almost all the mass.
    assert client.update_priorities("p", b.keys[:1], np.array([1e6]), wait=True) == 1
    top = b.data["item"][0]
    assert np.mean(client.sample("p", 400).data["item"] == top) > 0.9


def test_sharded_uniform_sampling_stays_uniform_with_unequal_shards(make_client):
    cfg = TableConfig(name="u", capacity=100, signature=SIG, num_shards=2, seed=2)
    client = make_client(cfg)
    client.insert("u", chunk(np.arange(30)), timeout=10)
    client.insert("u", chunk(np.arange(30, 40)), timeout=10)  # shards hold 30 and 10 items
    counts = np.zeros(40)
    for _ in range(8):
        b = client.sample("u", 500)
        counts += np.bincount(b.data["item"], minlength=40)
        assert np.allclose(b.probabilities, 1 / 40)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_client_pickles_into_actors_and_connects_by_name(make_client):
    client = make_client(TableConfig(name="t", capacity=100, signature=SIG), name="replay_test")
    assert ray.get(writer.remote(client, "t", np.arange(20), 5)) == 20
    other = ReplayClient.connect("replay_test")
    assert other.info()["t"]["size"] == 20
    other.close()  # not the owner: the service keeps running
    assert client.info()["t"]["size"] == 20
    flat = flatten_info(client.info())
    for key in ("size", "inserts_per_s", "samples_per_s", "samples_per_insert",
                "blocked_insert_s", "blocked_sample_s"):
        assert f"replay/t/{key}" in flat
    assert flat["replay/t/size"] == 20.0
    with pytest.raises(ReplayError, match="no replay service named 'absent'"):
        ReplayClient.connect("absent")
