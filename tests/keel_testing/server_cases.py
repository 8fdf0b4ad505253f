"""keel-server's service cases, written once and run on both databases: tests/unit/server (SQLite) and
tests/integration/server (a real PostgreSQL) import them, each with its own `env` fixture (a ServerEnv).

Expected values come from the rules: Proxmox's protocol (reference §7.3, §8.1), the issue's states and the
template in keel_testing.server_env (first address of the range 10.20.30.100, node01, ...).
"""

from __future__ import annotations

import json
import logging
import tomllib
import uuid

import answerfile
from keel_server.passwords import sha512_crypt
from keel_testing.server_env import PASSWORD, TEMPLATE, ServerEnv, sysinfo


def _id() -> str:
    return uuid.uuid4().hex


def _answered(env: ServerEnv, body=None):
    env.add_pool_and_profile()
    reply = env.post_answer(body or sysinfo())
    assert reply.status_code == 200, reply.text
    return reply


def test_a_proxmox_shaped_request_gets_the_templated_toml_that_keel_validates(env: ServerEnv):
    reply = _answered(env)
    assert reply.headers["content-type"].startswith("application/toml")
    text = reply.text
    assert answerfile.validate_text(text)[0] == []
    answer = tomllib.loads(text)
    assert answer["global"]["fqdn"] == "node01.rack1.example.com"
    assert answer["network"]["cidr"] == "10.20.30.100/24"
    assert answer["network"]["gateway"] == "10.20.30.1"
    assert answer["network"]["filter"]["ID_NET_NAME_MAC"] == "enx3cecef100001"
    hashed = answer["global"]["root-password-hashed"]
    salt = hashed.split("$")[2]
    assert hashed == sha512_crypt(PASSWORD, salt)
    assert "root-password" not in answer["global"] and PASSWORD not in text
    token = reply.headers["Keel-Report-Token"]
    assert reply.headers["Keel-Report-URL"] == "https://keel.test:8443/api/v1/report/events"
    assert answer["post-installation-webhook"] == {"url": "https://keel.test:8443/api/v1/report/webhook",
                                                   "cert-fingerprint": env.fingerprint, "auth-token": token}
    machine = env.service.show_machine("3c:ec:ef:10:00:01")
    assert machine["state"] == "answer-sent"
    assert [t["state"] for t in machine["transitions"]] == ["discovered", "answer-sent"]


def test_a_client_that_accepts_only_json_gets_the_answer_as_a_json_object(env: ServerEnv):
    env.add_pool_and_profile()
    reply = env.post_answer(sysinfo(), headers={"Accept": "application/json"})
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["global"]["fqdn"] == "node01.rack1.example.com"


def test_a_missing_wrong_or_expired_token_gets_401_and_records_nothing(env: ServerEnv):
    env.add_pool_and_profile()
    assert env.post_answer(sysinfo(), token=None).status_code == 401
    assert env.post_answer(sysinfo(), token="abc:def").status_code == 401
    assert env.post_answer(sysinfo(), token=env.admin_token).status_code == 401
    short = env.service.create_token(expires_in=60)["token"]
    now = env.service.clock
    env.service.clock = lambda: now() + 61
    try:
        reply = env.post_answer(sysinfo(), token=short)
    finally:
        env.service.clock = now
    assert reply.status_code == 401 and "expired" in reply.json()["error"]
    assert env.service.list_machines() == []


def test_an_unknown_machine_is_recorded_as_discovered_and_gets_404_until_a_default_profile_exists(env: ServerEnv):
    env.add_pool_and_profile()
    stranger = sysinfo(serial="SM-1", name="Super Server", macs=("ac:1f:6b:20:00:01",))
    reply = env.post_answer(stranger)
    assert reply.status_code == 404
    [machine] = env.service.list_machines()
    assert machine["state"] == "discovered" and machine["macs"] == ["ac:1f:6b:20:00:01"]
    assert env.service.show_machine("SM-1")["sysinfo"]["dmi"]["system"]["name"] == "Super Server"
    env.service.add_profile("fallback", TEMPLATE, default=True, pool="rack1")
    assert env.post_answer(stranger).status_code == 200
    assert env.service.show_machine("SM-1")["profile"] == "fallback"


def test_a_body_that_is_not_json_or_not_system_info_gets_400_with_the_reason(env: ServerEnv):
    env.add_pool_and_profile()
    reply = env.post_answer(None, raw=b"this is not json")
    assert reply.status_code == 400 and "not JSON" in reply.json()["error"]
    reply = env.post_answer({"dmi": {}})
    assert reply.status_code == 400 and "network_interfaces" in reply.json()["error"]
    reply = env.post_answer([1, 2])
    assert reply.status_code == 400


