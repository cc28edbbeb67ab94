"""Checkpoints: a restored service continues exactly; corrupt, foreign and half-written
checkpoints are caught."""

import json
import os

import numpy as np
import pytest

from relayrl.platform.replay import (
    CheckpointError,
    Field,
    FrameStackField,
    SampleToInsertRatio,
    TableConfig,
)
from relayrl.platform.replay import checkpoint as ckpt

SIG = (Field("obs", (3,), "float32"), Field("item", (), "int64"))
FRAMES = (FrameStackField("obs", (8, 8), 4), Field("item", (), "int64"))


def tables():
    return [
        TableConfig(name="prio", capacity=300, signature=SIG, sampler="prioritized",
                    max_times_sampled=5, num_shards=2, seed=7,
                    rate_limiter=SampleToInsertRatio(4, 10, 5000)),
        TableConfig(name="img", capacity=100, signature=FRAMES, seed=3),
        TableConfig(name="eps", capacity=20, kind="episode", signature=SIG, sampler="lifo"),
    ]


def vec_items(ids):
    ids = np.asarray(ids, dtype=np.int64)
    return {"obs": np.stack([ids, ids * 2, ids * 3], 1).astype(np.float32), "item": ids}


def img_items(rng, ids):
    n = len(ids)
    obs = np.arange(n)[:, None] + np.arange(4)
    return {"frames": rng.integers(0, 256, (n + 4, 8, 8), dtype=np.uint8), "obs": obs,
            "next_obs": obs + 1, "item": np.asarray(ids, dtype=np.int64)}


def populate(client, rng, start=0):
    for k in range(4):
        ids = np.arange(start + 25 * k, start + 25 * k + 25)
        client.insert("prio", vec_items(ids), priorities=rng.random(25) + 0.1, timeout=10)
        client.insert("img", img_items(rng, ids), timeout=10)
        client.insert("eps", vec_items(ids[: 3 + k]), timeout=10)
    for _ in range(5):
        b = client.sample("prio", 16, timeout=5)
        client.update_priorities("prio", b.keys, rng.random(16) + 0.5, wait=True)
    client.sample("img", 8, timeout=5)


def same_batches(a, b, table, n=4):
    for _ in range(n):
        x, y = a.sample(table, 12, timeout=5), b.sample(table, 12, timeout=5)
        assert np.array_equal(x.keys, y.keys)
        assert np.array_equal(x.probabilities, y.probabilities)
        assert np.array_equal(x.times_sampled, y.times_sampled)
        for k in x.data:
            assert np.array_equal(x.data[k], y.data[k]) and x.data[k].dtype == y.data[k].dtype


def counters(client):
    info = client.info()
    keep = ("size", "num_inserts", "num_samples", "num_deletes", "rate_limiter", "total_steps",
            "frames_written")
    return {t: {k: v for k, v in d.items() if k in keep} for t, d in info.items()}


def test_restored_service_continues_exactly(make_client, tmp_path):
    rng = np.random.default_rng(0)
    a = make_client(*tables())
    populate(a, rng)
    path = a.checkpoint(str(tmp_path))
    assert os.path.basename(path) == "ckpt-000001"
    b = make_client(*tables())
    assert b.restore(str(tmp_path)) == path
    assert counters(a) == counters(b)
    same_batches(a, b, "prio")
    same_batches(a, b, "img")
    ea = a.sample_episodes("eps", 3, timeout=5)
    eb = b.sample_episodes("eps", 3, timeout=5)
    assert [e["key"] for e in ea] == [e["key"] for e in eb]
    assert all(np.array_equal(x["obs"], y["obs"]) for x, y in zip(ea, eb))
    # Both keep going identically: the same inserts give the same state and samples.
    populate(a, np.random.default_rng(1), start=1000)
    populate(b, np.random.default_rng(1), start=1000)
    assert counters(a) == counters(b)
    same_batches(a, b, "prio")


def test_corrupt_foreign_and_missing_checkpoints_fail_clearly(make_client, tmp_path):
    rng = np.random.default_rng(0)
    a = make_client(*tables())
    populate(a, rng)
    path = a.checkpoint(str(tmp_path / "good"))
    b = make_client(*tables())
    with pytest.raises(CheckpointError, match="no replay checkpoint"):
        b.restore(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="expected a LATEST file"):
        b.restore(str(tmp_path / "empty"))
    # Checkpoints of other tables or other settings are refused (checked before any actor).
    found, manifest = ckpt.resolve(path)
    with pytest.raises(CheckpointError, match="tables .*'eps'.*'img'.*'prio'.* runs \\['prio'\\]"):
        ckpt.check_tables(found, manifest, [TableConfig(name="prio", capacity=9, signature=SIG)])
    changed = tables()
    changed[1] = TableConfig(name="img", capacity=50, signature=FRAMES, seed=3)
    with pytest.raises(CheckpointError, match="table 'img'.*capacity: checkpoint has 100"):
        ckpt.check_tables(found, manifest, changed)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "MANIFEST.json").write_text(json.dumps({**manifest, "format": "something-else"}))
    with pytest.raises(CheckpointError, match="not a relayrl replay checkpoint"):
        b.restore(str(foreign))
    # Flip one byte inside one array file: the CRC catches it before any table changes.
    before = counters(b)
    victim = os.path.join(path, "img.shard0", "frames.npy")
    with open(victim, "r+b") as f:
        f.seek(-10, os.SEEK_END)
        byte = f.read(1)
        f.seek(-10, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CheckpointError, match=r"'img.shard0/frames.npy' is corrupt"):
        b.restore(path)
    assert counters(b) == before


def test_a_crash_mid_checkpoint_leaves_the_previous_one_usable(make_client, tmp_path,
                                                                monkeypatch):
    rng = np.random.default_rng(0)
    a = make_client(*tables())
    populate(a, rng)
    first = a.checkpoint(str(tmp_path))
    snapshot = counters(a)
    populate(a, rng, start=500)
    # Crash 1: the client dies after shards wrote half their files (no manifest, no rename).
    tmp = ckpt.begin(tmp_path)
    ckpt.write_shard(tmp, "prio", 0, {"table": "prio"}, {"slot_key": np.arange(3)})
    # Crash 2: a complete directory renamed into place, but LATEST never moved.
    def crash(*args, **kwargs):
        raise OSError("simulated crash before LATEST is replaced")
    monkeypatch.setattr(ckpt.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        a.checkpoint(str(tmp_path))
    monkeypatch.undo()
    assert (tmp_path / "ckpt-000002").exists()  # written, but not published
    assert (tmp_path / "LATEST").read_text() == "ckpt-000001"
    assert a.restore(str(tmp_path)) == first
    assert counters(a) == snapshot
    # The next successful checkpoint publishes normally past the abandoned ones.
    assert os.path.basename(a.checkpoint(str(tmp_path))) == "ckpt-000003"
    assert (tmp_path / "LATEST").read_text() == "ckpt-000003"
