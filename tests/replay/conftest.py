"""Fixtures of the replay tests: a local Ray instance and service clients closed after each test."""

import pytest

from relayrl.platform.replay import ReplayClient


@pytest.fixture(scope="session")
def replay_ray():
    """Like the shared ``ray_session`` (2 CPUs) but always a fresh local instance.

    A bare ``ray.init()`` joins another Ray cluster already running on the machine (it then
    refuses ``num_cpus``); ``address="local"`` starts our own. Reuses Ray if a test started it.
    """
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture
def make_client(replay_ray):
    """``make_client(*tables, **create_kwargs)`` starts a service; all are closed afterwards."""
    clients = []

    def make(*tables, **kw):
        c = ReplayClient.create(list(tables), num_cpus=0, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
