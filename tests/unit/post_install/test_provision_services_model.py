"""provision.json's services as keel-firstboot reads them: the users and the firewall keep the installer's field
names, and the installer's file reads back into them whole (the installer already made them true; first boot only
shows them)."""

from __future__ import annotations

import dataclasses

import pytest

from installer.core import config as core_config
from installer.installed_system.render.provision import render_provision_json
from keel_firstboot.provision import model
from keel_firstboot.provision.execute import secrets_of
from keel_testing.samples import PROVISION, PROVISION_CONFIG


@pytest.mark.parametrize(("mine", "theirs"), [
    pytest.param(model.UserAccount, core_config.UserAccount, id="user fields are the installer's"),
    pytest.param(model.Firewall, core_config.Firewall, id="firewall fields are the installer's"),
])
def test_the_file_contract_keeps_the_installers_field_names(mine, theirs):
    assert [f.name for f in dataclasses.fields(mine)] == [f.name for f in dataclasses.fields(theirs)]


def test_the_installers_services_read_back_whole():
    svc = model.parse(render_provision_json(PROVISION_CONFIG)).services
    theirs = PROVISION.services
    assert svc.users == tuple(model.UserAccount(u.name, u.ssh_keys, u.groups, u.password_hashed)
                              for u in theirs.users)
    assert svc.firewall == model.Firewall(theirs.firewall.cluster_networks, theirs.firewall.allow_from)
    assert (svc.ssh_password_login, svc.sysctl, svc.packages) == (False, theirs.sysctl, theirs.packages)


def test_a_user_with_an_unknown_key_is_refused_naming_it():
    text = render_provision_json(PROVISION_CONFIG).replace('"password_hashed"', '"password"')
    with pytest.raises(model.ProvisionFileError, match=r"users\[0\]: unknown keys password"):
        model.parse(text, "/etc/keel/provision.json")


def test_a_users_password_hash_is_one_of_the_secrets_the_log_never_holds():
    doc = model.parse(render_provision_json(PROVISION_CONFIG))
    assert PROVISION.services.users[0].password_hashed in secrets_of(doc)
