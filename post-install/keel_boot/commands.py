"""The keel-boot-tool commands: each reads the boot configuration, decides (pure code), then acts via System."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from . import state
from .command import CommandError
from .layout import BootSpec, KernelImage, synced_versions
from .lock import LockError, exclusive_lock
from .partition import BlockInfo, DeviceError, format_refusal, init_refusal
from .render import VENDOR_DIR, render_grub_pin_cfg
from .selection import KernelSelection, select_kernels
from .state import StateError, SystemPaths
from .sync import SyncReport, sync_esp
from .system import GRUB_BIOS, System, choose_bootloader
from .tree import EspTree

# Exit codes besides 0; cli.EXIT_CODES says what each means in --help and the README.
EXIT_FAILED = 1
EXIT_NO_ESP_LIST = 2  # `status` without /etc/kernel/proxmox-boot-uuids (argparse also uses 2 for wrong arguments)
EXIT_BAD_STATE = 3
EXIT_NO_ESP = 4
EXIT_INTERRUPTED = 130


class ToolError(RuntimeError):
    """A command cannot do what was asked; the message is the one line the user sees."""


class NoEspConfigured(ToolError):
    """The ESP list exists but lists no ESP: a sync would do nothing, which is never what the caller wants."""

    def __init__(self, uuids_file: Path):
        super().__init__(f"{uuids_file} lists no ESP: no ESP is configured (see 'keel-boot-tool init')")


@dataclass
class BootTool:
    paths: SystemPaths
    system: System
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    # -- helpers -----------------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print(text, file=self.out)

    def warn(self, text: str) -> None:
        print(f"WARN: {text}", file=self.err)

    def _require_root(self, command: str) -> None:
        if not self.system.is_root():
            raise ToolError(f"'keel-boot-tool {command}' must run as root")

    @contextlib.contextmanager
    def _locked(self, command: str) -> Iterator[None]:
        """Root and the tool's lock, held by every command that changes an ESP, a disk or an /etc/kernel file
        from its first read to its last write."""
        self._require_root(command)
        with exclusive_lock(self.paths.lock_dir, self._waiting_for):
            yield

    def _waiting_for(self, lock_file: Path) -> None:
        print(f"Waiting for another keel-boot-tool to finish (it holds {lock_file})...", file=self.err)

    @contextlib.contextmanager
    def _working(self, command: str) -> Iterator[None]:
        """Root, a private mount namespace and the tool's lock for everything that mounts ESPs."""
        self._require_root(command)
        # Before the lock and any change: before Python 3.12 this starts the command again under unshare(1).
        self.system.enter_private_mount_namespace()
        with self._locked(command):
            yield

    def selection(self, installing: str | None = None, dropping: Collection[Path] = ()) -> KernelSelection:
        """The kernels and the default; pin files in `dropping` count as removed already."""

        def pin(path: Path) -> str | None:
            return None if path in dropping else state.read_pin(path)

        return select_kernels(
            state.installed_kernels(self.paths),
            running=self.system.running_kernel(),
            installing=installing,
            manual=state.read_manual_kernels(self.paths),
            pinned=pin(self.paths.pin),
            next_boot=pin(self.paths.next_boot_pin),
        )

    def boot_spec(self, installing: str | None = None, dropping: Collection[Path] = ()) -> BootSpec:
        chosen = self.selection(installing, dropping)
        for version, why in chosen.missing:
            self.warn(f"kernel '{version}' ({why}) is not installed (no /boot/vmlinuz-{version}), skipping it")
        kernels = []
        for version in chosen.versions:
            vmlinuz = self.paths.boot / f"vmlinuz-{version}"
            initrd = self.paths.boot / f"initrd.img-{version}"
            if not initrd.is_file():
                self.warn(f"kernel '{version}' has no {initrd} yet, skipping it")
                continue
            kernels.append(KernelImage(version, vmlinuz, initrd))
        if not kernels:
            raise ToolError(f"no kernel with both vmlinuz-<version> and initrd.img-<version> in {self.paths.boot}")
        versions = [k.version for k in kernels]
        default = chosen.default if chosen.default in versions else versions[0]
        return BootSpec(
            kernels=tuple(kernels),
            default=default,
            cmdline=state.kernel_cmdline(self.paths),
            title=state.os_title(self.paths),
        )

    def _uuids(self) -> tuple[str, ...] | None:
        return state.read_uuids(self.paths)

    # -- format / init / reinit / clean ------------------------------------------------------------------
    def format(self, device: str, force: bool) -> int:
        with self._locked("format"):
            info = self.system.block_info(device)
            refusal = format_refusal(info, force)
            if refusal:
                raise ToolError(refusal)
            self.say(f"Formatting '{device}' as vfat...")
            self.system.make_esp(info, wipe=bool(info.fstype))
        self.say("Done.")
        return 0

    def init(self, devices: Sequence[str], want_grub: bool) -> int:
        """Install a boot loader onto each ESP and copy the kernels on in the same mount, add them all to the list,
        then bring the ESPs listed before up to date. Several ESPs in one call (the installer's ZFS/Btrfs layouts)
        cost one refresh instead of one per ESP; every ESP is checked before any is written."""
        self._require_root("init")
        # lsblk and blkid per ESP, side by side (0.8 s per ESP under TCG); the first refusal, in argument order, wins
        with ThreadPoolExecutor(max_workers=max(1, len(devices)), thread_name_prefix="esp-info") as pool:
            infos = list(pool.map(self._esp_info, devices))
        with self._working("init"):
            uuids = set(self._uuids() or ())  # first: a broken list stops init before it changes anything
            self._disable_debian_hooks()
            no_kernel: ToolError | None = None
            try:
                spec: BootSpec | None = self.boot_spec()
            except ToolError as err:        # the boot loaders go on all the same; the error ends the command
                spec, no_kernel = None, err
            # Each ESP in a thread of its own: the ESPs are separate mounts and disks, and grub-install (mkimage) is
            # CPU work that took about 5 s per disk under TCG, one after the other. The kernels are copied on in the
            # same mount (a second mount and unmount of each ESP cost about 1.5 s under TCG).
            with ThreadPoolExecutor(max_workers=len(infos), thread_name_prefix="esp-init") as pool:
                futures = [pool.submit(self._install_loader, info, want_grub, spec) for info in infos]
            installed: list[str] = []
            synced: dict[str, SyncOutcome] = {}
            for future in futures:
                try:
                    uuid, outcome = future.result()
                except USER_ERRORS:
                    # the ESPs that did get their boot loader are listed all the same: they boot, and a refresh
                    # keeps them current
                    self._list_esps(uuids, installed)
                    raise
                installed.append(uuid)
                if outcome is not None:
                    synced[uuid] = outcome
            self._list_esps(uuids, installed)
            if no_kernel is not None:
                raise no_kernel
            return self._refresh_all(installing=None, spec=spec, synced=synced)

    def _list_esps(self, uuids: set[str], installed: list[str]) -> None:
        for uuid in installed:
            if uuid not in uuids:
                self.say(f"Adding '{uuid}' to list of synced ESPs...")
                uuids.add(uuid)
        state.write_uuids(self.paths, uuids)

    def _esp_info(self, device: str) -> BlockInfo:
        info = self.system.block_info(device)
        refusal = init_refusal(info)
        if refusal:
            raise ToolError(refusal)
        return info

    def _install_loader(self, info: BlockInfo, want_grub: bool,
                        spec: BootSpec | None = None) -> tuple[str, SyncOutcome | None]:
        """The ESP's UUID, and with a `spec` how syncing it in the same mount went."""
        assert info.uuid is not None and info.parent is not None
        device = info.path
        uuid = info.uuid.upper()
        outcome: SyncOutcome | None = None
        with self.system.mounted_esp(uuid, info.path) as (mountpoint, tree):
            grub_efi_present = f"{VENDOR_DIR}/grubx64.efi".lower() in {f.lower() for f in tree.files()}
            kind = choose_bootloader(want_grub, self.system.efi_booted(), grub_efi_present)
            self.say(f"Installing {kind} onto '{device}' (UUID {uuid})...")
            self.system.install_bootloader(kind, mountpoint, f"/dev/{info.parent}")
            if spec is not None:
                outcome = _synced(device, tree, uuid, spec)
        if kind == GRUB_BIOS:
            self.say(f"GRUB for legacy BIOS boot is in the boot sector of /dev/{info.parent}.")
        return uuid, outcome

    def reinit(self) -> int:
        with self._working("reinit"):
            uuids = self._require_uuids()
            failed = 0
            for uuid in uuids:
                device = self.system.esp_device(uuid)
                if device is None:
                    self._warn_vanished(uuid)
                    continue
                try:
                    self._install_loader(self._esp_info(device), want_grub=False)
                except (ToolError, DeviceError, CommandError) as exc:
                    # The other ESPs still get their boot loader; the exit status reports the failure.
                    self.warn(f"ESP {uuid} ({device}): {exc}")
                    failed += 1
            return max(self._refresh_all(installing=None), 1 if failed else 0)

    def clean(self, dry_run: bool) -> int:
        with contextlib.nullcontext() if dry_run else self._locked("clean"):
            uuids = self._require_uuids(empty_ok=True)
            keep = []
            for uuid in uuids:
                found = self.system.esp_device(uuid) is not None
                self.say(f"Checking whether ESP '{uuid}' exists.. {'Found!' if found else 'Not found!'}")
                if found:
                    keep.append(uuid)
            if dry_run:
                for uuid in sorted(set(uuids) - set(keep)):
                    self.say(f"Would remove '{uuid}' from {self.paths.uuids} (--dry-run).")
                return 0
            state.write_uuids(self.paths, keep)
        self.say(f"Sorted and removed duplicate and vanished entries from {self.paths.uuids}.")
        return 0

    def _require_uuids(self, empty_ok: bool = False) -> tuple[str, ...]:
        uuids = self._uuids()
        if uuids is None:
            raise ToolError(f"{self.paths.uuids} does not exist: this system has no synced ESPs "
                            "(use 'keel-boot-tool init <partition>')")
        if not uuids and not empty_ok:
            raise NoEspConfigured(self.paths.uuids)
        return uuids

    def _warn_vanished(self, uuid: str) -> None:
        self.warn(f"{self.paths.by_uuid / uuid} does not exist - clean '{self.paths.uuids}'! - skipping")

    # -- refresh -----------------------------------------------------------------------------------------
    def refresh(self, hook: str | None, installing: str | None) -> int:
        if self._uuids() is None:
            self.say(f"No {self.paths.uuids} found, skipping ESP sync.")
            return 0
        with self._working("refresh"):
            if hook:
                self.say(f"Running hook script '{hook}'..")
            return self._refresh_all(installing)

    def _refresh_all(self, installing: str | None, dropping: Collection[Path] = (), spec: BootSpec | None = None,
                     synced: Mapping[str, SyncOutcome] | None = None) -> int:
        """Sync every listed ESP (those in `synced`, by init in the mount it installed their boot loader in, only
        reported) and say what each did."""
        uuids = self._require_uuids()
        synced = synced or {}
        if spec is None:
            self._disable_debian_hooks()
            spec = self.boot_spec(installing, dropping)
        self.say(f"Copying and configuring kernels on {', '.join(uuids)}")
        self.say(f"\tkernels: {', '.join(spec.versions)}; default: {spec.default}")
        # Each ESP is found, mounted and written in a thread of its own (separate disks and mounts; one after the
        # other took about 2 s per ESP under TCG); what each did is said afterwards, in the list's order.
        with ThreadPoolExecutor(max_workers=max(1, len(uuids)), thread_name_prefix="esp-sync") as pool:
            outcomes = list(pool.map(lambda uuid: synced.get(uuid) or self._sync_one(uuid, spec), uuids))
        failed = 0
        for uuid, (device, report, error) in zip(uuids, outcomes, strict=True):
            if device is None:
                self._warn_vanished(uuid)
            elif error is not None:
                # One broken ESP must not keep the others from getting the new kernel.
                self.warn(f"ESP {uuid} ({device}) could not be synced: {error}")
                failed += 1
            elif report is None or not report.modes:
                self.warn(f"ESP {uuid} holds no boot loader installed by keel-boot-tool - run "
                          f"'keel-boot-tool init {device}' - skipping")
                failed += 1
            else:
                self.say(f"{uuid} ({', '.join(report.modes)}): {len(report.copied)} files copied, "
                         f"{len(report.written)} written, {len(report.removed)} stale removed")
        return 1 if failed else 0

    def _disable_debian_hooks(self) -> None:
        for hook in self.system.disable_debian_systemd_boot_hooks():
            self.say(f"Disabled {hook}: keel-boot-tool keeps the ESPs in sync on this system.")

    def _sync_one(self, uuid: str, spec: BootSpec) -> SyncOutcome:
        device = self.system.esp_device(uuid)
        if device is None:
            return None, None, None
        try:
            with self.system.mounted_esp(uuid, device) as (_mountpoint, tree):
                return _synced(device, tree, uuid, spec)
        except (CommandError, OSError) as exc:
            return device, None, exc

    # -- kernels -----------------------------------------------------------------------------------------
    def kernel_add(self, version: str) -> int:
        if not (self.paths.boot / f"vmlinuz-{version}").is_file():
            raise ToolError(f"no kernel image {self.paths.boot / f'vmlinuz-{version}'} for '{version}'")
        with self._locked("kernel add"):
            manual = state.read_manual_kernels(self.paths)
            if version in manual:
                self.say(f"Kernel '{version}' is already in the manual kernel list.")
            else:
                state.write_manual_kernels(self.paths, (*manual, version))
                self.say(f"Added kernel '{version}' to the manual kernel list.")
        self.say("Use the 'refresh' command to update the ESPs.")
        return 0

    def kernel_remove(self, version: str) -> int:
        with self._locked("kernel remove"):
            manual = state.read_manual_kernels(self.paths)
            if version not in manual:
                raise ToolError(f"kernel '{version}' is not in the manual kernel list {self.paths.manual_kernels}")
            state.write_manual_kernels(self.paths, tuple(v for v in manual if v != version))
        self.say(f"Removed kernel '{version}' from the manual kernel list.")
        self.say("Use the 'refresh' command to update the ESPs.")
        return 0

    def kernel_list(self) -> int:
        chosen = self.selection()
        manual = state.read_manual_kernels(self.paths)
        automatic = [v for v in chosen.versions if v not in manual]
        self.say("Manually selected kernels:")
        self.say("\n".join(manual) if manual else "None.")
        self.say("")
        self.say("Automatically selected kernels:")
        self.say("\n".join(automatic) if automatic else "None.")
        pins = (("Pinned kernel:", self.paths.pin), ("Kernel pinned on next-boot:", self.paths.next_boot_pin))
        for title, path in pins:
            pin = state.read_pin(path)
            if pin:
                self.say("")
                self.say(title)
                self.say(pin)
        return 0

    def kernel_pin(self, version: str, next_boot: bool) -> int:
        if not (self.paths.boot / f"vmlinuz-{version}").is_file():
            raise ToolError(f"no kernel image {self.paths.boot / f'vmlinuz-{version}'}: cannot pin '{version}'")
        with self._working("kernel pin"):
            esp_synced = self._uuids() is not None
            if next_boot and not esp_synced:
                raise ToolError("a next-boot pin needs ESPs synced by keel-boot-tool; on plain GRUB use grub-reboot")
            if esp_synced:
                self._require_uuids()  # an empty list: refuse before the pin says something no ESP shows
            path = self.paths.next_boot_pin if next_boot else self.paths.pin
            state.write_pin(path, version)
            what = "for the next boot" if next_boot else "as the default"
            self.say(f"Pinned kernel '{version}' {what} ({path}).")
            if not esp_synced:
                return self._pin_plain_grub(version)
            # proxmox-boot-tool asks whether to refresh; we always do, so that scripts never meet a prompt.
            return self._refresh_all(installing=None)

    def _pin_plain_grub(self, version: str | None) -> int:
        """Without ESP sync GRUB boots from /boot: the pin becomes GRUB_DEFAULT, then update-grub."""
        if version is None:
            if not self.paths.grub_pin.exists():
                return 0
            self.paths.grub_pin.unlink()
        else:
            state.write_text(self.paths.grub_pin, render_grub_pin_cfg(version, self.system.grub_root_id()))
        self.say(f"Updating {self.paths.grub_pin} and running update-grub.")
        self.system.update_grub()
        return 0

    def kernel_unpin(self, next_boot: bool) -> int:
        """Remove the pin(s). With synced ESPs the files go only after every ESP got the new default: the
        cleanup unit runs this at boot, and a shutdown that stops it half-way leaves the pin for the next boot
        to finish, instead of ESPs that disagree about the default kernel."""
        with self._working("kernel unpin"):
            targets = [self.paths.next_boot_pin] if next_boot else [self.paths.pin, self.paths.next_boot_pin]
            present = [path for path in targets if path.exists()]
            if not present:
                self.say("No pinned kernel to remove.")
                return 0
            if self._uuids() is None:
                self._remove_pins(present)
                return self._pin_plain_grub(state.read_pin(self.paths.pin))
            status = self._refresh_all(installing=None, dropping=present)
            self._remove_pins(present)
            return status

    def _remove_pins(self, paths: list[Path]) -> None:
        for path in paths:
            state.write_pin(path, None)
            self.say(f"Removed {path}.")

    # -- status ------------------------------------------------------------------------------------------
    def status(self, quiet: bool) -> int:
        uuids = self._uuids()
        if uuids is None:
            if not quiet:
                print(f"E: {self.paths.uuids} does not exist.", file=self.err)
            return EXIT_NO_ESP_LIST
        if not uuids:
            if not quiet:
                print(f"E: {NoEspConfigured(self.paths.uuids)}", file=self.err)
            return EXIT_NO_ESP
        if quiet:
            return 0
        self.say(f"System currently booted with {'uefi' if self.system.efi_booted() else 'legacy bios'}")
        with self._working("status"):
            for uuid in uuids:
                device = self.system.esp_device(uuid)
                if device is None:
                    self._warn_vanished(uuid)
                    continue
                with self.system.mounted_esp(uuid, device, read_only=True) as (_mountpoint, tree):
                    found = synced_versions(tree.files())
                if not found:
                    self.say(f"{uuid} is configured with: nothing (no boot loader found)")
                    continue
                configured = ", ".join(f"{mode} (versions: {', '.join(versions) or 'none'})"
                                       for mode, versions in found.items())
                self.say(f"{uuid} is configured with: {configured}")
        return 0


# (device, what the sync did, the error that stopped it); device None: no ESP has this UUID now.
SyncOutcome = tuple[str | None, SyncReport | None, Exception | None]


def _synced(device: str, tree: EspTree, uuid: str, spec: BootSpec) -> SyncOutcome:
    """Sync the ESP mounted as `tree`; a failure is the outcome's error, for the caller to report."""
    try:
        return device, sync_esp(tree, uuid, spec), None
    except (CommandError, OSError) as exc:
        return device, None, exc


# Errors that end a command with one line for the user and an exit code; anything else is a bug.
USER_ERRORS = (ToolError, StateError, DeviceError, LockError, CommandError)


def exit_code(error: Exception) -> int:
    """The exit code for one of USER_ERRORS."""
    if isinstance(error, NoEspConfigured):
        return EXIT_NO_ESP
    if isinstance(error, StateError):
        return EXIT_BAD_STATE
    return EXIT_FAILED
