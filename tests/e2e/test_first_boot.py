"""Issue 16, part 1: Proxmox's [first-boot] hook on the installed system, exactly.

1. source = "from-iso", ordering = "fully-up": a prepared ISO carries the answer and the script
   (`keel-answer prepare-iso --fetch-from iso --answer-file A --on-first-boot S`). After the install the script
   runs once, after multi-user.target; its output is in the journal and in /var/log/keel/first-boot.log,
   `keel-firstboot status` says succeeded, and another reboot does not run it again.
2. source = "from-url", ordering = "network-online": the script comes from the host's HTTPS server during the
   install, pinned to its certificate. It fails: `keel-firstboot status` says so (exit 1), its unit is failed, and
   the next boot does not run it again. Once its cause is gone, `keel-firstboot retry --now` runs it through its
   unit and it succeeds.
3. source = "from-iso", ordering = "before-network": the script runs once before network.target is reached, in
   keel-firstboot-network-pre.service, and not again after a reboot. So each of Proxmox's three orderings runs
   in an installed guest.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from installer.runner import Runner
from keel_harness import BuildOutputs, Disk, GiB, HostServer, Iso, Machine, Outcome, timeouts, wait_for_verdict
from keel_harness.verdicts import REBOOTING

pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "first-boot-test-pw"
INSTALL_TIMEOUT = timeouts.scaled(3600)
BOOT_TIMEOUT = timeouts.scaled(900)
HOOK_TIMEOUT = timeouts.scaled(900)
RUNS = "/root/first-boot-runs"          # the hook appends a line per run: how many times it ran

ANSWER = """\
[global]
keyboard = "en-us"
country = "at"
fqdn = "{host}.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "{password}"

[network]
source = "from-dhcp"

[disk-setup]
filesystem = "ext4"
disk-list = ["vda"]

[first-boot]
{first_boot}
"""

# Prints its argument (the ordering) and the state of the target it was ordered after, so the test sees both.
SUCCEEDING_HOOK = f"""\
#!/bin/sh
echo "keel-e2e-hook ran: ordering=$1 multi-user.target=$(systemctl is-active multi-user.target)"
echo "keel-e2e-hook on stderr" >&2
echo "$1" >> {RUNS}
"""

# The before-network ordering runs before network-pre.target: network.target has not been reached yet.
BEFORE_NETWORK_HOOK = f"""\
#!/bin/sh
echo "keel-e2e-hook ran: ordering=$1 network.target=$(systemctl is-active network.target)"
echo "$1" >> {RUNS}
"""

FAILING_HOOK = f"""\
#!/bin/sh
echo "keel-e2e-hook ran: ordering=$1 network-online.target=$(systemctl is-active network-online.target)"
echo "$1" >> {RUNS}
if [ ! -e /root/first-boot-fixed ]; then
    echo "keel-e2e-hook: /root/first-boot-fixed is missing, failing"
    exit 7
fi
echo "keel-e2e-hook: fixed, succeeding"
"""


def keel_answer() -> str:
    """The keel-answer script of this Python environment (make's PATH has it; a bare pytest run may not)."""
    beside = Path(sys.executable).parent / "keel-answer"
    return str(beside) if beside.exists() else (shutil.which("keel-answer") or "keel-answer")


def prepare_iso(iso: Path, out: Path, *args: str) -> Path:
    """`keel-answer prepare-iso ISO --output OUT ...`, run as a user would."""
    Runner(default_timeout=timeouts.scaled(600)).run([keel_answer(), "prepare-iso", str(iso), "--output", str(out),
                                                      *args])
    assert out.is_file(), f"prepare-iso wrote no {out}"
    return out


def answer_file(tmp_path: Path, host: str, first_boot: str) -> Path:
    path = tmp_path / "answer.toml"
    path.write_text(ANSWER.format(host=host, password=PASSWORD, first_boot=first_boot))
    return path


def install_and_boot(m: Machine) -> None:
    """The prepared ISO's automated entry installs; then the installed system's first boot, root logged in."""
    m.start()
    m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=timeouts.READY)
    verdict = wait_for_verdict(m, INSTALL_TIMEOUT)
    assert verdict.outcome is Outcome.FINISHED, f"{verdict.line}\n{m.console_tail(60)}"
    m.wait_for_line([REBOOTING], timeout=60)
    m.boot_from_disks()
    m.login("root", PASSWORD, timeout=BOOT_TIMEOUT)


