"""The build's prepared grub.cfg files: the stand-in grub-probe's answers, one file per input set, the tree restored."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from installer.bootloader import prepared_cfg
from installer.runner import FakeRunner, Result
from keel_iso import bootmenu, grubcfg

LVMID = f"lvmid/{prepared_cfg.VG_UUID}/{prepared_cfg.LV_UUID}"


def ask(tmp_path: Path, *args: str, fs: str = "ext2") -> subprocess.CompletedProcess:
    script = tmp_path / "grub-probe"
    script.write_text(grubcfg.STAND_IN.replace(f"/{grubcfg.UNKNOWN_LOG}", str(tmp_path / "unknown")))
    script.chmod(0o755)
    return subprocess.run([str(script), *args], capture_output=True, text=True, env={"KEEL_GRUB_FS": fs},
                          check=False)


@pytest.mark.parametrize(("args", "answer"), [
    (["--target=device", "/"], "/dev/mapper/pve-root"),
    (["--target=device", "/boot"], "/dev/mapper/pve-root"),
    (["--device", "/dev/mapper/pve-root", "--target=fs_uuid"], prepared_cfg.FS_UUID),
    (["--device", "/dev/mapper/pve-root", "--target=fs"], "ext2"),
    (["-t", "fs", "/boot/vmlinuz-6.12"], "ext2"),
    (["/boot"], "ext2"),
    (["-t", "abstraction", "/usr/share/grub/unicode.pf2"], "lvm"),
    (["--device", "/dev/mapper/pve-root", "--target=partmap"], "gpt"),
    (["--device", "/dev/mapper/pve-root", "--target=compatibility_hint"], LVMID),
    (["--device", "/dev/mapper/pve-root", "--target=hints_string"], f"--hint='{LVMID}' "),
    (["--device", "/dev/mapper/pve-root", "--target=partuuid"], ""),
])
def test_the_stand_in_answers_as_grub_probe_does_on_an_lvm_install(tmp_path, args, answer):
    result = ask(tmp_path, *args)
    assert (result.returncode, result.stdout) == (0, answer + "\n")


def test_the_stand_in_names_the_file_system_it_is_given(tmp_path):
    assert ask(tmp_path, "--target=fs", "/", fs="xfs").stdout == "xfs\n"


def test_a_question_the_stand_in_does_not_know_fails_and_is_written_down(tmp_path):
    for question in (["--target=cryptodisk_uuid", "/"], ["-t", "drive", "/boot"]):
        assert ask(tmp_path, *question).returncode == 1
    assert (tmp_path / "unknown").read_text() == "--target=cryptodisk_uuid /\n-t drive /boot\n"


def test_the_boot_menu_leads_to_three_keel_cfgs_plain_serial_and_serial_with_tty0():
    cfgs = grubcfg.keel_cfgs(entry.args for entry in bootmenu.IPXE_ENTRIES)
    assert sorted(cfgs) == [
        "# Written by the Keel installer.\n",
        '# Written by the Keel installer.\n'
        'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=tty0 console=ttyS0,115200"\n'
        'GRUB_TERMINAL_INPUT="console serial"\nGRUB_TERMINAL_OUTPUT="gfxterm serial"\n'
        'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\n',
        '# Written by the Keel installer.\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=ttyS0,115200"\n'
        'GRUB_TERMINAL_INPUT="console serial"\nGRUB_TERMINAL_OUTPUT="gfxterm serial"\n'
        'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\n',
    ]


def tree_with_grub(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for rel in ("usr/sbin/grub-probe", "usr/sbin/grub-mkconfig", "etc/default/grub", "boot/vmlinuz-6.12"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(f"{rel}\n")
    (tree / "var/tmp").mkdir(parents=True)
    return tree


def fake_mkconfig(tree: Path, unknown: str = ""):
    """A runner whose grub-mkconfig writes what it was run with: the keel.cfg and the file system."""
    def respond(argv, _):
        if "grub-mkconfig" not in argv:
            return None
        fs = next(a for a in argv if a.startswith("KEEL_GRUB_FS=")).split("=", 1)[1]
        keel_cfg = (tree / grubcfg.KEEL_CFG).read_text()
        (tree / grubcfg.OUTPUT).write_text(f"fs {fs} {prepared_cfg.FS_UUID}\n{keel_cfg}")
        if unknown:
            (tree / grubcfg.UNKNOWN_LOG).write_text(unknown)
        return Result(argv, 0)
    return FakeRunner(responders=[respond])


def test_each_file_system_and_keel_cfg_gets_a_grub_cfg_under_its_digest_and_the_tree_is_left_as_it_was(tmp_path):
    tree = tree_with_grub(tmp_path)
    runner = fake_mkconfig(tree)
    written = grubcfg.prepare(runner, tree, tmp_path / "out", ["keel.mode=tui quiet", "console=ttyS0,115200"])
    assert len(written) == 4 and len({p.name for p in written}) == 4
    assert (tree / "usr/sbin/grub-probe").read_text() == "usr/sbin/grub-probe\n"
    assert not (tree / grubcfg.PROBE_ASIDE).exists() and not (tree / grubcfg.KEEL_CFG).exists()
    assert not (tree / grubcfg.OUTPUT).exists()
    env_argv = runner.commands[0]
    assert env_argv[:2] == ("env", "-i") and "LANG=C.UTF-8" in env_argv
    assert env_argv[-3:] == ("grub-mkconfig", "-o", f"/{grubcfg.OUTPUT}")
    # the installer finds the file for its own inputs: the same keel.cfg in the same tree
    (tree / grubcfg.KEEL_CFG).write_text(grubcfg.keel_cfgs(["console=ttyS0,115200"])[0])
    digest = prepared_cfg.input_digest(tree, fs="xfs", device="/dev/mapper/pve-root", env={"LANG": "C.UTF-8"})
    found = prepared_cfg.prepared_path(tmp_path / "out", digest)
    assert found in written and found.read_text().startswith("fs xfs ")
    assert "console=ttyS0,115200" in found.read_text()


def test_a_question_the_stand_in_could_not_answer_fails_the_build_and_the_tree_is_restored(tmp_path):
    tree = tree_with_grub(tmp_path)
    with pytest.raises(RuntimeError, match="--target=cryptodisk_uuid /"):
        grubcfg.prepare(fake_mkconfig(tree, unknown="--target=cryptodisk_uuid /\n"), tree, tmp_path / "out", [""])
    assert (tree / "usr/sbin/grub-probe").read_text() == "usr/sbin/grub-probe\n"
    assert not (tree / grubcfg.KEEL_CFG).exists() and not (tree / grubcfg.UNKNOWN_LOG).exists()
