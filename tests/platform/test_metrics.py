"""Metric helpers: replay flattening, Atari human-normalized scores, GIF videos, reward clip."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relayrl.platform.experiment import atari_hns
from relayrl.platform.metrics import EpisodeStats, encode_gif, progress_line, replay_metrics


def test_replay_metrics_flatten_per_table_and_total():
    info = {
        "a": {"size": 10, "inserts_per_s": 5.0, "num_inserts": 100, "num_samples": 50},
        "b": {"size": 2, "inserts_per_s": 1.0, "num_inserts": 100, "num_samples": 150},
    }
    m = replay_metrics(info)
    assert m["replay/a/size"] == 10 and m["replay/b/size"] == 2
    assert m["replay/size"] == 12 and m["replay/inserts_per_s"] == 6.0
    assert m["replay/samples_per_insert"] == pytest.approx(1.0)


def test_episode_stats_window():
    s = EpisodeStats(window=2)
    assert math.isnan(s.summary()["episode_return_mean"])
    s.extend([1.0, 2.0, 3.0], [10, 20, 30])
    out = s.summary()
    assert out["episode_return_mean"] == 2.5 and out["episode_len_mean"] == 25
    assert out["episodes_total"] == 3


def test_atari_human_normalized_score():
    # Pong: random -20.7, human 14.6 (DQN Nature table)
    assert atari_hns("ALE/Pong-v5", {}, 14.6) == pytest.approx(1.0)
    assert atari_hns("ALE/Pong-v5", {}, -20.7) == pytest.approx(0.0)
    assert atari_hns("relayrl/Atari-v0", {"game": "pong"}, 14.6) == pytest.approx(1.0)
    assert atari_hns("ALE/Pong-v5", {"reward_clipping": True}, 3.0) is None
    assert atari_hns("CartPole-v1", {}, 100.0) is None
    assert atari_hns("ALE/Pong-v5", {}, math.nan) is None


def test_gif_and_progress_line():
    frames = np.random.default_rng(0).integers(0, 255, (5, 16, 24, 3), dtype=np.uint8)
    gif = encode_gif(frames)
    assert gif[:6] == b"GIF89a"
    line = progress_line({"iteration": 3, "env_steps": 1200, "episode_return_mean": 12.5})
    assert "iter    3" in line and "1,200" in line and "12.50" in line


def test_transition_adder_clips_each_reward_before_the_n_step_sum(ray_session):
    from relayrl.platform.replay import Field, ReplayClient, TableConfig, TransitionAdder

    sig = (Field("obs", (1,), "float32"), Field("next_obs", (1,), "float32"),
           Field("action", (), "int64"), Field("reward", (), "float32"),
           Field("discount", (), "float32"))
    client = ReplayClient.create([TableConfig(name="t", capacity=100, kind="transition",
                                              signature=sig)])
    try:
        adder = TransitionAdder(client, "t", 1, n_step=2, gamma=0.5, reward_clip=1.0)
        z = np.zeros((1, 1), np.float32)
        adder.add(z, np.array([0]), np.array([5.0]), np.array([False]), np.array([False]), z)
        adder.add(z, np.array([1]), np.array([-3.0]), np.array([True]), np.array([False]), z)
        adder.flush()
        batch = client.sample("t", 64)  # uniform with replacement: both items show up
    finally:
        client.close()
    # windows: (r0, r1) -> 1 + 0.5 * -1 = 0.5 ; (r1) -> -1
    assert sorted(set(batch.data["reward"].tolist())) == [-1.0, 0.5]
