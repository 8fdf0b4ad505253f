"""`keel-answer`: exit codes, messages and --help of every command."""

from __future__ import annotations

import json

import pytest

from answerfile import cli, demo
from installer.core.hardware import HardwareProfile
from keel_testing.compat import EXAMPLES, require_compat

HARDWARE = str(EXAMPLES / "hardware" / "example-server.json")
MINIMAL = str(EXAMPLES / "minimal-ext4.toml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["validate", "config", "schema", "device-info", "device-match",
                                     "convert-pve-env", "prepare-iso", "inspect-iso", "system-info",
                                     "cluster-secret"])
def test_every_command_explains_itself_with_an_example(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert "Example: keel-answer " + command in out


def test_cluster_secret_prints_a_new_secret_the_answer_accepts(capsys):
    from installer.core import provision

    code, out, _ = run(capsys, "cluster-secret")
    again = run(capsys, "cluster-secret")[1]
    assert code == 0 and out != again
    assert provision.cluster_secret_problem(out.strip()) is None


def test_valid_answer_exits_0(capsys):
    code, out, _ = run(capsys, "validate", MINIMAL, "--hardware", HARDWARE)
    assert code == 0
    assert out.strip() == f"{MINIMAL}: valid (for {HARDWARE})"


def test_invalid_answer_exits_1_listing_every_problem(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((EXAMPLES / "minimal-ext4.toml").read_text()
                   .replace('keyboard = "en-us"', 'keyboard = "us"')
                   .replace('root-password = "change-me-please"', 'root-password = "short"'))
    code, out, _ = run(capsys, "validate", str(bad))
    assert code == 1
    assert out.splitlines()[0] == f"{bad}: 2 problem(s):"
    assert out.splitlines()[1].startswith("  - global.keyboard: keyboard layout 'us' is not valid")
    assert out.splitlines()[2] == "  - global.root-password: must be at least 8 characters long (got 5)"


def _with_key(tmp_path, key: str):
    path = tmp_path / "keys.toml"
    path.write_text((EXAMPLES / "minimal-ext4.toml").read_text().replace(
        'root-password = "change-me-please"', f'root-password = "change-me-please"\nroot-ssh-keys = ["{key}"]'))
    return path


def test_a_key_placeholder_beside_a_password_is_valid_with_a_warning(capsys, tmp_path):
    path = _with_key(tmp_path, "ssh-ed25519 ChangeMe")
    code, out, err = run(capsys, "validate", str(path))
    assert code == 0 and out.startswith(f"{path}: valid")
    assert err.splitlines() == [f"{path}: 1 warning(s):", "  - global.root-ssh-keys[0]: the key data after "
                                "'ssh-ed25519' does not start with its type: a placeholder, or a key cut short? "
                                "(Proxmox does not check this, and root can still log in with the password)"]


def test_strict_validation_refuses_a_key_placeholder(capsys, tmp_path):
    path = _with_key(tmp_path, "ssh-ed25519 ChangeMe")
    code, out, err = run(capsys, "validate", "--strict", str(path))
    assert code == 1
    assert out.splitlines()[:2] == [f"{path}: 1 problem(s):", "  - global.root-ssh-keys[0]: the key data after "
                                    "'ssh-ed25519' does not start with its type: a placeholder, or a key cut "
                                    "short? (Proxmox does not check this, and root can still log in with the password)"]
    assert err == ""


def test_validate_help_explains_strict(capsys):
    _, out, _ = run(capsys, "validate", "--help")
    assert "--strict" in out


def test_missing_file_is_a_one_line_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "validate", str(tmp_path / "nope.toml"))
    assert code == 2
    missing = tmp_path / "nope.toml"
    assert err.strip() == f"keel-answer: {missing}: cannot read the answer file (No such file or directory)"


def test_config_prints_the_install_config_json_without_secrets(capsys):
    code, out, _ = run(capsys, "config", MINIMAL, "--hardware", HARDWARE)
    assert code == 0
    data = json.loads(out)
    assert data["disk_setup"]["disks"] == ["/dev/sda"]
    assert data["root"]["password"] == "<redacted>"
    assert "change-me-please" not in out


def test_config_shows_secrets_only_when_asked(capsys):
    code, out, _ = run(capsys, "config", MINIMAL, "--hardware", HARDWARE, "--show-secrets")
    assert code == 0
    assert json.loads(out)["root"]["password"] == "change-me-please"


def test_config_still_accepts_redacted_from_older_scripts(capsys):
    code, out, _ = run(capsys, "config", MINIMAL, "--hardware", HARDWARE, "--redacted")
    assert code == 0
    assert json.loads(out)["root"]["password"] == "<redacted>"


def test_config_help_names_the_flag_that_shows_secrets(capsys):
    _, out, _ = run(capsys, "config", "--help")
    assert "--show-secrets" in out


def test_schema_prints_json(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0 and json.loads(out)["title"].startswith("Keel")


def test_device_match_prints_matching_disks_and_fails_on_none(capsys):
    assert run(capsys, "device-match", "--hardware", HARDWARE, "disk", "ID_MODEL=ST4000*")[:2] == (
        0, "sdc\nsdd\nsde\nsdf\n")
    code, _, err = run(capsys, "device-match", "--hardware", HARDWARE, "network", "ID_NET_DRIVER=e1000*")
    assert code == 1 and "no network interface matches" in err


def test_device_match_rejects_a_filter_without_equals(capsys):
    code, _, err = run(capsys, "device-match", "--hardware", HARDWARE, "disk", "ID_MODEL")
    assert code == 2
    assert err.strip() == "keel-answer: filter 'ID_MODEL' has no '=': write KEY=GLOB, like ID_SERIAL='*SSD*'"


def test_device_info_of_a_profile_leaves_out_the_install_medium(capsys):
    code, out, _ = run(capsys, "device-info", "--type", "disk", "--hardware", HARDWARE)
    assert code == 0
    assert "sdg" not in json.loads(out)["disks"] and "sda" in json.loads(out)["disks"]


def test_device_info_probes_this_machine(capsys):
    code, out, _ = run(capsys, "device-info")
    assert code == 0 and set(json.loads(out)) == {"disks", "nics"}


def test_convert_pve_env_writes_a_hardware_profile(capsys, tmp_path):
    corpus = require_compat()
    target = tmp_path / "server.json"
    code, _, _ = run(capsys, "convert-pve-env", str(corpus / "run-env-info.json"),
                     str(corpus / "run-env-udev.json"), "-o", str(target))
    assert code == 0
    assert len(HardwareProfile.load(target).disks) == 10


def test_convert_pve_env_reports_a_bad_file_in_one_line(capsys, tmp_path):
    bad = tmp_path / "info.json"
    bad.write_text("{nope")
    code, _, err = run(capsys, "convert-pve-env", str(bad), str(bad))
    assert code == 2 and err.startswith(f"keel-answer: {bad}: not valid JSON (line 1, column 2)")


def test_demo_validates_every_example(capsys):
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    examples = list(EXAMPLES.glob("*.toml"))
    for example in examples:
        assert f"== {example.name}: valid" in out
    assert out.rstrip().endswith(f"{len(examples)} of {len(examples)} answers valid")
    assert "warning:" not in out
