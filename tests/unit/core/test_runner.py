"""The command runner: argument lists only, logged and redacted output, clear failures, fault injection."""

import io
import os
import re
import sys
import threading
import time

import pytest

from installer.runner import CommandError, FakeRunner, Result, Runner


def test_a_shell_string_is_refused():
    with pytest.raises(TypeError, match="argument lists"):
        Runner().run("echo hi")  # type: ignore[arg-type]


def test_output_is_captured_and_logged_with_secrets_redacted():
    log = io.StringIO()
    runner = Runner(log=log, secrets=["hunter22"])
    result = runner.run([sys.executable, "-c", "print('password is hunter22')"])
    assert result.stdout.strip() == "password is hunter22"
    assert "hunter22" not in log.getvalue()
    assert "password is <redacted>" in log.getvalue()


def test_stdin_is_never_logged():
    log = io.StringIO()
    Runner(log=log).run([sys.executable, "-c", "import sys; sys.stdin.read()"], input="root:topsecret\n")
    assert "topsecret" not in log.getvalue()
    assert "with input on stdin" in log.getvalue()


def test_a_failing_command_raises_with_its_output_tail():
    with pytest.raises(CommandError) as err:
        Runner().run([sys.executable, "-c", "import sys; print('disk busy', file=sys.stderr); sys.exit(3)"])
    assert err.value.returncode == 3
    assert "exit status 3" in str(err.value)
    assert "disk busy" in str(err.value)


def test_a_missing_program_is_a_clear_error():
    with pytest.raises(CommandError, match="command not found"):
        Runner().run(["keel-no-such-program"])


def test_a_timeout_is_reported_as_such():
    with pytest.raises(CommandError, match="timed out after 1 s"):
        Runner().run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=1)


def test_fault_injection_fails_the_named_program_once():
    runner = Runner(fault="true")
    with pytest.raises(CommandError, match="fault injected"):
        runner.run(["true"])
    assert runner.run(["true"]).returncode == 0


def test_streamed_output_reaches_the_callback_line_by_line():
    lines: list[str] = []
    Runner().stream([sys.executable, "-c", "print('a'); print('b')"], lines.append)
    assert lines == ["a", "b"]


def test_fake_runner_records_and_answers():
    fake = FakeRunner(responders=[lambda argv, stdin: Result(argv, 0, "pool\n") if argv[0] == "zpool" else None])
    assert fake.run(["zpool", "list"]).stdout == "pool\n"
    assert fake.run(["wipefs", "-a", "/dev/sda"]).returncode == 0
    assert fake.commands == [("zpool", "list"), ("wipefs", "-a", "/dev/sda")]


def test_fake_runner_can_fail_a_program():
    fake = FakeRunner(fail_on="mkfs.ext4")
    with pytest.raises(CommandError):
        fake.run(["mkfs.ext4", "/dev/pve/root"])


def test_a_silent_streamed_command_is_stopped_at_its_timeout():
    start = time.monotonic()
    with pytest.raises(CommandError, match=r"^sleep 4: timed out after 1 s"):
        Runner().stream(["sleep", "4"], lambda line: None, timeout=1)
    assert time.monotonic() - start < 2


def test_a_streamed_timeout_kills_the_whole_process_group():
    # The shell forks sleep, which holds stdout open: killing the shell alone would wait for sleep to end.
    start = time.monotonic()
    with pytest.raises(CommandError, match="timed out after 1 s"):
        Runner().stream(["sh", "-c", "sleep 10; true"], lambda line: None, timeout=1)
    assert time.monotonic() - start < 2


def test_lines_printed_before_a_streamed_timeout_still_reach_the_callback():
    lines: list[str] = []
    with pytest.raises(CommandError, match="timed out"):
        Runner().stream([sys.executable, "-u", "-c", "import time; print('unpacking'); time.sleep(10)"],
                        lines.append, timeout=1)
    assert lines == ["unpacking"]


def test_a_failing_callback_does_not_leave_the_streamed_command_running():
    pids: list[int] = []

    def on_line(line: str) -> None:
        pids.append(int(line))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Runner().stream([sys.executable, "-u", "-c", "import os, time; print(os.getpid()); time.sleep(10)"],
                        on_line, timeout=30)
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_an_exit_line_names_its_command_when_another_one_started_in_between():
    log = io.StringIO()
    runner = Runner(log=log, secrets=["hunter22"])
    slow = threading.Thread(target=runner.run, args=([sys.executable, "-c", "import time; time.sleep(0.5)",
                                                        "hunter22"],))
    slow.start()
    time.sleep(0.2)
    runner.run(["true"])
    slow.join()
    lines = log.getvalue().splitlines()
    assert lines[1] == "$ true"
    assert re.fullmatch(r"  exit 0 \(\d+\.\d s\)", lines[2])        # the newest command: its line follows its `$`
    assert re.fullmatch(r"  exit 0 \(\d+\.\d s\) for \$ .*time.sleep\(0.5\).* <redacted>", lines[3])


def test_a_streamed_command_logs_its_seconds():
    log = io.StringIO()
    Runner(log=log).stream([sys.executable, "-c", "print('x')"], lambda line: None)
    assert re.fullmatch(r"  exit 0 \(\d+\.\d s\)", log.getvalue().splitlines()[-1])
