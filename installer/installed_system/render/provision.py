"""/etc/keel/provision.json: the answer's [provision], resolved, for keel-firstboot to act on at first boot.

It is the contract with post-install/keel_firstboot/provision/model.py, which reads it with the standard library
only (neither package may import the other; a unit test keeps the two sides equal). Version 1 holds this node
(name, FQDN, management address), the cluster settings, each storage with the storage.cfg stanza to register once
it is made (rendered here by render/pve.py, the one storage.cfg renderer), and the services. It holds secrets
(the cluster secret, storage and relay passwords), so it is root's only (0600).
"""

from __future__ import annotations

import json

from installer.core import jsoncodec
from installer.core.config import InstallConfig
from installer.installed_system.render.pve import render_storage_cfg
from installer.storage.plan.storagecfg import provision_entries

PATH = "/etc/keel/provision.json"
VERSION = 1
# the unit that runs `keel-firstboot provision` at first boot (post-install/systemd; keel_firstboot.layout's
# PROVISION_UNIT, kept equal by a unit test)
UNIT_DIR = "/usr/lib/systemd/system"
UNIT = "keel-provision.service"
WANTED_BY = "multi-user.target"
UNIT_PATH = f"{UNIT_DIR}/{UNIT}"


def render_provision_json(config: InstallConfig) -> str:
    provision = config.provision
    assert provision is not None
    net = config.network
    stanzas = [render_storage_cfg((entry,)) for entry in provision_entries(provision.storage)]
    document = {
        "version": VERSION,
        "node": {"name": net.hostname, "fqdn": net.fqdn, "address": net.address},
        "cluster": jsoncodec.to_data(provision.cluster),
        "storage": [{**jsoncodec.to_data(spec), "storage_cfg": stanza}
                    for spec, stanza in zip(provision.storage, stanzas, strict=True)],
        "services": jsoncodec.to_data(provision.services),
    }
    return json.dumps(document, indent=2) + "\n"


def render_unit_links() -> dict[str, str]:
    """The enablement symlink of the provision unit (link path -> what it points to), what `systemctl enable`
    makes from its [Install] section."""
    return {f"/etc/systemd/system/{WANTED_BY}.wants/{UNIT}": UNIT_PATH}
