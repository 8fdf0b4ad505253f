"""What people and servers see of `keel-firstboot provision`: the console's status line above the login prompt, and
the reports to keel-server or the webhook, against a real HTTPS server on 127.0.0.1 with a certificate made by
the openssl CLI (pinned by its SHA-256, as the installer's answer fetch pins it)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from keel_firstboot import cli, console
from keel_firstboot.layout import Paths
from keel_firstboot.provision.execute import Timing
from keel_firstboot.provision.steps import ProvisionStep
from keel_firstboot.report import REPORT, Reporter, Target, load
from keel_firstboot.runner import Redactor, Runner

TOKEN = "inst-token-7c1e"
SHORT = Timing(deadline=4, join_deadline=4, first_delay=1, max_delay=1)
openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl CLI is not installed")


# --- the console line ---------------------------------------------------------------------------------------

LINES = [
    pytest.param(ProvisionStep("join", "cluster rack1", "join through pve1:8106: both prove the secret"), 2, 5,
                 "provisioning: joining cluster rack1 (2/5)", id="a join says it joins the cluster"),
    pytest.param(ProvisionStep("run", "storage tank", "create ZFS pool tank (RAID1) on 2 disks"), 3, 7,
                 "provisioning: storage tank: create ZFS pool tank (RAID1) on 2 disks (3/7)",
                 id="another step names its subject and what it does"),
]


@pytest.mark.parametrize(("step", "n", "total", "expected"), LINES)
def test_the_status_line_of_a_step(step, n, total, expected):
    assert console.step_line(n, total, step) == expected


def test_a_long_line_is_cut_to_the_console_and_keeps_its_counter():
    step = ProvisionStep("run", "storage backups", "mount nfs.example.com:/export/" + "x" * 200 + " on /mnt/pve/b")
    line = console.step_line(12, 14, step)
    assert len(line) <= console.WIDTH and line.endswith("... (12/14)")
    failed = console.failed_line("step 3/7, storage tank: " + "zpool create failed " * 20)
    assert len(failed) <= 2 * console.WIDTH and failed.endswith("... (keel-firstboot status)")
    assert failed.startswith("provisioning FAILED: step 3/7, storage tank: zpool create")


def test_the_issue_file_doubles_backslashes_and_drops_control_characters():
    # agetty expands \n (host name), \l (tty) ... in issue files
    assert console.issue_text("FAILED: C:\\share\x1b[2J\nnext") == "FAILED: C:\\\\share[2J next\n"


def test_the_line_goes_to_run_issue_d_and_agetty_is_asked_to_show_it(tmp_path):
    reloads: list[int] = []
    status = console.ConsoleStatus(Paths(tmp_path), lambda: reloads.append(1))
    status.show("provisioning: done")
    issue = tmp_path / "run/issue.d/50-keel-provision.issue"
    assert issue.read_text() == "provisioning: done\n"
    assert issue.stat().st_mode & 0o777 == 0o644
    status.show("provisioning: done")
    assert reloads == [1], "an unchanged line does not redraw the prompt"


def test_a_line_that_cannot_be_written_does_not_stop_anything(tmp_path):
    (tmp_path / "run").write_text("not a directory")
    console.ConsoleStatus(Paths(tmp_path), lambda: pytest.fail("nothing to reload")).show("provisioning: done")


# --- a real HTTPS server ----------------------------------------------------------------------------------------

class Server:
    """Records every request; answers with the statuses queued in `replies` (then 200)."""

    def __init__(self, cert: Path, key: Path):
        self.requests: list[tuple[str, dict[str, str], dict]] = []
        self.replies: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, dict(self.headers), body))
                status = server.replies.pop(0) if server.replies else 200
                data = json.dumps({"state": body.get("state")}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/api/v1/report/firstboot") -> str:
        return f"https://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path, str]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is not installed")
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=keel-test"], check=True, capture_output=True, timeout=120)
    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()
    return cert, key, fingerprint


@pytest.fixture
def server(certificate):
    cert, key, _ = certificate
    s = Server(cert, key)
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def pinned(server: Server, fingerprint: str, kind: str = "keel-server") -> Target:
    return Target(server.url(), TOKEN, fingerprint, kind)


def reporter(target: Target, warnings: list[str], sleeps: list[float] | None = None) -> Reporter:
    return Reporter(target, "pve1.example.com", warn=warnings.append, timeout=2,
                    sleep=(sleeps if sleeps is not None else []).append)


@openssl
def test_a_pinned_report_reaches_the_server_with_the_token_and_keel_servers_body(server, certificate):
    warnings: list[str] = []
    r = reporter(pinned(server, certificate[2]), warnings)
    r.progress("joining cluster rack1 (2/5)")
    r.ready("provisioning succeeded")
    assert warnings == []
    (path, headers, body), (_, _, end) = server.requests
    assert path == "/api/v1/report/firstboot"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert body == {"id": body["id"], "state": "provisioning", "text": "joining cluster rack1 (2/5)", "detail": "",
                    "host": "pve1.example.com"}
    assert len(body["id"]) == 32 and int(body["id"], 16) >= 0 and body["id"] != end["id"]
    assert end["state"] == "ready"
    assert r.sent == [body["id"], end["id"]]


@openssl
def test_a_certificate_that_does_not_match_the_pin_gets_no_request_and_stops_reporting(server):
    warnings: list[str] = []
    r = reporter(pinned(server, "ab" * 32), warnings)
    r.progress("one")
    r.failed("two")
    assert server.requests == [], "not a byte of the request (the token) went to the wrong certificate"
    assert len(warnings) == 1 and "not the pinned" in warnings[0] and "stopped" in warnings[0]
    assert TOKEN not in warnings[0]


@openssl
def test_without_a_pin_an_untrusted_certificate_is_refused(server):
    warnings: list[str] = []
    reporter(Target(server.url(), TOKEN, None), warnings).ready("done")
    assert server.requests == [] and "not trusted" in warnings[0]


@openssl
def test_a_5xx_reply_is_tried_again_with_the_same_event_id(server, certificate):
    server.replies = [503, 500]
    warnings: list[str] = []
    sleeps: list[float] = []
    r = reporter(pinned(server, certificate[2]), warnings, sleeps)
    r.ready("done")
    ids = {body["id"] for _, _, body in server.requests}
    assert len(server.requests) == 3 and len(ids) == 1
    assert sleeps == [1.0, 2.0] and warnings == []


@openssl
def test_a_refusal_stops_reporting_at_once_without_the_token_in_the_message(server, certificate):
    server.replies = [401]
    warnings: list[str] = []
    r = reporter(pinned(server, certificate[2]), warnings)
    r.progress("one")
    r.ready("two")
    assert len(server.requests) == 1 and r.stopped
    assert "HTTP 401" in warnings[0] and TOKEN not in warnings[0]


def test_an_unreachable_server_costs_few_tries_and_never_raises(tmp_path):
    warnings: list[str] = []
    sleeps: list[float] = []
    r = reporter(Target("https://127.0.0.1:9/api/v1/report/firstboot", TOKEN, "ab" * 32), warnings, sleeps)
    r.progress("one")
    r.progress("two")
    r.failed("three")
    assert sleeps == [1.0, 2.0, 1.0, 2.0], "three tries for the first and the last event, one for the progress between"
    assert len(warnings) == 3 and all("not delivered" in w for w in warnings)


@openssl
def test_a_webhook_gets_the_token_in_the_body_too_as_proxmoxs_webhook_has_it(server, certificate):
    reporter(pinned(server, certificate[2], kind="webhook"), []).failed("provisioning failed: x", "detail")
    _, headers, body = server.requests[0]
    assert body["token"] == TOKEN and body["type"] == "keel-firstboot" and body["state"] == "failed"
    assert headers["Authorization"] == f"Bearer {TOKEN}"


REPORT_FILES = [
    pytest.param(None, (None, None), id="no file: no reports"),
    pytest.param({"version": 1, "url": "https://keel.example:8443/api/v1/report/firstboot", "token": "t",
                  "fingerprint": "AB:" * 31 + "AB", "kind": "keel-server"},
                 (Target("https://keel.example:8443/api/v1/report/firstboot", "t", "ab" * 32), None),
                 id="a keel-server target with a colon-separated fingerprint"),
    pytest.param({"version": 1, "url": "ftp://x/y"}, (None, "url is not an http(s) URL"), id="not an http URL"),
    pytest.param({"version": 1, "url": "https://x/y", "fingerprint": "12"},
                 (None, "fingerprint is not a SHA-256 fingerprint"), id="a short fingerprint"),
    pytest.param({"version": 2, "url": "https://x/y"}, (None, "not a version 1 report file"), id="a later version"),
    pytest.param({"version": 1, "url": "https://h:99999/x"}, (None, "url has a port that is not a number"),
                 id="a port out of range"),
]


@pytest.mark.parametrize(("data", "expected"), REPORT_FILES)
def test_report_json_is_read_or_refused_with_the_reason(tmp_path, data, expected):
    if data is not None:
        (tmp_path / "etc/keel").mkdir(parents=True)
        (tmp_path / REPORT.lstrip("/")).write_text(json.dumps(data))
    target, problem = load(Paths(tmp_path))
    assert target == expected[0]
    assert (problem is None) == (expected[1] is None) and (expected[1] or "") in (problem or "")


def test_a_bare_ipv6_url_is_posted_to_its_default_port(monkeypatch):
    import http.client

    from keel_firstboot import report

    seen = []

    class Refused(http.client.HTTPConnection):
        def __init__(self, host, port, timeout):
            seen.append((host, port))
            raise OSError("stop here")

    monkeypatch.setattr(http.client, "HTTPConnection", Refused)
    with pytest.raises((OSError, report.ReportError)):
        report.post(Target("http://[2001:db8::5]/api", None, None), {"x": 1}, timeout=1)
    assert seen == [("2001:db8::5", 80)]


def test_a_target_never_shows_its_token():
    target = Target("https://user:pw@keel.example:8443/api/v1/report/firstboot?x=1", TOKEN, None)
    assert TOKEN not in repr(target) and "pw" not in target.shown
    assert target.shown == "https://keel.example:8443/api/v1/report/firstboot"


# --- keel-firstboot provision with both ---------------------------------------------------------------------------

def installed(tmp_path: Path, report: dict | None) -> Paths:
    """An installed system whose [provision] is one dir storage: `mkdir` it, then register it."""
    (tmp_path / "etc/keel").mkdir(parents=True)
    (tmp_path / "etc/hostname").write_text("pve1\n")
    doc = {"version": 1, "node": {"name": "pve1", "fqdn": "pve1.example.com", "address": "10.0.0.11"},
           "cluster": None, "services": None,
           "storage": [{"id": "scratch", "type": "dir", "content": ["images"], "path": "/srv/scratch",
                        "storage_cfg": "dir: scratch\n\tpath /srv/scratch\n\tcontent images\n"}]}
    (tmp_path / "etc/keel/provision.json").write_text(json.dumps(doc))
    if report is not None:
        (tmp_path / REPORT.lstrip("/")).write_text(json.dumps(report))
    return Paths(tmp_path)


class Commands:
    """The installed system's commands: mkdir fails while `mkdir_fails`; everything is recorded."""

    def __init__(self, mkdir_fails: bool = False):
        self.ran: list[tuple[str, ...]] = []
        self.mkdir_fails = mkdir_fails
        self.made = False

    def runner(self, log, redact: Redactor, root: Path) -> Runner:
        commands = self

        class Fake(Runner):
            def execute(self, argv, timeout):
                argv = argv[2:]             # chroot <root>
                commands.ran.append(argv)
                if argv[:2] == ("test", "-d"):
                    return (0 if commands.made else 1), b"", "exit status 1"
                if argv[0] == "mkdir":
                    if commands.mkdir_fails:
                        return 1, b"mkdir: Read-only file system\n", "exit status 1"
                    commands.made = True
                return 0, b"", ""

        return Fake(log, redact, root)


