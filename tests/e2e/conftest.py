"""Fixtures for the QEMU end-to-end tests: the built ISO, machines that are always stopped, loopback servers.

Every test here is marked `e2e`; the CI subset is marked `smoke` in the test files. QEMU runs under TCG, so
waits are long and explicit; KEEL_E2E_TIMEOUT_FACTOR (default 1) scales them all for a slow or busy host.
Each machine keeps its console log in build/e2e/<test>/<machine>/console.log; a failing test shows its tail.
"""

from __future__ import annotations

import itertools
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keel_harness import (
    BuildOutputs,
    HostServer,
    Machine,
    build_answer_image,
    ensure_built,
    timeouts,
)

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = REPO / "build" / "e2e"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: boots QEMU guests (slow, TCG)")
    config.addinivalue_line("markers", "smoke: the small e2e set CI runs")
    config.addinivalue_line("markers", "test_timeout(seconds): hard ceiling for one e2e test")
    config.addinivalue_line("markers", "installs: installs and reboots (the long e2e tests, spread over workers)")
    config.pluginmanager.register(SpreadInstalls(), "keel-spread-installs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


class SpreadInstalls:
    """Alternates installing tests with short ones.

    pytest-xdist (`make e2e -n 2`) hands each worker two consecutive tests first and the rest as workers free
    up; in file order both installs of the smoke set landed on one worker behind two boots, and that worker ran
    for the sum of three tests while the other idled.
    """

    @pytest.hookimpl(trylast=True)  # after `-m` has deselected: the order is that of the tests that run
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        long = [item for item in items if item.get_closest_marker("installs")]
        short = [item for item in items if not item.get_closest_marker("installs")]
        items[:] = [item for pair in itertools.zip_longest(long, short) for item in pair if item is not None]


class E2eTimeout(Exception):
    """The e2e test ran past its hard ceiling."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    marker = item.get_closest_marker("test_timeout")
    limit = int(timeouts.scaled(marker.args[0])) if marker else int(timeouts.PER_TEST)

    def on_alarm(signum: int, frame: object) -> None:
        raise E2eTimeout(f"{item.nodeid} ran longer than {limit} s (KEEL_E2E_TIMEOUT_FACTOR={timeouts.FACTOR})")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for machine in getattr(item, "keel_machines", []):
            report.sections.append(
                (f"console of {machine.name} ({machine.console_log_path})", machine.console_tail(80))
            )


@pytest.fixture(scope="session")
def keel_build() -> BuildOutputs:
    """The ISO and PXE tree; built with `make iso` when build/keel.iso is missing (a warm build is quick)."""
    return ensure_built(REPO)


@pytest.fixture(scope="session")
def iso(keel_build: BuildOutputs) -> Path:
    return keel_build.iso


def _test_dir(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    path = E2E_DIR / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def machine(request: pytest.FixtureRequest) -> Iterator[Callable[..., Machine]]:
    """Factory: `m = machine("name", firmware=..., boot=...)`; every machine made is stopped at teardown."""
    made: list[Machine] = []
    request.node.keel_machines = made
    base = _test_dir(request)

    def make(name: str = "keel", **kwargs: object) -> Machine:
        state = base / name
        if state.exists():
            for old in state.iterdir():
                if old.is_file() or old.is_socket():
                    old.unlink()
        m = Machine(name, state_dir=state, **kwargs)  # type: ignore[arg-type]
        made.append(m)
        return m

    yield make
    for m in made:
        m.stop()


@pytest.fixture
def http_server() -> Iterator[Callable[..., HostServer]]:
    """Factory: `srv = http_server(root=dir, https=False)`, started now and stopped at teardown."""
    servers: list[HostServer] = []

    def make(root: Path | None = None, https: bool = False) -> HostServer:
        server = HostServer(root=root, https=https).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def answer_source(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """Factory: `answer_source(toml_text)` -> a FAT image labelled PROXMOX-AIS holding /answer.toml."""
    base = _test_dir(request)

    def make(answer: str, name: str = "answer") -> Path:
        return build_answer_image(base / f"{name}.img", answer)

    return make
