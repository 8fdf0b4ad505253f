"""Fixtures for the storage planner tests: the Proxmox compat corpus and its 10-disk server as a HardwareProfile."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.core.hardware import HardwareProfile
from keel_testing.builders import compat_dir


@pytest.fixture
def pve_compat() -> Path:
    path = compat_dir()
    if not (path / "run-env-info.json").is_file():
        pytest.skip(f"Proxmox compat corpus not found at {path} (set KEEL_SHARED_DIR)")
    return path


@pytest.fixture
def fixture_server(pve_compat: Path) -> HardwareProfile:
    """The recorded 10-disk server: nvme0n1-3 4Kn 3.2 TB, nvme4n1 500 GB, nvme5n1 375 GB, sda-sdd 240 GB; EFI."""
    from installer.hardware.pve_env import load_pve_env

    return load_pve_env(pve_compat / "run-env-info.json", pve_compat / "run-env-udev.json")
