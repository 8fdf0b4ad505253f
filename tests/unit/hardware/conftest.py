"""Fixtures for the hardware tests: the Proxmox compat corpus (shared/ beside the clone, or $KEEL_SHARED_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def compat_dir() -> Path:
    shared = os.environ.get("KEEL_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[3] / ".." / "shared"
    return base / "compat" / "pve-auto-installer"


@pytest.fixture
def pve_compat() -> Path:
    path = compat_dir()
    if not (path / "run-env-info.json").is_file():
        pytest.skip(f"Proxmox compat corpus not found at {path} (set KEEL_SHARED_DIR)")
    return path
