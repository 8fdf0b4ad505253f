"""Reading systemd-analyze's output for the boot-to-ready benchmark."""

from __future__ import annotations

from keel_harness.boot_analysis import STARTUP, parse_blame, seconds

BLAME = """\
  1min 5.123s live-config.service
      12.302s systemd-udev-settle.service
        812ms keel-hostid.service
          1ms getty@tty1.service
"""


def test_time_spans_in_seconds():
    assert seconds("1min 2.345s") == 62.345
    assert seconds("812ms") == 0.812
    assert seconds("3.5s") == 3.5


def test_the_slowest_units_come_first_with_their_seconds():
    assert parse_blame(BLAME, 2) == [{"unit": "live-config.service", "seconds": 65.123},
                                     {"unit": "systemd-udev-settle.service", "seconds": 12.302}]
    assert parse_blame(BLAME, 10)[-1] == {"unit": "getty@tty1.service", "seconds": 0.001}


def test_the_startup_total_with_and_without_an_initrd_term():
    line = "Startup finished in 4.115s (kernel) + 21.4s (initrd) + 1min 36.512s (userspace) = 2min 2.027s"
    assert seconds(STARTUP.search(line).group(2)) == 122.027
    assert seconds(STARTUP.search("Startup finished in 2s (kernel) + 3s (userspace) = 5s").group(2)) == 5.0
