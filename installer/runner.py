"""The one command runner: every external command Keel runs goes through here.

Argument lists only (never a shell string), a timeout on every call, stdout/stderr captured into the
install log, secrets redacted everywhere they could appear, a recording fake for tests and a fault hook
for the failure-path e2e scenario.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

REDACTED = "<redacted>"
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""


class CommandError(RuntimeError):
    """A command failed (non-zero exit, timeout, or not found); carries what a person needs to see."""

    def __init__(self, argv: Sequence[str], message: str, output: str = "", returncode: int | None = None):
        self.argv = tuple(argv)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"{shlex.join(argv)}: {message}" + (f"\n{tail}" if tail else ""))


class Redactor:
    """Replaces registered secret strings in any text."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 3:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


class Runner:
    """Runs commands for real, logging each one (redacted) to `log`."""

    def __init__(
        self,
        log: TextIO | None = None,
        secrets: Iterable[str] = (),
        fault: str | None = None,
        default_timeout: float = DEFAULT_TIMEOUT,
    ):
        self.log = log
        self.redact = Redactor(secrets)
        # Fault injection for the failure-path tests: the first command whose program name equals
        # `fault` (the keel.fault= kernel parameter, read by the engine) fails as if it had exited 1.
        self.fault = fault
        self.default_timeout = default_timeout
        self._lock = threading.Lock()
        self._started = 0       # how many commands have been logged as started (their `$` lines)

    def add_secret(self, secret: str | None) -> None:
        self.redact.add(secret)

    def _log(self, text: str) -> None:
        with self._lock:
            self._write(text)

    def _write(self, text: str) -> None:
        """Write `text` (redacted) to the log; the caller holds the lock."""
        if self.log is None:
            return
        self.log.write(self.redact(text))
        if not text.endswith("\n"):
            self.log.write("\n")
        self.log.flush()

    def _log_start(self, line: str) -> int:
        """Log a command's `$` line; returns its number, which `_log_exit` compares with the newest one. Counting
        and writing under one lock keeps the numbers in the order of the `$` lines in the log."""
        with self._lock:
            self._started += 1
            self._write(line)
            return self._started

    def _log_exit(self, returncode: int, seconds: float, started: int, shown: str) -> None:
        """`  exit N (S s)`, naming the command when another one was started after it (work run beside other work):
        the line then does not follow its own `$` line. Decided and written under the lock, so no `$` line can come
        between the two."""
        line = f"  exit {returncode} ({seconds:.1f} s)"
        with self._lock:
            self._write(line if started == self._started else f"{line} for $ {shown}")

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> Result:
        """Run `argv`, wait for it, and return its output; raise CommandError on failure when `check`."""
        argv = _checked_argv(argv)
        timeout = timeout or self.default_timeout
        shown = shlex.join(argv)
        started = self._log_start(f"$ {shown}" + ("  (with input on stdin)" if input is not None else ""))
        if self.fault and Path(argv[0]).name == self.fault:
            self.fault = None
            self._log("  injected fault: failing this command")
            raise CommandError(argv, "exit status 1 (fault injected by keel.fault)", returncode=1)
        start = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                input=input,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                env=None if env is None else {**os.environ, **env},
                cwd=cwd,
                check=False,
            )
        except FileNotFoundError as err:
            self._log(f"  not found: {argv[0]}")
            raise CommandError(argv, f"command not found ({err.strerror})") from err
        except subprocess.TimeoutExpired as err:
            out = _text(err.stdout) + _text(err.stderr)
            self._log(out)
            raise CommandError(argv, f"timed out after {timeout:.0f} s", self.redact(out)) from err
        result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
        self._log_result(result, time.monotonic() - start, started, shown)
        if check and proc.returncode != 0:
            raise CommandError(
                argv, f"exit status {proc.returncode}", self.redact(proc.stdout + proc.stderr), proc.returncode
            )
        return result

    def stream(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], None],
        *,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        """Run a long command, handing each stdout line to `on_line` as it comes (progress).

        The timeout holds whether or not the command prints: a watchdog kills the command's whole process
        group when it runs out (a stalled unsquashfs or zpool, and any child holding its output open), and
        so does any exception while streaming, Ctrl-C included.
        """
        argv = _checked_argv(argv)
        timeout = timeout or self.default_timeout
        shown = shlex.join(argv)
        started = self._log_start(f"$ {shown}  (streamed)")
        if self.fault and Path(argv[0]).name == self.fault:
            self.fault = None
            raise CommandError(argv, "exit status 1 (fault injected by keel.fault)", returncode=1)
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                env=None if env is None else {**os.environ, **env},
                start_new_session=True,     # its own process group, so a kill reaches its children too
            )
        except FileNotFoundError as err:
            raise CommandError(argv, f"command not found ({err.strerror})") from err
        stderr_chunks: list[str] = []
        assert proc.stdout is not None and proc.stderr is not None
        stderr = proc.stderr
        reader = threading.Thread(target=lambda: stderr_chunks.append(stderr.read()), daemon=True)
        reader.start()
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            _kill_group(proc)

        start = time.monotonic()
        deadline = start + timeout
        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            for line in proc.stdout:
                on_line(line.rstrip("\n"))
            proc.wait()
        finally:
            watchdog.cancel()
            if proc.returncode is None:
                _kill_group(proc)
                proc.wait()
        # A child that outlived the command may still hold stderr open: wait for it no longer than the timeout.
        reader.join(max(0.0, deadline - time.monotonic()))
        stderr_text = "".join(stderr_chunks)
        self._log(stderr_text)
        if timed_out.is_set():
            self._log(f"  timed out after {timeout:.0f} s: killed")
            raise CommandError(argv, f"timed out after {timeout:.0f} s (killed with its process group)",
                               self.redact(stderr_text))
        result = Result(tuple(argv), proc.returncode, "", stderr_text)
        self._log_exit(proc.returncode, time.monotonic() - start, started, shown)
        if proc.returncode != 0:
            raise CommandError(argv, f"exit status {proc.returncode}", self.redact(stderr_text), proc.returncode)
        return result

    def _log_result(self, result: Result, seconds: float, started: int, shown: str) -> None:
        for stream in (result.stdout, result.stderr):
            if stream.strip():
                self._log("".join(f"  | {line}\n" for line in stream.rstrip("\n").splitlines()))
        self._log_exit(result.returncode, seconds, started, shown)


