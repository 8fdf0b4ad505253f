"""keel-server's command line: init, serve, and the admin commands, locally on a data directory (`--data DIR`)
or through a running server's REST API (`--server URL --token T [--fingerprint FP]`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError

from keel_server import dnsmasq, tls
from keel_server.client import RemoteBackend
from keel_server.db import Database, database_url, migrate
from keel_server.errors import ServerError
from keel_server.service import Service, data_dir_boot_secret
from keel_server.tokens import parse_duration

DEFAULT_LISTEN = "0.0.0.0:8443"
DEFAULT_BOOT_LISTEN = "0.0.0.0:8080"
ENV_DB = "KEEL_SERVER_DB"
GRACEFUL_SHUTDOWN = 5       # seconds a stopping server waits for open (keep-alive) connections


class UsageError(Exception):
    """A command line that cannot be run: exit code 2."""


# --- backends ------------------------------------------------------------------------------------------------

def local_service(data: Path | None, db: str | None, public_url: str | None = None) -> Service:
    if data is None:
        raise UsageError("give --data DIR (the directory keel-server init made), or --server URL --token T")
    if not (data / tls.CERT_FILE).exists():
        raise UsageError(f"{data} is not a keel-server data directory; run keel-server init --data {data}")
    database = Database(database_url(data, db or os.environ.get(ENV_DB)))
    migrate(database.engine)
    return Service(database, fingerprint=tls.read_fingerprint(data), public_url=public_url,
                   boot_secret=data_dir_boot_secret((data / tls.KEY_FILE).read_bytes()))


def backend(args: argparse.Namespace) -> Any:
    """The local Service or the REST client: both have the same admin methods."""
    if args.server:
        if not args.token:
            raise UsageError("--server needs --token (the admin token keel-server init printed)")
        return RemoteBackend(args.server, args.token, args.fingerprint)
    return local_service(args.data, args.db)


# --- output --------------------------------------------------------------------------------------------------

def emit(args: argparse.Namespace, value: Any, text: Callable[[Any], str]) -> int:
    print(json.dumps(value, indent=2) if args.json else text(value))
    return 0


def _kv(items: list[str], flag: str, sep: str = "=") -> dict[str, str]:
    out = {}
    for item in items:
        key, found, value = item.partition(sep)
        if not found or not key:
            raise UsageError(f"{flag} {item}: expected KEY{sep}VALUE")
        out[key] = value
    return out


def _machine_line(m: dict) -> str:
    address = ", ".join(f"{x['address']} ({x['pool']})" for x in m["leases"]) or "-"
    labels = ",".join(f"{k}={v}" for k, v in m["labels"].items()) or "-"
    mac = m["macs"][0] if m["macs"] else "-"
    return (f"{m['id']:>4}  {m['state']:<12} {'armed' if m['armed'] else 'done':<6} {mac:<17}"
            f"  {m['serial'] or '-':<16} {m['profile'] or '-':<12} {address:<22} {labels}")


def _machine_text(m: dict) -> str:
    armed = ("armed: its next request gets an install" if m["armed"]
             else "finished: boots its local disk until rearmed")
    lines = [f"machine {m['id']}: {m['state']} ({armed})",
             f"  MACs: {', '.join(m['macs'])}", f"  serial: {m['serial'] or '-'}  UUID: {m['uuid'] or '-'}  "
             f"name: {m['name'] or '-'}", f"  labels: {m['labels'] or '-'}",
             f"  profile: {m['profile'] or '-'} (number {m['number'] or '-'}; "
             f"assigned: {m['assigned_profile'] or '-'})",
             f"  addresses: {', '.join(x['address'] + ' (' + x['pool'] + ')' for x in m['leases']) or '-'}",
             f"  installs (answers sent): {m['installs']}"]
    if m["reason"]:
        lines.append(f"  reason: {m['reason']}")
    if m["log_tail"]:
        lines += ["  log tail:", *("    " + line for line in m["log_tail"].splitlines()[-20:])]
    if m["ssh_host_keys"]:
        lines += ["  SSH host keys:", *(f"    {k}: {v}" for k, v in m["ssh_host_keys"].items())]
    lines.append("  states:")
    lines += [f"    {t['at']}  {t['state']:<12} {t['reason']}" for t in m["transitions"]]
    if m["events"]:
        lines.append("  events:")
        for e in m["events"]:
            ratio = f" {e['ratio'] * 100:.0f}%" if e["ratio"] is not None else ""
            ok = "" if e["ok"] is None else (" ok" if e["ok"] else " FAILED")
            lines.append(f"    {e['time']}  {e['type']:<9} {e['phase']}{ratio}{ok}  {e['text']}".rstrip())
    return "\n".join(lines)


def _profile_text(p: dict) -> str:
    selectors = [f"--match {k}={v}" for k, v in p["match"].items()] + [f"--mac {m}" for m in p["macs"]] + \
        [f"--label {k}={v}" for k, v in p["labels"].items()]
    head = (f"profile {p['name']}: priority {p['priority']}{', default' if p['default'] else ''}, "
            f"pool {p['pool'] or '-'}, selectors: {' '.join(selectors) or '-'}")
    return head + ("\n" + p["template"] if "template" in p else "")


# --- commands ------------------------------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    data: Path = args.data
    if data is None:
        raise UsageError("give --data DIR")
    if (data / tls.CERT_FILE).exists():
        raise ServerError(409, f"{data} is already initialised (it has {tls.CERT_FILE})")
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = list(dict.fromkeys([*args.san, *tls.host_names()]))
    fingerprint = tls.write_certificate(data, names)
    url = database_url(data, args.db or os.environ.get(ENV_DB))
    database = Database(url)
    migrate(database.engine)
    service = Service(database, fingerprint=fingerprint)
    token = service.create_token(kind="admin", actor="init")
    result = {"data": str(data), "database": url.split("@")[-1], "certificate": str(data / tls.CERT_FILE),
              "names": names, "fingerprint": fingerprint, "admin_token": token["token"]}
    return emit(args, result, lambda r: "\n".join([
        f"keel-server data directory: {r['data']}", f"database: {r['database']}",
        f"certificate: {r['certificate']} (for {', '.join(r['names'])})", f"fingerprint: {r['fingerprint']}",
        "admin token (shown once; keep it):", r["admin_token"]]))


def _host_port(text: str, flag: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{flag} {text}: expected HOST:PORT, e.g. 0.0.0.0:8443")
    return host.strip("[]") or "0.0.0.0", int(port)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from keel_server.api import create_app, create_boot_app

    host, port = _host_port(args.listen, "--listen")
    pxe_dir = args.pxe_dir.resolve() if args.pxe_dir else None
    if pxe_dir is not None and not pxe_dir.is_dir():
        raise UsageError(f"--pxe-dir {args.pxe_dir}: not a directory")
    service = local_service(args.data, args.db, args.public_url)
    app = create_app(service, pxe_dir=pxe_dir)
    tls_config = uvicorn.Config(app, host=host, port=port, ssl_certfile=str(args.data / tls.CERT_FILE),
                                ssl_keyfile=str(args.data / tls.KEY_FILE), log_level=args.log_level,
                                proxy_headers=False, server_header=False,
                                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN)
    print(f"keel-server: https://{host}:{port} (certificate fingerprint {service.fingerprint})", flush=True)
    if args.boot_listen != "none":
        boot_host, boot_port = _host_port(args.boot_listen, "--boot-listen")
        boot = uvicorn.Server(uvicorn.Config(create_boot_app(service, pxe_dir=pxe_dir, tls_port=port),
                                             host=boot_host, port=boot_port, log_level=args.log_level,
                                             server_header=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN))
        threading.Thread(target=boot.run, name="boot-http", daemon=True).start()
        print(f"keel-server: boot scripts and PXE files on http://{boot_host}:{boot_port}", flush=True)
    server = uvicorn.Server(tls_config)
    server.run()
    return 0 if server.started else 1


def cmd_profile(args: argparse.Namespace) -> int:
    b = backend(args)
    if args.action == "add":
        try:
            template = sys.stdin.read() if args.template == "-" else Path(args.template).read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise UsageError(f"{args.template}: cannot read the template ({err})") from err
        p = b.add_profile(args.name, template, match=_kv(args.match, "--match"), macs=args.mac,
                          labels=_kv(args.label, "--label"), priority=args.priority, default=args.default,
                          pool=args.pool)
        return emit(args, p, lambda p: f"added {_profile_text({k: v for k, v in p.items() if k != 'template'})}")
    if args.action == "list":
        return emit(args, b.list_profiles(), lambda ps: "\n".join(_profile_text(p) for p in ps) or "no profiles")
    if args.action == "show":
        return emit(args, b.show_profile(args.name), _profile_text)
    return emit(args, b.remove_profile(args.name), lambda r: f"removed profile {r['removed']}")


def cmd_pool(args: argparse.Namespace) -> int:
    b = backend(args)
    if args.action == "add":
        p = b.add_pool(args.name, args.cidr, args.gateway, args.dns, args.range)
        return emit(args, p, lambda p: f"added pool {p['name']}: {p['cidr']} range {p['range']} gateway "
                                       f"{p['gateway']} DNS {p['dns']}")
    if args.action == "list":
        return emit(args, b.list_pools(), lambda ps: "\n".join(
            f"{p['name']}: {p['cidr']} range {p['range']} gateway {p['gateway']} DNS {p['dns']}, {p['leases']} "
            "leased" for p in ps) or "no pools")
    return emit(args, b.remove_pool(args.name), lambda r: f"removed pool {r['removed']}")


def cmd_token(args: argparse.Namespace) -> int:
    b = backend(args)
    if args.action == "list":
        return emit(args, b.list_tokens(), lambda ts: "\n".join(
            f"{t['id']}  {t['kind']:<7} created {t['created_at']}  expires {t['expires_at'] or 'never'}"
            for t in ts))
    try:
        expires = parse_duration(args.expires) if args.expires else None
    except ValueError as err:
        raise UsageError(str(err)) from err
    t = b.create_token(expires_in=expires)
    return emit(args, t, lambda t: f"answer token {t['id']}, expires {t['expires_at'] or 'never'}:\n{t['token']}")


def cmd_machine(args: argparse.Namespace) -> int:
    b = backend(args)
    if args.action == "list":
        header = f"{'id':>4}  {'state':<12} {'':<6} {'mac':<17}  {'serial':<16} {'profile':<12} {'address':<22} labels"
        return emit(args, b.list_machines(), lambda ms: "\n".join([header, *map(_machine_line, ms)]))
    if args.action == "show":
        return emit(args, b.show_machine(args.machine), _machine_text)
    if args.action == "rearm":
        return emit(args, b.rearm(args.machine), lambda m: f"machine {m['id']} rearmed: its next boot installs it")
    if args.action == "remove":
        return emit(args, b.remove_machine(args.machine), lambda r: f"removed machine {r['removed']}; released "
                                                                     f"{', '.join(r['released']) or 'no address'}")
    if args.action == "label":
        m = b.label(args.machine, _kv(args.values, "label"), args.unset)
        return emit(args, m, lambda m: f"machine {m['id']}: labels {m['labels']}")
    profile = args.profile
    m = b.assign(args.machine, profile)
    return emit(args, m, lambda m: f"machine {m['id']}: assigned to {profile or 'nothing (matching decides)'}")


def cmd_explain(args: argparse.Namespace) -> int:
    try:
        sysinfo = json.loads(Path(args.sysinfo).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UsageError(f"{args.sysinfo}: cannot read the system info ({err})") from err
    return emit(args, backend(args).explain(sysinfo), lambda r: "\n".join(r["lines"]))


def cmd_audit(args: argparse.Namespace) -> int:
    return emit(args, backend(args).audit_log(args.limit), lambda rows: "\n".join(
        f"{a['at']}  {a['actor']:<14} {a['action']:<16} {a['target']}  {json.dumps(a['detail'])}" for a in rows))


def cmd_dnsmasq_config(args: argparse.Namespace) -> int:
    server = args.server_url.rstrip("/")
    boot = args.boot_url or _default_boot_url(server)
    first_last = None
    if args.range:
        first, sep, last = args.range.partition(",")
        if not sep:
            raise UsageError(f"--range {args.range}: expected FIRST,LAST")
        first_last = (first, last)
    options = dnsmasq.DnsmasqOptions(
        interface=args.interface, answer_url=f"{server}/answer", fingerprint=args.fingerprint.lower(),
        boot_url=boot, pxe_dir=str(args.pxe_dir.resolve()), dhcp_range=first_last, proxy_subnet=args.proxy,
        router=args.router, dns=args.dns)
    try:
        text = dnsmasq.render(options)
    except dnsmasq.DnsmasqError as err:
        raise UsageError(str(err)) from err
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


def _default_boot_url(server: str) -> str:
    """The boot listener beside an https://HOST:8443 server: http://HOST:8080."""
    host = urlsplit(server).hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{DEFAULT_BOOT_LISTEN.rsplit(':', 1)[1]}"