def test_a_template_that_renders_an_invalid_answer_gets_422_and_the_machine_fails_with_the_problems(env: ServerEnv):
    env.add_pool_and_profile(template=TEMPLATE.replace('keyboard = "en-us"', 'keyboard = "xx-yy"'))
    reply = env.post_answer(sysinfo())
    assert reply.status_code == 422
    problems = reply.json()["problems"]
    assert any(p.startswith("global.keyboard") for p in problems)
    machine = env.service.show_machine("EX2U-0001")
    assert machine["state"] == "failed"
    assert "invalid" in machine["reason"] and "global.keyboard" in machine["log_tail"]


def test_an_undefined_template_variable_is_a_422_not_an_empty_value(env: ServerEnv):
    env.add_pool_and_profile(template=TEMPLATE.replace("machine.number", "machine.nmuber"))
    reply = env.post_answer(sysinfo())
    assert reply.status_code == 422 and "nmuber" in reply.json()["problems"][0]


def test_the_answer_is_checked_against_the_hardware_profile_the_keel_installer_sends(env: ServerEnv):
    from installer.core.hardware import Disk, HardwareProfile, Nic

    hardware = HardwareProfile(disks=(Disk("vda", "/dev/vda", 64 * 2**30),),
                               nics=(Nic("eno1", "3c:ec:ef:10:00:01", udev={"ID_NET_NAME_MAC": "enx3cecef100001"}),))
    body = {**sysinfo(), "keel": {"hardware": json.loads(hardware.to_json())}}
    env.add_pool_and_profile()                     # the template asks for disk-list = ["sda"]: not on this machine
    reply = env.post_answer(body)
    assert reply.status_code == 422
    assert any("sda" in p for p in reply.json()["problems"])
    assert env.service.show_machine("1")["has_hardware_profile"] is True


def test_events_are_stored_once_and_move_the_machine_to_installing_then_failed(env: ServerEnv):
    token = _answered(env).headers["Keel-Report-Token"]
    auth = {"Authorization": f"Bearer {token}"}
    first = [{"id": _id(), "type": "phase", "time": 1000.0, "phase": "partition", "text": "Partitioning sda",
              "ratio": 0.1, "ok": None, "detail": ""},
             {"id": _id(), "type": "progress", "time": 1001.0, "phase": "partition", "text": "", "ratio": 0.2}]
    reply = env.client.post("/api/v1/report/events", json={"events": first}, headers=auth)
    assert reply.json() == {"stored": 2, "duplicates": 0}
    assert env.service.show_machine("1")["state"] == "installing"
    failure = {"id": _id(), "type": "error", "time": 1002.0, "phase": "extract", "text": "unsquashfs failed",
               "ok": False, "detail": "line 1\nline 2: No space left on device"}
    reply = env.client.post("/api/v1/report/events", json={"events": [*first, failure]}, headers=auth)
    assert reply.json() == {"stored": 1, "duplicates": 2}
    machine = env.service.show_machine("1")
    assert machine["state"] == "failed"
    assert machine["reason"] == "unsquashfs failed" and machine["log_tail"].endswith("No space left on device")
    assert [e["type"] for e in machine["events"]] == ["phase", "progress", "error"]
    assert [t["state"] for t in machine["transitions"]] == ["discovered", "answer-sent", "installing", "failed"]


def test_reports_without_the_per_install_token_or_malformed_get_401_or_400(env: ServerEnv):
    _answered(env)
    event = {"id": _id(), "type": "phase", "time": 1.0}
    assert env.client.post("/api/v1/report/events", json={"events": [event]}).status_code == 401
    assert env.client.post("/api/v1/report/events", json={"events": [event]},
                           headers={"Authorization": f"Bearer {env.answer_token}"}).status_code == 401
    token = env.service.show_machine("1") and env.post_answer(sysinfo()).headers["Keel-Report-Token"]
    auth = {"Authorization": f"Bearer {token}"}
    bad = env.client.post("/api/v1/report/events", json={"events": [{**event, "id": "x"}]}, headers=auth)
    assert bad.status_code == 400 and "events[0].id" in bad.json()["error"]
    assert env.client.post("/api/v1/report/events", content=b"{", headers=auth).status_code == 400


