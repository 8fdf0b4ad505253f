"""keel-firstboot's one door to external commands: argument lists, a timeout on every call, the command and its
output into the first-boot log, and the provision secrets redacted wherever they could appear.

It is separate from the installer's runner (installer/runner.py) only because it ships in keel-post-install and
runs with Debian's python3 and the standard library alone; keep the two alike rather than let them drift.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REDACTED = "<redacted>"
TIMEOUT = 600.0             # mkfs, zpool create and iscsiadm logins are slow on big or remote disks
CHECK_TIMEOUT = 60.0
TAIL_LINES = 10


class Redactor:
    """Replaces the registered secrets in any text."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        self._secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    code: int               # the exit status; 124 when the timeout ended it, 127 when it is not there
    output: str             # stdout and stderr, as they came, redacted


class CommandFailed(Exception):
    """A command exited non-zero (or timed out, or is missing); the message is one redacted line plus a tail."""

    def __init__(self, result: Result, why: str):
        self.result = result
        tail = result.output.strip().splitlines()[-TAIL_LINES:]
        super().__init__(f"{shlex.join(result.argv)}: {why}" + (": " + " / ".join(tail) if tail else ""))


class Runner:
    """Runs commands on the system at `root`: "/" directly, another root through chroot (a mounted system)."""

    def __init__(self, log: Callable[[str], None], redact: Redactor, root: Path = Path("/")):
        self.log = log
        self.redact = redact
        self.root = root

    def run(self, argv: Sequence[str], *, timeout: float = TIMEOUT, check: bool = True) -> Result:
        argv = tuple(argv)
        shown = self.redact(shlex.join(argv))
        self.log(f"$ {shown}")
        code, raw, why = self.execute(argv if self.root == Path("/") else ("chroot", str(self.root), *argv), timeout)
        result = Result(argv, code, self.redact(raw.decode(errors="replace")))
        for line in result.output.splitlines():
            self.log(f"  {line}")
        if code != 0:
            self.log(f"  ({why})")
        if check and code != 0:
            raise CommandFailed(Result(tuple(self.redact(a) for a in argv), code, result.output), why)
        return result

    def execute(self, argv: tuple[str, ...], timeout: float) -> tuple[int, bytes, str]:
        """(exit status, output, why it failed); the one place a process starts (tests replace it)."""
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as err:
            return 124, err.output or b"", f"timed out after {timeout:g} s"
        except OSError as err:
            return 127, b"", f"cannot run it: {err.strerror}"
        return proc.returncode, proc.stdout, f"exit status {proc.returncode}"
