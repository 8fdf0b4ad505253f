"""The boot tool's QEMU tests: systemd-boot, a Debian kernel and a static busybox, unpacked once per module."""

import pytest


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """systemd-boot, a Debian kernel and a static busybox, unpacked (see keel_testing.boot_guest)."""
    from keel_testing import boot_guest

    return boot_guest.unpacked_parts(tmp_path_factory)
