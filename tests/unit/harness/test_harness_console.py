"""The console-line reader on what the harness really receives from a Keel auto install.

console/auto-install-ext4.bin is that stream, written out in its real form (no e2e console.log was at hand):
every line ends "\\r\\r\\n" (the guest's tty and the host pty QEMU writes to each turn "\\n" into "\\r\\n"),
systemd colours its status lines and redraws one after a bare "\\r", and the installer's lines are those
`keel-installer auto` prints for an ext4 install. console/auto-install-ext4.txt is what a person reads there.
"""

from pathlib import Path

import pytest

from keel_harness.console import ConsoleLines, clean_line, console_lines

HERE = Path(__file__).parent / "console"
RECORDED = (HERE / "auto-install-ext4.bin").read_bytes()
READ = (HERE / "auto-install-ext4.txt").read_text().splitlines()


def test_the_recorded_install_reads_as_the_lines_a_person_sees():
    assert console_lines(RECORDED) == READ


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 4096], ids=lambda size: f"in {size}-byte chunks")
def test_chunks_of_any_size_give_the_same_lines(size):
    reader = ConsoleLines()
    lines = []
    for start in range(0, len(RECORDED), size):
        reader.feed(RECORDED[start : start + size])
        lines += reader.lines()
    assert lines == READ
    assert reader.pending == ""


def test_a_split_anywhere_gives_the_same_lines():
    for cut in range(len(RECORDED)):
        reader = ConsoleLines()
        reader.feed(RECORDED[:cut])
        lines = list(reader.lines())
        reader.feed(RECORDED[cut:])
        assert [*lines, *reader.lines()] == READ, f"split at byte {cut}"


def test_a_line_is_handed_out_only_once_its_newline_arrives():
    reader = ConsoleLines()
    reader.feed(b"[ 17%] Extracting the base sys")
    assert list(reader.lines()) == []
    reader.feed(b"tem\r\r")
    assert list(reader.lines()) == []
    reader.feed(b"\n[ 62%] Prep")
    assert list(reader.lines()) == ["[ 17%] Extracting the base system"]
    assert reader.pending == "[ 62%] Prep"


def test_a_reader_that_stops_early_leaves_the_rest_pending_as_it_came():
    reader = ConsoleLines()
    reader.feed("Installation finished\r\r\nRebooting in 5 s ...\r\r\nRebooting in 4")
    lines = reader.lines()
    assert next(lines) == "Installation finished"
    assert reader.pending == "Rebooting in 5 s ...\r\r\nRebooting in 4"


def test_a_character_split_between_chunks_is_kept_whole():
    text = "Keel – ünïcode ✓\r\r\n".encode()
    reader = ConsoleLines()
    for byte in text:
        reader.feed(bytes([byte]))
    assert list(reader.lines()) == ["Keel – ünïcode ✓"]


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("Installation finished\r\r", "Installation finished"),
        ("Installation finished\r", "Installation finished"),
        ("Installation finished", "Installation finished"),
        ("[\x1b[0;1;38:5:185mDEPEND\x1b[0m] Dependency failed", "[DEPEND] Dependency failed"),
        ("\x1b[?25l\x1b[1;1H\x1b(B\x1b)0\x0fKEEL-READY mode=tui\x1b[K", "KEEL-READY mode=tui"),
        ("\x1b]0;keel\x07root@keel:~# ", "root@keel:~# "),
        ("[  *** ] A start job is running (5s)\r\x1b[K[  OK  ] Finished", "[  OK  ] Finished"),
    ],
    ids=[
        "both carriage returns of a serial line ending go",
        "a single carriage return goes",
        "a line without carriage return stays",
        "colours with colon parameters go",
        "cursor moves, charset switches and shift-in go",
        "a window title goes",
        "a line redrawn after a bare carriage return reads as its last drawing",
    ],
)
def test_clean_line(raw, read):
    assert clean_line(raw) == read


def test_the_end_of_a_finished_output_is_a_line_even_without_newline():
    assert console_lines(b"KEEL-READY mode=auto\r\r\nroot@keel:~# ") == ["KEEL-READY mode=auto", "root@keel:~# "]