def test_a_second_answer_supersedes_the_first_install_token(env: ServerEnv):
    old = _answered(env).headers["Keel-Report-Token"]
    new = env.post_answer(sysinfo()).headers["Keel-Report-Token"]
    event = {"events": [{"id": _id(), "type": "phase", "time": 1.0}]}
    assert env.client.post("/api/v1/report/events", json=event,
                           headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert env.client.post("/api/v1/report/events", json=event,
                           headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_the_webhook_marks_the_machine_installed_with_its_host_keys_and_it_is_not_installed_again(env: ServerEnv):
    token = _answered(env).headers["Keel-Report-Token"]
    keys = {"ecdsa": "ecdsa-sha2-nistp256 AAAAE2V root@node01", "ed25519": "ssh-ed25519 AAAAC3Nz root@node01",
            "rsa": "ssh-rsa AAAAB3Nza root@node01"}
    report = {"$schema": {"version": "1.2"}, "fqdn": "node01.rack1.example.com", "ssh-public-host-keys": keys,
              "boot-info": {"mode": "efi"}, "token": token}
    assert env.client.post("/api/v1/report/webhook", json={**report, "token": "wrong"}).status_code == 401
    reply = env.client.post("/api/v1/report/webhook", json=report)
    assert reply.status_code == 200 and reply.json()["state"] == "installed"
    machine = env.service.show_machine("1")
    assert machine["ssh_host_keys"] == keys and machine["armed"] is False
    again = env.post_answer(sysinfo())
    assert again.status_code == 409 and "rearm" in again.json()["error"]


def test_the_boot_script_installs_while_armed_boots_the_local_disk_once_installed_and_again_after_rearm(
        env: ServerEnv):
    token = _answered(env).headers["Keel-Report-Token"]
    script = env.client.get("/boot/3c:ec:ef:10:00:01.ipxe").text
    assert script.startswith("#!ipxe\n")
    assert "kernel ${keel-base}/vmlinuz initrd=initrd.img boot=live fetch=${keel-base}/filesystem.squashfs" in script
    assert "set keel-base https://keel.test:8443/pxe" in script
    assert "keel.mode=auto" in script and f"keel.fingerprint={env.fingerprint}" in script
    assert "keel.answer=https://pxe:" in script and "@keel.test:8443/answer" in script
    env.client.post("/api/v1/report/webhook", json={"ssh-public-host-keys": {}, "token": token})
    local = env.client.get("/boot/3c:ec:ef:10:00:01.ipxe").text
    assert "sanboot --no-describe --drive 0x80" in local and "kernel" not in local
    assert env.client.post("/api/v1/machines/1/rearm", headers=env.admin()).status_code == 200
    assert "keel.mode=auto" in env.client.get("/boot/3c:ec:ef:10:00:01.ipxe").text
    assert env.post_answer(sysinfo()).status_code == 200
    assert env.service.show_machine("1")["installs"] == 2
    assert env.service.audit_log()[0]["action"] == "machine.rearm"


def test_the_boot_scripts_answer_url_carries_a_token_that_answers_only_that_machine(env: ServerEnv):
    env.add_pool_and_profile()
    script = env.client.get("/boot/3c:ec:ef:10:00:01.ipxe").text
    credential = script.split("keel.answer=https://pxe:")[1].split("@")[0]
    import base64
    basic = {"Authorization": "Basic " + base64.b64encode(f"pxe:{credential}".encode()).decode()}
    assert env.post_answer(sysinfo(), token=None, headers=basic).status_code == 200
    other = sysinfo(serial="X2", macs=("3c:ec:ef:10:00:09",))
    assert env.post_answer(other, token=None, headers=basic).status_code == 401


def test_first_boot_reports_move_an_installed_machine_to_provisioning_then_ready(env: ServerEnv):
    token = _answered(env).headers["Keel-Report-Token"]
    auth = {"Authorization": f"Bearer {token}"}
    env.client.post("/api/v1/report/webhook", json={"ssh-public-host-keys": {}, "token": token})
    step = {"id": _id(), "state": "provisioning", "text": "joining cluster", "detail": ""}
    assert env.client.post("/api/v1/report/firstboot", json=step, headers=auth).json()["state"] == "provisioning"
    assert env.client.post("/api/v1/report/firstboot", json=step, headers=auth).json()["duplicate"] is True
    done = {"id": _id(), "state": "ready", "text": "ready", "detail": ""}
    assert env.client.post("/api/v1/report/firstboot", json=done, headers=auth).json()["state"] == "ready"
    states = [t["state"] for t in env.service.show_machine("1")["transitions"]]
    assert states == ["discovered", "answer-sent", "installed", "provisioning", "ready"]


def test_a_profile_that_ties_with_another_for_a_known_machine_is_refused_naming_both(env: ServerEnv):
    _answered(env)
    reply = env.client.post("/api/v1/profiles", headers=env.admin(), json={
        "name": "rack1-copy", "template": TEMPLATE, "match": {"/dmi/system/serial": "EX2U-*"}, "priority": 10})
    assert reply.status_code == 409
    message = reply.json()["error"]
    assert "rack1-copy" in message and "profile rack1 " in message and "3c:ec:ef:10:00:01" in message
    env.service.add_profile("rack1-low", TEMPLATE, match={"/dmi/system/serial": "EX2U-*"}, priority=5)
    assert [p["name"] for p in env.service.list_profiles()] == ["rack1", "rack1-low"]


def test_explain_names_the_answering_profile_and_the_selector_each_other_profile_missed(env: ServerEnv):
    env.add_pool_and_profile()
    env.service.add_profile("supermicro", TEMPLATE, match={"/network_interfaces/*/mac": "ac:1f:6b:*"}, priority=5)
    dell = env.service.explain(sysinfo())
    assert dell["profile"] == "rack1"
    assert dell["lines"] == [
        "answer: profile rack1 (priority 10): its selectors match",
        "  profile supermicro (priority 5): /network_interfaces/*/mac=ac:1f:6b:*: '3c:ec:ef:10:00:01' does not match",
    ]
    smc = env.client.post("/api/v1/explain", headers=env.admin(),
                          json=sysinfo(name="Super Server", macs=("ac:1f:6b:20:00:01",))).json()
    assert smc["profile"] == "supermicro"
    assert smc["lines"][1] == ("  profile rack1 (priority 10): /dmi/system/name=PowerEdge*: 'Super Server' "
                               "does not match")


def test_an_address_is_stable_per_machine_and_released_when_the_machine_is_removed(env: ServerEnv):
    env.add_pool_and_profile()

    def address(body) -> str:
        return tomllib.loads(env.post_answer(body).text)["network"]["cidr"]

    a, b = sysinfo(serial="A", macs=("3c:ec:ef:10:00:0a",)), sysinfo(serial="B", macs=("3c:ec:ef:10:00:0b",))
    assert address(a) == "10.20.30.100/24"
    assert address(b) == "10.20.30.101/24"
    assert address(a) == "10.20.30.100/24"
    removed = env.client.delete("/api/v1/machines/A", headers=env.admin()).json()
    assert removed["released"] == ["10.20.30.100"]
    c = sysinfo(serial="C", macs=("3c:ec:ef:10:00:0c",))
    assert address(c) == "10.20.30.100/24"
    assert env.service.show_machine("C")["number"] == 3      # numbers are not reused: node03


def test_labels_select_profiles_and_assign_overrides_matching(env: ServerEnv):
    env.add_pool_and_profile()
    env.service.add_profile("storage", TEMPLATE, labels={"role": "storage"}, priority=20, pool="rack1")
    env.post_answer(sysinfo())
    env.service.label("1", {"role": "storage"}, [])
    env.post_answer(sysinfo())
    assert env.service.show_machine("1")["profile"] == "storage"
    env.service.assign("1", "rack1")
    env.post_answer(sysinfo())
    assert env.service.show_machine("1")["profile"] == "rack1"
    assert [a["action"] for a in env.service.audit_log()[:2]] == ["machine.assign", "machine.label"]


def test_a_plain_root_password_is_never_stored_listed_audited_or_logged(env: ServerEnv, caplog):
    caplog.set_level(logging.DEBUG)
    env.add_pool_and_profile()
    env.post_answer(sysinfo())
    seen = [
        env.client.get("/api/v1/profiles", headers=env.admin()).text,
        env.client.get("/api/v1/profiles/rack1", headers=env.admin()).text,
        env.client.get("/api/v1/audit", headers=env.admin()).text,
        env.client.get("/api/v1/machines/1", headers=env.admin()).text,
        caplog.text,
    ]
    for text in seen:
        assert PASSWORD not in text
    assert "root-password-hashed" in env.service.show_profile("rack1")["template"]
    with env.service.db.engine.connect() as conn:
        from sqlalchemy import text as sql
        for table in ("profiles", "audit", "machines", "events", "tokens"):
            dump = json.dumps([list(map(str, row)) for row in conn.execute(sql(f"SELECT * FROM {table}"))])
            assert PASSWORD not in dump and env.answer_token not in dump and env.admin_token not in dump


def test_the_admin_api_wants_the_admin_token_and_publishes_its_openapi_schema(env: ServerEnv):
    assert env.client.get("/api/v1/machines").status_code == 401
    assert env.client.get("/api/v1/machines",
                          headers={"Authorization": f"Bearer {env.answer_token}"}).status_code == 401
    assert env.client.get("/api/v1/machines", headers=env.admin()).json() == []
    schema = env.client.get("/openapi.json").json()
    assert {"/answer", "/api/v1/report/events", "/api/v1/profiles", "/api/v1/machines/{ref}/rearm"} <= \
        set(schema["paths"])
    bad = env.client.post("/api/v1/pools", headers=env.admin(), json={"name": "p"})
    assert bad.status_code == 400 and bad.json()["problems"]
