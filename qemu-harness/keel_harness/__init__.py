"""Keel's QEMU test harness: boot the ISO, USB image, PXE tree or installed disks and drive the serial console."""

from .answer_image import ANSWER_LABEL, build_answer_image
from .artifacts import BuildOutputs, build_outputs, ensure_built
from .console import ConsoleLines, console_lines
from .esp_disk import esp_disk_image
from .httpserver import HostServer
from .machine import CommandFailed, Machine, stop_all
from .network import Network
from .pxe import prepare_tftp_dir, render_boot_ipxe
from .services import SERVICES_READY, DnsmasqConfig, ServicesSpec, build_services_image, services_machine
from .spec import TCG_THREADS, Disk, GiB, HarnessError, Iso, Kernel, MiB, Nic, Pxe, UsbImage
from .verdicts import Outcome, Verdict, wait_for_verdict

__all__ = [
    "ANSWER_LABEL",
    "SERVICES_READY",
    "TCG_THREADS",
    "BuildOutputs",
    "CommandFailed",
    "ConsoleLines",
    "Disk",
    "DnsmasqConfig",
    "GiB",
    "HarnessError",
    "HostServer",
    "Iso",
    "Kernel",
    "Machine",
    "MiB",
    "Network",
    "Nic",
    "Outcome",
    "Pxe",
    "ServicesSpec",
    "UsbImage",
    "Verdict",
    "build_answer_image",
    "build_outputs",
    "build_services_image",
    "console_lines",
    "ensure_built",
    "esp_disk_image",
    "prepare_tftp_dir",
    "render_boot_ipxe",
    "selftest_image",
    "services_machine",
    "stop_all",
    "timeouts",
    "wait_for_verdict",
]
