"""keel-server's Alembic migrations: an empty database and one at the previous migration reach head, and the
migrations build exactly the models' tables (SQLite here; tests/integration/server checks PostgreSQL)."""

from __future__ import annotations

from keel_testing.server_migrations import check_upgrade_from_previous_keeps_data, check_upgrade_matches_models


def test_an_empty_sqlite_database_upgrades_to_the_models(tmp_path):
    check_upgrade_matches_models(f"sqlite:///{tmp_path / 'keel.db'}")


def test_a_sqlite_database_at_the_previous_migration_upgrades_and_keeps_its_rows(tmp_path):
    check_upgrade_from_previous_keeps_data(f"sqlite:///{tmp_path / 'keel.db'}")
