"""A QEMU virtual machine driven through its serial console (pexpect) and QMP, NixOS-test-driver style."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import re
import shutil
import signal
import tempfile
import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import pexpect

from installer.runner import CommandError, Runner

from . import framing, timeouts
from .console import ConsoleLines, console_lines
from .httpserver import HostServer
from .pxe import add_efi_loader, chain_command, link_tree, prepare_tftp_dir
from .qemu_argv import DiskFile, MachineFiles, ovmf_for, pxe_bootfile, qemu_argv
from .qmp import Qmp
from .spec import Boot, Disk, HarnessError, MachineSpec, Nic, Pxe, UsbImage

DEBUG_SHELL_PROMPT = "root@keel:~# "
_SGR = r"(?:\x1b\[[0-9;:]*m)*"  # systemd colours unit names in its status lines
# Console text after which the awaited text can never come: waits end at once with this reason.
FATAL_CONSOLE_TEXT: dict[str, str] = {
    r"Kernel panic - not syncing": "the kernel panicked",
    rf"Timed out waiting for device {_SGR}dev-ttyS0": "systemd gave up on /dev/ttyS0: no getty or installer there",
    rf"Dependency failed for {_SGR}(serial-getty|.{{0,80}}Serial Getty on ttyS0)": "ttyS0's getty did not start",
}
QEMU_IMG_TIMEOUT = 120.0

_running: weakref.WeakSet[Machine] = weakref.WeakSet()


class CommandFailed(HarnessError):
    """A guest command given to succeed()/fail() ended with the wrong status; carries its output."""

    def __init__(self, machine: str, command: str, status: int, output: str):
        self.status = status
        self.output = output
        tail = "\n".join(output.rstrip().splitlines()[-40:])
        super().__init__(f"machine {machine}: command {command!r} exited {status}\n{tail}")


class Machine:
    """One VM. Create it, `start()` it, talk to its console; it is stopped on every exit path.

    Stopping happens in `stop()` (also the context-manager exit and pytest finalizers) and, as a last resort,
    at interpreter exit; QEMU also gets SIGKILL from the kernel if the harness process dies.
    """

    def __init__(
        self,
        name: str = "keel",
        firmware: str = "bios",
        memory: int = 2048,
        cpus: int = 2,
        disks: Sequence[Disk] = (),
        nics: Sequence[Nic] = (Nic(),),
        boot: Boot = "disk",
        extra_kernel_args: Sequence[str] = (),
        answer_image: Path | None = None,
        state_dir: Path | None = None,
        allow_reboot: bool = True,
        runner: Runner | None = None,
        ovmf_vars: Path | None = None,
        secure_boot: bool = False,
        tcg_threads: str = "single",
    ):
        self.spec = MachineSpec(
            name=name,
            firmware=firmware,  # type: ignore[arg-type]
            memory=memory,
            cpus=cpus,
            disks=tuple(disks),
            nics=tuple(nics),
            boot=boot,
            extra_kernel_args=tuple(extra_kernel_args),
            answer_image=answer_image,
            secure_boot=secure_boot,
            tcg_threads=tcg_threads,
        )
        # The disks this machine was made with; `boot_from_disks(remove=...)` always counts in this list, however
        # many disks the previous boot had.
        self.own_disks: tuple[Disk, ...] = self.spec.disks
        self.allow_reboot = allow_reboot
        self.runner = runner or Runner(default_timeout=QEMU_IMG_TIMEOUT)
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix=f"keel-{name}-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.console_log_path = self.state_dir / "console.log"
        self._inherited_vars = ovmf_vars
        self._child: pexpect.spawn | None = None
        self._qmp: Qmp | None = None
        self._log: IO[str] | None = None
        self._shell_ready = False
        self._boots = 0
        self._socket_dir: Path | None = None
        self.http_server: HostServer | None = None  # serves Pxe(http_root=...) while the machine runs

    # ----- description and files -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    def __repr__(self) -> str:
        return f"<Machine {self.name} {self.spec.firmware} {'running' if self.is_running() else 'stopped'}>"

    def disk_path(self, index: int) -> Path:
        """The host file behind the machine's own disk `index` (the qcow2 the guest writes to)."""
        return self._file_of(self.own_disks[index], index)

    def _file_of(self, disk: Disk, index: int) -> Path:
        return disk.image if disk.image is not None else self.state_dir / f"disk{index}.qcow2"

    @property
    def ovmf_vars_path(self) -> Path:
        return self.state_dir / "OVMF_VARS.fd"

    def _prepare_files(self) -> MachineFiles:
        disks = []
        for i, disk in enumerate(self.spec.disks):
            path = self._file_of(disk, i)
            if disk.image is not None:
                if not path.exists():
                    raise HarnessError(f"machine {self.name}: disk {i} image {path} does not exist")
                disks.append(DiskFile(path, _image_format(path)))
                continue
            if not path.exists():
                if disk.base is not None:
                    self._qemu_img_overlay(disk.base, path)
                else:
                    self._run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), str(disk.size)])
            disks.append(DiskFile(path, "qcow2"))
        boot_overlay = None
        if isinstance(self.spec.boot, UsbImage):
            boot_overlay = self.state_dir / "boot-stick.qcow2"
            boot_overlay.unlink(missing_ok=True)  # a fresh stick on every boot
            self._qemu_img_overlay(self.spec.boot.path, boot_overlay)
        vars_path = None
        if self.spec.firmware == "uefi":
            vars_path = self.ovmf_vars_path
            if not vars_path.exists():
                shutil.copyfile(self._inherited_vars or ovmf_for(self.spec).vars_template, vars_path)
        tftp_dir = None
        boot = self.spec.boot
        if isinstance(boot, Pxe) and boot.http_root is not None:
            self.http_server = HostServer(root=boot.http_root).start()
            tftp_dir = prepare_tftp_dir(
                boot.tftp_dir,
                self.state_dir / "tftp",
                self.http_server.guest_url(),
                boot.menu_entry,
                self.spec.extra_kernel_args,
            )
        if isinstance(boot, Pxe) and self._uefi_pxe():
            # OVMF's PXE client needs the EFI loader in the TFTP directory, whatever tree the test gave.
            if tftp_dir is None:
                tftp_dir = link_tree(boot.tftp_dir, self.state_dir / "tftp")
            add_efi_loader(tftp_dir, boot.efi_loader)
        if self._socket_dir is None:
            # Unix socket paths are limited to 107 bytes; a test's state directory can be deeper than that.
            self._socket_dir = Path(tempfile.mkdtemp(prefix="keel-qmp-"))
        return MachineFiles(
            qmp_socket=self._socket_dir / "qmp.sock",
            disks=tuple(disks),
            boot_overlay=boot_overlay,
            ovmf_vars=vars_path,
            tftp_dir=tftp_dir,
        )

    def _qemu_img_overlay(self, base: Path, path: Path) -> None:
        base = Path(base).resolve()
        if not base.exists():
            raise HarnessError(f"machine {self.name}: base image {base} does not exist")
        self._run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", _image_format(base), "-b", str(base), str(path)])

    def _run(self, argv: list[str]) -> None:
        try:
            self.runner.run(argv)
        except CommandError as err:
            raise HarnessError(f"machine {self.name}: {err}") from err

    # ----- lifecycle ---------------------------------------------------------------------------------------

    def is_running(self) -> bool:
        return self._child is not None and self._child.isalive()

    def start(self) -> Machine:
        """Start QEMU (idempotent while running) and connect QMP; the console log gets a header per boot."""
        if self.is_running():
            return self
        files = self._prepare_files()
        files.qmp_socket.unlink(missing_ok=True)
        argv = qemu_argv(self.spec, files, allow_reboot=self.allow_reboot)
        self._boots += 1
        self._log = open(self.console_log_path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._log.write(f"\n===== keel-harness: boot {self._boots} of {self.name}: {' '.join(argv)}\n")
        self._log.flush()
        self._child = pexpect.spawn(
            argv[0],
            argv[1:],
            encoding="utf-8",
            codec_errors="replace",
            timeout=None,
            echo=False,
            dimensions=(24, 80),
            maxread=65536,
            # Only the newest output is searched: an install's redrawn TUI would otherwise be re-scanned
            # from the start on every read. Every pattern we wait for is one short line.
            searchwindowsize=65536,
            preexec_fn=_die_with_parent,
        )
        self._child.logfile_read = self._log
        self._shell_ready = False
        _running.add(self)
        try:
            self._qmp = Qmp(files.qmp_socket)
        except (HarnessError, OSError) as err:
            self.stop()
            raise HarnessError(
                f"machine {self.name}: QEMU did not start ({err})\nconsole tail:\n{self.console_tail()}"
            ) from None
        if self._uefi_pxe():
            self.chain_ipxe_script()
        return self

    def _uefi_pxe(self) -> bool:
        return self.spec.firmware == "uefi" and pxe_bootfile(self.spec) is not None

    def chain_ipxe_script(self, timeout: float | None = None) -> None:
        """UEFI PXE on user networking: at the EFI iPXE's Ctrl-B prompt, have it run the Pxe's `bootfile`.

        start() does this itself for a UEFI machine booting Pxe() on user networking (see pxe.chain_command).
        """
        boot = self.spec.boot
        if not isinstance(boot, Pxe):
            raise HarnessError(f"machine {self.name}: chain_ipxe_script needs boot=Pxe()")
        self.wait_for_console_text(r"Ctrl-B", timeout=timeout or timeouts.GRUB_MENU)
        self.send_keys("\x02")
        self.wait_for_console_text(r"iPXE>", timeout=120)
        self.sendline(chain_command(boot.bootfile))

    def stop(self) -> None:
        """End QEMU now (QMP quit, then signals); safe to call at any time, any number of times."""
        child = self._child
        if child is not None:
            if child.isalive() and self._qmp is not None:
                with contextlib.suppress(Exception):
                    self._qmp.execute("quit")
            with contextlib.suppress(Exception):
                # Drain what is left so the console log is complete.
                child.expect(pexpect.EOF, timeout=5)
            if child.isalive():
                child.terminate(force=True)
            with contextlib.suppress(Exception):
                child.close(force=True)
        if self._qmp is not None:
            self._qmp.close()
        if self._log is not None:
            self._log.close()
        self._child = self._qmp = self._log = None
        self._shell_ready = False
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        if self.http_server is not None:
            self.http_server.stop()
        _running.discard(self)

    close = stop

    def __enter__(self) -> Machine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def qmp(self, command: str, **arguments: Any) -> Any:
        if self._qmp is None or not self.is_running():
            raise HarnessError(f"machine {self.name}: not running (QMP {command})")
        return self._qmp.execute(command, **arguments)

    def wait_for_shutdown(self, timeout: float = 300) -> None:
        """Wait until QEMU exits by itself (guest powered off, or reset with allow_reboot=False)."""
        child = self._require_child()
        try:
            child.expect(pexpect.EOF, timeout=timeout)
        except pexpect.TIMEOUT:
            raise self._failure(f"did not power off within {timeout:.0f} s") from None
        self.stop()

    def shutdown(self, timeout: float = 300) -> None:
        """Clean power-off: `poweroff` in the attached shell, else an ACPI power-button press."""
        if self._shell_ready:
            self.send_keys("systemctl poweroff || poweroff -f\r")
        else:
            self.qmp("system_powerdown")
        self._shell_ready = False
        self.wait_for_shutdown(timeout)

    def reboot(self) -> None:
        """Clean reboot from the attached shell, else a hard reset."""
        if self._shell_ready:
            self.send_keys("systemctl reboot || reboot -f\r")
        else:
            self.qmp("system_reset")
        self._shell_ready = False

    def power_cycle(self, timeout: float = 300) -> Machine:
        """Clean power-off, then power on again: a cold boot of the same machine (disks, UEFI variables kept).

        Stories that reboot many times use this: OVMF under TCG here once hung after a guest's warm reset
        with no console output at all, where a cold start of the same disks boots every time.
        """
        self.shutdown(timeout)
        return self.start()

    def reset(self) -> None:
        """Hard reset, like pressing the reset button."""
        self.qmp("system_reset")
        self._shell_ready = False

    def crash(self) -> None:
        """Pull the plug: QEMU ends at once, nothing in the guest is flushed."""
        self.stop()

    def boot_from_disks(
        self, remove: Iterable[int] = (), firmware: str | None = None, boot: Boot = "disk"
    ) -> Machine:
        """Power off (hard, if still running) and boot this machine's own disks, optionally without some of them.

        `remove` holds indexes into the disks the machine was made with, so `remove=[0]` then `remove=[1]` boots
        first without the first disk, then without the second. `boot` may name another medium (e.g. a rescue
        ISO); by default the firmware boots from the disks. The UEFI variable store is kept when the firmware
        stays the same (boot entries survive, as on a real machine); switching firmware starts from a fresh store.
        """
        self.stop()
        removed = set(remove)
        unknown = removed - set(range(len(self.own_disks)))
        if unknown:
            raise HarnessError(
                f"machine {self.name}: no disk index {sorted(unknown)} to remove (it has {len(self.own_disks)} disks)"
            )
        disks = [self._as_existing(i) for i in range(len(self.own_disks)) if i not in removed]
        new_firmware = firmware or self.spec.firmware
        if new_firmware != self.spec.firmware:
            self.ovmf_vars_path.unlink(missing_ok=True)
        self.spec = dataclasses.replace(
            self.spec, firmware=new_firmware, disks=tuple(disks), boot=boot, extra_kernel_args=(), answer_image=None
        )
        return self.start()

    @classmethod
    def from_disks(
        cls, other: Machine, name: str | None = None, remove: Iterable[int] = (), **kwargs: Any
    ) -> Machine:
        """A new machine booting `other`'s disks (same files; `other` must be stopped first), fresh firmware state."""
        if other.is_running():
            raise HarnessError(f"machine {other.name}: stop it before booting its disks in another machine")
        removed = set(remove)
        disks = [other._as_existing(i) for i in range(len(other.own_disks)) if i not in removed]
        kwargs.setdefault("firmware", other.spec.firmware)
        kwargs.setdefault("memory", other.spec.memory)
        kwargs.setdefault("cpus", other.spec.cpus)
        kwargs.setdefault("tcg_threads", other.spec.tcg_threads)
        kwargs.setdefault("nics", other.spec.nics)
        kwargs.setdefault("boot", "disk")
        return cls(name=name or f"{other.name}-again", disks=disks, **kwargs)

    def _as_existing(self, index: int) -> Disk:
        disk = self.own_disks[index]
        return dataclasses.replace(
            disk, size=None, base=None, image=self.disk_path(index), serial=disk.serial or f"KEELDISK{index}"
        )

    # ----- console -----------------------------------------------------------------------------------------

    def _require_child(self) -> pexpect.spawn:
        if self._child is None:
            raise HarnessError(f"machine {self.name}: not started")
        return self._child

    def _failure(self, what: str) -> HarnessError:
        return HarnessError(f"machine {self.name}: {what}\nconsole tail:\n{self.console_tail()}")

    def console_tail(self, lines: int = 40) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            data = self.console_log_path.read_bytes()
        except FileNotFoundError:
            return "(no console output)"
        return "\n".join(console_lines(data)[-lines:])

    def wait_for_console_text(self, regex: str, timeout: float = 600, fatal: bool = True) -> re.Match[str]:
        """Wait for new console output matching `regex`; returns the match. Output before it is consumed.

        With `fatal`, console text that rules the wait out (a kernel panic, no serial getty) ends it at once.
        """
        _, match = self.wait_for_any([regex], timeout, fatal)
        return match

    def wait_for_any(
        self, regexes: Sequence[str], timeout: float = 600, fatal: bool = True
    ) -> tuple[int, re.Match[str]]:
        """Wait for the first of several patterns; returns which one and its match."""
        child = self._require_child()
        fatal_patterns = list(FATAL_CONSOLE_TEXT) if fatal else []
        patterns = [re.compile(r) for r in [*regexes, *fatal_patterns]]
        wanted = regexes[0] if len(regexes) == 1 else list(regexes)
        try:
            index = child.expect(patterns, timeout=timeout)
        except pexpect.TIMEOUT:
            raise self._failure(f"no console text matching {wanted!r} within {timeout:.0f} s") from None
        except pexpect.EOF:
            raise self._failure(f"QEMU exited while waiting for {wanted!r}") from None
        if index >= len(regexes):
            reason = FATAL_CONSOLE_TEXT[fatal_patterns[index - len(regexes)]]
            raise self._failure(f"gave up waiting for {wanted!r}: {reason} ({child.after!r})")
        return index, child.match

    def wait_for_line(
        self, regexes: Sequence[str], timeout: float = 600, fatal: bool = True
    ) -> tuple[int, re.Match[str]]:
        """Wait for a whole console line that one of `regexes` finds; returns which one and its match.

        The patterns see each line as console.ConsoleLines reads it: no escapes, no line ending (so `^...$`
        anchors a whole line). Lines before the match are consumed; what follows it is left for the next wait,
        of either kind. Text that never ends a line (a prompt, a drawn screen) needs wait_for_any.
        """
        child = self._require_child()
        fatal_patterns = list(FATAL_CONSOLE_TEXT) if fatal else []
        patterns = [re.compile(r) for r in [*regexes, *fatal_patterns]]
        wanted = regexes[0] if len(regexes) == 1 else list(regexes)
        too_late = f"no console line matching {wanted!r} within {timeout:.0f} s"
        reader = ConsoleLines()
        reader.feed(child.buffer)  # what the previous wait read past its match
        deadline = time.monotonic() + timeout
        try:
            while True:
                for line in reader.lines():
                    for index, pattern in enumerate(patterns):
                        match = pattern.search(line)
                        if match is None:
                            continue
                        if index >= len(regexes):
                            reason = FATAL_CONSOLE_TEXT[fatal_patterns[index - len(regexes)]]
                            raise self._failure(f"gave up waiting for {wanted!r}: {reason} ({line!r})")
                        return index, match
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._failure(too_late)
                reader.feed(child.read_nonblocking(child.maxread, timeout=remaining))
        except pexpect.TIMEOUT:
            raise self._failure(too_late) from None
        except pexpect.EOF:
            raise self._failure(f"QEMU exited while waiting for {wanted!r}") from None
        finally:
            child.buffer = reader.pending

    def send_keys(self, keys: str) -> None:
        """Type raw characters on the serial console (use '\\r' for Enter, '\\x1b[B' for Down...)."""
        self._require_child().send(keys)

    def sendline(self, line: str = "") -> None:
        self.send_keys(line + "\r")

    def select_boot_entry(self, hotkey: str, timeout: float = 300) -> None:
        """Wait for the GRUB menu on the serial console and press an entry's hotkey."""
        self.wait_for_console_text(r"GNU GRUB", timeout=timeout)
        # The title comes first; let GRUB finish drawing the menu (the help text is the last part) if it does.
        with contextlib.suppress(HarnessError):
            self.wait_for_console_text(r"entry is highlighted|executed automatically|[Pp]ress enter", timeout=30)
        self.send_keys(hotkey)

    # ----- shell over the serial console ---------------------------------------------------------------------

    def attach_shell(self, prompt: str | None = re.escape(DEBUG_SHELL_PROMPT), timeout: float = 300) -> None:
        """Take over the root shell on the console: wait for its prompt, then echo off and a plain terminal."""
        if prompt:
            self.wait_for_console_text(prompt, timeout=timeout)
        nonce = framing.new_nonce()
        self.send_keys(framing.setup_line(nonce) + "\r")
        self.wait_for_console_text(framing.shell_ready_pattern(nonce), timeout=timeout)
        self._shell_ready = True

    def wait_for_debug_shell(self, stage: str = "before-install", timeout: float = 900) -> None:
        """Wait for the live environment's debug shell (`KEEL-DEBUG-SHELL <stage>`) and attach to it."""
        self.wait_for_console_text(rf"KEEL-DEBUG-SHELL {re.escape(stage)}", timeout=timeout)
        self.attach_shell(timeout=120)

    def login(self, user: str = "root", password: str = "", timeout: float = 900) -> None:
        """Log in on the serial getty and attach to the shell."""
        self.wait_for_console_text(r"login: ", timeout=timeout)
        self.sendline(user)
        self.wait_for_console_text(r"[Pp]assword: ", timeout=60)
        self.sendline(password)
        index, _ = self.wait_for_any([r"Login incorrect", r"[#$] "], timeout=120)
        if index == 0:
            raise self._failure(f"login as {user!r} was refused")
        self.attach_shell(prompt=None, timeout=120)

    def execute(self, command: str, timeout: float = 300) -> tuple[int, str]:
        """Run `command` with bash in the attached shell; returns (exit status, stdout+stderr)."""
        if not self._shell_ready:
            raise HarnessError(
                f"machine {self.name}: no shell attached (call login() or wait_for_debug_shell() first)"
            )
        framed = framing.frame_command(command, framing.new_nonce())
        self.send_keys(framed.line + "\r")
        child = self._require_child()
        self.wait_for_console_text(re.escape(framed.begin_marker), timeout=timeout)
        self.wait_for_console_text(framed.end_pattern, timeout=timeout)
        text = framed.begin_marker + child.before + child.after
        try:
            return framing.parse_reply(text, framed.nonce)
        except framing.FramingError as err:
            raise self._failure(str(err)) from None

    def succeed(self, command: str, timeout: float = 300) -> str:
        """Run `command`; its output, or CommandFailed (with the output) on a non-zero exit."""
        status, output = self.execute(command, timeout)
        if status != 0:
            raise CommandFailed(self.name, command, status, output)
        return output

    def fail(self, command: str, timeout: float = 300) -> str:
        """Run `command`, which must fail; returns its output."""
        status, output = self.execute(command, timeout)
        if status == 0:
            raise CommandFailed(self.name, command, status, output)
        return output

    def wait_until_succeeds(self, command: str, timeout: float = 300, interval: float = 2.0) -> str:
        """Retry `command` until it exits 0 (guest-side polling, no host sleeps between console reads)."""
        return self._retry(command, timeout, interval, want_success=True)

    def wait_until_fails(self, command: str, timeout: float = 300, interval: float = 2.0) -> str:
        return self._retry(command, timeout, interval, want_success=False)

    def _retry(self, command: str, timeout: float, interval: float, want_success: bool) -> str:
        deadline = time.monotonic() + timeout
        status, output = -1, ""
        while time.monotonic() < deadline:
            status, output = self.execute(command, timeout=max(deadline - time.monotonic(), 5))
            if (status == 0) == want_success:
                return output
            self.execute(f"sleep {interval}", timeout=interval + 60)
        raise CommandFailed(self.name, f"{command} (retried for {timeout:.0f} s)", status, output)


def _image_format(path: Path) -> str:
    """qcow2 if the file starts with qcow2's magic, else raw (an ISO, a dd image)."""
    with open(path, "rb") as f:
        return "qcow2" if f.read(4) == b"QFI\xfb" else "raw"


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the QEMU child: get SIGKILL when the harness process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def stop_all() -> None:
    """Stop every machine still running (atexit hook; also handy in an interactive session)."""
    for machine in list(_running):
        machine.stop()


atexit.register(stop_all)