def provision(paths: Paths, commands: Commands) -> tuple[int, str]:
    out = io.StringIO()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    code = cli.provision(paths, make_runner=commands.runner, timing=SHORT, clock=lambda: now[0], sleep=sleep,
                         out=out)
    return code, out.getvalue()


def issue(paths: Paths) -> str:
    return paths.at(console.ISSUE).read_text()


@openssl
def test_a_provision_run_shows_each_step_on_the_console_and_reports_it_then_ready(tmp_path, server, certificate):
    paths = installed(tmp_path, {"version": 1, "url": server.url(), "token": TOKEN, "fingerprint": certificate[2],
                                 "kind": "keel-server"})
    commands = Commands()
    code, out = provision(paths, commands)
    assert code == 0, out
    assert issue(paths) == "provisioning: done\n"
    assert [b["state"] for _, _, b in server.requests] == ["provisioning", "provisioning", "ready"]
    assert [b["text"] for _, _, b in server.requests][:2] == ["storage scratch: make /srv/scratch (1/2)",
                                                             "storage scratch: add dir: scratch to "
                                                             "/etc/pve/storage.cfg (2/2)"]
    assert commands.ran.count(("agetty", "--reload")) == 3
    assert f"reporting provisioning to https://127.0.0.1:{server.port}/api/v1/report/firstboot" in out
    assert TOKEN not in out and TOKEN not in paths.log.read_text()


