"""Adders on real vector envs, against the service: every item is checked against what the env
produced, computed here by brute force."""

import gymnasium
import numpy as np
import pytest

from relayrl.platform.replay import (
    EpisodeAdder,
    Field,
    FrameStackField,
    MinSize,
    ReplayConfigError,
    ReplayError,
    SequenceAdder,
    SignatureError,
    TableConfig,
    TransitionAdder,
)

GAMMA = 0.9


def run(env, adders, steps, seed=0):
    """Step ``env`` with random actions like the rollout worker does; record every real step.

    Returns per env the list of steps (dicts with sid, obs, action, reward, term, trunc,
    next_obs); the autoreset step after an episode end is masked out.
    """
    n = env.num_envs
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    resetting = np.zeros(n, dtype=bool)
    record = [[] for _ in range(n)]
    sid = 0
    for _ in range(steps):
        action = env.action_space.sample()
        next_obs, reward, term, trunc, _ = env.step(action)
        valid = ~resetting
        sids = np.arange(sid, sid + n)
        sid += n
        for a in adders:
            a.add(obs, action, reward, term, trunc, next_obs, extras={"sid": sids},
                  mask=None if valid.all() else valid)
        for i in np.flatnonzero(valid):
            record[i].append(dict(sid=int(sids[i]), obs=obs[i].copy(), action=action[i],
                                  reward=float(reward[i]), term=bool(term[i]),
                                  trunc=bool(trunc[i]), next_obs=next_obs[i].copy()))
        resetting = (term | trunc) & valid
        obs = next_obs
    for a in adders:
        a.flush()
    return record


def episodes_of(steps):
    eps, cur = [], []
    for s in steps:
        cur.append(s)
        if s["term"] or s["trunc"]:
            eps.append(cur)
            cur = []
    return eps, cur


def everything(client, table):
    """All items of a FIFO table, in insertion order."""
    size = client.info(table)[table]["size"]
    return client.sample(table, size, timeout=5)


def cartpole(num_envs, limit):
    return gymnasium.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync",
                              max_episode_steps=limit)


def fifo_table(name, signature, **kw):
    return TableConfig(name=name, capacity=10_000, signature=signature, sampler="fifo",
                       rate_limiter=MinSize(1), **kw)


VEC = (Field("obs", (4,), "float32"), Field("next_obs", (4,), "float32"),
       Field("action", (), "int64"), Field("reward", (), "float32"),
       Field("discount", (), "float32"), Field("sid", (), "int64"))


@pytest.mark.parametrize("n_step", [1, 3])
def test_transition_adder_n_step_targets_match_brute_force(make_client, n_step):
    client = make_client(fifo_table("t", VEC))
    adder = TransitionAdder(client, "t", 3, n_step=n_step, gamma=GAMMA, chunk_size=16)
    record = run(cartpole(3, 12), [adder], 60)
    expected = {}
    for steps in record:
        finished, tail = episodes_of(steps)
        for ep, done in [(e, True) for e in finished] + [(tail, False)]:
            for t in range(len(ep)):
                k = min(n_step, len(ep) - t)
                if k < n_step and not done:
                    continue  # window still open when the run stopped
                last = ep[t + k - 1]
                expected[ep[t]["sid"]] = (
                    ep[t]["obs"], ep[t]["action"],
                    sum(GAMMA ** j * ep[t + j]["reward"] for j in range(k)),
                    last["next_obs"], 0.0 if last["term"] else GAMMA ** k)
    b = everything(client, "t")
    got = b.data
    assert sorted(got["sid"].tolist()) == sorted(expected)  # no masked step, nothing missing
    for j, sid in enumerate(got["sid"].tolist()):
        obs, action, ret, next_obs, disc = expected[sid]
        assert np.array_equal(got["obs"][j], obs) and got["action"][j] == action
        assert got["reward"][j] == pytest.approx(ret, rel=1e-6)
        assert np.array_equal(got["next_obs"][j], next_obs)
        assert got["discount"][j] == pytest.approx(disc, rel=1e-6)


