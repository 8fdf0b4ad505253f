"""keel-server's service cases (keel_testing.server_cases) on PostgreSQL (psycopg 3)."""

from keel_testing.server_cases import *  # noqa: F403 (the cases are collected from here)
