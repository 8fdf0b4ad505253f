"""`make demo` relays the install's phases from the VM's console and stops at the installer's verdict."""

import re

import pytest
from keel_harness.demo import follow_install
from keel_harness.spec import HarnessError

CONSOLE = (
    "[  3%] Partitioning disks\r\n"
    "       Partitioning /dev/sda\r\n"
    "[ 16%] Creating file systems: mkfs.ext4 /dev/pve/root\r\n"
    "[ 17%] Extracting the base system\r\n"
)


class ScriptedConsole:
    """Answers wait_for_any from a console text, the way pexpect consumes it: the earliest match wins."""

    def __init__(self, text: str) -> None:
        self.text = text

    def wait_for_any(self, regexes, timeout):
        found = [(m.start(), i, m) for i, r in enumerate(regexes) if (m := re.search(r, self.text))]
        if not found:
            raise HarnessError("no more console text")
        _, index, match = min(found, key=lambda f: f[0])
        self.text = self.text[match.end():]
        return index, match

    def console_tail(self, lines):
        return "(tail)"


def test_each_phase_is_relayed_once_and_details_stay_on_the_console(capsys):
    follow_install(ScriptedConsole(CONSOLE + "Installation finished\r\n"))
    assert capsys.readouterr().out.splitlines() == [
        "demo:   [  3%] Partitioning disks",
        "demo:   [ 17%] Extracting the base system",
    ]


@pytest.mark.parametrize("verdict", ["Installation failed: mkfs.ext4 exited 1", "Nothing was written to any disk"])
def test_a_failed_or_refused_install_is_an_error(verdict):
    with pytest.raises(HarnessError, match="the install did not finish"):
        follow_install(ScriptedConsole(CONSOLE + verdict + "\r\n"))

