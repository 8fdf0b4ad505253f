"""The keel-firstboot units: one per [first-boot] ordering, ordered like Proxmox's proxmox-first-boot units
(reference proxmox-installer.md §8.2, fleet-provisioning.md "[first-boot]"), and packaged in keel-post-install."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel_firstboot import layout
from keel_firstboot.layout import ALIAS, ORDERINGS, PENDING

UNITS = Path(__file__).resolve().parents[3] / "post-install" / "systemd"


NETWORKING_DROP_IN = (Path(__file__).resolve().parents[3] / "iso-build" / "payload" / "rootfs" / "usr" / "lib"
                      / "systemd" / "system" / "networking.service.d" / "keel-network-targets.conf")


def unit(name: str, path: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """A unit file as section -> key -> every value (systemd keys may repeat and take lists)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in (path or UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).extend(value.split())
    return sections


# (ordering, unit, After includes, Before includes, Wants includes, WantedBy): the rules, from the reference
CASES = [
    ("before-network", "keel-firstboot-network-pre.service", [], ["network-pre.target"], ["network-pre.target"],
     "network.target"),
    ("network-online", "keel-firstboot-network-online.service", ["network-online.target"], [],
     ["network-online.target"], "multi-user.target"),
    ("fully-up", "keel-firstboot-multi-user.service", ["multi-user.target"], [], [], "multi-user.target"),
]


@pytest.mark.parametrize(("ordering", "name", "after", "before", "wants", "wanted_by"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_ordering_has_its_unit_ordered_like_proxmoxs(ordering, name, after, before, wants, wanted_by):
    assert ORDERINGS[ordering].unit == name
    assert ORDERINGS[ordering].wanted_by == wanted_by
    u = unit(name)
    assert set(after) <= set(u["Unit"].get("After", []))
    assert set(before) <= set(u["Unit"].get("Before", []))
    assert set(wants) <= set(u["Unit"].get("Wants", []))
    assert "systemd-remount-fs.service" in u["Unit"]["After"]
    assert u["Install"]["WantedBy"] == [wanted_by]
    assert u["Install"]["Alias"] == [ALIAS]


@pytest.mark.parametrize("name", [o.unit for o in ORDERINGS.values()])
def test_every_unit_runs_once_only_while_the_flag_exists_and_fails_with_the_hook(name):
    u = unit(name)
    ordering = next(o.name for o in ORDERINGS.values() if o.unit == name)
    assert u["Unit"]["ConditionPathExists"] == [PENDING]
    assert u["Unit"]["ConditionPathIsReadWrite"] == ["/var/lib"]
    assert u["Service"]["Type"] == ["oneshot"]
    assert u["Service"]["RemainAfterExit"] == ["yes"]
    # keel-firstboot removes the flag itself, whatever the exit status (Proxmox's ExecStartPost rm runs only on
    # success, so a failed hook there runs again on every boot)
    assert u["Service"]["ExecStart"] == ["/usr/sbin/keel-firstboot", "run", ordering]
    assert "ExecStartPost" not in u["Service"]


def test_before_network_is_not_ordered_after_the_network():
    u = unit("keel-firstboot-network-pre.service")
    assert not {"network.target", "network-online.target", "multi-user.target"} & set(u["Unit"].get("After", []))


def test_the_units_are_exactly_one_per_ordering():
    assert sorted(p.name for p in UNITS.glob("keel-firstboot-*.service")) == sorted(
        o.unit for o in ORDERINGS.values())
    packaged = (UNITS.parent / "build_deb.py").read_text()
    for o in ORDERINGS.values():
        assert f'"{o.unit}"' in packaged, f"{o.unit} is not in build_deb.FIRSTBOOT_UNITS"


def test_the_provision_unit_runs_provision_once_after_the_network_and_between_the_hooks_orderings():
    from keel_firstboot.provision.model import PATH
    from keel_firstboot.provision.record import DONE

    u = unit(layout.PROVISION_UNIT)
    after = set(u["Unit"]["After"])
    assert {"network-online.target", "multi-user.target", "systemd-remount-fs.service"} <= after
    assert "network-online.target" in u["Unit"]["Wants"]
    # the hook before the network or once it is online may prepare things; the fully-up hook finds them done
    assert {ORDERINGS["before-network"].unit, ORDERINGS["network-online"].unit} <= after
    assert u["Unit"]["Before"] == [ORDERINGS["fully-up"].unit]
    # only with an answer's [provision], and never again once it succeeded
    assert u["Unit"]["ConditionPathExists"] == [PATH, f"!{DONE}"]
    assert u["Service"]["Type"] == ["oneshot"]
    assert u["Service"]["ExecStart"] == ["/usr/sbin/keel-firstboot", "provision"]
    assert "ExecStartPost" not in u["Service"] and "Restart" not in u["Service"]
    minutes = int(u["Service"]["TimeoutStartSec"][0].removesuffix("min"))
    assert minutes >= 60, "a join alone may wait 30 minutes for its peer"
    assert u["Install"]["WantedBy"] == [layout.PROVISION_WANTED_BY]


def test_the_provision_unit_is_packaged():
    packaged = (UNITS.parent / "build_deb.py").read_text()
    assert f'PROVISION_UNIT = "{layout.PROVISION_UNIT}"' in packaged
    assert (UNITS / layout.PROVISION_UNIT).is_file()


def test_the_payloads_network_manager_pulls_in_the_before_network_hook_and_orders_the_network_targets():
    """Debian's ifupdown2 unit neither wants network.target nor orders itself among the network targets; the
    payload's drop-in does both, or the before-network hook (wanted by network.target) never starts and
    network-online.target comes before the network is configured (the e2e run of an early hook showed both)."""
    drop_in = unit("", NETWORKING_DROP_IN)["Unit"]
    hook = unit("keel-firstboot-network-pre.service")
    assert hook["Install"]["WantedBy"] == ["network.target"] and "network.target" in drop_in["Wants"]
    assert "network-pre.target" in drop_in["After"] and "network-pre.target" in hook["Unit"]["Before"]
    assert {"network.target", "network-online.target"} <= set(drop_in["Before"])
