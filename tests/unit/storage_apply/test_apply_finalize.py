"""finalize_storage for LVM and Btrfs: deactivate the VG (a warning if that fails), then sync."""

from __future__ import annotations

import pytest

from installer.runner import Result
from installer.storage.apply import finalize_storage
from keel_testing.plans import btrfs_plan, lvm_plan


@pytest.fixture(autouse=True)
def nothing_mounted(monkeypatch):
    import installer.storage.apply.mount as mount

    monkeypatch.setattr(mount, "read_mountinfo", lambda: "")


def test_lvm_deactivates_the_vg_then_syncs(harness):
    finalize_storage(harness.context(lvm_plan()))
    assert harness.commands() == [["vgchange", "-a", "n", "pve"], ["sync"]]


def test_a_vg_that_stays_active_is_a_warning_not_a_failure(harness):
    harness.runner.responders.append(
        lambda argv, _: Result(argv, 5, "", "Logical volume pve/root in use.") if argv[0] == "vgchange" else None)
    finalize_storage(harness.context(lvm_plan()))
    assert harness.commands()[-1] == ["sync"]
    assert harness.warnings() == ["could not deactivate VG pve: vgchange -a n pve: exit status 5"]


def test_btrfs_only_syncs(harness):
    finalize_storage(harness.context(btrfs_plan()))
    assert harness.commands() == [["sync"]]
