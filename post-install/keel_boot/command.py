"""The command runner of the post-install tools: argument lists, timeouts, errors carrying command and output."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""


class CommandError(RuntimeError):
    """A command failed (non-zero exit, timeout or not found), with the command line and its output tail."""

    def __init__(self, argv: Sequence[str], message: str, output: str = "", returncode: int | None = None):
        self.argv = tuple(argv)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-10:])
        super().__init__(f"{shlex.join(argv)}: {message}" + (f"\n{tail}" if tail else ""))


class Runner:
    """Runs external commands; `verbose` echoes each command line to stderr before it runs."""

    def __init__(self, verbose: bool = False, default_timeout: float = DEFAULT_TIMEOUT):
        self.verbose = verbose
        self.default_timeout = default_timeout

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Result:
        argv = [str(a) for a in argv]
        if self.verbose:
            print(f"+ {shlex.join(argv)}", file=sys.stderr)
        try:
            proc = subprocess.run(
                argv,
                input=input,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout if timeout is not None else self.default_timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise CommandError(argv, "command not found") from exc
        except subprocess.TimeoutExpired as exc:
            out = _text(exc.stdout) + _text(exc.stderr)
            raise CommandError(argv, f"timed out after {exc.timeout:.0f}s", out) from exc
        result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise CommandError(argv, f"exit status {proc.returncode}", proc.stdout + proc.stderr, proc.returncode)
        return result


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
