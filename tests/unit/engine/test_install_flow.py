"""The whole install with a recording runner and a fake storage layer: order, events, failures, redaction."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from installer.core.events import EventBus, JsonLinesSink, ListSink, LogSink
from installer.core.live import LiveInfo
from installer.engine.engine import InstallFailed, register_secrets, run_install
from installer.engine.phases import build_phases, weights
from installer.installed_system import nosync
from installer.phase import InstallContext
from installer.runner import FakeRunner, Result
from keel_testing.samples import CONFIG, HARDWARE, LVM_PLAN, PASSWORD

MACHINE_ID = "0123456789abcdef0123456789abcdef"
KERNEL = "6.12.0-1-amd64"
STORAGE_STEPS = ["teardown_existing", "partition_disks", "create_volumes", "make_filesystems", "mount_target",
                 "write_back", "unmount_target", "finalize_storage"]


def fake_storage(calls: list[str]) -> SimpleNamespace:
    def step(name):
        def run(ctx):
            calls.append(name)
            ctx.run(["true", name])
        return run
    return SimpleNamespace(**{name: step(name) for name in STORAGE_STEPS})


def responder(argv, stdin):
    if argv == ("systemd-id128", "new"):
        return Result(argv, 0, MACHINE_ID + "\n")
    if argv[:2] == ("unsquashfs", "-l"):
        return Result(argv, 0, "squashfs-root\nsquashfs-root/etc\nsquashfs-root/etc/hostname\n")
    if argv[:2] == ("unsquashfs", "-f"):
        target = argv[argv.index("-d") + 1]
        return Result(argv, 0, f"{target}\n{target}/etc\n{target}/etc/hostname\n")
    return None


@pytest.fixture
def setup(tmp_path):
    def make(fail_on=None, extra_responders=()):
        host = tmp_path / "live"
        (host / "etc").mkdir(parents=True)
        (host / "etc/hostid").write_bytes(b"\x12\x34\x56\x78")
        target = tmp_path / "target"
        (target / "usr/share/zoneinfo/Europe").mkdir(parents=True)
        (target / "usr/share/zoneinfo/Europe/Vienna").write_text("TZif")
        (target / "boot").mkdir()
        (target / "boot" / f"vmlinuz-{KERNEL}").write_bytes(b"kernel")
        (target / "boot" / f"initrd.img-{KERNEL}").write_bytes(b"generic initramfs")
        log_path = tmp_path / "log/install.log"
        log_path.parent.mkdir()
        log = log_path.open("w")
        runner = FakeRunner(responders=[*extra_responders, responder], fail_on=fail_on)
        register_secrets(runner, CONFIG)
        calls: list[str] = []
        phases = build_phases(fake_storage(calls))
        sink = ListSink()
        jsonl = JsonLinesSink(tmp_path / "log/events.jsonl")
        bus = EventBus([sink, jsonl, LogSink(log)], weights(phases), redact=runner.redact)
        ctx = InstallContext(CONFIG, LVM_PLAN, HARDWARE, runner, bus,
                             LiveInfo(tmp_path / "payload.squashfs", None, mirror="http://mirror.invalid/debian"),
                             target=target, log_path=log_path, events_path=tmp_path / "log/events.jsonl",
                             host_root=host, concurrent=False)
        return SimpleNamespace(ctx=ctx, phases=phases, calls=calls, sink=sink, runner=runner, target=target,
                               log=log, log_path=log_path, events_path=tmp_path / "log/events.jsonl")
    return make


def test_phases_run_in_order_and_finish_ok(setup):
    s = setup()
    run_install(s.ctx, s.phases)
    assert [e.text for e in s.sink.of_type("phase")] == [p.name for p in s.phases]
    assert s.calls == STORAGE_STEPS
    finished = s.sink.of_type("finished")
    assert [(e.ok, e.text) for e in finished] == [(True, "Installation finished")]
    ratios = [e.ratio for e in s.sink.events]
    assert ratios == sorted(ratios) and ratios[-1] == 1.0


def test_the_target_gets_its_files_identity_and_root_access(setup):
    s = setup()
    run_install(s.ctx, s.phases)
    t = s.target
    assert (t / "etc/hostname").read_text() == "pve1\n"
    assert "bridge-ports eno1" in (t / "etc/network/interfaces").read_text()
    assert (t / "etc/hostid").read_bytes() == b"\x12\x34\x56\x78"
    assert (t / "etc/machine-id").read_text() == MACHINE_ID + "\n"
    assert (t / "etc/localtime").readlink() == Path("/usr/share/zoneinfo/Europe/Vienna")
    assert (t / "root/.ssh/authorized_keys").stat().st_mode & 0o777 == 0o600
    assert (t / "root/.ssh").stat().st_mode & 0o777 == 0o700
    assert (t / "etc/pve/storage.cfg").read_text().startswith("dir: local\n")
    assert not (t / "usr/sbin/policy-rc.d").exists(), "policy-rc.d is removed at the end"
    chpasswd = [(argv, stdin) for argv, stdin in s.runner.calls if "chpasswd" in argv]
    assert chpasswd == [(("chroot", str(t), "chpasswd"), f"root:{PASSWORD}\n")]


def test_the_event_stream_is_copied_to_the_target_with_the_log_for_root_only(setup):
    s = setup()
    run_install(s.ctx, s.phases)
    for path in (s.log_path, s.events_path):
        copy = s.target / str(path).lstrip("/")
        assert copy.is_file(), path
        assert copy.stat().st_mode & 0o777 == 0o600
    assert '"type": "phase"' in (s.target / str(s.events_path).lstrip("/")).read_text()


def test_the_event_stream_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("")
    path.chmod(0o644)                       # as an older install left it
    sink = JsonLinesSink(path)
    sink.close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_commands_run_in_install_order(setup):
    s = setup()
    run_install(s.ctx, s.phases)
    programs = []
    for argv in s.runner.commands:
        name = argv[2] if argv[0] == "chroot" else argv[0]
        key = name if name != "true" else argv[1]
        # update-grub runs beside the grub-installs (either may come first): both count as "(boot)"
        key = "(boot)" if key in ("grub-install", "update-grub") else key
        if key in ("mount", "umount") or (programs and programs[-1] == key):
            continue
        programs.append(key)
    assert programs == [
        "teardown_existing", "partition_disks", "create_volumes", "make_filesystems", "mount_target",
        "unsquashfs", "write_back", "systemd-id128", "chpasswd", "ssh-keygen", "(boot)", "unmount_target",
        "finalize_storage",
    ]
    ran = {argv[2] for argv in s.runner.commands if argv[0] == "chroot"}
    assert {"grub-install", "update-grub"} <= ran


def test_chroot_mounts_are_undone_in_reverse_before_the_target_is_unmounted(setup):
    s = setup()
    run_install(s.ctx, s.phases)
    cmds = s.runner.commands
    mounted = [argv[-1] for argv in cmds if argv[0] == "mount"]
    unmounted = [argv[-1] for argv in cmds if argv[0] == "umount"]
    assert unmounted == list(reversed(mounted))
    last_umount = max(i for i, argv in enumerate(cmds) if argv[0] == "umount")
    assert cmds.index(("true", "unmount_target")) > last_umount


def fails(program):
    def respond(argv, stdin):
        if program in argv[:3]:
            return Result(argv, 1, "", f"{program}: something broke\n")
        return None
    return respond


def test_a_failing_command_ends_in_a_clear_error_and_no_success(setup):
    s = setup(extra_responders=[fails("grub-install")])
    with pytest.raises(InstallFailed) as failed:
        run_install(s.ctx, s.phases)
    assert failed.value.phase == "Making the disks bootable"
    errors = s.sink.of_type("error")
    assert len(errors) == 1
    assert "Making the disks bootable" in errors[0].text
    assert "grub-install --target=i386-pc" in errors[0].text
    assert f"full log: {s.log_path}" in errors[0].detail
    assert "grub-install: something broke" in errors[0].detail
    assert [e.ok for e in s.sink.of_type("finished")] == [False]
    assert not any(e.type == "finished" and e.ok for e in s.sink.events)


def test_after_a_failure_everything_is_unmounted_and_storage_is_not_finalized(setup):
    s = setup(extra_responders=[fails("grub-install")])
    with pytest.raises(InstallFailed):
        run_install(s.ctx, s.phases)
    mounted = [argv[-1] for argv in s.runner.commands if argv[0] == "mount"]
    unmounted = [argv[-1] for argv in s.runner.commands if argv[0] == "umount"]
    assert sorted(mounted) == sorted(unmounted)
    assert "unmount_target" in s.calls
    assert "finalize_storage" not in s.calls


def test_an_injected_fault_fails_the_first_command_of_that_program(setup):
    s = setup(fail_on="unsquashfs")
    with pytest.raises(InstallFailed) as failed:
        run_install(s.ctx, s.phases)
    assert failed.value.phase == "Extracting the base system"
    assert "fault injected" in s.sink.of_type("error")[0].detail


def test_a_failing_storage_step_stops_before_anything_else(setup):
    s = setup()
    s.ctx.runner.fault = "true"
    with pytest.raises(InstallFailed) as failed:
        run_install(s.ctx, s.phases)
    assert failed.value.phase == "Removing old storage on the selected disks"
    assert s.calls == ["teardown_existing"]
    assert not any(argv[0] == "mount" for argv in s.runner.commands)


def test_the_password_never_reaches_the_log_or_the_events(setup):
    def leaky(argv, stdin):
        if argv[-1] == "update-grub":
            return Result(argv, 1, "", f"error: cannot stat root:{PASSWORD}\n")
        return None

    s = setup(extra_responders=[leaky])
    with pytest.raises(InstallFailed):
        run_install(s.ctx, s.phases)
    s.log.close()
    events_text = s.events_path.read_text()
    log_text = s.log_path.read_text()
    assert "cannot stat root:<redacted>" in events_text
    assert PASSWORD not in events_text
    assert PASSWORD not in log_text
    assert all(PASSWORD not in json.dumps(e.__dict__) for e in s.sink.events)


def test_the_install_log_is_copied_onto_the_target(setup):
    s = setup()
    s.log.write("a line of the log\n")
    s.log.flush()
    run_install(s.ctx, s.phases)
    copied = s.target / str(s.log_path).lstrip("/")
    assert "a line of the log" in copied.read_text()


def test_without_a_live_hostid_the_target_gets_a_new_one(setup):
    s = setup()
    (s.ctx.host_root / "etc/hostid").unlink()
    run_install(s.ctx, s.phases)
    assert len((s.target / "etc/hostid").read_bytes()) == 4
    assert any("new random hostid" in e.text for e in s.sink.of_type("warning"))


def test_an_injected_fault_also_hits_a_program_run_inside_the_chroot(setup):
    s = setup(fail_on="grub-install")
    with pytest.raises(InstallFailed) as failed:
        run_install(s.ctx, s.phases)
    assert failed.value.phase == "Making the disks bootable"
    assert "grub-install --target=i386-pc" in s.sink.of_type("error")[0].text
    assert ("chroot", str(s.target), "chpasswd") in s.runner.commands, "earlier chroot commands ran normally"


def test_on_lvm_the_grub_probe_cache_is_mounted_over_the_targets_grub_probe_while_the_boot_loaders_go_on(setup):
    s = setup()
    probe = s.target / "usr/sbin/grub-probe"
    probe.parent.mkdir(parents=True)
    probe.write_bytes(b"real grub-probe")
    run_install(s.ctx, s.phases)
    argvs = [argv for argv, _ in s.runner.calls]
    cache = str(s.target / "tmp/keel-probe-cache/grub-probe")
    mount = argvs.index(("mount", "--bind", cache, str(probe)))
    grub = [i for i, argv in enumerate(argvs) if argv[2:3] in (("update-grub",), ("grub-install",))]
    assert grub and mount < min(grub)
    assert max(grub) < argvs.index(("umount", str(probe)))
    assert (s.target / "tmp/keel-probe-cache/grub-probe.real").read_bytes() == b"real grub-probe"


def test_chroot_commands_run_without_their_syncs_when_the_live_system_has_libeatmydata(setup):
    s = setup()
    library = s.ctx.host_root / nosync.LIBRARY.lstrip("/")
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF stand-in")
    run_install(s.ctx, s.phases)
    chroot = [argv for argv in s.runner.commands if argv[0] == "chroot"]
    assert chroot and all(argv[2:4] == ("env", f"LD_PRELOAD={nosync.INSIDE}") for argv in chroot)
    assert {"grub-install", "chpasswd", "ssh-keygen"} <= {argv[4] for argv in chroot}
    copy = s.target / nosync.INSIDE.lstrip("/")
    assert copy.read_bytes() == b"\x7fELF stand-in"
    assert copy.stat().st_mode & 0o777 == 0o644


def test_without_libeatmydata_the_chroot_commands_run_as_they_are_and_the_log_says_so(setup):
    s = setup()
    run_install(s.ctx, s.phases)
    assert ("chroot", str(s.target), "ssh-keygen", "-A") in s.runner.commands
    assert not any("env" in argv for argv in s.runner.commands)
    assert any(nosync.LIBRARY in e.text and "sync every file" in e.text for e in s.sink.of_type("message"))


def live_ssh_keygen(argv, stdin):
    """The live system's `ssh-keygen -A -f <dir>`: as it does, writes below <dir>/etc/ssh each of the three key
    pairs that is not there yet."""
    if argv[:3] != ("/usr/bin/ssh-keygen", "-A", "-f"):
        return None
    ssh = Path(argv[3]) / "etc/ssh"
    made = []
    for kind in ("rsa", "ecdsa", "ed25519"):
        if (ssh / f"ssh_host_{kind}_key").exists():
            continue
        (ssh / f"ssh_host_{kind}_key").write_text(f"PRIVATE {kind}\n")
        (ssh / f"ssh_host_{kind}_key.pub").write_text(f"ssh-{kind} AAAA root@keel\n")
        made.append(kind.upper())
    return Result(argv, 0, f"ssh-keygen: generating new host keys: {' '.join(made)}\n")


def test_the_host_keys_are_made_in_the_live_system_before_the_disks_and_copied_on_private(setup):
    s = setup(extra_responders=[live_ssh_keygen])
    keygen = s.ctx.host_root / "usr/bin/ssh-keygen"
    keygen.parent.mkdir(parents=True)
    keygen.write_bytes(b"\x7fELF stand-in")
    run_install(s.ctx, s.phases)
    commands = s.runner.commands
    made = s.ctx.host_root / "run/keel/host-keys"
    assert commands[0] == ("/usr/bin/ssh-keygen", "-A", "-f", str(made)), "before the first storage step"
    assert not any("ssh-keygen" in argv for argv in commands[1:]), "the chroot makes none"
    for kind in ("rsa", "ecdsa", "ed25519"):
        private = s.target / f"etc/ssh/ssh_host_{kind}_key"
        assert private.read_text() == f"PRIVATE {kind}\n"
        assert private.stat().st_mode & 0o777 == 0o600
        assert (s.target / f"etc/ssh/ssh_host_{kind}_key.pub").stat().st_mode & 0o777 == 0o644
    assert not made.exists(), "the live system keeps no copy of the private keys"


def test_host_keys_the_live_ssh_keygen_did_not_make_are_made_in_the_target_with_a_warning(setup):
    s = setup()                  # the live system's ssh-keygen "succeeds" and writes nothing
    keygen = s.ctx.host_root / "usr/bin/ssh-keygen"
    keygen.parent.mkdir(parents=True)
    keygen.write_bytes(b"\x7fELF stand-in")
    run_install(s.ctx, s.phases)
    assert ("chroot", str(s.target), "ssh-keygen", "-A") in s.runner.commands
    assert any("made no host keys" in e.text for e in s.sink.of_type("warning"))
    assert not (s.ctx.host_root / "run/keel/host-keys").exists()


def test_a_failed_install_leaves_no_host_keys_in_the_live_system(setup):
    s = setup(fail_on="unsquashfs", extra_responders=[live_ssh_keygen])
    keygen = s.ctx.host_root / "usr/bin/ssh-keygen"
    keygen.parent.mkdir(parents=True)
    keygen.write_bytes(b"\x7fELF stand-in")
    with pytest.raises(InstallFailed):
        run_install(s.ctx, s.phases)
    assert s.runner.commands[0][0] == "/usr/bin/ssh-keygen"
    assert not (s.ctx.host_root / "run/keel/host-keys").exists()



def test_the_host_keys_the_live_boot_made_are_taken_once_and_completed_by_ssh_keygen(setup):
    s = setup(extra_responders=[live_ssh_keygen])
    keygen = s.ctx.host_root / "usr/bin/ssh-keygen"
    keygen.parent.mkdir(parents=True)
    keygen.write_bytes(b"\x7fELF stand-in")
    spare = s.ctx.host_root / "run/keel/host-keys-spare"
    (spare / "etc/ssh").mkdir(parents=True)
    (spare / "etc/ssh/ssh_host_ed25519_key").write_text("PRIVATE made at boot\n")
    (spare / "etc/ssh/ssh_host_ed25519_key.pub").write_text("ssh-ed25519 BOOT root@keel\n")
    run_install(s.ctx, s.phases)
    made = s.ctx.host_root / "run/keel/host-keys"
    assert s.runner.commands[0] == ("/usr/bin/ssh-keygen", "-A", "-f", str(made))
    assert (s.target / "etc/ssh/ssh_host_ed25519_key").read_text() == "PRIVATE made at boot\n"
    assert (s.target / "etc/ssh/ssh_host_ed25519_key").stat().st_mode & 0o777 == 0o600
    assert (s.target / "etc/ssh/ssh_host_rsa_key").read_text() == "PRIVATE rsa\n"
    assert not spare.exists(), "no second install of this boot gets the same keys"
    assert not made.exists(), "the live system keeps no copy of the private keys"
    assert any("live boot made" in e.text for e in s.sink.of_type("message"))
