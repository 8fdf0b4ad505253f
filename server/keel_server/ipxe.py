"""The iPXE script `GET /boot/{mac}.ipxe` returns: the install chain while a machine is armed (Keel's live system,
booted as iso-build's keel.ipxe boots its automated entry, with the answer URL and fingerprint on its command
line), a local-disk boot once it is installed, so it never reinstalls in a loop."""

from __future__ import annotations

from keel_iso.bootmenu import AUTO, LIVE_ARGS


def install_script(*, pxe_base: str, answer_url: str, fingerprint: str, note: str) -> str:
    """Loads vmlinuz and initrd.img from `pxe_base` and boots the automated installer; the squashfs is fetched
    over HTTP by live-boot (`fetch=`), as keel.ipxe does."""
    return "\n".join([
        "#!ipxe",
        f"# keel-server: {note}",
        f"set keel-base {pxe_base}",
        f"kernel ${{keel-base}}/vmlinuz initrd=initrd.img {LIVE_ARGS} fetch=${{keel-base}}/filesystem.squashfs "
        f"{AUTO.args} keel.answer={answer_url} keel.fingerprint={fingerprint}",
        "initrd ${keel-base}/initrd.img",
        "boot",
        "",
    ])


def local_boot_script(note: str) -> str:
    """Boot the first local disk: under UEFI by leaving iPXE (the firmware goes on to its next boot entry), under
    BIOS through INT 13h drive 0x80."""
    return "\n".join([
        "#!ipxe",
        f"# keel-server: {note}",
        "iseq ${platform} efi && exit ||",
        "sanboot --no-describe --drive 0x80 || exit",
        "",
    ])