def monotonic(m: Machine, unit: str, prop: str) -> int:
    """A unit's timestamp property in microseconds since boot (0: it never got there)."""
    return int(m.succeed(f"systemctl show --value -p {prop} {unit}").strip() or 0)


def boot_settled(m: Machine) -> None:
    """Wait until the boot is done (every start job finished, the hook's unit included); degraded is fine."""
    m.execute("systemctl is-system-running --wait", timeout=HOOK_TIMEOUT)


def status(m: Machine) -> dict:
    return json.loads(m.execute("keel-firstboot status --json")[1])


def reboot(m: Machine) -> None:
    m.power_cycle(timeout=BOOT_TIMEOUT)
    m.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    boot_settled(m)


@pytest.fixture(scope="module")
def build(keel_build: BuildOutputs) -> BuildOutputs:
    return keel_build


@pytest.mark.test_timeout(5400)
def test_a_from_iso_hook_runs_once_after_the_system_is_fully_up(machine, build, tmp_path):
    host = "first-boot-iso"
    script = tmp_path / "first-boot.sh"
    script.write_text(SUCCEEDING_HOOK)
    prepared = prepare_iso(build.iso, tmp_path / "prepared.iso", "--fetch-from", "iso",
                           "--answer-file", str(answer_file(tmp_path, host, 'source = "from-iso"')),
                           "--on-first-boot", str(script))
    m = machine(host, disks=[Disk(24 * GiB)], boot=Iso(prepared))
    install_and_boot(m)
    boot_settled(m)

    log = m.succeed("cat /var/log/keel/first-boot.log")
    assert "keel-e2e-hook ran: ordering=fully-up multi-user.target=active" in log, log
    assert "keel-e2e-hook on stderr" in log
    assert m.succeed("stat -c %a /var/log/keel/first-boot.log").strip() == "600"
    assert m.succeed("stat -c %a /var/lib/keel/first-boot/script /var/lib/keel/first-boot").split() == ["700", "700"]
    journal = m.succeed("journalctl -b -u keel-firstboot-multi-user.service --no-pager")
    assert "keel-e2e-hook ran: ordering=fully-up" in journal, journal
    shown = m.succeed("keel-firstboot status")
    assert shown.startswith("first-boot hook: succeeded"), shown
    assert status(m)["last_run"]["exit_code"] == 0
    assert m.succeed("systemctl is-active keel-firstboot.service").strip() == "active"
    m.fail("test -e /var/lib/keel/first-boot/pending")
    assert m.succeed(f"cat {RUNS}").split() == ["fully-up"]

    reboot(m)
    assert m.succeed(f"cat {RUNS}").split() == ["fully-up"], "the hook ran again after a reboot"
    assert m.succeed("grep -c 'keel-e2e-hook ran' /var/log/keel/first-boot.log").strip() == "1"
    assert m.succeed("keel-firstboot status").startswith("first-boot hook: succeeded")
    assert status(m)["last_run"]["runs"] == 1


