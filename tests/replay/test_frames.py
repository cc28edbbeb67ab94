"""Compact frames: stacks rebuilt exactly, items never outlive their frames, repeats stored once."""

import numpy as np

from relayrl.platform.replay import Field, FrameStackField, TableConfig, TableShard

H = W = 6


def frame_table(capacity, frame_capacity=None, stack=4):
    ff = FrameStackField("obs", (H, W), stack, frame_capacity=frame_capacity)
    return TableShard(TableConfig(name="f", capacity=capacity,
                                  signature=(ff, Field("action", (), "int64"))))


def stream_chunk(rng, start_id, n, stack=4):
    """One writer's chunk of n consecutive transitions: n + stack frames, stacks sliding by one."""
    frames = rng.integers(0, 256, (n + stack, H, W), dtype=np.uint8)
    obs = np.arange(n)[:, None] + np.arange(stack)[None, :]
    return {"frames": frames, "obs": obs, "next_obs": obs + 1,
            "action": np.arange(start_id, start_id + n, dtype=np.int64)}


def test_stacks_are_rebuilt_exactly_after_the_ring_wraps():
    rng = np.random.default_rng(0)
    t = frame_table(capacity=100, frame_capacity=64)
    truth = {}
    for c in range(30):  # 30 chunks x 10 items, ring of 64 frames: wraps many times
        chunk = stream_chunk(rng, 10 * c, 10)
        for j, a in enumerate(chunk["action"]):
            truth[int(a)] = (chunk["frames"][chunk["obs"][j]], chunk["frames"][chunk["obs"][j] + 1])
        t.insert(t.prepare_insert(chunk))
        s = t.sample(16)
        for a, o, no in zip(s.data["action"], s.data["obs"], s.data["next_obs"]):
            assert np.array_equal(o, truth[int(a)][0]) and np.array_equal(no, truth[int(a)][1])
    # The ring holds frames 356..419 (64 frames, 14 per chunk); chunk 25 wrote frames 350..363
    # and its item j uses frames 350 + j .. 350 + j + 4. Items 250..255 lost a frame and were
    # evicted (the item capacity, 100, was never reached); items 256.. are whole and kept.
    live_ids = t.columns["action"][t.live[: t.size]]
    assert sorted(live_ids.tolist()) == list(range(256, 300))


def test_frames_repeated_across_chunks_are_stored_once():
    rng = np.random.default_rng(1)
    t = frame_table(capacity=1000, frame_capacity=3200)  # de-duplication window 100 frames
    frames = rng.integers(0, 256, (20, H, W), dtype=np.uint8)
    # Chunk 1 uses frames 0..11, chunk 2 repeats frames 8..11 (the continuing stack) + 8 new.
    obs1 = np.arange(8)[:, None] + np.arange(4)
    t.insert(t.prepare_insert({"frames": frames[:12], "obs": obs1, "next_obs": obs1 + 1,
                               "action": np.arange(8)}))
    obs2 = np.arange(8)[:, None] + np.arange(4)
    t.insert(t.prepare_insert({"frames": frames[8:20], "obs": obs2, "next_obs": obs2 + 1,
                               "action": np.arange(8, 16)}))
    assert t.frames.written == 20  # not 24
    s = t.sample(64)
    for a, o in zip(s.data["action"], s.data["obs"]):  # item a starts at frame a
        assert np.array_equal(o, frames[a:a + 4])


def test_one_frame_per_transition_in_steady_state():
    rng = np.random.default_rng(2)
    t = frame_table(capacity=2000)
    frames = rng.integers(0, 256, (64, H, W), dtype=np.uint8)
    for _ in range(50):  # 64-item chunks whose first stack repeats the previous chunk's tail
        n = len(frames) - 4
        obs = np.arange(n)[:, None] + np.arange(4)
        t.insert(t.prepare_insert({"frames": frames, "obs": obs, "next_obs": obs + 1,
                                   "action": np.arange(n)}))
        frames = np.concatenate([frames[-4:], rng.integers(0, 256, (64, H, W), dtype=np.uint8)])
    assert t.frames.written / t.limiter.inserts < 1.01


def test_atari_table_memory_extrapolates_under_7_5_gb_per_million():
    """84x84 frames, stack 4, chunks of 64 as the adder sends them: allocated bytes of a full
    table (frame ring headroom, indices, priorities, bookkeeping) scaled to 1M transitions."""
    rng = np.random.default_rng(3)
    n = 20_000
    ff = FrameStackField("obs", (84, 84), 4)
    t = TableShard(TableConfig(name="atari", capacity=n, sampler="prioritized",
                               signature=(ff, Field("action", (), "int64"),
                                          Field("reward", (), "float32"),
                                          Field("discount", (), "float32"))))
    frames = rng.integers(0, 256, (68, 84, 84), dtype=np.uint8)
    while t.limiter.inserts < n:
        k = len(frames) - 4
        obs = np.arange(k)[:, None] + np.arange(4)
        t.insert(t.prepare_insert({"frames": frames, "obs": obs, "next_obs": obs + 1,
                                   "action": np.zeros(k, np.int64),
                                   "reward": np.zeros(k, np.float32),
                                   "discount": np.ones(k, np.float32)}))
        frames = np.concatenate([frames[-5:], rng.integers(0, 256, (64, 84, 84), np.uint8)])
    assert t.size == n  # the frame ring never forced items out early
    per_million = t.nbytes / n * 1e6
    assert per_million <= 7.5e9, f"{per_million / 1e9:.2f} GB per 1M transitions"
    assert per_million >= 7.056e9  # at least one 84x84 frame per transition: measured honestly