@openssl
def test_a_failed_run_shows_failed_on_the_console_and_reports_the_reason(tmp_path, server, certificate):
    paths = installed(tmp_path, {"version": 1, "url": server.url(), "token": TOKEN, "fingerprint": certificate[2]})
    code, _ = provision(paths, Commands(mkdir_fails=True))
    assert code == 1
    line = issue(paths)
    assert line.startswith("provisioning FAILED: step 1/2, storage scratch: make /srv/scratch: mkdir")
    assert line.endswith("(keel-firstboot status)\n")
    _, _, end = server.requests[-1]
    assert end["state"] == "failed" and "Read-only file system" in end["text"] + end["detail"]


def test_a_later_boot_after_a_failure_shows_it_again_without_running_or_reporting(tmp_path):
    paths = installed(tmp_path, {"version": 1, "url": "https://127.0.0.1:9/r", "token": TOKEN})
    assert provision(paths, Commands(mkdir_fails=True))[0] == 1
    paths.at(console.ISSUE).unlink()            # /run is empty after a reboot
    commands = Commands()
    code, out = provision(paths, commands)
    assert code == 1 and "failed earlier" in out
    assert issue(paths).startswith("provisioning FAILED: step 1/2")
    assert commands.ran == [("agetty", "--reload")]


def test_without_report_json_provisioning_runs_unreported_with_the_console_line(tmp_path):
    paths = installed(tmp_path, None)
    code, out = provision(paths, Commands())
    assert code == 0 and "report" not in out
    assert issue(paths) == "provisioning: done\n"


