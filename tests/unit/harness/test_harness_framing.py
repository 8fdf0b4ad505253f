"""Command framing over the serial console: what is typed, and how the reply is read back."""

import base64
import re

import pytest

from keel_harness.framing import FramingError, frame_command, parse_reply, setup_line, shell_ready_pattern

NONCE = "0123abcd"


def test_the_typed_line_never_contains_the_markers_so_its_echo_cannot_match():
    framed = frame_command("lsblk", NONCE)
    assert framed.begin_marker == "__KEEL_BEGIN_0123abcd__"
    assert framed.begin_marker not in framed.line
    assert re.search(framed.end_pattern, framed.line) is None


def test_the_command_travels_base64_encoded_and_runs_under_bash_with_stdin_closed():
    framed = frame_command("echo 'it''s' \"$HOME\" | wc -c", NONCE)
    # base64 of the command, worked out by hand from the bytes above
    assert base64.b64encode(b"echo 'it''s' \"$HOME\" | wc -c").decode() in framed.line
    assert framed.line.startswith('bash -c "$(echo ')
    assert "</dev/null" in framed.line
    assert "base64 -w 64" in framed.line


def test_a_nonce_that_is_not_lowercase_hex_is_refused():
    with pytest.raises(ValueError, match="nonce"):
        frame_command("true", "not hex!")


def test_a_reply_gives_the_exit_status_and_the_decoded_output():
    # "hello\n" is aGVsbG8K in base64
    console = "__KEEL_BEGIN_0123abcd__\r\r\naGVsbG8K\r\r\n__KEEL_RC_0123abcd=0__\r\r\n"
    assert parse_reply(console, NONCE) == (0, "hello\n")


def test_an_empty_output_with_a_failure_status_is_read_as_such():
    console = "__KEEL_BEGIN_0123abcd__\r\n__KEEL_RC_0123abcd=127__"
    assert parse_reply(console, NONCE) == (127, "")


def test_output_split_over_several_lines_is_joined_before_decoding():
    # "abcdef" -> YWJj ZGVm, split at a 4-character boundary as `base64 -w 4` would
    console = "__KEEL_BEGIN_0123abcd__\nYWJj\nZGVm\n__KEEL_RC_0123abcd=0__"
    assert parse_reply(console, NONCE) == (0, "abcdef")


def test_kernel_messages_between_the_markers_are_ignored():
    console = (
        "__KEEL_BEGIN_0123abcd__\r\n"
        "aGVsbG8K\r\n"
        "[   42.123456] sd 2:0:0:0: [sdb] Attached SCSI disk\r\n"
        "__KEEL_RC_0123abcd=0__\r\n"
    )
    assert parse_reply(console, NONCE) == (0, "hello\n")


def test_an_echoed_command_line_before_the_markers_does_not_confuse_the_reader():
    framed = frame_command("echo hello", NONCE)
    console = framed.line + "\r\n" + "__KEEL_BEGIN_0123abcd__\r\naGVsbG8K\r\n__KEEL_RC_0123abcd=0__\r\n"
    assert parse_reply(console, NONCE) == (0, "hello\n")


def test_the_reply_of_another_command_is_not_taken_for_this_one():
    console = "__KEEL_BEGIN_ffff0000__\naGVsbG8K\n__KEEL_RC_ffff0000=0__\n"
    with pytest.raises(FramingError, match="not found"):
        parse_reply(console, NONCE)


def test_garbled_base64_is_reported_with_the_console_text():
    console = "__KEEL_BEGIN_0123abcd__\naGVsbG8\n__KEEL_RC_0123abcd=0__"
    with pytest.raises(FramingError, match="garbled"):
        parse_reply(console, NONCE)


def test_the_shell_setup_turns_echo_off_and_announces_itself_with_an_echo_safe_marker():
    line = setup_line(NONCE)
    assert line.startswith("stty -echo;")
    assert "TERM=dumb" in line
    assert re.search(shell_ready_pattern(NONCE), line) is None
    assert re.search(shell_ready_pattern(NONCE), "__KEEL_SHELL_0123abcd__")
