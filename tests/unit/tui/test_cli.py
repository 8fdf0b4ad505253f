"""`keel-installer tui` around the screen: bad input in one line, the dry run's output, the saved answer file."""

from __future__ import annotations

import argparse

from tui_helpers import small_machine

from installer.cli import main
from installer.runner import FakeRunner, Result
from installer.tui import cli as tui_cli
from installer.tui.answer import hash_password


def test_a_missing_hardware_file_is_one_line_and_exit_status_1(tmp_path, capsys):
    assert main(["tui", "--hardware", str(tmp_path / "nope.json"), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err == (f"keel-installer tui: --hardware {tmp_path / 'nope.json'}: cannot read the hardware profile "
                   "(No such file or directory)\n")


def test_a_file_that_is_no_profile_names_the_problem(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"disks": 3}')
    assert main(["tui", "--hardware", str(bad), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"keel-installer tui: --hardware {bad}: not a valid hardware profile: ")
    assert err.count("\n") == 1


def test_a_machine_without_disks_is_refused_with_proxmoxs_words(tmp_path, capsys):
    profile = tmp_path / "nodisks.json"
    small_machine(disks=()).save(profile)
    assert main(["tui", "--hardware", str(profile), "--dry-run"]) == 1
    assert "The installer could not find any supported hard disks." in capsys.readouterr().err


def test_the_password_is_hashed_by_openssl_from_stdin_never_argv():
    runner = FakeRunner(responders=[lambda argv, stdin: Result(argv, 0, "$6$salt$hash\n")])
    assert hash_password(runner, "install-test-pw") == "$6$salt$hash"
    [(argv, stdin)] = runner.calls
    assert argv == ("openssl", "passwd", "-6", "-stdin") and stdin == "install-test-pw\n"
    assert runner.redact("pw is install-test-pw") == "pw is <redacted>"


def test_a_dry_run_prints_the_plan_and_where_things_went(tmp_path, capsys):
    from installer.tui.checks import answerfile_checks
    from installer.tui.model import Wizard

    machine = small_machine()
    wizard = Wizard(machine, answerfile_checks())
    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.email = "root@lab.example"
    args = argparse.Namespace(dry_run=True, save_answer=str(tmp_path / "a.toml"), log="/dev/null")
    assert tui_cli.finish("exit", [wizard.config()], machine, args, "c.json") == 0
    out = capsys.readouterr().out
    assert "Storage plan: ext4 on 1 disk" in out
    assert out.endswith(f"configuration written to c.json\nanswer file written to {tmp_path / 'a.toml'}\n")


def test_aborting_says_nothing_was_written_and_exits_2(capsys):
    args = argparse.Namespace(dry_run=True, save_answer=None, log="/dev/null")
    assert tui_cli.finish("aborted", [], small_machine(), args, None) == 2
    assert capsys.readouterr().err == "keel-installer tui: aborted, nothing was written to any disk\n"


def test_an_output_in_a_missing_directory_is_refused_before_the_first_question(tmp_path, capsys):
    profile = tmp_path / "m.json"
    small_machine().save(profile)
    target = tmp_path / "no" / "config.json"
    assert main(["tui", "--hardware", str(profile), "--dry-run", "--output", str(target)]) == 1
    assert capsys.readouterr().err == (f"keel-installer tui: --output {target}: the directory "
                                       f"{tmp_path / 'no'} does not exist\n")
