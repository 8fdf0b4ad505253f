"""The HTTP side: Proxmox's answer protocol (`POST /answer`), installer reports (`/api/v1/report/...`), boot
scripts and PXE files, and the admin REST API under `/api/v1` (admin token; OpenAPI at /openapi.json).

`create_app` is the HTTPS application; `create_boot_app` the plain-HTTP one that iPXE can reach (it cannot pin a
self-signed certificate): boot scripts and PXE files only, nothing that takes a token.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from keel_server.errors import ServerError, bad_request
from keel_server.service import Service
from keel_server.version import VERSION

logger = logging.getLogger("keel_server")


class ProfileIn(BaseModel):
    name: str
    template: str = Field(description="the whole answer TOML as a Jinja2 template")
    match: dict[str, str] = Field(default_factory=dict, description="JSON pointer -> glob over the system info")
    macs: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    priority: int = 0
    default: bool = False
    pool: str | None = None


class PoolIn(BaseModel):
    name: str
    cidr: str
    gateway: str
    dns: str
    range: str | None = Field(default=None, description="FIRST-LAST; default: the whole network")


class TokenIn(BaseModel):
    expires_in: int | None = Field(default=None, description="seconds; none: never expires")


class LabelIn(BaseModel):
    set: dict[str, str] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


class AssignIn(BaseModel):
    profile: str | None = Field(description="the profile to answer with; null: matching decides again")


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The admin token's id (the audit log's actor); 401 without a valid admin token."""
    return request.app.state.service.check_token(_bearer(authorization), "admin")


Admin = Annotated[str, Depends(_admin)]


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServerError)
    async def server_error(_request: Request, err: ServerError) -> JSONResponse:
        return JSONResponse(err.to_json(), status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in err.errors()]
        return JSONResponse({"error": "malformed request", "problems": problems}, status_code=400)

    @app.exception_handler(SQLAlchemyError)
    async def database(_request: Request, err: SQLAlchemyError) -> JSONResponse:
        logger.error("database error: %s", str(err).splitlines()[0])
        return JSONResponse({"error": "the database is not available; try again"}, status_code=503)


def _add_boot_routes(app: FastAPI, service: Service, pxe_dir: Path | None, answer_base: Any) -> None:
    @app.get("/boot/{name}", response_class=PlainTextResponse, tags=["boot"],
             summary="The iPXE script of the machine with this MAC: install while armed, local disk once installed")
    def boot(name: str, request: Request) -> PlainTextResponse:
        if not name.endswith(".ipxe"):
            raise ServerError(404, "boot scripts are /boot/<mac>.ipxe")
        base = str(request.base_url).rstrip("/")
        script = service.boot_script(name.removesuffix(".ipxe"), base, answer_base(request))
        return PlainTextResponse(script, headers={"Cache-Control": "no-store"})

    if pxe_dir is not None:
        app.mount("/pxe", StaticFiles(directory=pxe_dir), name="pxe")


