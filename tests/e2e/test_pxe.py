"""PXE: QEMU's TFTP hands iPXE the build's keel.ipxe, the squashfs comes over HTTP from host loopback, and the
live environment reaches the same ready installer as from the ISO."""

import pytest

from keel_harness import BuildOutputs, Disk, GiB, Pxe, timeouts


@pytest.mark.test_timeout(3600)
def test_pxe_boot_fetches_the_squashfs_over_http_and_reaches_the_ready_installer(machine, keel_build: BuildOutputs):
    pxe = keel_build.pxe_dir
    # live-boot copies the squashfs into RAM: the machine needs room for it besides the live system.
    m = machine(
        "pxe-bios",
        firmware="bios",
        memory=3072,
        disks=[Disk(8 * GiB)],
        boot=Pxe(pxe, http_root=pxe, menu_entry="tui-serial"),
        # Under TCG on a busy host udev's coldplug can take minutes, and systemd gives up on /dev/ttyS0 (and the
        # serial installer with it) after its default 90 s device timeout; seen on this host at load 8-10.
        extra_kernel_args=["systemd.default_device_timeout_sec=1800"],
    )
    m.start()
    m.wait_for_console_text(r"KEEL-READY mode=tui", timeout=timeouts.READY)
    assert m.http_server is not None
    assert "/filesystem.squashfs" in m.http_server.requested_paths()
    assert "set keel-base http://10.0.2.2:" in (m.state_dir / "tftp" / "boot.ipxe").read_text()
