"""Command line of keel-firstboot: run (the unit's command), status, retry, plan and provision."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from .console import ConsoleStatus, failed_line
from .hook import now_iso, open_log, run_hook
from .join.client import join_cluster
from .join.server import serve as serve_joins
from .layout import DEFAULT_ORDERING, LOG, ORDERINGS, PENDING, PROVISION_UNIT, SCRIPT, STATUS, Paths
from .provision import model as provision_model
from .provision.execute import TIMING, Executor, Timing, secrets_of
from .provision.feedback import Feedback
from .provision.record import LOCK, RECORD, Record, is_done, provision_state, read_record, write_record
from .provision.steps import Facts, provision_steps
from .report import load as load_report_target
from .runner import Redactor, Runner
from .state import StateError, Summary, arm, summarize

PROG = "keel-firstboot"
EXIT_FAILED = 1
EXIT_USAGE = 2
# seconds a join step may keep failing, instead of Timing's 30 minutes: for tests of a join that fails (a drop-in
# with Environment= for keel-provision.service, or set by hand before 'keel-firstboot provision')
JOIN_DEADLINE_ENV = "KEEL_FIRSTBOOT_JOIN_DEADLINE"

DESCRIPTION = f"""\
Runs the answer's [first-boot] hook once on the installed system. The installer puts the executable at
{SCRIPT}, creates the flag {PENDING} and enables the unit for the answer's ordering:

  before-network  keel-firstboot-network-pre.service      before network-pre.target
  network-online  keel-firstboot-network-online.service   after network-online.target
  fully-up        keel-firstboot-multi-user.service       after multi-user.target (the default)

The unit (also called keel-firstboot.service) starts only while the flag exists. It runs the hook with the
ordering as its argument; the output goes to the journal and to {LOG}, the exit status and the times to
{STATUS}. The flag is removed after the run whatever the exit status: a failed hook leaves the unit
failed for that boot (systemctl --failed) and 'keel-firstboot status' failed, and it does not run again by
itself. Nothing retries it but 'keel-firstboot retry' (on the next boot, or at once with --now). A power cut while
the hook runs leaves the flag, so the next boot runs it again.

'keel-firstboot provision' runs the answer's [provision] steps ({provision_model.PATH}): each is skipped when
already true, a failing one is retried (1 s, doubling to 60 s) until its deadline, then the run stops failed with
the reason; every step's state is in
{RECORD}. After success it never runs again. keel-provision.service runs it once at first boot (the installer
enables it with [provision]); the console shows one line about it above the login prompt, and when the install
came from keel-server (or the answer has a webhook) each step and the end are reported there. A join step
joins through the answer's peer ('keel-firstboot join-service')."""

EXAMPLES = """\
examples:
  keel-firstboot status                 # succeeded / failed (exit 1) / pending / running / none
  keel-firstboot status --json
  journalctl -u keel-firstboot.service  # the output of this boot's run; every run's is in the log file
  keel-firstboot retry                  # run it again on the next boot
  keel-firstboot retry --now            # run it again now (through its unit when systemd runs)
  keel-firstboot plan                   # what [provision] will do
  keel-firstboot provision              # do it now (keel-provision.service does at first boot)

exit status: run and retry --now: the hook's own (0 when nothing was pending), then provision's; status: 1 when
the hook's last run or provisioning failed or was interrupted, else 0; provision: 0 done (or nothing to do), 1
failed (or failed earlier and not re-armed); retry: 0, or 1 when there is neither a hook nor a failed provision to
re-arm; 2 wrong arguments or an unreadable status file."""

