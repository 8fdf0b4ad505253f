"""Golden outputs for the files keel-boot-tool writes onto an ESP."""

from pathlib import Path

import pytest

from keel_boot.render import entry_name, render_grub_cfg, render_loader_conf, render_loader_entry

GOLDEN = Path(__file__).parent / "golden"
TRIXIE = "Debian GNU/Linux 13 (trixie)"
K41 = "6.12.41+deb13-amd64"
K43 = "6.12.43+deb13-amd64"


def golden(name: str) -> str:
    return (GOLDEN / name).read_text()


def test_loader_entry_names_kernel_initrd_and_cmdline():
    text = render_loader_entry(TRIXIE, K43, "root=ZFS=rpool/ROOT/pve-1 boot=zfs console=ttyS0,115200")
    assert text == golden("loader-entry.conf")


def test_entry_file_name_is_what_loader_conf_default_names():
    assert entry_name(K43) == "keel-6.12.43+deb13-amd64.conf"


@pytest.mark.parametrize(
    ("existing", "default", "expected"),
    [
        (None, K43, "loader-new.conf"),
        ("loader-bootctl.input", K43, "loader-bootctl.conf"),
        ("loader-edited.input", K41, "loader-edited.conf"),
    ],
    ids=[
        "a new loader.conf gets timeout 3 and the default entry",
        "bootctl's commented defaults stay and real settings are added",
        "a person's timeout and console-mode stay, only default changes",
    ],
)
def test_loader_conf(existing, default, expected):
    assert render_loader_conf(golden(existing) if existing else None, default) == golden(expected)


def test_grub_cfg_with_serial_console_lists_kernels_newest_first_and_pins_the_default():
    text = render_grub_cfg("1A2B-3C4D", TRIXIE, (K43, K41), K41,
                           "root=ZFS=rpool/ROOT/pve-1 boot=zfs console=ttyS0,115200 quiet")
    assert text == golden("grub-serial.cfg")


def test_grub_cfg_without_serial_console_quotes_words_grub_would_expand():
    text = render_grub_cfg("5E6F-7A8B", "Linux", ("6.1.0-37-amd64",), "6.1.0-37-amd64",
                           "root=UUID=0f3c2d1e-aaaa-4bbb-8ccc-123456789abc ro init=/sbin/init$x")
    assert text == golden("grub-plain.cfg")