def create_app(service: Service, *, pxe_dir: Path | None = None) -> FastAPI:
    app = FastAPI(title="keel-server", version=VERSION,
                  description="Per-machine answers for Keel and Proxmox installers, install tracking and netboot.")
    _install_handlers(app)

    app.state.service = service

    @app.post("/answer", tags=["answer"], summary="Proxmox's answer protocol: system info in, answer out",
              responses={200: {"content": {"application/toml": {}, "application/json": {}}}})
    async def answer(request: Request, authorization: Annotated[str | None, Header()] = None,
                     accept: Annotated[str | None, Header()] = None) -> Response:
        body = await request.body()
        reply = service.answer(body, authorization, accept, str(request.base_url))
        if isinstance(reply.body, str):
            return Response(reply.body, status_code=reply.status, media_type=reply.content_type,
                            headers=reply.headers)
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)

    _add_boot_routes(app, service, pxe_dir, lambda request: str(request.base_url))

    async def _json(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise bad_request(f"the body is not JSON: {err}") from err

    @app.post("/api/v1/report/events", tags=["reports"], summary="Installer events (per-install token)")
    async def events(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict:
        return service.report_events(_bearer(authorization), await _json(request))

    @app.post("/api/v1/report/webhook", tags=["reports"], summary="Proxmox's post-installation webhook")
    async def webhook(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict:
        return service.report_webhook(_bearer(authorization), await _json(request))

    @app.post("/api/v1/report/firstboot", tags=["reports"], summary="First-boot reports (per-install token)")
    async def firstboot(request: Request, authorization: Annotated[str | None, Header()] = None) -> dict:
        return service.report_firstboot(_bearer(authorization), await _json(request))

    @app.get("/api/v1/profiles", tags=["profiles"])
    def profiles(_who: Admin) -> list[dict]:
        return service.list_profiles()

    @app.post("/api/v1/profiles", tags=["profiles"], status_code=201)
    def add_profile(body: ProfileIn, who: Admin) -> dict:
        return service.add_profile(body.name, body.template, match=body.match, macs=body.macs, labels=body.labels,
                                   priority=body.priority, default=body.default, pool=body.pool, actor=who)

    @app.get("/api/v1/profiles/{name}", tags=["profiles"])
    def show_profile(name: str, _who: Admin) -> dict:
        return service.show_profile(name)

    @app.delete("/api/v1/profiles/{name}", tags=["profiles"])
    def remove_profile(name: str, who: Admin) -> dict:
        return service.remove_profile(name, actor=who)

    @app.get("/api/v1/pools", tags=["pools"])
    def pools(_who: Admin) -> list[dict]:
        return service.list_pools()

    @app.post("/api/v1/pools", tags=["pools"], status_code=201)
    def add_pool(body: PoolIn, who: Admin) -> dict:
        return service.add_pool(body.name, body.cidr, body.gateway, body.dns, body.range, actor=who)

    @app.delete("/api/v1/pools/{name}", tags=["pools"])
    def remove_pool(name: str, who: Admin) -> dict:
        return service.remove_pool(name, actor=who)

    @app.get("/api/v1/tokens", tags=["tokens"])
    def tokens(_who: Admin) -> list[dict]:
        return service.list_tokens()

    @app.post("/api/v1/tokens", tags=["tokens"], status_code=201, summary="A new answer token (shown once)")
    def create_token(body: TokenIn, who: Admin) -> dict:
        return service.create_token(expires_in=body.expires_in, actor=who)

    @app.get("/api/v1/machines", tags=["machines"])
    def machines(_who: Admin) -> list[dict]:
        return service.list_machines()

    @app.get("/api/v1/machines/{ref}", tags=["machines"], summary="A machine by number, MAC, serial or UUID")
    def machine(ref: str, _who: Admin) -> dict:
        return service.show_machine(ref)

    @app.delete("/api/v1/machines/{ref}", tags=["machines"], summary="Forget a machine and release its addresses")
    def remove_machine(ref: str, who: Admin) -> dict:
        return service.remove_machine(ref, actor=who)

    @app.post("/api/v1/machines/{ref}/rearm", tags=["machines"], summary="Allow one more install")
    def rearm(ref: str, who: Admin) -> dict:
        return service.rearm(ref, actor=who)

    @app.post("/api/v1/machines/{ref}/labels", tags=["machines"])
    def label(ref: str, body: LabelIn, who: Admin) -> dict:
        return service.label(ref, body.set, body.unset, actor=who)

    @app.post("/api/v1/machines/{ref}/assign", tags=["machines"])
    def assign(ref: str, body: AssignIn, who: Admin) -> dict:
        return service.assign(ref, body.profile, actor=who)

    @app.post("/api/v1/explain", tags=["machines"], summary="Which profile would answer this system info, and why")
    async def explain(request: Request, _who: Admin) -> dict:
        return service.explain(await _json(request))

    @app.get("/api/v1/audit", tags=["audit"])
    def audit(_who: Admin, limit: int = 200) -> list[dict]:
        return service.audit_log(limit)

    return app


def create_boot_app(service: Service, *, pxe_dir: Path | None, tls_port: int) -> FastAPI:
    """Plain HTTP for iPXE: /boot/<mac>.ipxe and /pxe/. The answer URL in the scripts is the HTTPS server's
    (the public URL, else this host's name as the request used it, on the TLS port)."""
    app = FastAPI(title="keel-server boot", version=VERSION, openapi_url=None, docs_url=None, redoc_url=None)
    _install_handlers(app)
    _add_boot_routes(app, service, pxe_dir,
                     lambda request: f"https://{request.url.hostname}:{tls_port}")
    return app
