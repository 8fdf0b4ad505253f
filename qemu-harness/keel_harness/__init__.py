"""Keel's QEMU test harness: boot the ISO, USB image, PXE tree or installed disks and drive the serial console."""

from .answer_image import ANSWER_LABEL, build_answer_image
from .artifacts import BuildOutputs, build_outputs, ensure_built
from .httpserver import HostServer
from .machine import CommandFailed, Machine, stop_all, strip_ansi
from .pxe import prepare_tftp_dir, render_boot_ipxe
from .spec import Disk, GiB, HarnessError, Iso, Kernel, MiB, Nic, Pxe, UsbImage

__all__ = [
    "ANSWER_LABEL",
    "BuildOutputs",
    "CommandFailed",
    "Disk",
    "GiB",
    "HarnessError",
    "HostServer",
    "Iso",
    "Kernel",
    "Machine",
    "MiB",
    "Nic",
    "Pxe",
    "UsbImage",
    "build_answer_image",
    "build_outputs",
    "ensure_built",
    "prepare_tftp_dir",
    "render_boot_ipxe",
    "selftest_image",
    "stop_all",
    "strip_ansi",
    "timeouts",
]