Responder = Callable[[tuple[str, ...], str | None], Result | None]


@dataclass
class FakeRunner(Runner):
    """Records commands instead of running them; `responders` may return canned results.

    A responder gets (argv, stdin) and returns a Result, or None to fall through to the next one;
    when none answers, the command "succeeds" with empty output.
    """

    responders: list[Responder] = field(default_factory=list)
    calls: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)
    fail_on: str | None = None

    def __post_init__(self) -> None:
        Runner.__init__(self, log=None, fault=self.fail_on or "")

    def run(self, argv, *, input=None, timeout=None, check=True, env=None, cwd=None) -> Result:  # type: ignore[override]
        argv = tuple(_checked_argv(argv))
        self.calls.append((argv, input))
        if self.fault and Path(argv[0]).name == self.fault:
            self.fault = None
            raise CommandError(argv, "exit status 1 (fault injected by keel.fault)", returncode=1)
        for responder in self.responders:
            result = responder(argv, input)
            if result is not None:
                if check and result.returncode != 0:
                    raise CommandError(argv, f"exit status {result.returncode}", result.stderr, result.returncode)
                return result
        return Result(argv, 0)

    def stream(self, argv, on_line, *, timeout=None, env=None) -> Result:  # type: ignore[override]
        result = self.run(argv)
        for line in result.stdout.splitlines():
            on_line(line)
        return result

    @property
    def commands(self) -> list[tuple[str, ...]]:
        return [argv for argv, _ in self.calls]


def _checked_argv(argv: Sequence[str]) -> list[str]:
    if isinstance(argv, str):
        raise TypeError("commands are argument lists, never shell strings")
    out = [str(a) for a in argv]
    if not out:
        raise ValueError("empty command")
    return out


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the process group `proc` leads (it was started in a session of its own); gone already is fine."""
    if proc.returncode is not None:     # reaped: its pid, and so its group id, may belong to someone else now
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
