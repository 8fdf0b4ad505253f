"""A real PostgreSQL for tests: Debian's `postgresql` binaries, a cluster in a temporary directory listening on a
unix socket only, started once per test session (per xdist worker), a fresh database per test.

As root the cluster runs as the `postgres` user (initdb refuses root). The fixture skips, saying why, only when
PostgreSQL is not installed or cannot start.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 30.0


@dataclass
class PostgresServer:
    socket_dir: Path
    port: int
    user: str
    process: subprocess.Popen[bytes]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def start_postgres(root: Path) -> PostgresServer:
    """initdb + postgres in `root`; pytest.skip with the reason when that is impossible here."""
    bindir = _binaries()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; make deps does it)")
    run_as = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the cluster as")
        run_as = account.pw_uid, account.pw_gid
        os.chown(root, *run_as)
    data, sockets = root / "data", root / "sockets"
    for path in (data, sockets):
        path.mkdir()
        if run_as:
            os.chown(path, *run_as)
    user = "keel"
    kwargs = {"user": run_as[0], "group": run_as[1]} if run_as else {}
    init = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "--no-sync",
                           "-E", "UTF8"], capture_output=True, text=True, timeout=120, check=False, **kwargs)
    if init.returncode != 0:
        pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
    port = 20000 + os.getpid() % 20000
    log = open(root / "postgres.log", "wb")   # noqa: SIM115 (the server writes to it until it stops)
    process = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-k", str(sockets), "-p", str(port), "-c", "listen_addresses=",
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        stdout=log, stderr=subprocess.STDOUT, **kwargs)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.skip(f"postgres exited at start: {(root / 'postgres.log').read_text()[-300:]}")
        if (sockets / f".s.PGSQL.{port}").exists():
            ready = subprocess.run([str(bindir / "pg_isready"), "-h", str(sockets), "-p", str(port)],
                                   capture_output=True, check=False)
            if ready.returncode == 0:
                return PostgresServer(sockets, port, user, process)
        time.sleep(0.1)
    process.kill()
    pytest.skip(f"postgres did not accept connections within {START_TIMEOUT:.0f} s")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    root = Path(tempfile.mkdtemp(prefix="keel-pg-"))
    os.chmod(root, 0o755)
    server = start_postgres(root)
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
        shutil.rmtree(root, ignore_errors=True)
