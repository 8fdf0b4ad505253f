"""The install as an ordered list of phases, each a function of the context, with its share of the progress bar."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from types import ModuleType

from installer.bootloader import prepared_cfg
from installer.bootloader.probe_cache import install_probe_cache, install_vgs_cache
from installer.bootloader.setup import install_bootloader
from installer.engine.webhook import webhook_payload
from installer.host.mounts import mounted
from installer.installed_system import chroot, configure, initramfs, nosync, payload, provision_services
from installer.phase import InstallContext
from installer.runner import CommandError

PhaseFunc = Callable[[InstallContext], None]


@dataclass(frozen=True)
class Phase:
    name: str           # shown to people and used as the event's phase name: "Partitioning disks"
    weight: float       # share of the whole install (the weights add up to 1)
    run: PhaseFunc
    after_beside: bool = False  # starts only once the work started beside the phases before it has ended


EXTRACT = "Extracting the base system"


def unpack(ctx: InstallContext, storage: ModuleType) -> None:
    """Extract the payload; then its files go to the disks beside the work in the chroot (CPU bound, little I/O),
    instead of in the Finishing phase: 3.8-4.4 s of `umount /target` on ext4 and xfs under TCG."""
    total = payload.count_payload_files(ctx.runner, ctx.live.payload, ctx.live.payload_files)
    count = payload.unpack_payload(ctx.runner, ctx.live.payload, ctx.target, total, ctx.events.progress)
    ctx.events.message(f"extracted {count} files and directories from {ctx.live.payload.name}")
    ctx.beside("Writing the extracted files to the disks", lambda: storage.write_back(ctx))


def enter_chroot(ctx: InstallContext) -> None:
    """Mount proc/sys/dev/run into the target until the end of the install (or the first failure); from then on the
    chroot commands run without their fsync calls (installer/installed_system/nosync.py)."""
    ctx.cleanup.enter_context(chroot.chroot_mounts(ctx.runner, ctx.target, efi=ctx.hardware.boot_mode == "efi"))
    configure.install_policy_rc_d(ctx)
    if not ctx.dry_run:
        ctx.chroot_preload = nosync.install_library(ctx.target, ctx.host_root)
        # the library lives in the target's /tmp, which the cleanup unmounts right after this
        ctx.cleanup.callback(setattr, ctx, "chroot_preload", None)
        if ctx.chroot_preload is None:
            ctx.events.message(f"{nosync.LIBRARY} is not in the live environment: the commands in the target "
                               "sync every file they write (slower, nothing else changes)")


def configure_system(ctx: InstallContext) -> None:
    configure.write_configuration(ctx)
    configure.copy_hostid(ctx)
    configure.new_machine_id(ctx)
    ctx.events.progress(0.5, "users and services")
    provision_services.apply_services(ctx)
    ctx.beside("Setting the root password, the mail aliases and the SSH host keys", lambda: finish_configuration(ctx))


def finish_configuration(ctx: InstallContext) -> None:
    """Beside the initramfs and the boot loaders, after the users (chpasswd and useradd both write /etc/shadow):
    under TCG chpasswd took 1.7-2 s (the password hash) and newaliases 1.2-1.7 s, and nothing before Finishing
    reads /etc/shadow, /etc/aliases.db or the host keys (made beside the storage phases, copied on here)."""
    configure.set_root_access(ctx)
    configure.configure_mail(ctx)
    configure.generate_host_keys(ctx)


def make_bootable(ctx: InstallContext) -> None:
    """Boot loaders per reference §4.1; an ESP is mounted on the target's /boot/efi while GRUB is put on it. On LVM,
    grub.cfg is the one the ISO build prepared for this install's inputs when there is one, else update-grub's
    (installer/bootloader/prepared_cfg.py), and GRUB's tools find their repeated vgs and grub-probe questions
    answered from caches (installer/bootloader/probe_cache.py)."""
    ctx.wait_wanted("boot")     # the ESPs' file systems, made beside the phases before
    caching = ctx.plan.lvm is not None and not ctx.dry_run
    prepared = prepared_grub_cfg(ctx) if caching else None
    env = install_vgs_cache(ctx.target) if caching else None
    with probe_cache(ctx) if caching else nullcontext():
        install_bootloader(ctx.plan, ctx.hardware, lambda argv: ctx.chroot_run(argv, timeout=1800, env=env),
                           lambda esp: mounted(ctx.runner, esp, ctx.path("/boot/efi"), fstype="vfat"),
                           ctx.events.warning, ctx.events.progress, dry_run=ctx.dry_run,
                           update_grub=prepared is None)


def prepared_grub_cfg(ctx: InstallContext) -> str | None:
    """Write the ISO's prepared grub.cfg for this install into the target when it has one; its text, or None
    (update-grub has to run). A broken prepared file is a warning, and update-grub runs."""
    try:
        text = prepared_cfg.prepared_grub_cfg(ctx.target, ctx.plan, ctx.runner)
        if text is not None:
            prepared_cfg.write_grub_cfg(ctx.target, text)
    except (prepared_cfg.PreparedCfgError, CommandError, OSError) as err:
        ctx.events.warning(f"the ISO's prepared grub.cfg cannot be used ({err}): running update-grub")
        return None
    if text is None:
        ctx.events.message("no grub.cfg prepared for this install's kernel parameters: running update-grub")
    else:
        ctx.events.message(f"{prepared_cfg.GRUB_CFG}: prepared when the ISO was built, for this install's file "
                           "system and kernel parameters")
    return text


@contextmanager
def probe_cache(ctx: InstallContext) -> Iterator[None]:
    """The grub-probe cache bind-mounted over the target's grub-probe for the block; unmounted on every way out."""
    paths = install_probe_cache(ctx.target)
    if paths is None:
        yield
        return
    script, real = paths
    with mounted(ctx.runner, str(script), real, bind=True):
        yield


