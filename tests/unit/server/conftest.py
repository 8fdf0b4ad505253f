"""keel-server on SQLite in the test's tmp dir."""

import pytest

from keel_testing.server_env import make_env


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path / "data", None)
    yield env
    env.client.close()
    env.service.db.close()
