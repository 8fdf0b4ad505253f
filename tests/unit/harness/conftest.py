"""A Machine whose QEMU replays recorded console bytes: console reading runs through a real pty and pexpect."""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keel_harness import machine as machine_module
from keel_harness.machine import Machine

# The recorded bytes are already what the host pty delivers, so the replaying pty must pass them on unchanged.
REPLAY = (
    "import sys, time, tty\n"
    "tty.setraw(1)\n"
    "sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())\n"
    "sys.stdout.flush()\n"
    "time.sleep(float(sys.argv[2]))\n"
)


class NoQmp:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def execute(self, command: str, **arguments: object) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.fixture
def console_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Machine]]:
    """Factory: `console_machine(data, linger=0.0, **machine_args)`, a started Machine whose console shows `data`,
    then ends `linger` seconds later (QEMU exits)."""
    made: list[Machine] = []
    monkeypatch.setattr(machine_module, "Qmp", NoQmp)

    def make(data: bytes, linger: float = 0.0, **machine_args: object) -> Machine:
        recording = tmp_path / f"console-{len(made)}.bin"
        recording.write_bytes(data)
        argv = [sys.executable, "-c", REPLAY, str(recording), str(linger)]
        monkeypatch.setattr(machine_module, "qemu_argv", lambda spec, files, allow_reboot: argv)
        machine = Machine("replay", state_dir=tmp_path / f"vm-{len(made)}", **machine_args)  # type: ignore[arg-type]
        made.append(machine)
        return machine.start()

    yield make
    for machine in made:
        machine.stop()