def finish(ctx: InstallContext, storage: ModuleType) -> None:
    """Copy the log, unmount everything (chroot, then the target), then let the storage layer finalize."""
    if ctx.config.webhook:
        try:
            ctx.report = webhook_payload(ctx)
        except OSError as err:
            ctx.events.warning(f"webhook data could not be gathered: {err}")
    ctx.events.message(f"install log copied to {ctx.log_path} on the target")
    configure.copy_install_log(ctx)
    ctx.events.progress(0.3, "unmounting")
    ctx.cleanup.close()
    ctx.events.progress(0.6, "finalizing storage")
    storage.finalize_storage(ctx)


def storage_module() -> ModuleType:
    return importlib.import_module("installer.storage.apply")


def build_phases(storage: ModuleType | None = None) -> list[Phase]:
    """The install, in order. `storage` provides the storage-apply functions (tests pass a fake)."""
    storage = storage or storage_module()

    def teardown_existing(ctx: InstallContext) -> None:
        # first: the SSH host keys are made in the live system beside the storage phases (configure.make_host_keys)
        ctx.host_keys = ctx.beside("Making the SSH host keys", lambda: configure.make_host_keys(ctx))
        storage.teardown_existing(ctx)

    def mount_target(ctx: InstallContext) -> None:
        ctx.cleanup.callback(storage.unmount_target, ctx)
        storage.mount_target(ctx)

    return [
        Phase("Removing old storage on the selected disks", 0.03, teardown_existing),
        Phase("Partitioning disks", 0.03, storage.partition_disks),
        Phase("Creating volumes", 0.05, storage.create_volumes),
        Phase("Creating file systems", 0.05, storage.make_filesystems),
        Phase("Mounting the target", 0.01, mount_target),
        Phase(EXTRACT, 0.57, lambda ctx: unpack(ctx, storage)),
        Phase("Preparing the chroot", 0.01, enter_chroot),
        Phase("Configuring the system", 0.07, configure_system),
        Phase("Adding this host's files to the initramfs", 0.01, initramfs.prepare_initramfs),
        Phase("Making the disks bootable", 0.12, make_bootable),
        Phase("Finishing", 0.05, lambda ctx: finish(ctx, storage), after_beside=True),
    ]


def weights(phases: list[Phase]) -> dict[str, float]:
    return {p.name: p.weight for p in phases}
