"""The boot menus carry the contract's entries, hotkeys and kernel parameters (BIOS/UEFI, VGA and serial)."""

import re

import pytest

from keel_iso.bootmenu import render_grub_cfg, render_grub_netboot, render_ipxe

CFG = render_grub_cfg("0.1.0", "minimal")


def entry(cfg: str, hotkey: str) -> str:
    """The text of the menuentry with that hotkey (up to its closing brace)."""
    match = re.search(rf"menuentry '[^']*' --hotkey={hotkey} .*?\n\s*}}\n", cfg, re.S)
    assert match, f"no entry with hotkey {hotkey}"
    return match.group(0)


@pytest.mark.parametrize(("hotkey", "title", "params"), [
    ("t", "Install (Terminal UI)", "keel.mode=tui"),
    ("s", "Install (Terminal UI, serial console)", "keel.mode=tui console=ttyS0,115200"),
    ("a", "Install (automated)", "keel.mode=auto console=tty0 console=ttyS0,115200"),
    ("d", "Debug mode, serial console", "keel.mode=debug console=ttyS0,115200"),
    ("v", "Debug mode (VGA console)", "keel.mode=debug"),
])
def test_each_install_entry_has_its_hotkey_title_and_parameters(hotkey, title, params):
    text = entry(CFG, hotkey)
    assert f"menuentry '{title}'" in text
    assert f"linux /live/vmlinuz boot=live {params}" in text
    assert "initrd /live/initrd.img" in text


def test_the_menu_is_on_vga_and_the_first_serial_port_at_115200():
    assert "if serial --unit=0 --speed=115200; then\n\tterminal_input console serial\n" in CFG
    assert "\tterminal_output console serial\n" in CFG


def test_an_answer_on_the_medium_makes_automated_first_and_default_with_10_seconds():
    assert ("if [ -f /keel/answer.toml -o -f /auto-installer-mode.toml -o -f /keel/auto-installer-mode.toml ]; "
            "then") in CFG
    head = CFG.split("menuentry", 1)[0]
    assert "\tset default=keel-auto\n\tset timeout=10\n" in head
    assert "\tset default=keel-tui\n\tset timeout=30\n" in head
    first_entry_line = CFG[CFG.index("menuentry"):].split("\n", 1)[0]
    assert "--hotkey=a" in first_entry_line


def test_without_an_answer_the_automated_entry_comes_after_the_tui_ones():
    assert CFG.count("--hotkey=a") == 2
    second_auto = CFG.index("--hotkey=a", CFG.index("--hotkey=a") + 1)
    assert CFG.index("--hotkey=s") < second_auto < CFG.index("--hotkey=d")


def test_rescue_probes_lvm_then_zfs_then_any_root_with_a_kernel():
    text = entry(CFG, "r")
    assert text.index("(lvm/pve-root)/vmlinuz") < text.index("--label rpool") < text.index("--file --set=keel_dev")
    assert "root=/dev/mapper/pve-root" in text
    assert "root=ZFS=rpool/ROOT/pve-1 boot=zfs" in text
    assert "root=UUID=$keel_uuid" in text


def test_debug_on_vga_lives_in_the_advanced_submenu():
    advanced = CFG[CFG.index("submenu 'Advanced options'"):]
    assert "--hotkey=v" in advanced


def test_grub_script_uses_no_shell_only_operators():
    assert "&&" not in CFG and "||" not in CFG


IPXE = render_ipxe("0.1.0")


def test_ipxe_loads_kernel_and_initrd_relative_to_its_own_url():
    assert "\nkernel vmlinuz initrd=initrd.img boot=live fetch=${keel-base}/filesystem.squashfs" in IPXE
    assert "\ninitrd initrd.img\n" in IPXE


def test_ipxe_keel_base_defaults_to_the_next_server():
    assert IPXE.startswith("#!ipxe\n")
    assert "isset ${keel-base} || set keel-base http://${next-server}" in IPXE


def test_ipxe_caller_can_pick_the_mode_and_add_parameters():
    assert "isset ${keel-mode} && goto ${keel-mode} ||" in IPXE
    assert ":tui-serial\nset keel-kargs keel.mode=tui console=ttyS0,115200\ngoto load" in IPXE
    assert "${keel-kargs} ${keel-args}" in IPXE


def test_grub_netboot_fetches_the_squashfs_over_http():
    cfg = render_grub_netboot("0.1.0")
    assert 'set keel_base="http://$net_default_server"' in cfg
    assert "linux /vmlinuz boot=live fetch=$keel_base/filesystem.squashfs keel.mode=tui console=ttyS0,115200" in cfg


def test_ipxe_for_a_prepared_iso_fetches_the_whole_iso_and_boots_automated_after_10_seconds():
    from keel_iso.bootmenu import AUTO

    ipxe = render_ipxe("0.1.0", fetch="keel-auto.iso", default=AUTO, timeout=10)
    assert "boot=live fetch=${keel-base}/keel-auto.iso ${keel-kargs}" in ipxe
    assert "choose --default auto --timeout 10000 target && goto ${target} || goto auto" in ipxe


def test_ipxe_keeps_the_tui_on_serial_as_default_for_the_pxe_tree():
    assert "choose --default tui-serial --timeout 5000 target" in IPXE
