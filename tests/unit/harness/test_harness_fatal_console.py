"""Console text that ends a wait at once, matched on lines as systemd and the kernel really print them."""

import re

import pytest

from keel_harness.machine import FATAL_CONSOLE_TEXT


def reason_for(text: str) -> str | None:
    for pattern, reason in FATAL_CONSOLE_TEXT.items():
        if re.search(pattern, text):
            return reason
    return None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "\x1b[0;1;31m TIME \x1b[0m] Timed out waiting for device \x1b[0;1;39mdev-ttyS0.device\x1b[0m - /dev/ttyS0.",
            "systemd gave up on /dev/ttyS0",
        ),
        (
            "[\x1b[0;1;38:5:185mDEPEND\x1b[0m] Dependency failed for \x1b[0;1;39mserial-getty…S0.service\x1b[0m"
            " - Serial Getty on ttyS0.",
            "ttyS0's getty did not start",
        ),
        ("[    2.183925] Kernel panic - not syncing: No working init found.", "the kernel panicked"),
    ],
    ids=["systemd timing out on ttyS0, in colour", "the serial getty's failed dependency, in colour", "a panic"],
)
def test_fatal_console_text_is_recognised(line, reason):
    assert reason_for(line).startswith(reason)


@pytest.mark.parametrize(
    "line",
    [
        "[  OK  ] Started \x1b[0;1;39mserial-getty@ttyS0.service\x1b[0m - Serial Getty on ttyS0.",
        "Job dev-ttyS0.device/start running (1min 27s / 1min 31s)",
        "[   22.723481] xor: automatically using best checksumming function   avx",
    ],
    ids=["the getty starting", "systemd still waiting for ttyS0", "ordinary kernel noise"],
)
def test_ordinary_boot_text_is_not_fatal(line):
    assert reason_for(line) is None
