"""Checks of keel-server's migrations, run on SQLite (unit) and PostgreSQL (integration)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from keel_server.db import current_revision, head_revision, make_engine, migrate
from keel_server.models import Base


def check_upgrade_matches_models(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def check_upgrade_from_previous_keeps_data(url: str) -> None:
    engine = make_engine(url)
    migrate(engine, "0001")
    assert "audit" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO pools (name, cidr, gateway, dns, first, last) "
                          "VALUES ('p', '10.0.0.0/24', '10.0.0.1', '10.0.0.2', '10.0.0.10', '10.0.0.20')"))
    migrate(engine)
    assert current_revision(engine) == "0002"
    assert "audit" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, first FROM pools")).all() == [("p", "10.0.0.10")]
    engine.dispose()