Systemctl = Callable[[list[str]], int]


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description=DESCRIPTION, epilog=EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="<command>", parser_class=OneLineParser)
    commands.required = True
    p = commands.add_parser(
        "run", help="run the hook if it is pending (what the unit does)",
        description="Run the hook if the flag exists: output to stdout and the log, the result to status.json, "
                    "then remove the flag. Exits with the hook's exit status.",
        epilog="example:\n  keel-firstboot run fully-up", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ordering", nargs="?", choices=sorted(ORDERINGS), help="passed to the hook as its argument "
                   "(default: the enabled unit's)")
    p = commands.add_parser(
        "status", help="show the hook's last run and each provision step; exit 1 when either failed",
        description="Show the hook's state (none, pending, running, succeeded, failed, interrupted), its exit "
                    "status, when it ran, and where its output is; then, when the answer had [provision], each "
                    "provision step's state, attempts and last error. Exit 1 when the hook's last run or "
                    "provisioning failed (or was interrupted).",
        epilog="example:\n  keel-firstboot status\n  keel-firstboot status --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="the state and the last run as JSON")
    p = commands.add_parser(
        "retry", help="re-arm the hook and a failed provision: they run again (now with --now)",
        description="Create the flag again, so that the enabled unit runs the hook on the next boot. With --now it "
                    "runs at once: through its unit when systemd runs (output in the journal and the log), else "
                    "directly (output here and in the log). A failed or interrupted provision is re-armed too: its "
                    "failed step is pending again and the next 'keel-firstboot provision' runs it (--now: at once, "
                    "after the hook). When only provisioning failed, the hook is left as it is.",
        epilog="example:\n  keel-firstboot retry\n  keel-firstboot retry --now",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--now", action="store_true", help="run it now instead of on the next boot")
    p = commands.add_parser(
        "plan", help="show the steps [provision] takes ('keel-firstboot provision' runs them)",
        description=f"Read {provision_model.PATH} (the answer's [provision], written by the installer) and list "
                    "every step first boot will take for it, in order: commands, files, storage.cfg entries; a "
                    "step already true here is marked done. Secret file contents are not shown. "
                    "'keel-firstboot provision' runs them.",
        epilog="example:\n  keel-firstboot plan\n  keel-firstboot plan --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="the steps as JSON")
    p = commands.add_parser(
        "provision", help="run the [provision] steps not done yet",
        description=f"Run the steps 'keel-firstboot plan' lists, in order. A step already true is skipped, so a "
                    f"run cut short is followed by a clean re-run. A failing step is retried after 1 s, doubling to "
                    f"60 s, until its deadline (30 min for a join, 5 min otherwise); then the run stops, failed, with "
                    f"the reason ({JOIN_DEADLINE_ENV}=SECONDS sets the join's, for tests). Each step's state is in "
                    f"{RECORD}; commands and their output go to {LOG} with the secrets redacted. After success "
                    f"nothing runs again; after a failure, 'keel-firstboot retry'. "
                    f"keel-provision.service runs this at first boot. A join is retried while its peer is not up; "
                    f"a peer without the cluster secret fails it at once.",
        epilog="example:\n  keel-firstboot provision\n  keel-firstboot provision --root /mnt/target   # commands "
               "through chroot", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, help="the system to provision, mounted there (default: /)")
    commands.add_parser(
        "join-service", help="serve cluster joins and membership updates (what keel-join.service runs)",
        description="Serve the cluster's join protocol on TCP port 8106 (TLS, certificate in /etc/keel/join): a "
                    "node that proves the cluster secret is added to the nodelist of every member and receives the "
                    "corosync authkey, corosync.conf and the member list; an update from another member is written "
                    "and corosync reloaded. Members are in /var/lib/keel/cluster/members.json.",
        epilog="example:\n  systemctl enable --now keel-join.service\n  keel-firstboot join-service",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def main(argv: Sequence[str] | None = None, *, root: Path | None = None,
         systemctl: Systemctl | None = None) -> int:
    """`root` and `systemctl` are for tests; KEEL_FIRSTBOOT_ROOT also sets the root."""
    args = build_parser().parse_args(argv)
    paths = Paths(root or Path(os.environ.get("KEEL_FIRSTBOOT_ROOT", "/")))
    if systemctl is None and paths.root == Path("/") and Path("/run/systemd/system").is_dir():
        systemctl = _systemctl
    try:
        if args.command == "run":
            return run_hook(paths, args.ordering or _ordering(paths), sys.stdout.buffer)
        if args.command == "status":
            return status(paths, args.json)
        if args.command == "plan":
            return plan(paths, args.json)
        if args.command == "provision":
            return provision(Paths(args.root) if args.root else paths, timing=provision_timing(os.environ))
        if args.command == "join-service":
            return serve_joins(paths)
        timing = provision_timing(os.environ)
        return retry(paths, args.now, systemctl, lambda p: provision(p, timing=timing))
    except (StateError, provision_model.ProvisionFileError, TimingError) as err:
        print(f"E: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        print(f"E: {err.filename or ''}: {err.strerror}", file=sys.stderr)
        return EXIT_FAILED


class TimingError(ValueError):
    """KEEL_FIRSTBOOT_JOIN_DEADLINE is set to something else than a number of seconds."""


def provision_timing(environ: Mapping[str, str]) -> Timing:
    """TIMING, with the join deadline from KEEL_FIRSTBOOT_JOIN_DEADLINE when it is set."""
    raw = environ.get(JOIN_DEADLINE_ENV, "").strip()
    if not raw:
        return TIMING
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise TimingError(f"{JOIN_DEADLINE_ENV}={raw!r} is not a number of seconds above 0")
    return replace(TIMING, join_deadline=seconds)


def _ordering(paths: Paths) -> str:
    enabled = paths.enabled_ordering()
    return enabled.name if enabled else DEFAULT_ORDERING


def _systemctl(args: list[str]) -> int:
    return subprocess.run(["systemctl", *args], check=False).returncode


def status(paths: Paths, as_json: bool) -> int:
    summary = summarize(paths)
    has_provision = paths.at(provision_model.PATH).exists()
    record = read_record(paths)
    prov = provision_state(paths, has_provision, record)
    target, problem = load_report_target(paths)
    reports = f"{target.shown} ({target.kind})" if target else problem
    if as_json:
        data = {"state": summary.state, "installed": summary.installed, "armed": summary.armed,
                "log": LOG, "last_run": json.loads(summary.run.to_json()) if summary.run else None,
                "provision": {"state": prov, "record": RECORD, "reports": reports,
                              "run": json.loads(record.to_json()) if record else None}}
        print(json.dumps(data, indent=2))
    else:
        print("\n".join(describe(paths, summary) + describe_provision(prov, record, reports)))
    return EXIT_FAILED if summary.failed or prov in ("failed", "interrupted") else 0


def describe(paths: Paths, summary: Summary) -> list[str]:
    run = summary.run
    if summary.state == "none":
        if summary.installed:
            return [f"first-boot hook: has not run and is not armed ({SCRIPT}); 'keel-firstboot retry' arms it"]
        return ["first-boot hook: none (the answer had no [first-boot] section)"]
    ordering = ORDERINGS.get(run.ordering if run else _ordering(paths)) or ORDERINGS[DEFAULT_ORDERING]
    headline = {
        "pending": "pending: it runs on the next boot",
        "running": "running now",
        "succeeded": "succeeded",
        "failed": f"FAILED with exit status {run.exit_code if run else '?'}",
        "interrupted": "INTERRUPTED: the machine went down (or keel-firstboot was killed) while it ran",
    }[summary.state]
    lines = [f"first-boot hook: {headline}",
             f"  ordering:  {ordering.name}, {ordering.when}",
             f"  unit:      {ordering.unit} (journalctl -u {ordering.unit})",
             f"  script:    {SCRIPT}" + ("" if summary.installed else " (missing)")]
    if run is not None:
        last = f"{run.state} (exit status {run.exit_code})" if run.exit_code is not None else run.state
        if summary.state == "interrupted":
            last = "interrupted"
        lines.append(f"  last run:  {last}, run {run.runs}" + (f": {run.reason}" if run.reason else ""))
        lines.append(f"  started:   {run.started}")
        if run.finished:
            lines.append(f"  finished:  {run.finished} ({run.seconds:g} s)")
    lines.append(f"  log:       {LOG}")
    if summary.armed:
        lines.append(f"  next:      armed ({PENDING} exists): runs on the next boot")
    elif summary.failed:
        lines.append("  next:      not re-run by itself; 'keel-firstboot retry' runs it on the next boot, "
                     "'keel-firstboot retry --now' at once")
    return lines


def describe_provision(state: str, record: Record | None, reports: str | None = None) -> list[str]:
    """Nothing when the answer had no [provision]: the hook's lines stay as they were."""
    if state == "none":
        return []
    headline = {
        "pending": "pending: keel-provision.service runs it at the next boot ('keel-firstboot provision' now)",
        "running": "running now",
        "succeeded": "succeeded: it does not run again",
        "failed": f"FAILED: {record.reason if record else '?'}",
        "interrupted": "INTERRUPTED: the machine went down (or keel-firstboot was killed) while it ran; "
                       "'keel-firstboot provision' goes on where it stopped",
    }[state]
    if record is not None and record.state == "pending":
        headline = "pending: re-armed by retry; it runs at the next boot ('keel-firstboot provision' now)"
    lines = [f"provision: {headline}"]
    if record is not None:
        lines.append(f"  run {record.runs}:     started {record.started}"
                     + (f", finished {record.finished}" if record.finished else ""))
        width = len(str(len(record.steps)))
        for step in record.steps:
            tries = f" ({step.attempts} attempt{'s' if step.attempts != 1 else ''})" if step.attempts else ""
            mark = "FAILED" if step.state == "failed" else step.state
            lines.append(f"  {step.id:>{width}}. {mark:<8} {step.subject}: {step.summary}{tries}")
            if step.last_error:
                # a step done after failed attempts keeps the error it got past, said as such
                label = "an earlier attempt failed" if step.state == "done" else "last error"
                lines.append(f"  {'':>{width}}  {label}: {step.last_error}")
    lines.append(f"  record:    {RECORD}")
    lines.append(f"  log:       {LOG} (journalctl -u {PROVISION_UNIT})")
    if reports:
        lines.append(f"  reports:   {reports}")
    if state == "failed":
        lines.append("  next:      not re-run by itself; 'keel-firstboot retry' re-arms it, "
                     "'keel-firstboot retry --now' runs it at once")
    return lines


def plan(paths: Paths, as_json: bool) -> int:
    doc = provision_model.load(paths.at(provision_model.PATH))
    if doc is None:
        print("provision: none (the answer had no [provision] section)")
        return 0
    steps = provision_steps(doc, Facts.of(paths.root))
    if as_json:
        print(json.dumps([{"kind": s.kind, "subject": s.subject, "summary": s.summary, "argv": list(s.argv),
                           "path": s.path, "mode": f"{s.mode:04o}", "devices": list(s.devices), "done": s.done,
                           "checks": [list(c) for c in s.checks],
                           "text": "<secret>" if s.mode & 0o077 == 0 and s.text else s.text}
                          for s in steps], indent=2))
        return 0
    print(f"provision plan for {doc.node.name} ({len(steps)} steps; keel-provision.service runs them at first "
          "boot, 'keel-firstboot provision' by hand)")
    for i, step in enumerate(steps, 1):
        mark = "done" if step.done else "todo"
        print(f"{i:3}. [{mark}] {step.subject}: {step.summary}")
        if step.argv:
            print(f"       $ {' '.join(step.argv)}")
    return 0


def retry(paths: Paths, now: bool, systemctl: Systemctl | None, run_provision: Callable[[Paths], int] | None = None
          ) -> int:
    """Re-arm the hook, and a failed or interrupted provision; when only provisioning failed, only that."""
    record = read_record(paths)
    prov = provision_state(paths, paths.at(provision_model.PATH).exists(), record)
    rearm_provision = record is not None and prov in ("failed", "interrupted")
    rearm_hook = paths.script.is_file() and (not rearm_provision or summarize(paths).failed)
    if not paths.script.is_file() and not rearm_provision:
        print(f"E: no first-boot hook is installed ({SCRIPT} does not exist) and no provisioning failed",
              file=sys.stderr)
        return EXIT_FAILED
    if rearm_provision:
        assert record is not None
        for step in record.steps:
            if step.state == "failed":
                step.state, step.finished = "pending", None
        record.state, record.pid, record.finished = "pending", None, None
        write_record(paths, record)
        print("keel-firstboot: provision re-armed: " + ("running it now after the hook" if now else
              "keel-provision.service runs it at the next boot; 'keel-firstboot retry --now' now"))
    code = _retry_hook(paths, now, systemctl) if rearm_hook else 0
    if now and rearm_provision:
        return code or (run_provision or provision)(paths)
    return code


def _retry_hook(paths: Paths, now: bool, systemctl: Systemctl | None) -> int:
    ordering = ORDERINGS[_ordering(paths)]
    arm(paths)
    if not now:
        print(f"keel-firstboot: re-armed: {ordering.unit} runs {SCRIPT} on the next boot, {ordering.when}. "
              "Run it now instead with 'keel-firstboot retry --now'.")
        return 0
    if systemctl is not None and paths.enabled_ordering() is not None:
        # restart: a unit that stayed active after an earlier run (RemainAfterExit) would ignore a start
        print(f"keel-firstboot: running {ordering.unit} now (output: journalctl -u {ordering.unit}, {LOG})",
              flush=True)
        systemctl(["restart", ordering.unit])
        return status(paths, as_json=False)
    return run_hook(paths, ordering.name, sys.stdout.buffer)


MakeRunner = Callable[[Callable[[str], None], Redactor, Path], Runner]


def provision(paths: Paths, *, make_runner: MakeRunner = Runner, timing: Timing = TIMING,
              clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
              out: TextIO | None = None) -> int:
    """`keel-firstboot provision`; the keywords are for tests (a fake runner, a fake clock)."""
    out = out or sys.stdout
    doc = provision_model.load(paths.at(provision_model.PATH))
    if doc is None:
        print("provision: none (the answer had no [provision] section)", file=out)
        return 0
    if is_done(paths):
        print("provision: succeeded earlier; nothing to do", file=out)
        return 0
    with _locked(paths) as held:
        if not held:
            print("E: provision is running already (another keel-firstboot holds its lock)", file=sys.stderr)
            return EXIT_FAILED
        previous = read_record(paths)
        redact = Redactor(secrets_of(doc))
        if previous is not None and previous.state == "failed":
            print(f"provision: failed earlier ({previous.reason}); 'keel-firstboot retry' re-arms it", file=out)
            runner = make_runner(lambda text: None, redact, paths.root)
            ConsoleStatus(paths, lambda: _reload_agetty(runner)).show(failed_line(previous.reason or "unknown"))
            return EXIT_FAILED
        with open_log(paths) as log:
            def line(text: str) -> None:
                text = redact(text) + "\n"
                out.write(text)
                out.flush()
                log.write(text.encode())

            runner = make_runner(line, redact, paths.root)

            def say(text: str) -> None:
                line(f"keel-firstboot: {text}")

            feedback = Feedback.start(paths, doc.node.fqdn, say, redact, lambda: _reload_agetty(runner),
                                      {"sleep": sleep})
            executor = Executor(paths, runner, say=say, now=now_iso, timing=timing, clock=clock, sleep=sleep,
                                progress=feedback.step,
                                join=lambda: join_cluster(paths, runner, doc))
            record = executor.run(provision_steps(doc, Facts.of(paths.root)), previous)
            feedback.end(record)
    return 0 if record.state == "succeeded" else EXIT_FAILED


def _reload_agetty(runner: Runner) -> None:
    """Every login prompt on screen prints itself again, with the new status line."""
    runner.run(("agetty", "--reload"), timeout=10, check=False)


@contextlib.contextmanager
def _locked(paths: Paths) -> Iterator[bool]:
    paths.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(paths.at(LOCK), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
