"""The sum tree maps draws to leaves by prefix sums; the min tree finds the lowest leaf."""

import numpy as np

from relayrl.platform.replay.trees import MinTree, SumTree


def test_sum_tree_find_matches_prefix_sums():
    rng = np.random.default_rng(0)
    mass = rng.random(37) * (rng.random(37) > 0.3)  # some empty leaves
    t = SumTree(37)
    t.set(np.arange(37), mass)
    assert np.isclose(t.total, mass.sum())
    u = rng.random(5000) * t.total
    expected = np.searchsorted(np.cumsum(mass), u, side="right")
    assert np.array_equal(t.find(u), expected)
    # Draws at the very top never land on an empty leaf.
    top = t.find(np.array([t.total, np.nextafter(t.total, 0)]))
    assert np.all(mass[top] > 0)


def test_sum_tree_update_equals_rebuild():
    rng = np.random.default_rng(1)
    t = SumTree(100)
    for _ in range(20):
        slots = rng.integers(0, 100, 16)
        t.set(slots, rng.random(16))
    rebuilt = SumTree(100)
    rebuilt.load(t.get(np.arange(100)))
    assert np.array_equal(t.nodes, rebuilt.nodes)


def test_min_tree_argmin():
    t = MinTree(10)
    t.set(np.arange(10), np.array([5, 3, 8, 1, 9, 2, 7, 4, 6, 0.5]))
    assert t.argmin() == 9
    t.set(np.array([9]), np.inf)
    assert t.argmin() == 3
