"""TableConfig and its parts reject impossible settings at construction, naming what to fix."""

import pytest

from relayrl.platform.replay import (
    Field,
    FrameStackField,
    MinSize,
    Queue,
    ReplayConfigError,
    SampleToInsertRatio,
    TableConfig,
)

SIG = (Field("obs", (4,), "float32"), Field("action", (), "int64"))


def table(**kw):
    base = dict(name="t", capacity=100, signature=SIG)
    base.update(kw)
    return TableConfig(**base)


@pytest.mark.parametrize("kw, words", [
    (dict(sampler="random"), ["sampler='random'", "uniform", "prioritized", "fifo", "lifo"]),
    (dict(remover="lifo"), ["remover='lifo'", "lowest_priority"]),
    (dict(kind="trajectory"), ["kind='trajectory'", "episode"]),
    (dict(capacity=0), ["capacity=0"]),
    (dict(capacity=10, rate_limiter=MinSize(20)), ["capacity=10", "min size", "20"]),
    (dict(capacity=10, rate_limiter=Queue(11)), ["Queue(size=11)", "capacity=10"]),
    (dict(kind="sequence"), ["sequence_length"]),
    (dict(kind="sequence", sequence_length=4, sequence_overlap=4), ["sequence_overlap=4"]),
    (dict(sequence_length=4), ["only apply to kind='sequence'"]),
    (dict(max_episode_length=10), ["only apply to kind='episode'"]),
    (dict(kind="episode", max_episode_length=10, max_total_steps=5), ["max_total_steps=5"]),
    (dict(importance_sampling_exponent=1.5), ["importance_sampling_exponent=1.5"]),
    (dict(num_shards=0), ["num_shards=0"]),
    (dict(signature=()), ["signature"]),
    (dict(signature=(Field("a"), Field("a"))), ["'a'", "twice"]),
    (dict(signature=(FrameStackField("obs"), Field("next_obs", (84, 84, 4), "uint8"))),
     ["next_obs"]),
    (dict(signature=(FrameStackField("obs"), Field("action", (), "int64")),
          remover="lowest_priority"), ["FrameStackField", "remover='fifo'"]),
    (dict(seed=-1), ["seed=-1"]),
])
def test_invalid_table_options_name_the_option(kw, words):
    with pytest.raises(ReplayConfigError) as e:
        table(**kw)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_ratio_limiter_whose_error_buffer_can_deadlock_is_rejected():
    with pytest.raises(ReplayConfigError, match=r"error_buffer=4.*deadlock.*>= .*8"):
        SampleToInsertRatio(samples_per_insert=8, min_size_to_sample=10, error_buffer=4)
    ok = SampleToInsertRatio(samples_per_insert=8, min_size_to_sample=10, error_buffer=8)
    b = ok.bounds()
    assert (b.min_diff, b.max_diff) == (72.0, 88.0)


@pytest.mark.parametrize("bad", [
    lambda: Field("1x"), lambda: Field("frames"), lambda: Field("a", (-1,)),
    lambda: Field("a", (), "object"), lambda: Field("a", (), "no-such-dtype"),
    lambda: FrameStackField(stack=0), lambda: MinSize(0), lambda: Queue(0),
])
def test_invalid_fields_and_limiters(bad):
    with pytest.raises(ReplayConfigError):
        bad()


def test_queue_preset_is_fifo_exactly_once():
    q = TableConfig.queue("onpolicy", 32, SIG)
    assert (q.sampler, q.remover, q.max_times_sampled) == ("fifo", "fifo", 1)
    assert q.rate_limiter == Queue(32) and q.capacity == 32


def test_frame_field_implies_next_obs_and_sizes_its_ring():
    c = table(signature=(FrameStackField("obs", (84, 84), 4), Field("action", (), "int64")),
              capacity=1000)
    assert c.field_names == ("obs", "next_obs", "action")
    assert 1000 < c.frame_capacity() < 1100 + 64 * 4


def test_configs_are_frozen():
    c = table()
    with pytest.raises(AttributeError):
        c.capacity = 5  # type: ignore[misc]
