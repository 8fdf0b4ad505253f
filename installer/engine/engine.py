"""Running the phases: events for every step, one clear error on failure, cleanup on every path."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from installer.core.config import InstallConfig
from installer.core.events import LOG_PATH_LINE
from installer.engine.phases import Phase
from installer.phase import InstallContext
from installer.runner import CommandError, Runner

OUTPUT_TAIL_LINES = 20


class InstallFailed(Exception):
    """The install stopped: which phase, what failed, and where the whole log is."""

    def __init__(self, phase: str, reason: str, detail: str):
        self.phase = phase
        self.reason = reason
        self.detail = detail
        super().__init__(f"{phase}: {reason}")


def register_secrets(runner: Runner, config: InstallConfig) -> None:
    """Everything that must never reach a log, an event or the console."""
    for secret in (config.root.password, config.root.password_hashed, config.subscription_key,
                   config.webhook.auth_token if config.webhook else None):
        runner.add_secret(secret)


def describe_failure(err: BaseException, log_path: str) -> tuple[str, str]:
    """(one-line reason, detail with the failing command, its output tail and the log path)."""
    if isinstance(err, CommandError):
        reason = f"command failed: {shlex.join(err.argv)}"
        first = str(err).splitlines()[0]
        status = first[len(shlex.join(err.argv)) + 2:] if first.startswith(shlex.join(err.argv)) else first
        lines = [f"command: {shlex.join(err.argv)}", f"result: {status}"]
        tail = err.output.strip().splitlines()[-OUTPUT_TAIL_LINES:]
        if tail:
            lines += ["output (last lines):", *(f"  {line}" for line in tail)]
    else:
        text = str(err) or type(err).__name__
        reason = text.splitlines()[0]
        lines = text.splitlines()[1:]
        extra = getattr(err, "detail", "")
        if isinstance(extra, str) and extra:
            lines.append(extra)
    lines.append(f"{LOG_PATH_LINE}{log_path}")
    return reason, "\n".join(lines)


def run_install(ctx: InstallContext, phases: Sequence[Phase]) -> None:
    """Run `phases` in order. Raises InstallFailed after reporting it; `finished(ok=True)` only on success.

    Work a phase started beside the others (`ctx.beside`) ends before a phase marked `after_beside` and before the
    cleanup. Whatever happens, the cleanup stack (chroot mounts, the target's mounts) is unwound; a cleanup error after
    a failure is reported as a warning so it never hides the first error.
    """
    current = "Starting"
    failure: BaseException | None = None
    try:
        for phase in phases:
            current = phase.name
            if phase.after_beside:
                ctx.wait_beside()
            ctx.events.phase(phase.name, phase.weight)
            phase.run(ctx)
            ctx.events.progress(1.0)
    except BaseException as err:
        failure = err
    try:
        ctx.wait_beside(raise_errors=failure is None)   # nothing may run in the target while it is unmounted
        ctx.cleanup.close()
    except Exception as err:
        if failure is None:
            failure, current = err, "Cleaning up"
        else:
            ctx.events.warning(f"cleaning up after the failure also failed: {str(err).splitlines()[0]}")
    if isinstance(failure, KeyboardInterrupt):
        ctx.events.error(f"Installation interrupted in phase '{current}'", f"{LOG_PATH_LINE}{ctx.log_path}")
        ctx.events.finished(False, "Installation interrupted")
        raise failure
    if failure is not None:
        if not isinstance(failure, Exception):
            raise failure
        reason, detail = describe_failure(failure, str(ctx.log_path))
        ctx.events.error(f"Installation failed in phase '{current}': {reason}", detail)
        ctx.events.finished(False, f"Installation failed - see {ctx.log_path}")
        raise InstallFailed(current, reason, detail) from failure
    if ctx.dry_run:
        ctx.events.finished(True, "Dry run finished: every command was recorded, no disk was touched.")
    else:
        ctx.events.finished(True, "Installation finished")
