"""keel-server's service cases (keel_testing.server_cases) on SQLite; tests/integration/server runs them on
PostgreSQL."""

from keel_testing.server_cases import *  # noqa: F403 (the cases are collected from here)
