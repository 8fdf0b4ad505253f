"""What an install phase is given: the config, the storage plan, the hardware, the runner, the events.

This is the interface between the engine and the phases (storage apply, the installed system's files, the boot
loader): the engine builds one `InstallContext` and hands it to each phase, so no phase imports the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from installer.core.config import InstallConfig
from installer.core.events import EventBus
from installer.core.hardware import HardwareProfile
from installer.core.live import LiveInfo
from installer.core.reporting import ReportTarget
from installer.runner import Result, Runner
from installer.storage.plan.types import StoragePlan

T = TypeVar("T")


@dataclass
class InstallContext:
    """The inputs are frozen values; `cleanup` collects what must be undone (unmounts) on every way out."""

    config: InstallConfig
    plan: StoragePlan
    hardware: HardwareProfile
    runner: Runner
    events: EventBus
    live: LiveInfo
    target: Path = Path("/target")
    log_path: Path = Path("/var/log/keel/install.log")
    events_path: Path | None = None     # the JSON-lines event stream, copied to the target with the log
    dry_run: bool = False
    host_root: Path = Path("/")   # the live system's root (tests point it at a temp dir): /etc/hostid comes from here
    cleanup: ExitStack = field(default_factory=ExitStack)
    report: dict[str, Any] | None = None   # the webhook payload, gathered before the target is unmounted
    first_boot_script: bytes | None = None  # the [first-boot] executable, obtained before any disk was touched
    report_target: ReportTarget | None = None  # the keel-server that served the answer: first boot reports to it
    # the SSH host keys, made in the live system beside the storage phases: the directory that holds them, or None
    # (no ssh-keygen in the live system: the chroot makes them)
    host_keys: Future[Path | None] | None = None
    concurrent: bool = True       # False: `beside` work runs at once, in order (dry runs and tests that list commands)
    # a library preloaded into every chroot command (libeatmydata: installer/installed_system/nosync.py), or None
    chroot_preload: str | None = None
    _beside: list[tuple[str, Future[Any]]] = field(default_factory=list)
    _wanted: dict[str, list[tuple[str, Future[Any]]]] = field(default_factory=dict)   # wanted_by -> its work
    _pool: ThreadPoolExecutor | None = None

    def beside(self, what: str, work: Callable[[], T], *, wanted_by: str = "") -> Future[T]:
        """Start `work` in another thread, beside the phases that follow: work nothing later needs before the end
        of the install (the thin pool, writing the extracted files back, the root password and the SSH host keys),
        which would otherwise wait for the extraction or the boot loaders. Two such threads at most: a third piece
        of work waits for one of them (first come, first started). It ends before the Finishing phase
        (`wait_beside`), and before any cleanup; a later step that needs its result waits on the future, or, with
        `wanted_by`, on `wait_wanted(wanted_by)`."""
        if not self.concurrent or self.dry_run:
            done: Future[T] = Future()
            done.set_result(work())
            return done
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="install-beside")
        future = self._pool.submit(work)
        self._beside.append((what, future))
        if wanted_by:
            self._wanted.setdefault(wanted_by, []).append((what, future))
        return future

    def wait_wanted(self, wanted_by: str) -> None:
        """Wait for the work started beside for `wanted_by` ("boot": the ESPs' file systems, which the boot
        loaders need); its first failure is raised, with what it was."""
        for what, future in self._wanted.pop(wanted_by, []):
            error = future.exception()
            if error is not None:
                self._raise_beside_failure(what, error)

    def wait_beside(self, *, raise_errors: bool = True) -> None:
        """Wait for everything started with `beside`; the first failure is raised (after all have ended) with
        what it was, unless `raise_errors` is False (the install already failed: the first error stays first)."""
        started, self._beside = self._beside, []
        failures = []
        for what, future in started:
            error = future.exception()
            if error is not None:
                failures.append((what, error))
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if failures and raise_errors:
            self._raise_beside_failure(*failures[0])

    def _raise_beside_failure(self, what: str, error: BaseException) -> None:
        """Say which work beside the phases failed (its error names only the command), then raise its error."""
        self.events.message(f"{what}, which ran beside the other work, failed")
        raise error

    def run(self, argv, **kw) -> Result:
        """Run one external command through the runner (logged, redacted, timed out, checked)."""
        return self.runner.run(argv, **kw)

    def chroot_run(self, argv, **kw) -> Result:
        """Run a command inside the target with `chroot`.

        keel.fault names the program that should fail; inside the chroot that program is not argv[0], so the
        fault is handed to this `chroot` call and the runner injects it as usual. Once the chroot is prepared, the
        command runs with `chroot_preload` preloaded (`env LD_PRELOAD=...` before it).
        """
        if self.runner.fault and Path(argv[0]).name == self.runner.fault:
            self.runner.fault = "chroot"
        preload = ["env", f"LD_PRELOAD={self.chroot_preload}"] if self.chroot_preload else []
        return self.runner.run(["chroot", str(self.target), *preload, *argv], **kw)

    def path(self, inside: str) -> Path:
        """The host path of `inside` (an absolute path on the installed system)."""
        return self.target / inside.lstrip("/")
