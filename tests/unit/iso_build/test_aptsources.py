"""The mirror comes from the Debian archive entry of the host's apt sources, never security or third parties."""

from pathlib import Path

import pytest

from keel_iso.aptsources import MirrorError, debian_archive_uri, host_mirror, parse_deb822, parse_one_line

DEB822_HOST = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_deb822_stanzas_keep_types_uris_suites_and_components():
    sources = parse_deb822(DEB822_HOST, "debian.sources")
    assert [s.uris for s in sources] == [("http://mirror.example/debian",), ("http://mirror.example/debian-security",)]
    assert sources[0].suites == ("bookworm", "bookworm-updates")
    assert sources[0].components == ("main",)
    assert sources[0].origin == "debian.sources:1"


def test_the_archive_entry_wins_over_security():
    assert debian_archive_uri(parse_deb822(DEB822_HOST, "x")) == "http://mirror.example/debian"


def test_security_listed_first_is_still_skipped():
    text = DEB822_HOST.split("\n\n")[1] + "\n\n" + DEB822_HOST.split("\n\n")[0]
    assert debian_archive_uri(parse_deb822(text, "x")) == "http://mirror.example/debian"


def test_disabled_deb822_stanza_is_ignored():
    text = "Enabled: no\nTypes: deb\nURIs: http://old.example/debian\nSuites: trixie\nComponents: main\n"
    assert parse_deb822(text, "x") == []


def test_one_line_format_with_options_and_comments():
    text = (
        "# a comment\n"
        "deb-src http://src.example/debian trixie main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://third.example/apt cloud-sdk main\n"
        "deb http://mirror.example/debian/ trixie main contrib # trailing\n"
    )
    sources = parse_one_line(text, "sources.list")
    assert [s.uris[0] for s in sources] == [
        "http://src.example/debian", "http://third.example/apt", "http://mirror.example/debian/"]
    assert sources[2].components == ("main", "contrib")
    assert debian_archive_uri(sources) == "http://mirror.example/debian"


def test_only_third_party_sources_give_no_mirror():
    sources = parse_one_line("deb https://deb.example.com/node_20.x nodistro main\n", "x")
    assert debian_archive_uri(sources) is None


def test_host_mirror_reads_list_and_sources_files_but_not_disabled_ones(tmp_path: Path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d/cloud.list.disabled-by-farm").write_text("deb http://nope.example/debian trixie main\n")
    (tmp_path / "sources.list.d/debian.sources").write_text(DEB822_HOST)
    assert host_mirror(tmp_path) == "http://mirror.example/debian"


def test_no_debian_entry_is_a_clear_error_naming_the_option(tmp_path: Path):
    with pytest.raises(MirrorError, match="--mirror URL"):
        host_mirror(tmp_path)
