"""Shared fixtures: one real local Ray instance per test session (2 CPUs, as on CI)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("MUJOCO_GL", "egl")


@pytest.fixture(scope="session")
def ray_session():
    """A real local Ray instance shared by every test that asks for it."""
    import ray

    if not ray.is_initialized():
        # address="local": always a fresh instance, never a cluster left by `ray start`.
        # Starting Ray can time out on an overloaded machine; one failure would error every
        # test that shares this fixture, so try again before giving up.
        for attempt in range(3):
            try:
                ray.init(address="local", num_cpus=2, include_dashboard=False,
                         log_to_driver=False)
                break
            except Exception:
                ray.shutdown()
                if attempt == 2:
                    raise
    yield ray
    ray.shutdown()
