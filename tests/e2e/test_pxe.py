"""PXE: QEMU's TFTP hands iPXE the build's keel.ipxe, the squashfs comes over HTTP from host loopback, and the
live environment reaches the same ready installer as from the ISO."""

import pytest
from keel_harness import BuildOutputs, Disk, GiB, Pxe, prepare_tftp_dir, timeouts


@pytest.mark.test_timeout(3600)
def test_pxe_boot_fetches_the_squashfs_over_http_and_reaches_the_ready_installer(
    machine, http_server, keel_build: BuildOutputs, tmp_path
):
    server = http_server(root=keel_build.pxe_dir)
    tftp = prepare_tftp_dir(keel_build.pxe_dir, tmp_path / "tftp", server.guest_url(), menu_entry="tui-serial")
    # live-boot copies the squashfs into RAM: the machine needs room for it besides the live system.
    m = machine("pxe-bios", firmware="bios", memory=3072, disks=[Disk(8 * GiB)], boot=Pxe(tftp))
    m.start()
    m.wait_for_console_text(r"KEEL-READY mode=tui", timeout=timeouts.READY)
    assert "/filesystem.squashfs" in server.requested_paths()
