"""A chroot with /proc, /sys, /dev and the apt archive cache mounted, torn down on every exit path."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from installer.runner import CommandError, Runner

POLICY_RC_D = "#!/bin/sh\n# Keel ISO build: no daemon starts inside the build chroot.\nexit 101\n"


@contextlib.contextmanager
def mounted(runner: Runner, argv: list[str], target: Path) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    runner.run(["mount", *argv, str(target)], timeout=60)
    try:
        yield target
    finally:
        try:
            runner.run(["umount", str(target)], timeout=60)
        except CommandError:
            runner.run(["umount", "-l", str(target)], timeout=60, check=False)


@contextlib.contextmanager
def chroot(runner: Runner, root: Path, apt_archives: Path | None = None) -> Iterator[Path]:
    """Mount what apt and maintainer scripts need under `root`; unmount in reverse order on exit."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(mounted(runner, ["-t", "proc", "proc"], root / "proc"))
        stack.enter_context(mounted(runner, ["-t", "sysfs", "sysfs"], root / "sys"))
        stack.enter_context(mounted(runner, ["--bind", "/dev"], root / "dev"))
        stack.enter_context(mounted(runner, ["--bind", "/dev/pts"], root / "dev/pts"))
        stack.enter_context(mounted(runner, ["-t", "tmpfs", "tmpfs"], root / "run"))
        if apt_archives is not None:
            apt_archives.mkdir(parents=True, exist_ok=True)
            (apt_archives / "partial").mkdir(exist_ok=True)
            stack.enter_context(mounted(runner, ["--bind", str(apt_archives)], root / "var/cache/apt/archives"))
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text(POLICY_RC_D)
        policy.chmod(0o755)
        stack.callback(policy.unlink, missing_ok=True)
        resolv = root / "etc/resolv.conf"
        if resolv.is_symlink() or resolv.exists():
            resolv.unlink()
        shutil.copyfile("/etc/resolv.conf", resolv)
        yield root


def mounts_below(path: Path, mounts_text: str) -> list[Path]:
    """Mount points at or below `path` in /proc/self/mounts text, deepest first (the order to unmount them)."""
    base = str(path.resolve()).rstrip("/")
    found = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        point = fields[1].encode().decode("unicode_escape")
        if point == base or point.startswith(base + "/"):
            found.append(Path(point))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def remove_tree(runner: Runner, path: Path) -> None:
    """rm -rf `path`, first unmounting anything still mounted below it (a killed build can leave /dev bound)."""
    if not path.exists():
        return
    for point in mounts_below(path, Path("/proc/self/mounts").read_text()):
        runner.run(["umount", "-l", str(point)], timeout=60)
    shutil.rmtree(path)
