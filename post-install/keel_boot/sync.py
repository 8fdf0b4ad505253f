"""Applies a sync plan to one ESP: new kernels first, then entries and config, stale kernels last."""

from __future__ import annotations

from dataclasses import dataclass

from .layout import LOADER_CONF, BootSpec, SyncPlan, plan_sync
from .tree import EspTree


@dataclass(frozen=True)
class SyncReport:
    modes: tuple[str, ...]
    copied: tuple[str, ...]
    unchanged: tuple[str, ...]
    written: tuple[str, ...]
    removed: tuple[str, ...]


def sync_esp(tree: EspTree, uuid: str, spec: BootSpec) -> SyncReport:
    """Makes the ESP in `tree` boot `spec`; the order keeps it bootable if the sync stops half way."""
    files = tree.files()
    plan = plan_sync(uuid, files, tree.read_text(LOADER_CONF) if LOADER_CONF in files else None, spec)
    return apply_plan(tree, plan)


def apply_plan(tree: EspTree, plan: SyncPlan) -> SyncReport:
    copied, unchanged, written = [], [], []
    for path, source in plan.copies:
        if tree.matches(path, source):
            unchanged.append(path)
        else:
            tree.copy_in(path, source)
            copied.append(path)
    for path, text in plan.writes:
        if tree.read_text(path) != text:
            tree.write_text(path, text)
            written.append(path)
    for path in plan.removals:
        tree.remove(path)
    for path in plan.removed_dirs:
        tree.remove_dir(path)
    return SyncReport(
        modes=plan.modes,
        copied=tuple(copied),
        unchanged=tuple(unchanged),
        written=tuple(written),
        removed=plan.removals,
    )
