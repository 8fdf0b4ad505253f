"""A LAN for several machines on this host only: a vde_switch process that their LAN NICs plug into.

    with Network("lan") as lan:
        dhcp = machine("services", nics=[lan.nic()], ...)
        node = machine("node1", nics=[lan.nic(), Nic()])   # one NIC on the LAN, one on user networking

The switch runs in hub mode: every frame reaches every port, 802.1Q tags included. vde_switch's switch mode
drops a tagged frame unless the port was added to that VLAN by a management command, and the LAN has to carry
the VLANs a test's guests make themselves (keel.vlan=), as a trunk between real servers does. A handful of
guests make flooding irrelevant.

Nothing leaves the host: the switch has no tap device and no uplink, only a unix socket directory that QEMU's
`-netdev vde` connects to. The switch reads its management console from a pipe the harness holds open; when the
harness exits, however it exits, the pipe closes and vde_switch cleans up and ends ("EOF on stdin"). It also gets
SIGKILL from the kernel when its parent dies, as QEMU does (machine._die_with_parent).
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import IO

from .machine import _die_with_parent
from .spec import HarnessError, Nic

VDE_SWITCH = "vde_switch"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

_running: weakref.WeakSet[Network] = weakref.WeakSet()


def switch_argv(socket_dir: Path, ports: int = 32) -> list[str]:
    """The vde_switch command line: hub mode, the data socket directory, no daemon (the harness owns it)."""
    return [VDE_SWITCH, "--hub", "--numports", str(ports), "--sock", str(socket_dir)]


class Network:
    """One Ethernet segment shared by the machines whose NICs come from `nic()`; start/stop or use `with`."""

    def __init__(self, name: str = "lan", ports: int = 32):
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise HarnessError(f"Network name {name!r}: use letters, digits, '-' and '_' only")
        self.name = name
        self.ports = ports
        # Unix socket paths are limited to 107 bytes: a short directory under /tmp, like the QMP sockets.
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __repr__(self) -> str:
        return f"<Network {self.name} {'running' if self.is_running() else 'stopped'}>"

    @property
    def socket(self) -> Path:
        """The switch's socket directory (what QEMU's `-netdev vde,sock=` names)."""
        if self._dir is None:
            raise HarnessError(f"network {self.name}: not started")
        return self._dir / "switch"

    def nic(self, model: str = "virtio", mac: str | None = None) -> Nic:
        """A NIC on this LAN (start the network first: the NIC records where its switch listens)."""
        return Nic(model=model, mac=mac, network=self.socket)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Network:
        """Start the switch (idempotent while running); returns once its control socket exists."""
        if self.is_running():
            return self
        if shutil.which(VDE_SWITCH) is None:
            raise HarnessError(f"network {self.name}: {VDE_SWITCH} is not installed (Debian package vde2; make deps)")
        self._dir = Path(tempfile.mkdtemp(prefix=f"keel-{self.name}-"))
        self._log = open(self._dir / "switch.log", "wb")  # noqa: SIM115 (closed in stop())
        self._process = subprocess.Popen(
            switch_argv(self.socket, self.ports),
            stdin=subprocess.PIPE,  # its management console; EOF (the harness gone) ends the switch
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # the same parent-death signal as QEMU
        )
        _running.add(self)
        control = self.socket / "ctl"
        deadline = time.monotonic() + START_TIMEOUT
        while not control.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = self._log_text()
                self.stop()
                raise HarnessError(f"network {self.name}: {VDE_SWITCH} did not start: {log or '(no output)'}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """End the switch and remove its sockets; safe to call at any time, any number of times."""
        process = self._process
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()  # vde_switch: "EOF on stdin, cleaning up and exiting"
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._process = self._log = self._dir = None
        _running.discard(self)

    close = stop

    def __enter__(self) -> Network:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _log_text(self) -> str:
        if self._log is None or self._dir is None:
            return ""
        self._log.flush()
        with contextlib.suppress(OSError):
            return (self._dir / "switch.log").read_text(errors="replace").strip()[-2000:]
        return ""


def stop_all() -> None:
    """Stop every network still running (atexit hook)."""
    for network in list(_running):
        network.stop()


atexit.register(stop_all)
