"""[first-boot] from the answer to the installed system's files: the script, its flag and the unit's links per
source and ordering (their goldens are in test_render_golden), and their contract with keel-firstboot."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

import answerfile
from installer.core.config import FirstBoot
from installer.core.events import EventBus, ListSink
from installer.core.hardware import HardwareProfile
from installer.core.live import LiveInfo
from installer.installed_system import configure
from installer.installed_system.render import first_boot, provision
from installer.phase import InstallContext
from installer.runner import FakeRunner
from keel_firstboot import layout
from keel_testing.samples import CONFIG, HARDWARE, LVM_PLAN

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = Path(answerfile.__file__).parent / "examples"
LIVE = LiveInfo(Path("/payload.squashfs"), None)
SCRIPT = b"#!/bin/sh\necho configured\n\x00binary is fine\n"
ORDERINGS = ["before-network", "network-online", "fully-up"]


def answer_with(section: str) -> str:
    return (EXAMPLES / "minimal-ext4.toml").read_text() + "\n[first-boot]\n" + section


# (the answer's [first-boot], the FirstBoot it resolves to)
ANSWERS = [
    pytest.param('source = "from-iso"\n', FirstBoot("from-iso", "fully-up"), id="from-iso defaults to fully-up"),
    pytest.param('source = "from-iso"\nordering = "before-network"\n', FirstBoot("from-iso", "before-network"),
                 id="from-iso before the network"),
    pytest.param('source = "from-url"\nordering = "network-online"\nurl = "https://hooks.example/first-boot"\n'
                 'cert-fingerprint = "' + "AB:" * 31 + 'AB"\n',
                 FirstBoot("from-url", "network-online", "https://hooks.example/first-boot", "AB:" * 31 + "AB"),
                 id="from-url with a pinned certificate once the network is online"),
]


@pytest.mark.parametrize(("section", "expected"), ANSWERS)
def test_the_answers_first_boot_reaches_the_config(section, expected):
    hardware = HardwareProfile.read(EXAMPLES / "hardware/example-server.json")
    config = answerfile.resolve_text(answer_with(section), hardware).config
    assert config.first_boot == expected


def test_target_files_carry_the_script_root_only_and_the_flag():
    config = replace(CONFIG, first_boot=FirstBoot("from-iso", "network-online"))
    files = {f.path: f for f in configure.target_files(config, LVM_PLAN, HARDWARE, LIVE, SCRIPT)}
    script = files["/var/lib/keel/first-boot/script"]
    assert (script.text, script.mode, script.dir_mode) == (SCRIPT, 0o700, 0o700)
    flag = files["/var/lib/keel/first-boot/pending"]
    assert (flag.mode, flag.dir_mode) == (0o600, 0o700)
    assert "network-online" in flag.text


def test_without_first_boot_or_before_the_script_is_had_there_are_no_hook_files():
    assert not any("first-boot" in f.path for f in configure.target_files(CONFIG, LVM_PLAN, HARDWARE, LIVE, SCRIPT))
    config = replace(CONFIG, first_boot=FirstBoot("from-iso"))
    assert not any("first-boot" in f.path for f in configure.target_files(config, LVM_PLAN, HARDWARE, LIVE))
    assert configure.target_links(CONFIG) == {}


def context(tmp_path: Path, first: FirstBoot | None, script: bytes | None, unit_present: bool = True):
    target = tmp_path / "target"
    (target / "usr/share/zoneinfo/Europe").mkdir(parents=True)
    (target / "usr/share/zoneinfo/Europe/Vienna").write_text("TZif")
    if unit_present and first is not None:
        unit = target / first_boot.unit_of(first).lstrip("/")
        unit.parent.mkdir(parents=True)
        unit.write_text("[Unit]\n")
    sink = ListSink()
    ctx = InstallContext(config=replace(CONFIG, first_boot=first), plan=LVM_PLAN, hardware=HARDWARE,
                         runner=FakeRunner(), events=EventBus([sink]), live=LIVE, target=target,
                         first_boot_script=script)
    return ctx, sink


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_the_installer_writes_script_flag_and_links_onto_the_target(tmp_path, ordering):
    ctx, sink = context(tmp_path, FirstBoot("from-iso", ordering), SCRIPT)
    configure.write_configuration(ctx)
    state = ctx.target / "var/lib/keel/first-boot"
    assert (state / "script").read_bytes() == SCRIPT
    assert stat.S_IMODE((state / "script").stat().st_mode) == 0o700
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert (state / "pending").read_text() == (GOLDEN / f"first-boot-pending-{ordering}").read_text()
    for link, points_to in first_boot.render_unit_links(ctx.config.first_boot).items():
        assert (ctx.target / link.lstrip("/")).readlink() == Path(points_to)
    assert any("first-boot hook" in e.text for e in sink.of_type("message"))


def test_a_payload_without_the_unit_fails_the_configure_phase_with_the_reason(tmp_path):
    ctx, _ = context(tmp_path, FirstBoot("from-iso"), SCRIPT, unit_present=False)
    with pytest.raises(configure.FirstBootNotInPayload, match="rebuild the ISO"):
        configure.write_configuration(ctx)


def test_first_boot_without_a_script_is_a_bug_not_a_silent_skip(tmp_path):
    ctx, _ = context(tmp_path, FirstBoot("from-iso"), None)
    with pytest.raises(RuntimeError, match="no first-boot executable was obtained"):
        configure.write_configuration(ctx)


def test_the_installer_and_keel_firstboot_agree_on_paths_and_units():
    assert (first_boot.STATE_DIR, first_boot.SCRIPT, first_boot.PENDING) == (
        layout.STATE_DIR, layout.SCRIPT, layout.PENDING)
    assert (first_boot.UNIT_DIR, first_boot.ALIAS_LINK) == (layout.UNIT_DIR, layout.ALIAS_LINK)
    assert {o.name: (o.unit, o.wanted_by) for o in layout.ORDERINGS.values()} == first_boot.UNITS


def provision_context(tmp_path: Path, unit_present: bool = True, dry_run: bool = False):
    from keel_testing.samples import PROVISION_CONFIG

    target = tmp_path / "target"
    (target / "usr/share/zoneinfo/Europe").mkdir(parents=True)
    (target / "usr/share/zoneinfo/Europe/Vienna").write_text("TZif")
    if unit_present:
        unit = target / provision.UNIT_PATH.lstrip("/")
        unit.parent.mkdir(parents=True)
        unit.write_text("[Unit]\n")
    sink = ListSink()
    ctx = InstallContext(config=PROVISION_CONFIG, plan=LVM_PLAN, hardware=HARDWARE, runner=FakeRunner(),
                         events=EventBus([sink]), live=LIVE, target=target, dry_run=dry_run)
    return ctx, sink


def test_an_install_with_provision_enables_the_provision_unit(tmp_path):
    ctx, sink = provision_context(tmp_path)
    configure.write_configuration(ctx)
    link = ctx.target / "etc/systemd/system/multi-user.target.wants/keel-provision.service"
    assert link.readlink() == Path("/usr/lib/systemd/system/keel-provision.service")
    assert (ctx.target / "etc/keel/provision.json").is_file()
    assert any("keel-provision.service" in e.text for e in sink.of_type("message"))


def test_an_install_without_provision_enables_no_provision_unit():
    assert not any("provision" in link for link in configure.target_links(CONFIG))


def test_a_payload_without_the_provision_unit_fails_the_configure_phase_with_the_reason(tmp_path):
    ctx, _ = provision_context(tmp_path, unit_present=False)
    with pytest.raises(configure.ProvisionNotInPayload, match="rebuild the ISO"):
        configure.write_configuration(ctx)
    dry, _ = provision_context(tmp_path / "dry", unit_present=False, dry_run=True)
    configure.write_configuration(dry)


def test_a_payload_listing_without_the_provision_unit_is_refused_before_the_install(tmp_path):
    from installer.engine.first_boot import FirstBootError, check_provision_payload

    listing = tmp_path / "payload.files"
    listing.write_text("squashfs-root\nsquashfs-root/usr/sbin/keel-firstboot\n")
    with pytest.raises(FirstBootError, match=r"\[provision\].*keel-provision.service.*rebuild the ISO"):
        check_provision_payload(listing)
    listing.write_text("squashfs-root\nsquashfs-root/usr/lib/systemd/system/keel-provision.service\n")
    check_provision_payload(listing)
    check_provision_payload(None)


def test_the_installer_and_keel_firstboot_agree_on_the_provision_unit():
    assert (provision.UNIT, provision.WANTED_BY) == (layout.PROVISION_UNIT, layout.PROVISION_WANTED_BY)
    assert provision.UNIT_DIR == layout.UNIT_DIR
