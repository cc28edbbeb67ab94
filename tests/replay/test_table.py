"""One table shard in-process: signature checks, samplers, removers, limiter, state round trip."""

import numpy as np
import pytest
from scipy import stats

from relayrl.platform.replay import (
    Field,
    MinSize,
    Queue,
    ReplayError,
    SampleToInsertRatio,
    SignatureError,
    TableConfig,
    TableShard,
)
from relayrl.platform.replay.batch import merge

SIG = (Field("obs", (3,), "float32"), Field("action", (), "int64"))


def items(ids):
    ids = np.asarray(ids, dtype=np.int64)
    return {"obs": np.repeat(ids[:, None], 3, axis=1).astype(np.float32), "action": ids}


def make(**kw):
    base = dict(name="t", capacity=100, signature=SIG)
    base.update(kw)
    return TableShard(TableConfig(**base))


def fill(t, ids, priorities=None):
    return t.insert(t.prepare_insert(items(ids), priorities))


# ---- signature ------------------------------------------------------------------------------

@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.pop("action"), ["missing fields ['action']"]),
    (lambda d: d.update(extra=np.zeros(2)), ["unexpected fields ['extra']"]),
    (lambda d: d.update(obs=d["obs"].astype(np.float64)), ["'obs'", "float32", "float64"]),
    (lambda d: d.update(obs=np.zeros((2, 4), np.float32)), ["'obs'", "[N, 3]", "[2, 4]"]),
    (lambda d: d.update(action=np.zeros(3, np.int64)), ["'action'", "leading size 2"]),
    (lambda d: d.update(action=[1, 2]), ["'action'", "numpy array"]),
])
def test_signature_mismatch_names_table_field_expected_and_got(mutate, words):
    t = make()
    d = items([1, 2])
    mutate(d)
    with pytest.raises(SignatureError) as e:
        t.prepare_insert(d)
    assert "table 't'" in str(e.value)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_sequence_items_have_a_time_axis():
    t = make(kind="sequence", sequence_length=5, sequence_overlap=2)
    ok = {"obs": np.zeros((2, 5, 3), np.float32), "action": np.zeros((2, 5), np.int64)}
    t.insert(t.prepare_insert(ok))
    assert t.size == 2
    with pytest.raises(SignatureError, match=r"\[N, 5, 3\]"):
        t.prepare_insert({"obs": np.zeros((2, 3), np.float32), "action": np.zeros((2, 5), np.int64)})


# ---- samplers -------------------------------------------------------------------------------

def test_prioritized_frequencies_follow_p_alpha_chi_square():
    alpha = 0.7
    t = make(capacity=20, sampler="prioritized", priority_exponent=alpha, seed=3)
    p = np.arange(1, 21, dtype=np.float64)
    fill(t, np.arange(20), p)
    draws = np.concatenate([t.sample(500).data["action"] for _ in range(40)])
    expected = p ** alpha / np.sum(p ** alpha) * len(draws)
    counts = np.bincount(draws, minlength=20)
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    # The same counts are far from uniform, so the test can tell the two apart.
    assert stats.chisquare(counts, np.full(20, len(draws) / 20)).pvalue < 1e-6


def test_importance_weights_match_formula():
    beta, alpha = 0.4, 0.6
    c = TableConfig(name="t", capacity=50, signature=SIG, sampler="prioritized",
                    priority_exponent=alpha, importance_sampling_exponent=beta)
    t = TableShard(c)
    p = np.linspace(0.1, 5.0, 50)
    fill(t, np.arange(50), p)
    b = merge(c, [t.sample(64)])
    ids = b.data["action"]
    prob = p[ids] ** alpha / np.sum(p ** alpha)
    w = (50 * prob) ** -beta
    assert np.allclose(b.probabilities, prob)
    assert np.allclose(b.weights, w / w.max(), rtol=1e-6)
    assert b.weights.max() == pytest.approx(1.0)


def test_uniform_sampling_is_uniform_and_weights_are_one():
    c = TableConfig(name="t", capacity=30, signature=SIG, seed=5)
    t = TableShard(c)
    fill(t, np.arange(30))
    b = merge(c, [t.sample(6000)])
    counts = np.bincount(b.data["action"], minlength=30)
    assert stats.chisquare(counts).pvalue > 1e-3
    assert np.all(b.weights == 1) and np.allclose(b.probabilities, 1 / 30)


def test_priority_updates_change_sampling_and_ignore_stale_keys():
    t = make(capacity=4, sampler="prioritized", priority_exponent=1.0)
    keys = fill(t, [0, 1, 2, 3], np.ones(4))
    t.update_priorities(keys[:1], np.array([1000.0]))
    assert np.mean(t.sample(1000).data["action"] == 0) > 0.95
    fill(t, [4])  # evicts item 0 (FIFO); its key is now stale
    assert t.update_priorities(keys[:1], np.array([5.0])) == 0
    assert t.max_priority == 1000.0  # new items default to the max priority seen (PER)
    assert t.priority[t._slots_of(t.slot_key[t.slot_key >= 0])].max() == 1000.0


