"""Fixtures for the answer-file tests: the recorded Proxmox test server and Keel's example server."""

from __future__ import annotations

import pytest

from installer.core.hardware import HardwareProfile
from keel_testing.compat import compat_profile, example_server


@pytest.fixture(scope="session")
def server() -> HardwareProfile:
    """The recorded Proxmox test server: 10 disks (4 of them 4Kn NVMe), 9 NICs, EFI, 251 GiB RAM."""
    return compat_profile()


@pytest.fixture(scope="session")
def example() -> HardwareProfile:
    """Keel's example server: 2 SATA SSDs, 4 hard disks, 1 NVMe, a USB install medium, 4 NICs, EFI."""
    return example_server()
