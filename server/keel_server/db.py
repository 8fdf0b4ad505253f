"""The database: its URL (SQLite in the data directory by default, PostgreSQL through psycopg 3), the engine with
SQLite in WAL mode, sessions, and the Alembic migrations that the package ships and runs on `init` and `serve`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from keel_server.errors import ServerError

DB_FILE = "keel.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(data: Path | None, db: str | None = None) -> str:
    """`--db` as SQLAlchemy wants it (postgresql:// and postgres:// mean psycopg 3), else the data dir's SQLite."""
    if db:
        for prefix in ("postgresql://", "postgres://"):
            if db.startswith(prefix):
                return "postgresql+psycopg://" + db[len(prefix):]
        if db.startswith(("postgresql+psycopg://", "sqlite://")):
            return db
        raise ServerError(400, f"--db {db.split('://')[0]}://...: only postgresql:// (psycopg 3) and sqlite:// "
                               "databases are supported")
    if data is None:
        raise ServerError(400, "give --data DIR (or --db URL)")
    return f"sqlite:///{data / DB_FILE}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")      # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to `revision` (all shipped migrations by default)."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except SQLAlchemyError as err:
        raise ServerError(500, f"cannot migrate the database: {err.__class__.__name__}: "
                               f"{str(err).splitlines()[0]}") from err


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


class Database:
    """An engine and its session factory; `session()` commits on success and rolls back on any error."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()
