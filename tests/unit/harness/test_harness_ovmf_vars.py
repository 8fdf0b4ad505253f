"""Each UEFI machine starts from its own copy of the variable store its firmware needs."""

from pathlib import Path

import pytest

OVMF = Path("/usr/share/OVMF")


@pytest.mark.parametrize(
    ("secure_boot", "template"),
    [(False, "OVMF_VARS_4M.fd"), (True, "OVMF_VARS_4M.ms.fd")],
    ids=["plain OVMF: an empty store", "Secure Boot: the store with Microsoft's keys enrolled"],
)
def test_the_machine_copies_the_store_for_its_firmware(console_machine, secure_boot, template):
    if not (OVMF / template).is_file():
        pytest.skip(f"needs ovmf ({OVMF / template})")
    machine = console_machine(b"", firmware="uefi", secure_boot=secure_boot)
    assert machine.ovmf_vars_path.read_bytes() == (OVMF / template).read_bytes()