def test_fifo_and_lifo_samplers_and_removers():
    t = make(capacity=5, sampler="fifo")
    fill(t, range(8))  # FIFO remover keeps 3..7
    assert list(t.sample(2).data["action"]) == [3, 4]
    t = make(capacity=5, sampler="lifo")
    fill(t, range(8))
    assert list(t.sample(2).data["action"]) == [7, 6]


def test_lowest_priority_remover():
    t = make(capacity=3, remover="lowest_priority")
    fill(t, [0, 1, 2], np.array([5.0, 1.0, 3.0]))
    fill(t, [3], np.array([4.0]))  # removes item 1 (priority 1)
    assert sorted(t.columns["action"][t.live[:t.size]]) == [0, 2, 3]


def test_max_times_sampled_removes_items():
    t = make(capacity=10, max_times_sampled=2, seed=1)
    fill(t, range(10))
    out = np.concatenate([t.sample(5).data["action"] for _ in range(4)])
    assert t.size == 0 and np.all(np.bincount(out, minlength=10) == 2)
    assert not t.can_sample(1)


def test_queue_hands_out_each_item_once_in_order():
    t = TableShard(TableConfig.queue("q", 6, SIG))
    fill(t, range(4))
    assert list(t.sample(3).data["action"]) == [0, 1, 2]
    fill(t, [4, 5, 6, 7, 8])
    assert t.insertable() == 0  # queue full: 6 unsampled items
    assert list(t.sample(6).data["action"]) == [3, 4, 5, 6, 7, 8]
    assert t.size == 0 and not t.can_sample(1)


# ---- rate limiter ---------------------------------------------------------------------------

def test_min_size_blocks_sampling_until_reached():
    t = make(rate_limiter=MinSize(5))
    fill(t, range(4))
    assert not t.can_sample(1)
    fill(t, [4])
    assert t.can_sample(1)


def test_sample_to_insert_ratio_follows_reverb_rule():
    # spi 2, min size 4, buffer 3: cursor = 2 * inserts - samples within [8 - 3, 8 + 3].
    t = make(rate_limiter=SampleToInsertRatio(samples_per_insert=2, min_size_to_sample=4,
                                              error_buffer=3))
    assert t.insertable() == 5  # 4 free, then a 5th brings the cursor to 10 <= 11
    fill(t, range(5))
    assert t.insertable() == 0 and t.limiter.cursor == 10
    assert t.can_sample(5) and not t.can_sample(6)  # 10 - 5 >= 5, 10 - 6 < 5
    t.sample(4)
    assert t.insertable() == 2  # 2 * 7 - 4 = 10 <= 11, 2 * 8 - 4 = 12 > 11
    assert t.limiter.max_batch() == 6 - 2 + 1


# ---- frames never outlive items, state continues exactly --------------------------------------

def test_state_round_trip_is_bit_identical_and_continues_exactly():
    c = TableConfig(name="t", capacity=50, signature=SIG, sampler="prioritized",
                    max_times_sampled=3, seed=11)
    a = TableShard(c)
    fill(a, range(70), np.linspace(1, 2, 70))
    for _ in range(5):
        s = a.sample(8)
        a.update_priorities(s.keys, np.abs(np.sin(s.keys)) + 0.1)
    meta, arrays = a.state()
    b = TableShard(c)
    b.load_state(meta, arrays)
    assert a.info()["rate_limiter"] == b.info()["rate_limiter"]
    assert np.array_equal(a.sum_tree.nodes, b.sum_tree.nodes)
    for _ in range(10):
        sa, sb = a.sample(8), b.sample(8)
        assert np.array_equal(sa.keys, sb.keys) and np.array_equal(sa.mass, sb.mass)
        assert np.array_equal(sa.data["obs"], sb.data["obs"])
        fill(a, [100]), fill(b, [100])


def test_episode_table_stores_whole_episodes_and_bounds_steps():
    c = TableConfig(name="e", capacity=10, kind="episode", signature=SIG, max_episode_length=6,
                    max_total_steps=12)
    t = TableShard(c)
    eps = [items(np.arange(n) + 100 * n) for n in (3, 5, 6)]
    t.insert(t.prepare_insert(eps))
    assert t.size == 2 and t.total_steps == 11  # the 3-step episode made room (FIFO)
    out = t.sample(4).episodes
    assert all(len(e["action"]) in (5, 6) and e["action"][0] in (500, 600) for e in out)
    with pytest.raises(SignatureError, match="max_episode_length=6"):
        t.prepare_insert(items(np.arange(7)))


def test_bad_priorities_are_rejected():
    t = make(sampler="prioritized")
    with pytest.raises(ReplayError, match="priorities"):
        t.prepare_insert(items([1, 2]), np.array([1.0, -1.0]))


def test_queue_limiter_per_shard():
    c = TableConfig(name="q", capacity=10, signature=SIG, rate_limiter=Queue(10), num_shards=2)
    assert c.shard_limiter_bounds.max_diff == 5