def test_an_unreachable_server_does_not_fail_provisioning(tmp_path):
    paths = installed(tmp_path, {"version": 1, "url": "https://127.0.0.1:9/r", "token": TOKEN,
                                 "fingerprint": "ab" * 32})
    code, out = provision(paths, Commands())
    assert code == 0 and "not delivered" in out and TOKEN not in out


def test_after_retry_the_next_run_shows_its_steps_again_and_ends_done(tmp_path):
    paths = installed(tmp_path, None)
    assert provision(paths, Commands(mkdir_fails=True))[0] == 1
    assert cli.retry(paths, now=False, systemctl=None) == 0
    code, _ = provision(paths, Commands())
    assert code == 0 and issue(paths) == "provisioning: done\n"


def test_a_plain_http_webhook_on_the_answers_own_origin_is_reported_to_as_well():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        target = Target(f"http://127.0.0.1:{httpd.server_address[1]}/hook", None, None, "webhook")
        warnings: list[str] = []
        reporter(target, warnings).ready("provisioning succeeded")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert warnings == [] and received[0]["state"] == "ready" and "token" not in received[0]


def test_status_names_the_log_the_unit_and_where_reports_go_never_the_token(tmp_path, capsys):
    paths = installed(tmp_path, {"version": 1, "url": "https://keel.example:8443/api/v1/report/firstboot",
                                 "token": TOKEN, "fingerprint": "ab" * 32})
    assert cli.main(["status"], root=tmp_path) == 0
    out = capsys.readouterr().out
    assert "  log:       /var/log/keel/first-boot.log (journalctl -u keel-provision.service)" in out
    assert "  reports:   https://keel.example:8443/api/v1/report/firstboot (keel-server)" in out
    assert cli.main(["status", "--json"], root=paths.root) == 0
    text = capsys.readouterr().out
    assert json.loads(text)["provision"]["reports"] == "https://keel.example:8443/api/v1/report/firstboot (keel-server)"
    assert TOKEN not in out + text
