"""The archive portal: a server-rendered FastAPI application plus the REST API under ``/api``.

``create_app(settings)`` builds one portal for one installation (catalog + archive from the
settings). Pages are rendered on the server with Jinja2 (German, no JavaScript build), so they
work on a phone and without scripts; ``/api`` serves the same data as JSON with an OpenAPI
description at ``/api/openapi.json``.

Start it with ``backoffice serve`` (uvicorn). Behind a TLS proxy, pass ``--proxy-headers`` so
cookies are marked Secure, or set ``BACKOFFICE_PORTAL_SECURE_COOKIES=true``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.portal import (
    routes_accountant,
    routes_api,
    routes_archive,
    routes_auth,
    routes_bank,
    routes_dunning,
    routes_followups,
    routes_staff,
)
from backoffice.portal.access import ForbiddenError, NotFoundError
from backoffice.portal.auth import LoginLimiter, LoginRequiredError, SessionCodec
from backoffice.portal.search import reindex_stale
from backoffice.portal.state import (
    Portal,
    PortalSettings,
    Processor,
    default_processor,
    load_secret,
)
from backoffice.portal.web import STATIC, make_templates, render

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'"
)
ERROR_TEXT = {
    400: "Die Anfrage war unvollständig oder fehlerhaft.",
    401: "Bitte melden Sie sich an.",
    403: "Dafür fehlt Ihnen die Berechtigung.",
    404: "Diese Seite oder dieses Dokument gibt es nicht (oder nicht für Sie).",
    405: "Diese Aktion ist hier nicht möglich.",
    429: "Zu viele Anfragen. Bitte später erneut versuchen.",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _error_page(request: Request, status: int, detail: str | None = None) -> Response:
    message = detail if detail and status == 403 else ERROR_TEXT.get(status, "Fehler.")
    return render(request, "error.html", {"status": status, "message": message}, status)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    async def login_required(request: Request, exc: LoginRequiredError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "Nicht angemeldet."}, status_code=401)
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "Nicht gefunden."}, status_code=404)
        return _error_page(request, 404)

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "Keine Berechtigung."}, status_code=403)
        return _error_page(request, 403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return await http_exception_handler(request, exc)
        return _error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return await request_validation_exception_handler(request, exc)
        return _error_page(request, 400)


def _install_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if headers.get("content-type", "").startswith("text/html"):
            headers.setdefault("Content-Security-Policy", CSP)
        return response


def create_app(
    settings: Settings,
    portal_settings: PortalSettings | None = None,
    *,
    process: Processor | None = None,
) -> FastAPI:
    """The portal for the installation described by ``settings``.

    ``process`` replaces the pipeline call used for re-processing (tests, or a deployment that
    queues the work for the flow workers instead of running it in the web process).
    """
    portal_settings = portal_settings or PortalSettings()
    ctx = Context.from_settings(settings)
    portal = Portal(
        ctx=ctx,
        settings=portal_settings,
        codec=SessionCodec(
            load_secret(portal_settings, settings.var_dir), portal_settings.session_max_age
        ),
        limiter=LoginLimiter(
            portal_settings.login_max_attempts,
            portal_settings.login_window_seconds,
            ip_max_attempts=portal_settings.login_max_attempts_per_ip,
        ),
        templates=make_templates(),
        process=process or default_processor,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if portal_settings.reindex_on_start:
            count = reindex_stale(ctx.catalog)
            if count:
                log.info("search index: %d documents (re-)indexed", count)
        yield

    app = FastAPI(
        title="Backoffice Archiv-API",
        version="1",
        description="Archiv, Suche und Wiedervorlagen der Mandanten (persönlicher API-Schlüssel).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.portal = portal
    _install_handlers(app)
    _install_headers(app)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(routes_auth.router)
    app.include_router(routes_archive.router)
    app.include_router(routes_staff.router)
    app.include_router(routes_staff.forms)
    app.include_router(routes_followups.forms)
    app.include_router(routes_accountant.router)
    app.include_router(routes_api.router)
    app.include_router(routes_bank.router)
    app.include_router(routes_dunning.router)
    return app
