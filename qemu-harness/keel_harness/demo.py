"""The VM half of `make demo`: install the example answer into a QEMU machine, reboot it, show what it became.

    .venv/bin/python -m keel_harness.demo [--answer FILE] [--keep]

The ISO is built first when build/keel.iso is missing. The machine is a SeaBIOS VM with one 24 GiB SATA disk
(the example answers name `sda`) and the answer on a small virtio disk labelled PROXMOX-AIS, so the answer file
is used exactly as written. Under TCG this takes tens of minutes; every stage says what it waits for.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from .answer_image import build_answer_image
from .artifacts import REPO_ROOT, ensure_built
from .machine import Machine
from .spec import Disk, GiB, HarnessError, Iso
from .verdicts import REBOOTING, Outcome, wait_for_verdict

EXAMPLE = REPO_ROOT / "answerfile" / "examples" / "minimal-ext4.toml"
INSTALL_TIMEOUT = 3600
BOOT_TIMEOUT = 1800

SUMMARY_COMMANDS = [
    ("host", "hostname -f"),
    ("root", "findmnt -n -o SOURCE,FSTYPE,SIZE /"),
    ("volumes", "lvs --noheadings -o lv_name,lv_size,lv_attr pve | sed 's/^ *//' | paste -sd';'"),
    ("swap", "swapon --show=NAME,SIZE --noheadings | paste -sd';'"),
    ("bridge", "ip -br addr show vmbr0"),
    ("storage", "sed -n 's/^\\([a-z]*\\): \\(.*\\)/\\1 \\2/p' /etc/pve/storage.cfg | paste -sd';'"),
    ("kernel", "uname -r"),
    ("boot", "cat /proc/cmdline"),
]


class Stage:
    """Prints what the demo waits for, and how long it took when done."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.times: list[tuple[str, float]] = []
        self._name = ""
        self._at = self.started

    def __call__(self, name: str) -> None:
        self.done()
        self._name, self._at = name, time.monotonic()
        print(f"demo: {name} ...", flush=True)

    def done(self) -> None:
        if self._name:
            self.times.append((self._name, time.monotonic() - self._at))
            self._name = ""


def root_password(answer: Path) -> str:
    try:
        data = tomllib.loads(answer.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise HarnessError(f"{answer}: cannot read the answer file ({err})") from err
    password = data.get("global", {}).get("root-password")
    if not isinstance(password, str):
        raise HarnessError(f"{answer}: the demo logs in with global.root-password, and this answer has none")
    return password


def follow_install(machine: Machine) -> None:
    """Relay each install phase as it starts, until the installer's verdict; anything but finished is an error."""
    verdict = wait_for_verdict(machine, INSTALL_TIMEOUT, on_phase=lambda line: print(f"demo:   {line}", flush=True))
    if verdict.outcome is not Outcome.FINISHED:
        raise HarnessError(f"the install did not finish: {verdict.line}\nconsole tail:\n{machine.console_tail(40)}")


def run(answer: Path, state_dir: Path) -> list[str]:
    password = root_password(answer)
    stage = Stage()
    stage("building the ISO (only when build/keel.iso is missing)")
    iso = ensure_built(REPO_ROOT).iso
    image = build_answer_image(state_dir / "answer.img", answer.read_bytes())
    machine = Machine("demo", firmware="bios", memory=3072, disks=[Disk(24 * GiB, bus="sata"),
                      Disk(image=image, bus="virtio")], boot=Iso(iso), state_dir=state_dir / "vm")
    with machine as m:
        stage("booting the ISO's automated entry to the ready installer")
        m.select_boot_entry("a")
        m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
        stage(f"installing {answer.name}")
        follow_install(m)
        m.wait_for_line([REBOOTING], timeout=60)
        stage("booting the installed system from its disk")
        m.boot_from_disks()
        m.login("root", password, timeout=BOOT_TIMEOUT)
        stage.done()
        facts = [(label, m.succeed(command).strip()) for label, command in SUMMARY_COMMANDS]
        m.shutdown()
    lines = [f"Keel demo: {answer.name} installed into a VM and booted from its disk", ""]
    lines += [f"  {label:<8} {value}" for label, value in facts]
    lines += ["", "  " + ", ".join(f"{name.split(' ')[0]} {seconds:.0f} s" for name, seconds in stage.times)
              + f"; total {time.monotonic() - stage.started:.0f} s"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m keel_harness.demo",
        description="Install an answer file into a QEMU VM (SeaBIOS, one 24 GiB SATA disk sda), boot the result "
                    "and summarise it.",
        epilog="Example: .venv/bin/python -m keel_harness.demo --answer my-answer.toml",
    )
    parser.add_argument("--answer", type=Path, default=EXAMPLE, help=f"answer file (default: {EXAMPLE.name})")
    parser.add_argument("--keep", action="store_true", help="keep the VM's disk and console log afterwards")
    args = parser.parse_args(argv)
    state = Path(tempfile.mkdtemp(prefix="keel-demo-"))
    try:
        for line in run(args.answer, state):
            print(line)
    except HarnessError as err:
        print(f"demo: {err}", file=sys.stderr)
        print(f"demo: the VM's files are in {state}", file=sys.stderr)
        return 1
    if args.keep:
        print(f"demo: the VM's disk and console log are in {state}")
    else:
        shutil.rmtree(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
