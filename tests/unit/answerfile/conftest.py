"""Fixtures for the answer-file tests: the Proxmox compat corpus and the recorded 10-disk server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from installer.hardware.profile import HardwareProfile
from installer.hardware.pve_env import load_pve_env


def compat_dir() -> Path:
    """shared/compat/pve-auto-installer beside the clone (CI), or under $KEEL_SHARED_DIR."""
    shared = os.environ.get("KEEL_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[3] / ".." / "shared"
    return base / "compat" / "pve-auto-installer"


def require_compat() -> Path:
    path = compat_dir()
    if not (path / "run-env-info.json").is_file():
        pytest.skip(f"Proxmox compat corpus not found at {path} (set KEEL_SHARED_DIR)")
    return path


def compat_profile(override: Path | None = None) -> HardwareProfile:
    path = require_compat()
    return load_pve_env(path / "run-env-info.json", path / "run-env-udev.json",
                        override if override and override.is_file() else None)


@pytest.fixture(scope="session")
def server() -> HardwareProfile:
    """The recorded Proxmox test server: 10 disks (4 of them 4Kn NVMe), 9 NICs, EFI, 251 GiB RAM."""
    return compat_profile()