@pytest.mark.test_timeout(5400)
def test_a_failing_from_url_hook_is_visible_not_rerun_and_retried_on_request(
    machine, build, http_server: Callable[..., HostServer], tmp_path
):
    host = "first-boot-url"
    server = http_server(https=True)
    server.serve("first-boot", FAILING_HOOK)
    first_boot = (f'source = "from-url"\nordering = "network-online"\nurl = "{server.guest_url("first-boot")}"\n'
                  f'cert-fingerprint = "{server.fingerprint}"')
    prepared = prepare_iso(build.iso, tmp_path / "prepared.iso", "--fetch-from", "iso",
                           "--answer-file", str(answer_file(tmp_path, host, first_boot)))
    m = machine(host, disks=[Disk(24 * GiB)], boot=Iso(prepared))
    install_and_boot(m)
    boot_settled(m)

    shown = m.fail("keel-firstboot status")       # exit 1: the hook failed
    assert shown.startswith("first-boot hook: FAILED with exit status 7"), shown
    assert "keel-firstboot retry" in shown
    assert status(m)["last_run"]["exit_code"] == 7
    assert "keel-firstboot-network-online.service" in m.succeed("systemctl --failed --no-legend --plain")
    log = m.succeed("cat /var/log/keel/first-boot.log")
    assert "keel-e2e-hook ran: ordering=network-online network-online.target=active" in log, log
    assert "/root/first-boot-fixed is missing, failing" in log
    m.fail("test -e /var/lib/keel/first-boot/pending")

    reboot(m)
    assert m.succeed(f"cat {RUNS}").split() == ["network-online"], "a failed hook ran again by itself"
    assert m.fail("keel-firstboot status").startswith("first-boot hook: FAILED with exit status 7")

    m.succeed("touch /root/first-boot-fixed")
    retried = m.succeed("keel-firstboot retry --now", timeout=HOOK_TIMEOUT)
    assert "first-boot hook: succeeded" in retried, retried
    assert m.succeed(f"cat {RUNS}").split() == ["network-online", "network-online"]
    assert status(m)["last_run"]["runs"] == 2
    assert m.succeed("systemctl is-active keel-firstboot-network-online.service").strip() == "active"
    assert "fixed, succeeding" in m.succeed("journalctl -b -u keel-firstboot-network-online.service --no-pager")


@pytest.mark.test_timeout(5400)
def test_a_before_network_hook_runs_once_before_the_network_is_up(machine, build, tmp_path):
    host = "first-boot-early"
    script = tmp_path / "first-boot.sh"
    script.write_text(BEFORE_NETWORK_HOOK)
    answer = answer_file(tmp_path, host, 'source = "from-iso"\nordering = "before-network"')
    prepared = prepare_iso(build.iso, tmp_path / "prepared.iso", "--fetch-from", "iso", "--answer-file", str(answer),
                           "--on-first-boot", str(script))
    m = machine(host, disks=[Disk(24 * GiB)], boot=Iso(prepared))
    install_and_boot(m)
    boot_settled(m)

    log = m.succeed("cat /var/log/keel/first-boot.log")
    assert "keel-e2e-hook ran: ordering=before-network network.target=inactive" in log, log
    journal = m.succeed("journalctl -b -u keel-firstboot-network-pre.service --no-pager")
    assert "keel-e2e-hook ran: ordering=before-network" in journal, journal
    assert m.succeed("keel-firstboot status").startswith("first-boot hook: succeeded")
    assert m.succeed(f"cat {RUNS}").split() == ["before-network"]
    # ifupdown2's networking.service sits among the network targets (the payload's drop-in): it started after the
    # hook had finished, and network-online.target was reached only once it had configured the network.
    hook_done = monotonic(m, "keel-firstboot-network-pre.service", "ActiveEnterTimestampMonotonic")
    networking_started = monotonic(m, "networking.service", "InactiveExitTimestampMonotonic")
    networking_done = monotonic(m, "networking.service", "ActiveEnterTimestampMonotonic")
    online = monotonic(m, "network-online.target", "ActiveEnterTimestampMonotonic")
    assert 0 < hook_done <= networking_started <= networking_done <= online, (hook_done, networking_started,
                                                                              networking_done, online)
    assert m.succeed("systemctl is-active network.target").strip() == "active"

    reboot(m)
    assert m.succeed(f"cat {RUNS}").split() == ["before-network"], "the hook ran again after a reboot"
    assert status(m)["last_run"]["runs"] == 1