# --- parser --------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where the server's state is")
    where.add_argument("--data", type=Path, metavar="DIR", help="the data directory (keel-server init --data DIR)")
    where.add_argument("--db", metavar="URL", help="postgresql://user@host/db instead of the data directory's "
                                                   f"SQLite (also ${ENV_DB})")
    where.add_argument("--server", metavar="URL", help="a running server's https://HOST:PORT: go through its API")
    where.add_argument("--token", metavar="T", help="the admin token, with --server")
    where.add_argument("--fingerprint", metavar="FP", help="the server certificate's SHA-256, with --server")
    where.add_argument("--json", action="store_true", help="print JSON")

    parser = argparse.ArgumentParser(
        prog="keel-server", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Answers for Keel and Proxmox installers from an inventory of machines and profiles; every "
                    "install tracked from its first request to ready; netboot for the fleet.",
        epilog="Example: keel-server init --data /var/lib/keel-server && keel-server serve --data /var/lib/keel-server")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str, example: str,
                parents: list[argparse.ArgumentParser] | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=f"Example: {example}",
                           parents=[common] if parents is None else parents,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = command("init", cmd_init, "Create the data directory: database, self-signed TLS certificate (SANs: this "
                "host's names and addresses, 127.0.0.1) and an admin token; prints the certificate's SHA-256 "
                "fingerprint and the token.", "keel-server init --data /var/lib/keel-server --san pxe.example.com")
    p.add_argument("--san", action="append", default=[], metavar="NAME", help="another name or IP for the "
                   "certificate (repeatable)")

    p = command("serve", cmd_serve, "Serve HTTPS: POST /answer, installer reports, the admin API (/api/v1, "
                "OpenAPI at /openapi.json), /boot/<mac>.ipxe and /pxe/; and plain HTTP for iPXE (boot scripts and "
                "PXE files only).", "keel-server serve --data /var/lib/keel-server --listen 0.0.0.0:8443 "
                "--pxe-dir build/pxe --public-url https://pxe.example.com:8443")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT", help=f"HTTPS (default {DEFAULT_LISTEN})")
    p.add_argument("--boot-listen", default=DEFAULT_BOOT_LISTEN, metavar="HOST:PORT",
                   help=f"plain HTTP for iPXE (default {DEFAULT_BOOT_LISTEN}; 'none': off)")
    p.add_argument("--public-url", metavar="URL", help="the base URL machines reach the server at (in answers "
                   "and report URLs; default: the URL of each request)")
    p.add_argument("--pxe-dir", type=Path, metavar="DIR", help="serve vmlinuz, initrd.img, filesystem.squashfs "
                   "and the iPXE loaders from DIR (build/pxe) under /pxe/")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))

    def group(name: str, func: Callable[[argparse.Namespace], int], help_text: str, example: str,
              actions: dict[str, str]) -> dict[str, argparse.ArgumentParser]:
        """A command with actions (profile add, profile list, ...), each its own parser taking the common options."""
        p = command(name, func, help_text, example, parents=[])
        inner = p.add_subparsers(dest="action", required=True, metavar="ACTION")
        return {action: inner.add_parser(action, help=text, description=f"{help_text}\n\n{name} {action}: {text}",
                                         epilog=f"Example: {example}", parents=[common],
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
                for action, text in actions.items()}

    ps = group("profile", cmd_profile, "Profiles: an answer template (Jinja2 over the whole answer TOML) and the "
               "selectors that choose it. The highest priority wins; a profile that ties with another at the same "
               "priority for a known machine is refused.",
               "keel-server profile add --data DIR rack1 rack1.toml.j2 --match '/dmi/system/name=PowerEdge*' "
               "--priority 10 --pool rack1",
               {"add": "add a profile", "list": "list the profiles", "show": "a profile and its template",
                "remove": "remove a profile"})
    p = ps["add"]
    p.add_argument("name", metavar="NAME")
    p.add_argument("template", metavar="TEMPLATE", help="the template file ('-': stdin)")
    p.add_argument("--match", action="append", default=[], metavar="POINTER=GLOB",
                   help="a JSON pointer into the system info and a glob (repeatable; all must match); "
                        "'*' in a pointer stands for every array element: /network_interfaces/*/mac=3c:ec:*")
    p.add_argument("--mac", action="append", default=[], metavar="MAC", help="a MAC (repeatable; any matches)")
    p.add_argument("--label", action="append", default=[], metavar="K=V", help="a machine label (repeatable)")
    p.add_argument("--priority", type=int, default=0, metavar="N")
    p.add_argument("--default", action="store_true", help="answer machines no other profile matches")
    p.add_argument("--pool", metavar="NAME", help="the address pool of `address` in the template")
    for action in ("show", "remove"):
        ps[action].add_argument("name", metavar="NAME")

    ps = group("pool", cmd_pool, "Address pools: each machine gets a stable address (the same on every request, "
               "released on machine remove).", "keel-server pool add --data DIR rack1 --cidr 10.0.0.0/24 "
               "--gateway 10.0.0.1 --dns 10.0.0.1 --range 10.0.0.100-10.0.0.199",
               {"add": "add a pool", "list": "list the pools", "remove": "remove a pool no profile uses"})
    p = ps["add"]
    p.add_argument("name", metavar="NAME")
    p.add_argument("--cidr", required=True)
    p.add_argument("--gateway", required=True)
    p.add_argument("--dns", required=True)
    p.add_argument("--range", metavar="FIRST-LAST")
    ps["remove"].add_argument("name", metavar="NAME")

    ps = group("token", cmd_token, "Answer tokens for POST /answer (Authorization: Bearer); create prints the "
               "token as its last line, once.", "keel-server token create --data DIR --expires 30d",
               {"create": "a new answer token", "list": "the tokens (ids and expiry, never the secrets)"})
    ps["create"].add_argument("--expires", metavar="DURATION", help="3600s, 90m, 12h, 30d or 2w (default: never)")

    ps = group("machine", cmd_machine, "Machines. MACHINE is its number, a MAC, its serial or its UUID.",
               "keel-server machine show --data DIR 52:54:00:12:34:56",
               {"list": "every machine with its state", "show": "states, event timeline, addresses, SSH host keys",
                "rearm": "allow one more install (the next boot installs)",
                "remove": "forget the machine and release its addresses",
                "label": "set labels K=V (and --unset K)",
                "assign": "answer it with PROFILE whatever matches (no PROFILE: matching decides again)"})
    for action in ("show", "rearm", "remove", "label", "assign"):
        ps[action].add_argument("machine", metavar="MACHINE")
    ps["label"].add_argument("values", nargs="*", metavar="K=V")
    ps["label"].add_argument("--unset", action="append", default=[], metavar="K", help="remove label K")
    ps["assign"].add_argument("profile", nargs="?", metavar="PROFILE")

    p = command("explain", cmd_explain, "Which profile answers a system-info JSON, and for each other profile "
                "the selector that did not match.", "keel-server explain --data DIR sysinfo.json")
    p.add_argument("sysinfo", metavar="SYSINFO.json")

    p = command("audit", cmd_audit, "The audit log of admin changes, newest first.",
                "keel-server audit --data DIR --limit 20")
    p.add_argument("--limit", type=int, default=200)

    p = command("dnsmasq-config", cmd_dnsmasq_config, "Write a dnsmasq configuration: full DHCP (--range) or "
                "proxy-DHCP beside an existing DHCP server (--proxy), TFTP with the iPXE loaders, iPXE chained to "
                "/boot/${mac}.ipxe, options 250/251 for Proxmox ISOs.",
                "keel-server dnsmasq-config --interface eth1 --range 10.0.0.100,10.0.0.199 --server-url "
                "https://10.0.0.2:8443 --fingerprint aa:bb:... --pxe-dir build/pxe --output /etc/dnsmasq.d/keel.conf",
                parents=[])
    p.add_argument("--interface", required=True, metavar="IF")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--range", metavar="FIRST,LAST", help="full DHCP over this range")
    mode.add_argument("--proxy", metavar="SUBNET", help="proxy-DHCP on this subnet (another server leases)")
    p.add_argument("--server-url", required=True, metavar="URL", help="the server's https://HOST:PORT")
    p.add_argument("--fingerprint", required=True, metavar="FP")
    p.add_argument("--boot-url", metavar="URL", help="where iPXE fetches /boot/... (default http://HOST:8080, "
                   "serve's --boot-listen)")
    p.add_argument("--pxe-dir", type=Path, default=Path("build/pxe"), metavar="DIR", help="the TFTP root (build/pxe)")
    p.add_argument("--router", metavar="IP", help="with --range: the default gateway handed out")
    p.add_argument("--dns", metavar="IP", help="with --range: the DNS server handed out")
    p.add_argument("--output", type=Path, metavar="FILE")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"keel-server: {err}", file=sys.stderr)
        return 2
    except ServerError as err:
        print(f"keel-server: {err.message}", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except SQLAlchemyError as err:
        print(f"keel-server: database error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"keel-server: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
