"""bench/install_time.py reads the install log's commands and their seconds, also those run beside other work."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "install_time", Path(__file__).resolve().parents[3] / "bench" / "install_time.py")
install_time = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(install_time)

LOG = """\
[13:09:35] PHASE: Configuring the system
$ chroot /target ssh-keygen -A
$ chroot /target chpasswd  (with input on stdin)
  exit 0 (2.0 s)
$ unsquashfs -f -i -d /target /p.squashfs  (streamed)
  exit 0 (40.5 s)
$ chroot /target keel-boot-tool init /dev/vda2
  | ssh-keygen: generating new host keys: RSA ECDSA ED25519
  exit 0 (13.1 s) for $ chroot /target ssh-keygen -A
  | done
  exit 0 (4.3 s)
"""


def test_each_exit_line_is_given_to_its_own_command():
    found = {c["command"]: c["seconds"] for c in install_time.slowest_commands(LOG)}
    assert found == {
        "unsquashfs -f -i -d /target /p.squashfs": 40.5,
        "chroot /target ssh-keygen -A": 13.1,
        "chroot /target keel-boot-tool init /dev/vda2": 4.3,
        "chroot /target chpasswd": 2.0,
    }


def test_the_slowest_come_first_and_only_the_top_ones():
    assert [c["seconds"] for c in install_time.slowest_commands(LOG, top=2)] == [40.5, 13.1]


def test_results_of_other_vcpu_counts_and_multi_threaded_tcg_get_their_own_keys():
    assert install_time.result_key("zfs", 2) == "zfs"
    assert install_time.result_key("zfs", 1) == "zfs-1cpu"
    assert install_time.result_key("zfs", 2, "multi") == "zfs-mttcg"
    assert install_time.result_key("zfs", 1, "multi") == "zfs-1cpu-mttcg"
