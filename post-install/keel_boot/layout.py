"""What one ESP should contain for the selected kernels, and what on it is stale: a pure plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .render import (
    ENTRY_PREFIX,
    VENDOR_DIR,
    entry_name,
    render_grub_cfg,
    render_loader_conf,
    render_loader_entry,
    sd_initrd_path,
    sd_kernel_path,
)

SYSTEMD_BOOT = "uefi"  # the words `status` prints, as proxmox-boot-tool does
GRUB = "grub"

LOADER_CONF = "loader/loader.conf"
ENTRIES_DIR = "loader/entries"
GRUB_CFG = "grub/grub.cfg"

# Files whose presence tells which boot loader `init` put onto an ESP (compared case-insensitively: vfat).
_SYSTEMD_BOOT_MARKERS = ("efi/systemd/systemd-bootx64.efi",)
_GRUB_MARKERS = ("grub/i386-pc/core.img", f"{VENDOR_DIR.lower()}/grubx64.efi", f"{VENDOR_DIR.lower()}/shimx64.efi")


@dataclass(frozen=True)
class KernelImage:
    version: str
    vmlinuz: Path
    initrd: Path


@dataclass(frozen=True)
class BootSpec:
    """What every ESP should boot: the kernels (newest first), the default one, the command line, the title."""

    kernels: tuple[KernelImage, ...]
    default: str
    cmdline: str
    title: str

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(k.version for k in self.kernels)


@dataclass(frozen=True)
class SyncPlan:
    modes: tuple[str, ...]
    copies: tuple[tuple[str, Path], ...]  # (path on the ESP, source file)
    writes: tuple[tuple[str, str], ...]  # (path on the ESP, text)
    removals: tuple[str, ...]  # files
    removed_dirs: tuple[str, ...]  # directories that are empty once the files are gone


def detect_modes(files: frozenset[str]) -> tuple[str, ...]:
    """The boot loaders found on an ESP from its file list (paths relative to the ESP root)."""
    lowered = {f.lower() for f in files}
    modes = []
    if any(m in lowered for m in _SYSTEMD_BOOT_MARKERS):
        modes.append(SYSTEMD_BOOT)
    if any(m in lowered for m in _GRUB_MARKERS):
        modes.append(GRUB)
    return tuple(modes)


def synced_versions(files: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """For `status`: per boot loader found, the kernel versions present on the ESP, sorted by name."""
    found: dict[str, tuple[str, ...]] = {}
    modes = detect_modes(files)
    if SYSTEMD_BOOT in modes:
        found[SYSTEMD_BOOT] = tuple(sorted(_sd_versions(files)))
    if GRUB in modes:
        found[GRUB] = tuple(sorted(_grub_versions(files)))
    return found


def _sd_versions(files: frozenset[str]) -> set[str]:
    versions = set()
    for path in files:
        parts = path.split("/")
        if len(parts) == 4 and "/".join(parts[:2]) == VENDOR_DIR and parts[3] == f"vmlinuz-{parts[2]}":
            versions.add(parts[2])
    return versions


def _grub_versions(files: frozenset[str]) -> set[str]:
    return {p.removeprefix("vmlinuz-") for p in files if "/" not in p and p.startswith("vmlinuz-")}


def plan_sync(uuid: str, files: frozenset[str], loader_conf: str | None, spec: BootSpec) -> SyncPlan:
    """Copies, rendered files and removals that make the ESP `uuid` (holding `files`) boot `spec`."""
    modes = detect_modes(files)
    copies: list[tuple[str, Path]] = []
    writes: list[tuple[str, str]] = []
    removals: list[str] = []
    removed_dirs: list[str] = []
    keep = set(spec.versions)

    if SYSTEMD_BOOT in modes:
        for k in spec.kernels:
            copies += [(sd_kernel_path(k.version), k.vmlinuz), (sd_initrd_path(k.version), k.initrd)]
            entry = render_loader_entry(spec.title, k.version, spec.cmdline)
            writes.append((f"{ENTRIES_DIR}/{entry_name(k.version)}", entry))
        writes.append((LOADER_CONF, render_loader_conf(loader_conf, spec.default)))
        for version in sorted(_sd_versions_any(files) - keep):
            version_dir = f"{VENDOR_DIR}/{version}"
            ours = {f"{version_dir}/vmlinuz-{version}", f"{version_dir}/initrd.img-{version}"}
            removals += sorted(ours & files)
            if not any(f.startswith(version_dir + "/") and f not in ours for f in files):
                removed_dirs.append(version_dir)
        for path in sorted(files):
            name = path.removeprefix(ENTRIES_DIR + "/")
            if (
                path.startswith(ENTRIES_DIR + "/")
                and name.startswith(ENTRY_PREFIX)
                and name.endswith(".conf")
                and name.removeprefix(ENTRY_PREFIX).removesuffix(".conf") not in keep
            ):
                removals.append(path)

    if GRUB in modes:
        for k in spec.kernels:
            copies += [(f"vmlinuz-{k.version}", k.vmlinuz), (f"initrd.img-{k.version}", k.initrd)]
        writes.append((GRUB_CFG, render_grub_cfg(uuid, spec.title, spec.versions, spec.default, spec.cmdline)))
        for path in sorted(files):
            if "/" in path:
                continue
            for prefix in ("vmlinuz-", "initrd.img-"):
                if path.startswith(prefix) and path.removeprefix(prefix) not in keep:
                    removals.append(path)

    return SyncPlan(
        modes=modes,
        copies=tuple(copies),
        writes=tuple(writes),
        removals=tuple(removals),
        removed_dirs=tuple(removed_dirs),
    )


def _sd_versions_any(files: frozenset[str]) -> set[str]:
    """Versions with a kernel or an initrd of ours under EFI/keel/<version>/ (half-copied ones too)."""
    versions = set()
    for path in files:
        parts = path.split("/")
        if len(parts) == 4 and "/".join(parts[:2]) == VENDOR_DIR and parts[3] in (
            f"vmlinuz-{parts[2]}",
            f"initrd.img-{parts[2]}",
        ):
            versions.add(parts[2])
    return versions
