"""What every install phase gets: the config, the storage plan, the hardware, the runner, the event bus."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.config import InstallConfig
from installer.hardware.profile import HardwareProfile
from installer.runner import Result, Runner

from .events import EventBus

if TYPE_CHECKING:
    from installer.storage.plan import StoragePlan

LIVE_INFO_PATH = Path("/etc/keel/live.json")


class LiveInfoError(ValueError):
    """/etc/keel/live.json is missing a key or has a wrong value."""


@dataclass(frozen=True)
class LiveInfo:
    """Where the live medium keeps things (read from /etc/keel/live.json in the live env)."""

    payload: Path                 # payload squashfs
    payload_files: Path | None    # file list for unpack progress
    version: str = ""
    profile: str = ""
    mirror: str = ""
    answer: Path | None = None    # answer file on the medium, when the ISO carries one
    security_mirror: str = ""     # Debian security archive for the installed system's apt sources

    @classmethod
    def from_data(cls, data: dict[str, Any], source: str = str(LIVE_INFO_PATH)) -> LiveInfo:
        if not isinstance(data, dict):
            raise LiveInfoError(f"{source}: expected a JSON object")
        payload = data.get("payload")
        if not isinstance(payload, str) or not payload:
            raise LiveInfoError(f"{source}: key 'payload' must be the path of the payload squashfs")

        def opt_path(key: str) -> Path | None:
            value = data.get(key)
            if value in (None, ""):
                return None
            if not isinstance(value, str):
                raise LiveInfoError(f"{source}: key {key!r} must be a path string")
            return Path(value)

        def text(key: str) -> str:
            value = data.get(key, "")
            if not isinstance(value, str):
                raise LiveInfoError(f"{source}: key {key!r} must be a string")
            return value

        return cls(
            payload=Path(payload),
            payload_files=opt_path("payload_files"),
            version=text("version"),
            profile=text("profile"),
            mirror=text("mirror"),
            answer=opt_path("answer"),
            security_mirror=text("security_mirror"),
        )

    @classmethod
    def load(cls, path: str | Path = LIVE_INFO_PATH) -> LiveInfo:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as err:
            raise LiveInfoError(f"{path}: not found (is this the Keel live environment?)") from err
        except json.JSONDecodeError as err:
            raise LiveInfoError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from err
        return cls.from_data(data, str(path))


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
    dry_run: bool = False
    host_root: Path = Path("/")   # the live system's root (tests point it at a temp dir): /etc/hostid comes from here
    cleanup: ExitStack = field(default_factory=ExitStack)
    report: dict[str, Any] | None = None   # the webhook payload, gathered before the target is unmounted

    def run(self, argv, **kw) -> Result:
        """Run one external command through the runner (logged, redacted, timed out, checked)."""
        return self.runner.run(argv, **kw)

    def chroot_run(self, argv, **kw) -> Result:
        """Run a command inside the target with `chroot`.

        keel.fault names the program that should fail; inside the chroot that program is not argv[0], so the
        fault is handed to this `chroot` call and the runner injects it as usual.
        """
        if self.runner.fault and Path(argv[0]).name == self.runner.fault:
            self.runner.fault = "chroot"
        return self.runner.run(["chroot", str(self.target), *argv], **kw)

    def path(self, inside: str) -> Path:
        """The host path of `inside` (an absolute path on the installed system)."""
        return self.target / inside.lstrip("/")
