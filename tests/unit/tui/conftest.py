"""Fixtures for the wizard tests: a small hand-made machine and the 10-disk Proxmox recording."""

from __future__ import annotations

import pytest
from tui_helpers import shared_dir, small_machine

from installer.core.hardware import HardwareProfile
from installer.tui.checks import answerfile_checks
from installer.tui.model import Wizard


@pytest.fixture
def machine() -> HardwareProfile:
    return small_machine()


@pytest.fixture
def wizard(machine: HardwareProfile) -> Wizard:
    return Wizard(machine, answerfile_checks())


@pytest.fixture(scope="session")
def fixture_server() -> HardwareProfile:
    """The 10-disk, 9-NIC server of the Proxmox compat corpus, as a HardwareProfile."""
    from installer.hardware.pve_env import load_pve_env

    base = shared_dir() / "compat" / "pve-auto-installer"
    if not (base / "run-env-info.json").is_file():
        pytest.skip(f"the compat corpus is not at {base} (set KEEL_SHARED_DIR)")
    return load_pve_env(base / "run-env-info.json", base / "run-env-udev.json")
