"""finalize_storage for LVM and Btrfs: sync (the VG stays active: no vgchange, issue 13)."""

from __future__ import annotations

import pytest

from installer.storage.apply import finalize_storage
from keel_testing.plans import btrfs_plan, lvm_plan


@pytest.fixture(autouse=True)
def nothing_mounted(monkeypatch):
    import installer.storage.apply.mount as mount

    monkeypatch.setattr(mount, "read_mountinfo", lambda: "")


def test_lvm_only_syncs(harness):
    finalize_storage(harness.context(lvm_plan()))
    assert harness.commands() == [["sync"]]


def test_btrfs_only_syncs(harness):
    finalize_storage(harness.context(btrfs_plan()))
    assert harness.commands() == [["sync"]]
