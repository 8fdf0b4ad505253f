"""keel-server on a real PostgreSQL: a fresh database per test on the session's cluster."""

import pytest

from keel_testing.postgres import postgres_server
from keel_testing.server_env import make_env

__all__ = ["env", "postgres_server"]


@pytest.fixture
def env(tmp_path, postgres_server):
    env = make_env(tmp_path / "data", postgres_server.create_database())
    yield env
    env.client.close()
    env.service.db.close()