def test_transition_adder_keeps_float_rewards_after_integer_ones_and_long_chunks(make_client):
    # 100 steps in one chunk outgrow the adder's first 64 buffered rows; the first step's
    # integer rewards must not truncate the float rewards that follow
    client = make_client(fifo_table("t", VEC))
    adder = TransitionAdder(client, "t", 2, n_step=1, gamma=GAMMA, chunk_size=200)
    obs = np.zeros((2, 4), np.float32)
    for t in range(100):
        reward = np.array([1, 2]) if t == 0 else np.array([0.25, 0.5]) * t
        adder.add(obs + t, np.zeros(2, np.int64), reward, np.zeros(2, bool), np.zeros(2, bool),
                  obs + t + 1, extras={"sid": np.array([2 * t, 2 * t + 1])})
    adder.flush()
    got = everything(client, "t").data
    by_sid = dict(zip(got["sid"].tolist(), got["reward"].tolist()))
    assert len(by_sid) == 200
    assert by_sid[0] == 1 and by_sid[1] == 2
    assert by_sid[2 * 3] == pytest.approx(0.75) and by_sid[2 * 99 + 1] == pytest.approx(49.5)


def atari(num_envs, limit):
    import ale_py
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation, TimeLimit

    gymnasium.register_envs(ale_py)
    return gymnasium.make_vec(
        "ALE/Pong-v5", num_envs=num_envs, vectorization_mode="sync", frameskip=1,
        wrappers=[lambda e: AtariPreprocessing(e, frame_skip=4, noop_max=30),
                  lambda e: FrameStackObservation(e, 4), lambda e: TimeLimit(e, limit)])


def test_frame_stacks_round_trip_exactly_and_never_cross_episodes(make_client):
    ff = FrameStackField("obs", (84, 84), 4)
    trans = fifo_table("trans", (ff, Field("action", (), "int64"), Field("reward", (), "float32"),
                                 Field("discount", (), "float32"), Field("sid", (), "int64")))
    eps = TableConfig(name="eps", capacity=100, kind="episode", sampler="fifo",
                      max_episode_length=16, signature=(ff, Field("action", (), "int64"),
                                                        Field("sid", (), "int64")))
    client = make_client(trans, eps)
    ta = TransitionAdder(client, "trans", 2, chunk_size=16, frame_stack=4)
    ea = EpisodeAdder(client, "eps", 2, frame_stack=4)
    record = run(atari(2, 20), [ta, ea], 70)
    by_sid = {s["sid"]: s for steps in record for s in steps}
    b = everything(client, "trans")
    assert len(b) == sum(len(s) for s in record)
    for j, sid in enumerate(b.data["sid"].tolist()):
        assert np.array_equal(b.data["obs"][j], by_sid[sid]["obs"])
        assert np.array_equal(b.data["next_obs"][j], by_sid[sid]["next_obs"])
    info = client.info("trans")["trans"]
    assert info["frames_written"] < 1.15 * len(b)  # about one frame per step, not four
    pieces = client.sample_episodes("eps", client.info("eps")["eps"]["size"], timeout=5)
    assert pieces and all(len(p["sid"]) <= 16 for p in pieces)
    for p in pieces:
        for t, sid in enumerate(p["sid"].tolist()):
            assert np.array_equal(p["obs"][t], by_sid[sid]["obs"])
            assert np.array_equal(p["next_obs"][t], by_sid[sid]["next_obs"])


EP = (Field("obs", (4,), "float32"), Field("next_obs", (4,), "float32"),
      Field("action", (), "int64"), Field("reward", (), "float32"),
      Field("terminated", (), "bool"), Field("truncated", (), "bool"), Field("sid", (), "int64"))


