"""Fixtures of the replay tests: service clients that are closed after each test."""

import pytest

from relayrl.platform.replay import ReplayClient


@pytest.fixture
def make_client(ray_session):
    """``make_client(*tables, **create_kwargs)`` starts a service; all are closed afterwards."""
    clients = []

    def make(*tables, **kw):
        c = ReplayClient.create(list(tables), num_cpus=0, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
