"""`keel-answer prepare-iso` / `inspect-iso` on a real (tiny) hybrid ISO made by grub-mkrescue, as Keel's is.

Every prepared image is read back with xorriso itself (`-osirrox on -extract`, `-report_el_torito`), and the
installer's own reader (`answer_sources.fetch`) is pointed at the extracted tree: what prepare-iso writes is
what the installer finds.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from answerfile import cli
from answerfile.media.prepare import PrepareRequest, option_problems
from answerfile.redaction import redact_answer_text
from installer.answer_sources.fetch import Places, fetch
from installer.core.cmdline import KernelParams
from installer.runner import FakeRunner
from keel_iso.bootmenu import render_grub_cfg
from keel_testing.compat import EXAMPLES

pytestmark = pytest.mark.skipif(not (shutil.which("xorriso") and shutil.which("grub-mkrescue")),
                                reason="needs xorriso and grub-mkrescue on the host (apt install xorriso grub-common "
                                       "grub-pc-bin grub-efi-amd64-bin mtools)")

ANSWER = (EXAMPLES / "minimal-ext4.toml").read_text()
PASSWORD = "change-me-please"
FINGERPRINT = ":".join(["AB"] * 32)
KERNEL = b"not really a kernel\n"
INITRD = b"not really an initrd\n"


def xorriso(*args: str) -> str:
    done = subprocess.run(["xorriso", *args], capture_output=True, text=True, check=True)
    return done.stdout + done.stderr


def make_tree(root: Path, *, keel: bool = True) -> Path:
    """The files iso-build puts into its staging tree (image.write_iso_tree), with stand-ins for live/."""
    (root / "live").mkdir(parents=True)
    (root / "live/vmlinuz").write_bytes(KERNEL)
    (root / "live/initrd.img").write_bytes(INITRD)
    (root / "live/filesystem.squashfs").write_bytes(b"squashfs")
    (root / "boot/grub").mkdir(parents=True)
    (root / "boot/grub/grub.cfg").write_text(render_grub_cfg("0.1.0", "minimal"))
    if keel:
        (root / ".disk").mkdir()
        (root / ".disk/info").write_text("Keel 0.1.0 (minimal) amd64\n")
        (root / "keel").mkdir()
        (root / "keel/build.json").write_text(json.dumps({"version": "0.1.0", "profile": "minimal"}))
    return root


@pytest.fixture(scope="module")
def keel_iso(tmp_path_factory) -> Path:
    """A BIOS + UEFI hybrid ISO made as iso-build makes Keel's (grub-mkrescue), with Keel's marker files."""
    base = tmp_path_factory.mktemp("iso")
    iso = base / "keel.iso"
    subprocess.run(["grub-mkrescue", "-o", str(iso), str(make_tree(base / "tree")), "--", "-volid", "KEEL_0_1_0"],
                   capture_output=True, check=True)
    return iso


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def prepared(capsys, keel_iso: Path, out: Path, *options: str) -> Path:
    code, _, err = run(capsys, "prepare-iso", keel_iso, "--output", out, *options)
    assert code == 0, err
    return out


def read_back(iso: Path, tmp_path: Path, *paths: str) -> dict[str, bytes | None]:
    """The files as xorriso extracts them from the image (None: not there)."""
    found: dict[str, bytes | None] = {}
    for number, path in enumerate(paths):
        dest = tmp_path / f"extracted-{number}"
        done = subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract", path, str(dest)],
                              capture_output=True, text=True)
        found[path] = dest.read_bytes() if done.returncode == 0 and dest.is_file() else None
    return found


def answer_file(tmp_path: Path, text: str = ANSWER) -> Path:
    path = tmp_path / "answer.toml"
    path.write_text(text)
    return path


# The mode file, as Proxmox's prepare-iso writes it (reference §7.1): snake_case keys, [http] for http.
@pytest.mark.parametrize(("options", "expected"), [
    pytest.param(("--fetch-from", "partition"), {"mode": "partition", "partition_label": "proxmox-ais"},
                 id="partition mode with the default label"),
    pytest.param(("--fetch-from", "partition", "--partition-label", "MY-ANSWERS"),
                 {"mode": "partition", "partition_label": "MY-ANSWERS"}, id="partition mode with its own label"),
    pytest.param(("--fetch-from", "http", "--url", "https://answers.example.com/answer", "--cert-fingerprint",
                  FINGERPRINT, "--answer-auth-token", "rack1:s3cret"),
                 {"mode": "http", "partition_label": "proxmox-ais",
                  "http": {"url": "https://answers.example.com/answer", "cert_fingerprint": FINGERPRINT,
                           "token": "rack1:s3cret"}}, id="http mode with url fingerprint and token"),
    pytest.param(("--fetch-from", "http"), {"mode": "http", "partition_label": "proxmox-ais"},
                 id="http mode without a url leaves it to DHCP or DNS"),
])
def test_the_mode_file_at_the_iso_root_says_where_the_answer_is(capsys, keel_iso, tmp_path, options, expected):
    out = prepared(capsys, keel_iso, tmp_path / "out.iso", *options)
    files = read_back(out, tmp_path, "/auto-installer-mode.toml", "/keel/answer.toml")
    assert tomllib.loads(files["/auto-installer-mode.toml"].decode()) == expected
    assert files["/keel/answer.toml"] is None


def test_fetch_from_iso_puts_the_answer_under_keel_byte_for_byte(capsys, keel_iso, tmp_path):
    out = prepared(capsys, keel_iso, tmp_path / "out.iso", "--fetch-from", "iso",
                   "--answer-file", answer_file(tmp_path))
    files = read_back(out, tmp_path, "/auto-installer-mode.toml", "/keel/answer.toml", "/keel/build.json")
    assert files["/auto-installer-mode.toml"] == b'mode = "iso"\npartition_label = "proxmox-ais"\n'
    assert files["/keel/answer.toml"] == ANSWER.encode()
    assert files["/keel/build.json"] is not None


def test_the_installer_finds_the_answer_where_prepare_iso_put_it(capsys, keel_iso, tmp_path):
    out = prepared(capsys, keel_iso, tmp_path / "out.iso", "--fetch-from", "iso",
                   "--answer-file", answer_file(tmp_path))
    medium = tmp_path / "medium"
    xorriso("-osirrox", "on", "-indev", str(out), "-extract", "/", str(medium))
    try:
        places = Places(medium=medium, by_label=tmp_path / "by-label", mountpoint=tmp_path / "mnt")
        answer = fetch(KernelParams(), FakeRunner(), lambda: {}, places)
        assert answer.text == ANSWER
        assert answer.source == str(medium / "keel/answer.toml")
    finally:
        for path in [medium, *medium.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)


def test_the_boot_equipment_survives_bios_and_uefi_el_torito_hybrid_mbr_gpt_and_the_grub_uuid(
        capsys, keel_iso, tmp_path):
    out = prepared(capsys, keel_iso, tmp_path / "out.iso", "--fetch-from", "iso",
                   "--answer-file", answer_file(tmp_path))
    el_torito = xorriso("-indev", str(out), "-report_el_torito", "plain")
    assert "El Torito img path :   1  /boot/grub/i386-pc/eltorito.img" in el_torito
    assert "El Torito img opts :   1  boot-info-table grub2-boot-info" in el_torito
    assert "El Torito img path :   2  /efi.img" in el_torito
    assert [line.split()[6] for line in el_torito.splitlines() if line.startswith("El Torito boot img :")] == [
        "BIOS", "UEFI"]
    system_area = xorriso("-indev", str(out), "-report_system_area", "plain")
    assert "System area summary: MBR protective-msdos-label grub2-mbr cyl-align-off GPT" in system_area
    assert "GPT partition path :   2  /efi.img" in system_area
    # grub-mkrescue's GRUB finds its ISO by `search --fs-uuid`: the volume's modification date
    modified = [line for line in xorriso("-indev", str(keel_iso), "-pvd_info").splitlines() if "Modif. Time" in line]
    assert modified and modified == [
        line for line in xorriso("-indev", str(out), "-pvd_info").splitlines() if "Modif. Time" in line]
    # a hybrid image: the backup GPT ends the file (no padding after it, no 64 KiB header before it)
    size_512 = int(next(line.split(":")[1] for line in system_area.splitlines() if "ISO image size/512" in line))
    assert size_512 * 512 == out.stat().st_size


def test_a_bad_answer_writes_nothing_and_names_the_file_and_key(capsys, keel_iso, tmp_path):
    bad = answer_file(tmp_path, ANSWER.replace(f'"{PASSWORD}"', '"short"'))
    out = tmp_path / "out" / "p.iso"
    out.parent.mkdir()
    code, stdout, err = run(capsys, "prepare-iso", keel_iso, "--output", out, "--fetch-from", "iso",
                            "--answer-file", bad)
    assert code == 1
    assert err == f"keel-answer: {bad}: global.root-password: must be at least 8 characters long (got 5)\n"
    assert stdout == ""
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("kind", ["an ISO without Keel's files", "a file that is no ISO"])
def test_an_iso_that_is_not_keels_is_refused(capsys, tmp_path, kind):
    iso = tmp_path / "other.iso"
    if kind == "a file that is no ISO":
        iso.write_bytes(b"\0" * 65536)
    else:
        xorriso("-as", "mkisofs", "-o", str(iso), "-V", "OTHER", str(make_tree(tmp_path / "tree", keel=False)))
    code, _, err = run(capsys, "prepare-iso", iso, "--output", tmp_path / "p.iso", "--fetch-from", "partition")
    assert code == 1
    assert err == f"keel-answer: {iso} is not a Keel ISO (it has no /keel/build.json); build one with `make iso`\n"
    assert not (tmp_path / "p.iso").exists()


def test_without_xorriso_the_message_says_which_package_to_install(capsys, keel_iso, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(capsys, "prepare-iso", keel_iso, "--output", tmp_path / "p.iso", "--fetch-from", "partition")
    assert code == 1
    assert err == "keel-answer: xorriso is not installed: install the xorriso package (apt install xorriso)\n"
    code, _, err = run(capsys, "inspect-iso", keel_iso)
    assert "install the xorriso package" in err


def test_inspect_masks_the_password_token_and_url_credentials_unless_asked(capsys, keel_iso, tmp_path):
    with_answer = prepared(capsys, keel_iso, tmp_path / "iso.iso", "--fetch-from", "iso",
                           "--answer-file", answer_file(tmp_path))
    code, report, _ = run(capsys, "inspect-iso", with_answer)
    assert code == 0
    assert "Keel:       0.1.0 (minimal payload)" in report
    assert "Fetch mode: iso" in report
    assert 'root-password = "<redacted>"' in report
    assert PASSWORD not in report
    _, shown, _ = run(capsys, "inspect-iso", with_answer, "--show-sensitive")
    assert shown.endswith(ANSWER)

    url = "https://installer:pw0rd@answers.example.com/answer?site=vie"
    http = prepared(capsys, keel_iso, tmp_path / "http.iso", "--fetch-from", "http", "--url", url,
                    "--cert-fingerprint", FINGERPRINT, "--answer-auth-token", "rack1:s3cret")
    _, report, _ = run(capsys, "inspect-iso", http)
    assert "URL:         https://***@answers.example.com/answer?site=vie\n" in report
    assert f"Fingerprint: {FINGERPRINT}\n" in report
    assert "Token:       <redacted>\n" in report
    assert "pw0rd" not in report and "s3cret" not in report
    _, shown, _ = run(capsys, "inspect-iso", http, "--show-sensitive")
    assert f"URL:         {url}\n" in shown and "Token:       rack1:s3cret\n" in shown


def test_an_unprepared_iso_shows_no_fetch_mode(capsys, keel_iso):
    code, report, _ = run(capsys, "inspect-iso", keel_iso)
    assert code == 0
    assert "Fetch mode: none (not prepared" in report
    assert "Answer:     none on the ISO" in report


def test_the_iso_is_private_when_it_holds_secrets_and_readable_when_not(capsys, keel_iso, tmp_path):
    old = os.umask(0o022)
    try:
        secret = prepared(capsys, keel_iso, tmp_path / "secret.iso", "--fetch-from", "iso",
                          "--answer-file", answer_file(tmp_path))
        token = prepared(capsys, keel_iso, tmp_path / "token.iso", "--fetch-from", "http",
                         "--answer-auth-token", "rack1:s3cret")
        plain = prepared(capsys, keel_iso, tmp_path / "plain.iso", "--fetch-from", "partition")
    finally:
        os.umask(old)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answer.toml", "plain.iso", "secret.iso", "token.iso"]


def test_preparing_again_replaces_the_answer_source(capsys, keel_iso, tmp_path):
    first = prepared(capsys, keel_iso, tmp_path / "first.iso", "--fetch-from", "iso",
                     "--answer-file", answer_file(tmp_path))
    again = prepared(capsys, first, tmp_path / "again.iso", "--fetch-from", "partition")
    files = read_back(again, tmp_path, "/auto-installer-mode.toml", "/keel/answer.toml")
    assert files["/keel/answer.toml"] is None
    assert files["/auto-installer-mode.toml"].startswith(b'mode = "partition"')


def test_the_first_boot_script_goes_to_keel_first_boot_as_an_executable(capsys, keel_iso, tmp_path):
    script = tmp_path / "hello.sh"
    script.write_text("#!/bin/sh\necho hello\n")
    answer = answer_file(tmp_path, ANSWER + '\n[first-boot]\nsource = "from-iso"\n')
    out = prepared(capsys, keel_iso, tmp_path / "out.iso", "--fetch-from", "iso", "--answer-file", answer,
                   "--on-first-boot", script)
    assert read_back(out, tmp_path, "/keel/first-boot")["/keel/first-boot"] == script.read_bytes()
    listing = xorriso("-indev", str(out), "-lsl", "/keel/first-boot")
    assert "-r-xr-xr-x    1 0        0" in listing
    _, report, _ = run(capsys, "inspect-iso", out)
    assert f"First-boot script: /keel/first-boot ({len(script.read_bytes())} bytes, sha256 " in report


def test_an_answer_wanting_the_first_boot_script_from_the_iso_needs_on_first_boot(capsys, keel_iso, tmp_path):
    answer = answer_file(tmp_path, ANSWER + '\n[first-boot]\nsource = "from-iso"\n')
    code, _, err = run(capsys, "prepare-iso", keel_iso, "--output", tmp_path / "p.iso", "--fetch-from", "iso",
                       "--answer-file", answer)
    assert code == 1
    assert err.startswith(f'keel-answer: {answer}: first-boot.source: "from-iso" needs the executable on the ISO')
    assert not (tmp_path / "p.iso").exists()


def test_pxe_writes_kernel_initrd_iso_and_a_boot_ipxe_that_boots_automated(capsys, keel_iso, tmp_path):
    out = tmp_path / "pxe" / "keel-auto.iso"
    out.parent.mkdir()
    prepared(capsys, keel_iso, out, "--fetch-from", "iso", "--answer-file", answer_file(tmp_path),
             "--pxe", "--pxe-loader", "ipxe")
    assert sorted(p.name for p in out.parent.iterdir()) == ["boot.ipxe", "initrd.img", "keel-auto.iso", "vmlinuz"]
    assert (out.parent / "vmlinuz").read_bytes() == KERNEL
    assert (out.parent / "initrd.img").read_bytes() == INITRD
    script = (out.parent / "boot.ipxe").read_text()
    assert script.startswith("#!ipxe\n")
    for entry, args in [("auto", "keel.mode=auto"), ("tui", "keel.mode=tui"),
                        ("tui-serial", "keel.mode=tui console=ttyS0,115200"),
                        ("debug-serial", "keel.mode=debug console=ttyS0,115200")]:
        assert f"\n:{entry}\nset keel-kargs {args}" in script
    assert "choose --default auto --timeout 10000 " in script
    # live-boot downloads the whole ISO and loop-mounts it as the medium, mode file and answer included
    assert "kernel vmlinuz initrd=initrd.img boot=live fetch=${keel-base}/keel-auto.iso " in script


def test_pxe_into_a_directory_names_the_iso_as_proxmox_does(capsys, keel_iso, tmp_path):
    code, _, err = run(capsys, "prepare-iso", keel_iso, "--output", tmp_path, "--fetch-from", "partition", "--pxe")
    assert code == 0, err
    assert (tmp_path / "keel-auto-from-partition.iso").is_file()
    assert "fetch=${keel-base}/keel-auto-from-partition.iso" in (tmp_path / "boot.ipxe").read_text()


def test_only_ipxe_is_a_pxe_loader(capsys, keel_iso, tmp_path):
    code, _, err = run(capsys, "prepare-iso", keel_iso, "--output", tmp_path / "p.iso", "--fetch-from", "partition",
                       "--pxe", "--pxe-loader", "pxelinux")
    assert code == 2
    assert "invalid choice: 'pxelinux'" in err


@pytest.mark.parametrize(("changes", "problem"), [
    pytest.param({"fetch_from": "iso"}, "--fetch-from iso needs --answer-file: the answer to put on the ISO",
                 id="iso mode without an answer"),
    pytest.param({"fetch_from": "http", "answer_file": Path("a.toml")},
                 "--answer-file is only for --fetch-from iso (with http or partition the answer comes from the "
                 "server or the partition)", id="an answer file in http mode"),
    pytest.param({"fetch_from": "partition", "url": "https://a.example/"}, "--url is only for --fetch-from http",
                 id="a url in partition mode"),
    pytest.param({"fetch_from": "http", "partition_label": "X"},
                 "--partition-label is only for --fetch-from partition", id="a label in http mode"),
    pytest.param({"fetch_from": "http", "url": "ftp://a.example/"}, "--url: 'ftp://a.example/' is not an http:// or "
                 "https:// URL", id="a url that is not http"),
    pytest.param({"fetch_from": "http", "cert_fingerprint": "abc"}, "--cert-fingerprint: is not a SHA-256 "
                 "certificate fingerprint (64 hex digits, with or without colons; get it with openssl x509 -noout "
                 "-fingerprint -sha256)", id="a fingerprint that is too short"),
    pytest.param({"fetch_from": "partition", "pxe_loader": "ipxe"}, "--pxe-loader is only for --pxe",
                 id="a pxe loader without pxe"),
])
def test_options_that_do_not_go_together_are_each_named(changes, problem):
    request = PrepareRequest(iso=Path("keel.iso"), **changes)
    assert option_problems(request) == [problem]


def test_redaction_masks_secrets_by_name_and_alias_at_any_depth():
    text = ('[global]\nroot_password = "pw-12345678"\nsubscription-key = "pve1c-0123456789"\n'
            '[post-installation-webhook]\nurl = "https://u:p@hook.example/"\nauth-token = "tok"\n')
    assert tomllib.loads(redact_answer_text(text)) == {
        "global": {"root_password": "<redacted>", "subscription-key": "<redacted>"},
        "post-installation-webhook": {"url": "https://***@hook.example/", "auth-token": "<redacted>"},
    }


def test_system_info_prints_what_the_installer_posts(capsys):
    from installer import __version__
    from installer.answer_sources.sysinfo import system_info
    from keel_testing.compat import example_server

    code, out, _ = run(capsys, "system-info", "--hardware", EXAMPLES / "hardware" / "example-server.json")
    assert code == 0
    assert json.loads(out) == system_info(example_server(), version=__version__)