def test_episode_adder_splits_long_episodes_into_truncated_pieces(make_client):
    client = make_client(TableConfig(name="e", capacity=200, kind="episode", sampler="fifo",
                                     max_episode_length=7, signature=EP))
    adder = EpisodeAdder(client, "e", 2)
    record = run(cartpole(2, 17), [adder], 80)
    pieces = client.sample_episodes("e", client.info("e")["e"]["size"], timeout=5)
    by_sid = {s["sid"]: s for steps in record for s in steps}
    for env_steps in record:
        finished, _ = episodes_of(env_steps)
        for ep in finished:
            sids_of_ep = {s["sid"] for s in ep}
            # Chunks in flight may land in either order: put pieces back in step order.
            mine = sorted((p for p in pieces if int(p["sid"][0]) in sids_of_ep),
                          key=lambda p: int(p["sid"][0]))
            sids = np.concatenate([p["sid"] for p in mine]).tolist()
            assert sids == [s["sid"] for s in ep]  # pieces rebuild the episode in order
            for p in mine[:-1]:
                assert len(p["sid"]) == 7 and p["truncated"][-1] and not p["terminated"].any()
            last = by_sid[ep[-1]["sid"]]
            assert mine[-1]["terminated"][-1] == last["term"]
            assert mine[-1]["truncated"][-1] == last["trunc"]
    assert all("key" in p and "probability" in p and "weight" in p for p in pieces)


SEQ = (Field("obs", (4,), "float32"), Field("action", (), "int64"), Field("reward", (), "float32"),
       Field("mask", (), "bool"), Field("sid", (), "int64"))


def test_sequence_adder_overlaps_and_pads_without_crossing_episodes(make_client):
    client = make_client(fifo_table("s", SEQ, kind="sequence", sequence_length=5,
                                    sequence_overlap=2))
    adder = SequenceAdder(client, "s", 2, sequence_length=5, overlap=2, chunk_size=4)
    record = run(cartpole(2, 13), [adder], 60)
    episode_of = {}
    for e, env_steps in enumerate(record):
        finished, tail = episodes_of(env_steps)
        for k, ep in enumerate(finished + [tail]):
            for t, s in enumerate(ep):
                episode_of[s["sid"]] = (e, k, t)
    b = everything(client, "s")
    by_sid = {s["sid"]: s for steps in record for s in steps}
    for j in range(len(b)):
        mask, sids = b.data["mask"][j], b.data["sid"][j]
        real = sids[mask].tolist()
        assert mask[: len(real)].all() and not mask[len(real):].any()  # padding at the end
        places = [episode_of[s] for s in real]
        assert len({p[:2] for p in places}) == 1  # one env, one episode
        assert [p[2] for p in places] == list(range(places[0][2], places[0][2] + len(real)))
        for t, s in enumerate(real):
            assert np.array_equal(b.data["obs"][j][t], by_sid[s]["obs"])
        if len(real) < 5:  # padded: it ends its episode
            assert by_sid[real[-1]]["term"] or by_sid[real[-1]]["trunc"]
        assert np.all(b.data["obs"][j][~mask] == 0)
    # Consecutive full sequences of one episode share 2 steps.
    full = [b.data["sid"][j].tolist() for j in range(len(b)) if b.data["mask"][j].all()]
    starts = {seq[0]: seq for seq in full}
    shared = [seq for seq in full if seq[3] in starts]
    assert shared and all(starts[seq[3]][:2] == seq[3:] for seq in shared)


def test_adders_check_their_table(make_client):
    client = make_client(fifo_table("t", VEC))
    with pytest.raises(ReplayConfigError, match="frame_stack=4.*no FrameStackField"):
        TransitionAdder(client, "t", 2, frame_stack=4)
    with pytest.raises(ReplayConfigError, match="expected 'episode'"):
        EpisodeAdder(client, "t", 2)
    adder = TransitionAdder(client, "t", 2)
    obs = np.zeros((2, 4), np.float32)
    with pytest.raises(SignatureError, match=r"asks for \['sid'\]"):
        adder.add(obs, np.zeros(2, np.int64), np.zeros(2), np.zeros(2, bool),
                  np.zeros(2, bool), obs)
    with pytest.raises(ReplayError, match="leading size num_envs=2"):
        adder.add(obs, np.zeros(3, np.int64), np.zeros(2), np.zeros(2, bool),
                  np.zeros(2, bool), obs, extras={"sid": np.zeros(2, np.int64)})
