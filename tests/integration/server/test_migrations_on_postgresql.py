"""keel-server's Alembic migrations on PostgreSQL: from empty and from the previous migration to head."""

from __future__ import annotations

from keel_testing.server_migrations import check_upgrade_from_previous_keeps_data, check_upgrade_matches_models


def test_an_empty_postgresql_database_upgrades_to_the_models(postgres_server):
    check_upgrade_matches_models(postgres_server.create_database())


def test_a_postgresql_database_at_the_previous_migration_upgrades_and_keeps_its_rows(postgres_server):
    check_upgrade_from_previous_keeps_data(postgres_server.create_database())
