"""Where the Proxmox compat corpus is (shared/ beside the clone, or $KEEL_SHARED_DIR) and its recorded server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from installer.core.hardware import HardwareProfile
from installer.hardware.pve_env import load_pve_env

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "answerfile" / "examples"


def compat_dir() -> Path:
    shared = os.environ.get("KEEL_SHARED_DIR")
    base = Path(shared) if shared else REPO / ".." / "shared"
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


def example_server() -> HardwareProfile:
    return HardwareProfile.load(EXAMPLES / "hardware" / "example-server.json")
