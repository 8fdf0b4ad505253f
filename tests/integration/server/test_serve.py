"""The real `keel-server serve` (uvicorn, TLS with its own certificate) on 127.0.0.1: a Proxmox-shaped POST
pinned to the fingerprint init printed, the boot listener over plain HTTP, and a wrong fingerprint refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import tomllib

import pytest
import requests

import answerfile
from keel_server.client import pinned_session
from keel_testing.server_env import PROXMOX_HEADERS, TEMPLATE, sysinfo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "keel_server.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("served")
    data = tmp_path / "data"
    init = json.loads(_cli("init", "--data", str(data), "--json"))
    template = tmp_path / "rack1.toml.j2"
    template.write_text(TEMPLATE)
    _cli("pool", "add", "--data", str(data), "rack1", "--cidr", "10.20.30.0/24", "--gateway", "10.20.30.1",
         "--dns", "10.20.30.2", "--range", "10.20.30.100-10.20.30.199")
    _cli("profile", "add", "--data", str(data), "rack1", str(template), "--match", "/dmi/system/name=PowerEdge*",
         "--pool", "rack1")
    answer_token = _cli("token", "create", "--data", str(data)).strip().splitlines()[-1]
    port, boot_port = _free_port(), _free_port()
    process = subprocess.Popen([sys.executable, "-m", "keel_server.cli", "serve", "--data", str(data), "--listen",
                                f"127.0.0.1:{port}", "--boot-listen", f"127.0.0.1:{boot_port}", "--log-level",
                                "warning"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    session = pinned_session(init["fingerprint"])
    deadline = time.monotonic() + 60
    while True:
        try:
            session.get(f"{url}/openapi.json", timeout=2)
            break
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"keel-server serve did not start: {process.stdout.read().decode()[-500:]}")
            time.sleep(0.2)
    try:
        yield {"url": url, "boot": f"http://127.0.0.1:{boot_port}", "session": session, "token": answer_token,
               **init}
    finally:
        session.close()
        process.terminate()
        process.wait(timeout=20)


def test_serve_answers_a_pinned_proxmox_shaped_post_with_toml_that_keel_validates(served):
    reply = served["session"].post(f"{served['url']}/answer", data=json.dumps(sysinfo()).encode(), timeout=30,
                                   headers={**PROXMOX_HEADERS, "Authorization": f"Bearer {served['token']}"})
    assert reply.status_code == 200, reply.text
    assert answerfile.validate_text(reply.text)[0] == []
    assert tomllib.loads(reply.text)["network"]["cidr"] == "10.20.30.100/24"
    assert reply.headers["Keel-Report-URL"] == f"{served['url']}/api/v1/report/events"
    admin = pinned_session(served["fingerprint"])
    admin.headers["Authorization"] = f"Bearer {served['admin_token']}"
    [machine] = admin.get(f"{served['url']}/api/v1/machines", timeout=30).json()
    assert machine["state"] == "answer-sent"


def test_the_boot_listener_serves_the_install_chain_over_plain_http(served):
    script = requests.get(f"{served['boot']}/boot/52:54:00:12:34:56.ipxe", timeout=30).text
    assert f"set keel-base {served['boot']}/pxe" in script
    assert "keel.answer=https://pxe:" in script and f"@127.0.0.1:{served['url'].rsplit(':', 1)[1]}/answer" in script
    assert requests.post(f"{served['boot']}/answer", timeout=30).status_code in (404, 405)


def test_a_wrong_fingerprint_is_refused_before_anything_is_sent(served):
    with pytest.raises(requests.exceptions.SSLError):
        pinned_session("00" * 32).post(f"{served['url']}/answer", json=sysinfo(), timeout=30)


def test_first_boot_reports_from_keel_firstboot_move_the_machine_to_ready(served, tmp_path):
    """The installer's report.json for this answer, read by keel-firstboot, whose stdlib client pins the server's
    certificate and reports a step begun and the end: the machine goes provisioning, then ready."""
    from installer.core.reporting import ReportTarget
    from installer.installed_system.render import report
    from keel_firstboot.layout import Paths
    from keel_firstboot.report import Reporter, load

    reply = served["session"].post(f"{served['url']}/answer", data=json.dumps(sysinfo()).encode(), timeout=30,
                                   headers={**PROXMOX_HEADERS, "Authorization": f"Bearer {served['token']}"})
    assert reply.status_code == 200, reply.text
    fingerprint = served["fingerprint"].replace(":", "").lower()
    target = ReportTarget(reply.headers["Keel-Report-URL"], reply.headers["Keel-Report-Token"], fingerprint)
    (tmp_path / "etc/keel").mkdir(parents=True)
    (tmp_path / "etc/keel/report.json").write_text(report.render_report_json(report.firstboot_report(target, None)))
    loaded, problem = load(Paths(tmp_path))
    assert problem is None and loaded.url == f"{served['url']}/api/v1/report/firstboot"
    warnings: list[str] = []
    reporter = Reporter(loaded, "node100.rack1.example.com", warn=warnings.append)
    admin = pinned_session(served["fingerprint"])
    admin.headers["Authorization"] = f"Bearer {served['admin_token']}"

    def state() -> str:
        [machine] = admin.get(f"{served['url']}/api/v1/machines", timeout=30).json()
        return machine["state"]

    reporter.progress("joining cluster rack1 (1/5)")
    assert warnings == [] and state() == "provisioning"
    reporter.ready("provisioning succeeded (5 steps, run 1)")
    assert warnings == [] and state() == "ready"
    assert len(reporter.sent) == 2
