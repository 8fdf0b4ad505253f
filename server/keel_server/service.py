"""What keel-server does, over the database: the inventory and profiles (the admin side, shared by the REST API
and the local `--data` CLI), answering machines, tracking installs from their reports, and boot scripts.

Every method returns plain JSON-able values (the API's bodies, the CLI's output) or raises ServerError. Admin
changes are written to the audit log, never with a secret in them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from installer.core.hardware import HardwareProfile
from keel_server import ipxe, matching, render
from keel_server.db import Database
from keel_server.errors import ServerError, bad_request, conflict, not_found
from keel_server.ipam import PoolError, PoolSpec, make_pool, next_free
from keel_server.models import (
    ApiToken,
    AuditEntry,
    Event,
    Install,
    Lease,
    Machine,
    MachineMac,
    Pool,
    Profile,
    Transition,
)
from keel_server.passwords import PasswordError, hash_template_passwords
from keel_server.sysinfo import SystemInfo, normalize_mac, parse, parse_body
from keel_server.tokens import new_secret, new_token, same_hash, token_hash, token_id_of

STATES = ("discovered", "answer-sent", "installing", "installed", "provisioning", "ready", "failed")
FINISHED = ("installed", "provisioning", "ready")
EVENT_TYPES = ("phase", "progress", "message", "warning", "error", "finished")
EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
LABEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$")
LOG_TAIL_CHARS = 8000
EVENTS_SHOWN = 500
BOOT_TOKEN_USER = "pxe"


@dataclass
class AnswerReply:
    """What POST /answer sends back: the answer (200) or an error body, and headers."""

    status: int
    body: dict[str, Any] | str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _now() -> float:
    return time.time()


def iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _check_name(kind: str, name: str) -> None:
    if not NAME.match(name):
        raise bad_request(f"{kind} name {name!r}: use letters, digits, '.', '_' and '-' (at most 100)")


class Service:
    """The server's operations. `fingerprint` is the TLS certificate's; `public_url` the base URL machines reach
    the server at (None: the URL of the request); `boot_secret` keys the MAC-scoped tokens of boot scripts."""

    def __init__(self, db: Database, *, fingerprint: str, public_url: str | None = None,
                 boot_secret: bytes = b"", clock: Callable[[], float] = _now):
        self.db = db
        self.fingerprint = fingerprint
        self.public_url = public_url.rstrip("/") if public_url else None
        self.boot_secret = boot_secret
        self.clock = clock

    # --- tokens -------------------------------------------------------------------------------------------

    def create_token(self, *, kind: str = "answer", expires_in: int | None = None, actor: str = "local") -> dict:
        token_id, token = new_token()
        now = self.clock()
        with self.db.session() as s:
            s.add(ApiToken(token_id=token_id, token_hash=token_hash(token), kind=kind, created_at=now,
                           expires_at=None if expires_in is None else now + expires_in))
            self._audit(s, actor, "token.create", token_id, {"kind": kind, "expires_in": expires_in})
        return {"id": token_id, "kind": kind, "expires_at": iso(None if expires_in is None else now + expires_in),
                "token": token}

    def check_token(self, token: str | None, kind: str) -> str:
        """The token's id when it is a valid, unexpired token of `kind`; ServerError 401 otherwise."""
        if not token:
            raise ServerError(401, "missing token: send Authorization: Bearer <token>")
        with self.db.session() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.token_id == token_id_of(token), ApiToken.kind == kind))
            if row is None or not same_hash(token, row.token_hash):
                raise ServerError(401, f"invalid {kind} token")
            if row.expires_at is not None and row.expires_at < self.clock():
                raise ServerError(401, f"{kind} token {row.token_id} expired at {iso(row.expires_at)}")
            return row.token_id

    def list_tokens(self) -> list[dict]:
        with self.db.session() as s:
            return [{"id": t.token_id, "kind": t.kind, "created_at": iso(t.created_at),
                     "expires_at": iso(t.expires_at)} for t in s.scalars(select(ApiToken).order_by(ApiToken.id))]

    def boot_token(self, mac: str) -> str:
        """A token that lets exactly the machine with this MAC fetch its answer (used in boot scripts)."""
        digest = hmac.new(self.boot_secret, f"keel-boot:{mac}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{mac.replace(':', '')}-{digest}"

    def _boot_token_mac(self, token: str) -> str | None:
        raw, _, _ = token.partition("-")
        if not self.boot_secret or len(raw) != 12:
            return None
        mac = ":".join(raw[i:i + 2] for i in range(0, 12, 2))
        return mac if hmac.compare_digest(self.boot_token(mac), token) else None

    # --- pools ---------------------------------------------------------------------------------------------

    def add_pool(self, name: str, cidr: str, gateway: str, dns: str, range_: str | None = None,
                 actor: str = "local") -> dict:
        _check_name("pool", name)
        try:
            spec = make_pool(name, cidr, gateway, dns, range_)
        except PoolError as err:
            raise bad_request(str(err)) from err
        with self.db.session() as s:
            if s.scalar(select(Pool).where(Pool.name == name)) is not None:
                raise conflict(f"pool {name} exists")
            s.add(Pool(name=name, cidr=spec.cidr, gateway=spec.gateway, dns=spec.dns, first=spec.first,
                       last=spec.last))
            self._audit(s, actor, "pool.add", name, _pool_json(spec))
        return _pool_json(spec)

    def list_pools(self) -> list[dict]:
        with self.db.session() as s:
            out = []
            for pool in s.scalars(select(Pool).order_by(Pool.name)):
                used = s.scalar(select(func.count()).select_from(Lease).where(Lease.pool_id == pool.id))
                out.append({**_pool_json(_spec(pool)), "leases": used})
            return out

    def remove_pool(self, name: str, actor: str = "local") -> dict:
        with self.db.session() as s:
            pool = s.scalar(select(Pool).where(Pool.name == name))
            if pool is None:
                raise not_found(f"no pool {name}")
            users = list(s.scalars(select(Profile.name).where(Profile.pool == name)))
            if users:
                raise conflict(f"pool {name} is used by profile {', '.join(users)}")
            s.delete(pool)
            self._audit(s, actor, "pool.remove", name, {})
        return {"removed": name}

    # --- profiles ------------------------------------------------------------------------------------------

    def add_profile(self, name: str, template: str, *, match: dict[str, str] | None = None,
                    macs: list[str] | None = None, labels: dict[str, str] | None = None, priority: int = 0,
                    default: bool = False, pool: str | None = None, actor: str = "local") -> dict:
        _check_name("profile", name)
        match, labels = dict(match or {}), dict(labels or {})
        for pointer, glob in match.items():
            try:
                matching.check_pointer(pointer)
            except matching.SelectorError as err:
                raise bad_request(str(err)) from err
            if not glob:
                raise bad_request(f"--match {pointer}=: the glob is empty")
        clean_macs = []
        for mac in macs or []:
            normal = normalize_mac(mac)
            if normal is None:
                raise bad_request(f"--mac {mac}: not a MAC address (aa:bb:cc:dd:ee:ff)")
            clean_macs.append(normal)
        candidate = matching.Candidate(name, priority, default, match, tuple(clean_macs), labels)
        if not candidate.has_selectors and not default:
            raise bad_request(f"profile {name} has no selectors: give --match, --mac or --label, or --default")
        problem = render.template_problem(template)
        if problem:
            raise bad_request(f"profile {name}: the template does not parse: {problem}")
        try:
            stored = hash_template_passwords(template)
        except PasswordError as err:
            raise bad_request(f"profile {name}: {err}") from err
        with self.db.session() as s:
            if s.scalar(select(Profile).where(Profile.name == name)) is not None:
                raise conflict(f"profile {name} exists; remove it first (keel-server profile remove {name})")
            if pool is not None and s.scalar(select(Pool).where(Pool.name == pool)) is None:
                raise not_found(f"no pool {pool}; add it first (keel-server pool add {pool} ...)")
            if default:
                other = s.scalar(select(Profile).where(Profile.is_default.is_(True)))
                if other is not None:
                    raise conflict(f"profile {other.name} is already the default profile; there can be one")
            why = matching.tie(candidate, self._candidates(s), self._subjects(s))
            if why:
                raise conflict(why)
            s.add(Profile(name=name, template=stored, match=match, macs=clean_macs, labels=labels,
                          priority=priority, is_default=default, pool=pool, created_at=self.clock()))
            detail = {"priority": priority, "default": default, "pool": pool, "match": match, "macs": clean_macs,
                      "labels": labels}
            self._audit(s, actor, "profile.add", name, detail)
        return self.show_profile(name)

    def list_profiles(self) -> list[dict]:
        with self.db.session() as s:
            rows = s.scalars(select(Profile).order_by(Profile.priority.desc(), Profile.name))
            return [_profile_json(p, with_template=False) for p in rows]

    def show_profile(self, name: str) -> dict:
        with self.db.session() as s:
            return _profile_json(self._profile(s, name), with_template=True)

    def remove_profile(self, name: str, actor: str = "local") -> dict:
        with self.db.session() as s:
            s.delete(self._profile(s, name))
            self._audit(s, actor, "profile.remove", name, {})
        return {"removed": name}

    # --- machines (admin) ----------------------------------------------------------------------------------

    def list_machines(self) -> list[dict]:
        with self.db.session() as s:
            rows = s.scalars(select(Machine).order_by(Machine.id))
            return [self._machine_summary(s, m) for m in rows]

    def show_machine(self, ref: str) -> dict:
        with self.db.session() as s:
            m = self._machine(s, ref)
            out = self._machine_summary(s, m)
            events = list(s.scalars(select(Event).where(Event.machine_id == m.id)
                                    .order_by(Event.time, Event.id).limit(EVENTS_SHOWN)))
            out.update({
                "reason": m.reason,
                "log_tail": m.log_tail,
                "assigned_profile": m.assigned_profile,
                "installs": m.installs,
                "first_seen": iso(m.first_seen),
                "sysinfo": m.sysinfo,
                "has_hardware_profile": m.hardware is not None,
                "ssh_host_keys": m.ssh_host_keys,
                "transitions": [{"state": t.state, "at": iso(t.at), "reason": t.reason} for t in m.transitions],
                "events": [_event_json(e) for e in events],
            })
            return out

    def rearm(self, ref: str, actor: str = "local") -> dict:
        with self.db.session() as s:
            m = self._machine(s, ref)
            m.armed = True
            self._audit(s, actor, "machine.rearm", _machine_name(m), {"state": m.state})
            return self._machine_summary(s, m)

    def remove_machine(self, ref: str, actor: str = "local") -> dict:
        with self.db.session() as s:
            m = self._machine(s, ref)
            name = _machine_name(m)
            released = [lease.address for lease in s.scalars(select(Lease).where(Lease.machine_id == m.id))]
            s.execute(delete(Lease).where(Lease.machine_id == m.id))
            s.execute(delete(Event).where(Event.machine_id == m.id))
            s.execute(delete(Install).where(Install.machine_id == m.id))
            s.delete(m)
            self._audit(s, actor, "machine.remove", name, {"released": released})
        return {"removed": name, "released": released}

    def label(self, ref: str, set_: dict[str, str], unset: list[str], actor: str = "local") -> dict:
        for key in [*set_, *unset]:
            if not LABEL_KEY.match(key):
                raise bad_request(f"label {key!r}: use letters, digits, '.', '_', '/' and '-'")
        with self.db.session() as s:
            m = self._machine(s, ref)
            labels = {k: v for k, v in {**m.labels, **set_}.items() if k not in unset}
            subject = self._subject(m, labels=labels)
            candidates = self._candidates(s)
            for c in candidates:
                why = matching.tie(c, candidates, [subject])
                if why:
                    raise conflict(f"labels {labels}: {why}")
            m.labels = labels
            self._audit(s, actor, "machine.label", _machine_name(m), {"set": set_, "unset": unset})
            return self._machine_summary(s, m)

    def assign(self, ref: str, profile: str | None, actor: str = "local") -> dict:
        with self.db.session() as s:
            m = self._machine(s, ref)
            if profile is not None:
                self._profile(s, profile)
            m.assigned_profile = profile
            self._audit(s, actor, "machine.assign", _machine_name(m), {"profile": profile})
            return self._machine_summary(s, m)

    def audit_log(self, limit: int = 200) -> list[dict]:
        with self.db.session() as s:
            rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
            return [{"at": iso(a.at), "actor": a.actor, "action": a.action, "target": a.target, "detail": a.detail}
                    for a in rows]

    def explain(self, sysinfo: Any) -> dict:
        info = parse(sysinfo)
        with self.db.session() as s:
            machine = self._find_machine(s, info)
            subject = matching.Subject(_view(info.data, info.hardware_json), info.macs,
                                       dict(machine.labels) if machine else {},
                                       machine.assigned_profile if machine else None,
                                       _machine_name(machine) if machine else "this machine")
            candidates = self._candidates(s)
            decision = matching.decide(candidates, subject)
            return {"machine": _machine_name(machine) if machine else None, "profile": decision.profile,
                    "lines": matching.explain(candidates, subject)}

    # --- the answer ----------------------------------------------------------------------------------------

    def answer(self, body: bytes, authorization: str | None, accept: str | None, base_url: str) -> AnswerReply:
        """POST /answer: authenticate, record the machine, pick its profile, render and validate its answer."""
        info_or_error = self._authorize_answer(body, authorization)
        if isinstance(info_or_error, AnswerReply):
            return info_or_error
        info = info_or_error
        base = self.public_url or base_url.rstrip("/")
        with self.db.session() as s:
            m = self._record_machine(s, info)
            if not m.armed:
                return AnswerReply(409, {"error": f"machine {_machine_name(m)} finished its install (state "
                                                  f"{m.state}); run keel-server machine rearm {m.id} to install "
                                                  "it again", "machine": m.id})
            candidates = self._candidates(s)
            decision = matching.decide(candidates, self._subject(m))
            if decision.profile is None:
                m.reason = decision.why
                status = 409 if decision.tie else 404
                return AnswerReply(status, {"error": f"no answer for machine {_machine_name(m)}: {decision.why}",
                                            "machine": m.id})
            profile = self._profile(s, decision.profile)
            secret = new_secret()
            webhook = {"url": f"{base}/api/v1/report/webhook", "cert-fingerprint": self.fingerprint,
                       "auth-token": secret}
            try:
                variables = self._variables(s, m, profile, base)
                built = render.build_answer(profile.template, variables, webhook, _hardware(m))
            except render.RenderError as err:
                m.reason = f"the answer of profile {profile.name} is invalid"
                self._transition(s, m, "failed", m.reason)
                m.log_tail = "\n".join(err.problems)[-LOG_TAIL_CHARS:]
                return AnswerReply(422, {"error": f"the answer of profile {profile.name} for machine "
                                                  f"{_machine_name(m)} is invalid", "problems": err.problems,
                                         "machine": m.id})
            m.installs += 1
            m.profile = profile.name
            m.reason = ""
            m.log_tail = ""
            s.add(Install(machine_id=m.id, number=m.installs, token_hash=token_hash(secret), profile=profile.name,
                          answered_at=self.clock()))
            self._transition(s, m, "answer-sent", f"profile {profile.name} ({decision.why})")
        headers = {"Keel-Report-URL": f"{base}/api/v1/report/events", "Keel-Report-Token": secret,
                   "Cache-Control": "no-store"}
        if wants_json(accept):
            return AnswerReply(200, built.data, "application/json", headers)
        return AnswerReply(200, built.text, "application/toml", headers)

    def _authorize_answer(self, body: bytes, authorization: str | None) -> SystemInfo | AnswerReply:
        scheme, _, credential = (authorization or "").partition(" ")
        boot_mac = None
        try:
            if scheme.lower() == "basic":
                credential = _basic_password(credential)
                boot_mac = self._boot_token_mac(credential)
            if boot_mac is None:
                if scheme.lower() not in ("bearer", "basic"):
                    credential = ""
                self.check_token(credential.strip(), "answer")
            info = parse_body(body)
        except ServerError as err:
            return AnswerReply(err.status, err.to_json())
        if boot_mac is not None and boot_mac not in info.macs:
            return AnswerReply(401, {"error": "this boot token belongs to another machine"})
        return info

    def _variables(self, s: Session, m: Machine, profile: Profile, base: str) -> dict[str, Any]:
        if m.numbered_by != profile.name or m.number is None:
            locked = s.scalar(select(Profile).where(Profile.id == profile.id).with_for_update())
            assert locked is not None
            m.number, m.numbered_by = locked.next_number, profile.name
            locked.next_number += 1
        variables: dict[str, Any] = {
            "machine": {"id": m.id, "number": m.number, "installs": m.installs + 1,
                        "macs": [x.mac for x in m.macs], "mac": m.macs[0].mac if m.macs else "",
                        "serial": m.serial, "uuid": m.uuid, "labels": dict(m.labels)},
            "profile": {"name": profile.name, "priority": profile.priority},
            "server": {"url": base, "fingerprint": self.fingerprint, "answer_url": f"{base}/answer"},
            "sysinfo": m.sysinfo,
        }
        if profile.pool is not None:
            variables["address"] = self._lease(s, m, profile.pool)
        return variables

    def _lease(self, s: Session, m: Machine, pool_name: str) -> dict[str, Any]:
        pool = s.scalar(select(Pool).where(Pool.name == pool_name).with_for_update())
        if pool is None:
            raise render.RenderError([f"the profile's pool {pool_name} does not exist"])
        spec = _spec(pool)
        lease = s.scalar(select(Lease).where(Lease.pool_id == pool.id, Lease.machine_id == m.id))
        if lease is None:
            taken = s.scalars(select(Lease.address).where(Lease.pool_id == pool.id))
            try:
                address = next_free(spec, taken)
            except PoolError as err:
                raise render.RenderError([str(err)]) from err
            lease = Lease(pool_id=pool.id, machine_id=m.id, address=address)
            s.add(lease)
            s.flush()
        return spec.address(lease.address)

    # --- reports -------------------------------------------------------------------------------------------

    def report_events(self, token: str | None, body: Any) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            raise bad_request('expected {"events": [...]}')
        events = [_check_event(i, e) for i, e in enumerate(body["events"])]
        stored = duplicates = 0
        with self.db.session() as s:
            install, m = self._install(s, token)
            seen = set(s.scalars(select(Event.event_id).where(Event.machine_id == m.id,
                                                              Event.event_id.in_([e["id"] for e in events]))))
            for e in events:
                if e["id"] in seen:
                    duplicates += 1
                    continue
                seen.add(e["id"])
                stored += 1
                s.add(Event(machine_id=m.id, install_id=install.id, event_id=e["id"], type=e["type"], time=e["time"],
                            phase=e["phase"], text=e["text"], ratio=e["ratio"], ok=e["ok"], detail=e["detail"],
                            received_at=self.clock()))
                self._apply_event(s, m, e)
            try:
                s.flush()
            except IntegrityError as err:      # the same event sent twice at once: the other request stored it
                raise conflict("these events are being stored by another request; send them again") from err
        return {"stored": stored, "duplicates": duplicates}

    def _apply_event(self, s: Session, m: Machine, e: dict[str, Any]) -> None:
        if m.state == "answer-sent":
            self._transition(s, m, "installing", "the installer reported its first event")
        failed = e["type"] == "error" or (e["type"] == "finished" and e["ok"] is False)
        if failed and m.state not in FINISHED:
            self._transition(s, m, "failed", e["text"] or "the installer reported a failure")
            m.reason = e["text"] or "the installer reported a failure"
            m.log_tail = e["detail"][-LOG_TAIL_CHARS:]

    def report_webhook(self, header_token: str | None, body: Any) -> dict:
        if not isinstance(body, dict):
            raise bad_request("the webhook body must be a JSON object (Proxmox's post-installation report)")
        token = body.get("token") if isinstance(body.get("token"), str) else header_token
        keys = body.get("ssh-public-host-keys", {})
        if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
            raise bad_request("ssh-public-host-keys: expected an object of key type -> public key")
        with self.db.session() as s:
            _install, m = self._install(s, token)
            m.ssh_host_keys = {k: keys[k] for k in ("ecdsa", "ed25519", "rsa") if k in keys}
            m.report = {k: v for k, v in body.items() if k != "token"}
            m.armed = False
            if m.state not in FINISHED:
                self._transition(s, m, "installed", f"post-installation webhook from {body.get('fqdn', '?')}")
            return {"machine": m.id, "state": m.state}

    def report_firstboot(self, token: str | None, body: Any) -> dict:
        if not isinstance(body, dict):
            raise bad_request('expected {"id", "state", "text", "detail"}')
        event_id, state = body.get("id"), body.get("state")
        if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
            raise bad_request("id: expected 32 lower-case hex digits")
        if state not in ("provisioning", "ready", "failed"):
            raise bad_request("state: expected provisioning, ready or failed")
        text = str(body.get("text", ""))
        detail = str(body.get("detail", ""))
        with self.db.session() as s:
            install, m = self._install(s, token)
            if s.scalar(select(Event).where(Event.machine_id == m.id, Event.event_id == event_id)) is not None:
                return {"machine": m.id, "state": m.state, "duplicate": True}
            s.add(Event(machine_id=m.id, install_id=install.id, event_id=event_id, type="firstboot",
                        time=self.clock(), phase=state, text=text, ratio=None, ok=state != "failed",
                        detail=detail[-LOG_TAIL_CHARS:], received_at=self.clock()))
            m.armed = False
            if state == "failed":
                self._transition(s, m, "failed", text or "first boot failed")
                m.reason, m.log_tail = text or "first boot failed", detail[-LOG_TAIL_CHARS:]
            elif not (state == "provisioning" and m.state == "ready"):
                self._transition(s, m, state, text)
            return {"machine": m.id, "state": m.state, "duplicate": False}

    # --- boot scripts --------------------------------------------------------------------------------------

    def boot_script(self, mac_text: str, boot_base: str, answer_base: str) -> str:
        """The iPXE script for the machine with this MAC: install while armed (or unknown), local disk once
        it finished its install."""
        mac = normalize_mac(mac_text)
        if mac is None:
            raise bad_request(f"{mac_text}: not a MAC address")
        base = self.public_url or answer_base.rstrip("/")
        with self.db.session() as s:
            row = s.get(MachineMac, mac)
            m = row.machine if row is not None else None
            if m is not None and not m.armed:
                return ipxe.local_boot_script(f"machine {_machine_name(m)} finished its install (state {m.state}); "
                                              f"keel-server machine rearm {m.id} installs it again")
            note = (f"machine {_machine_name(m)} is armed (state {m.state}): install" if m is not None
                    else f"{mac} is not known yet: boot the installer, which asks for an answer")
        scheme, _, rest = base.partition("://")
        answer_url = f"{scheme}://{BOOT_TOKEN_USER}:{self.boot_token(mac)}@{rest}/answer"
        return ipxe.install_script(pxe_base=f"{boot_base.rstrip('/')}/pxe", answer_url=answer_url,
                                   fingerprint=self.fingerprint, note=note)

    # --- helpers -------------------------------------------------------------------------------------------

    def _audit(self, s: Session, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        s.add(AuditEntry(at=self.clock(), actor=actor, action=action, target=target, detail=detail))

    def _transition(self, s: Session, m: Machine, state: str, reason: str = "") -> None:
        assert state in STATES, state
        m.state = state
        m.transitions.append(Transition(state=state, at=self.clock(), reason=reason))

    def _profile(self, s: Session, name: str) -> Profile:
        profile = s.scalar(select(Profile).where(Profile.name == name))
        if profile is None:
            raise not_found(f"no profile {name}")
        return profile

    def _machine(self, s: Session, ref: str) -> Machine:
        """A machine by its number, one of its MACs, its serial or its UUID."""
        ref = ref.strip()
        m: Machine | None = None
        if ref.isdigit():
            m = s.get(Machine, int(ref))
        elif normalize_mac(ref):
            row = s.get(MachineMac, normalize_mac(ref))
            m = row.machine if row else None
        else:
            found = list(s.scalars(select(Machine).where((Machine.serial == ref) | (Machine.uuid == ref.lower()))))
            if len(found) > 1:
                raise conflict(f"{ref} names machines {', '.join(str(x.id) for x in found)}: use the number")
            m = found[0] if found else None
        if m is None:
            raise not_found(f"no machine {ref} (give its number, a MAC, its serial or its UUID)")
        return m

    def _find_machine(self, s: Session, info: SystemInfo) -> Machine | None:
        for mac in info.macs:
            row = s.get(MachineMac, mac)
            if row is not None:
                return row.machine
        if info.uuid:
            return s.scalar(select(Machine).where(Machine.uuid == info.uuid).limit(1))
        return None

    def _record_machine(self, s: Session, info: SystemInfo) -> Machine:
        now = self.clock()
        m = self._find_machine(s, info)
        if m is None:
            m = Machine(serial=info.serial, uuid=info.uuid, sysinfo=info.data, hardware=info.hardware_json,
                        labels={}, state="discovered", reason="", log_tail="", armed=True, installs=0,
                        ssh_host_keys={}, first_seen=now, last_seen=now)
            s.add(m)
            self._transition(s, m, "discovered", "first request for an answer")
        else:
            m.sysinfo, m.last_seen = info.data, now
            m.hardware = info.hardware_json if info.hardware_json is not None else m.hardware
            m.serial = info.serial or m.serial
            m.uuid = info.uuid or m.uuid
        known = {x.mac for x in m.macs}
        for mac in info.macs:
            if mac not in known:
                m.macs.append(MachineMac(mac=mac, position=len(known)))
                known.add(mac)
        s.flush()
        return m

    def _install(self, s: Session, token: str | None) -> tuple[Install, Machine]:
        """The install a per-install token belongs to, if it is the machine's latest; 401 otherwise."""
        if not token:
            raise ServerError(401, "missing per-install token")
        install = s.scalar(select(Install).where(Install.token_hash == token_hash(token)))
        if install is None:
            raise ServerError(401, "invalid per-install token")
        latest = s.scalar(select(func.max(Install.number)).where(Install.machine_id == install.machine_id))
        if install.number != latest:
            raise ServerError(401, "this per-install token belongs to an earlier install of the machine")
        m = s.get(Machine, install.machine_id)
        assert m is not None
        return install, m

    def _candidates(self, s: Session) -> list[matching.Candidate]:
        return [matching.Candidate(p.name, p.priority, p.is_default, dict(p.match), tuple(p.macs), dict(p.labels))
                for p in s.scalars(select(Profile).order_by(Profile.id))]

    def _subject(self, m: Machine, labels: dict[str, str] | None = None) -> matching.Subject:
        return matching.Subject(_view(m.sysinfo, m.hardware), tuple(x.mac for x in m.macs),
                                dict(m.labels if labels is None else labels), m.assigned_profile, _machine_name(m))

    def _subjects(self, s: Session) -> list[matching.Subject]:
        return [self._subject(m) for m in s.scalars(select(Machine).order_by(Machine.id))]

    def _machine_summary(self, s: Session, m: Machine) -> dict:
        leases = [{"pool": pool, "address": address} for pool, address in
                  s.execute(select(Pool.name, Lease.address).join(Pool, Pool.id == Lease.pool_id)
                            .where(Lease.machine_id == m.id))]
        return {"id": m.id, "state": m.state, "armed": m.armed, "macs": [x.mac for x in m.macs],
                "serial": m.serial, "uuid": m.uuid, "name": (m.sysinfo.get("dmi", {}).get("system", {}) or {})
                .get("name", ""), "labels": dict(m.labels), "profile": m.profile, "number": m.number,
                "leases": leases, "last_seen": iso(m.last_seen),
                "since": iso(m.transitions[-1].at) if m.transitions else None}


def wants_json(accept: str | None) -> bool:
    """Whether to answer in JSON: only when the client accepts JSON and not TOML. Proxmox sends `application/json,
    application/toml;q=0.5` and reads either (a JSON object it converts to TOML, anything else as TOML text), as
    Keel's installer does; TOML is the answer as the template wrote it, so it is what both get."""
    ranks: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranks[media.lower()] = max(q, ranks.get(media.lower(), 0.0))
    toml_q = max(ranks.get(m, 0.0) for m in ("application/toml", "text/plain", "text/*", "*/*"))
    return ranks.get("application/json", 0.0) > 0 and toml_q == 0


def _basic_password(credential: str) -> str:
    try:
        decoded = base64.b64decode(credential.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as err:
        raise ServerError(401, "Authorization: Basic: not base64 user:password") from err
    return decoded.partition(":")[2]


def _view(sysinfo: dict[str, Any], hardware: dict[str, Any] | None) -> dict[str, Any]:
    """What selectors' JSON pointers see: the system info as POSTed, Keel's hardware under /keel/hardware."""
    return {**sysinfo, "keel": {"hardware": hardware}} if hardware is not None else dict(sysinfo)


def _hardware(m: Machine) -> HardwareProfile | None:
    return HardwareProfile.from_json(json.dumps(m.hardware)) if m.hardware is not None else None


def _machine_name(m: Machine) -> str:
    mac = m.macs[0].mac if m.macs else "no MAC"
    return f"{m.id} ({mac})"


def _spec(pool: Pool) -> PoolSpec:
    return PoolSpec(pool.name, pool.cidr, pool.gateway, pool.dns, pool.first, pool.last)


def _pool_json(spec: PoolSpec) -> dict:
    return {"name": spec.name, "cidr": spec.cidr, "gateway": spec.gateway, "dns": spec.dns,
            "range": f"{spec.first}-{spec.last}"}


def _profile_json(p: Profile, *, with_template: bool) -> dict:
    out: dict[str, Any] = {"name": p.name, "priority": p.priority, "default": p.is_default, "pool": p.pool,
                           "match": dict(p.match), "macs": list(p.macs), "labels": dict(p.labels),
                           "next_number": p.next_number, "created_at": iso(p.created_at)}
    if with_template:
        out["template"] = p.template
    return out


def _event_json(e: Event) -> dict:
    return {"id": e.event_id, "type": e.type, "time": iso(e.time), "phase": e.phase, "text": e.text,
            "ratio": e.ratio, "ok": e.ok, "detail": e.detail}


def _check_event(i: int, e: Any) -> dict[str, Any]:
    where = f"events[{i}]"
    if not isinstance(e, dict):
        raise bad_request(f"{where}: expected an object")
    if not isinstance(e.get("id"), str) or not EVENT_ID.match(e["id"]):
        raise bad_request(f"{where}.id: expected 32 lower-case hex digits")
    if e.get("type") not in EVENT_TYPES:
        raise bad_request(f"{where}.type: expected one of {', '.join(EVENT_TYPES)}")
    if not isinstance(e.get("time"), int | float) or isinstance(e.get("time"), bool):
        raise bad_request(f"{where}.time: expected seconds since the epoch")
    ratio = e.get("ratio")
    if ratio is not None and (not isinstance(ratio, int | float) or isinstance(ratio, bool)):
        raise bad_request(f"{where}.ratio: expected a number")
    ok = e.get("ok")
    if ok is not None and not isinstance(ok, bool):
        raise bad_request(f"{where}.ok: expected true, false or null")
    for key in ("phase", "text", "detail"):
        if not isinstance(e.get(key, ""), str):
            raise bad_request(f"{where}.{key}: expected a string")
    return {"id": e["id"], "type": e["type"], "time": float(e["time"]), "phase": e.get("phase", "")[:200],
            "text": e.get("text", ""), "ratio": None if ratio is None else float(ratio), "ok": ok,
            "detail": e.get("detail", "")}


def data_dir_boot_secret(key_pem: bytes) -> bytes:
    """The boot-token key: derived from the TLS key, so every server process sharing a certificate agrees."""
    return hashlib.sha256(b"keel-server boot tokens\0" + key_pem).digest()

