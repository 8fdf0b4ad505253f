"""Machine.wait_for_line: whole console lines through a real pty, however they end and whatever follows them."""

import pytest

from keel_harness.spec import HarnessError

CONSOLE = (
    b"[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39mgetty.target\x1b[0m - Login Prompts.\r\r\n"
    b"KEEL-READY mode=auto\r\r\n"
    b"Keel 0.1.0: automated installation\r\r\n"
    b"Answer: partition labelled PROXMOX-AIS\r\r\n"
    b"[  0%] Removing old storage on the selected disks\r\r\n"
)


def test_a_pattern_anchored_at_both_ends_matches_a_line_ending_in_two_carriage_returns(console_machine):
    machine = console_machine(CONSOLE)
    index, match = machine.wait_for_line([r"^\[\s*\d+%\] ([^:]+)$"], timeout=30)
    assert (index, match.group(1)) == (0, "Removing old storage on the selected disks")


def test_colours_are_gone_from_the_line_a_pattern_sees(console_machine):
    _, match = console_machine(CONSOLE).wait_for_line([r"^\[  OK  \] Reached target (\S+) "], timeout=30)
    assert match.group(1) == "getty.target"


def test_what_follows_the_matched_line_is_left_for_the_next_wait_of_either_kind(console_machine):
    machine = console_machine(CONSOLE)
    machine.wait_for_line([r"^KEEL-READY mode=auto$"], timeout=30)
    assert machine.wait_for_console_text(r"Answer: ([^\r\n]+)", timeout=30).group(1) == "partition labelled PROXMOX-AIS"
    index, _ = machine.wait_for_line([r"^Keel \S+: automated", r"^\[\s*\d+%\]"], timeout=30)
    assert index == 1, "the line before the raw wait's match was consumed by it"


def test_a_kernel_panic_ends_the_wait_at_once(console_machine):
    machine = console_machine(b"[    2.183925] Kernel panic - not syncing: No working init found.\r\r\n")
    with pytest.raises(HarnessError, match="the kernel panicked"):
        machine.wait_for_line([r"^KEEL-READY"], timeout=30)


def test_qemu_exiting_ends_the_wait_with_the_console_tail(console_machine):
    machine = console_machine(CONSOLE)
    with pytest.raises(HarnessError, match=r"QEMU exited while waiting for '\^Installation finished'") as error:
        machine.wait_for_line([r"^Installation finished"], timeout=30)
    # one console line is one tail line: reading the log as text made "\r\r\n" two line ends
    assert "Answer: partition labelled PROXMOX-AIS\n[  0%] Removing old storage" in str(error.value)


def test_a_line_that_never_comes_ends_the_wait_after_its_timeout(console_machine):
    machine = console_machine(CONSOLE, linger=2)
    with pytest.raises(HarnessError, match=r"no console line matching '\^Installation finished' within 1 s"):
        machine.wait_for_line([r"^Installation finished"], timeout=1)
