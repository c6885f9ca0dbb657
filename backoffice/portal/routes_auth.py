"""Login, logout and the start page (which only forwards to the role's home page)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from backoffice.archive.audit import record_event
from backoffice.portal.access import Scope, scope_for
from backoffice.portal.auth import (
    LOGIN_SUCCEEDED,
    end_session,
    find_user,
    hash_password,
    needs_rehash,
    page_scope,
    require_csrf,
    start_session,
    verify_password,
)
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import home_for, render

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str | None:
    """Only a local path is a valid target after login (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 32 for ch in value):
        return None
    return value


@router.get("/")
def start(scope: Annotated[Scope, Depends(page_scope)]) -> RedirectResponse:
    return RedirectResponse(home_for(scope), status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next) or "", "email": ""})


@router.post("/login", dependencies=[Depends(require_csrf)])
def login(
    *,
    request: Request,
    session: SessionDep,
    portal: PortalDep,
    email: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    ip = request.client.host if request.client else "unknown"
    email = email.strip()
    context = {"next": safe_next(next) or "", "email": email}
    wait = portal.limiter.retry_after(session, ip, email)
    if wait is not None:
        return _locked(request, context, wait)
    user = find_user(session, email)
    # Always hash, also for unknown addresses: equal timing tells nothing about who exists.
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid:
        portal.limiter.failed(session, ip, email)
        context["error"] = "E-Mail-Adresse oder Passwort ist falsch."
        return render(request, "login.html", context, status_code=401)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    scope = scope_for(session, user)
    record_event(session, actor=scope.actor, action=LOGIN_SUCCEEDED, detail={"ip": ip})
    response = RedirectResponse(safe_next(next) or home_for(scope), status_code=303)
    start_session(response, request, portal, user)
    return response


def _locked(request: Request, context: dict[str, str], wait: float) -> Response:
    """429 with the wait in ``Retry-After`` (seconds) and, for people, in minutes."""
    minutes = max(1, math.ceil(wait / 60))
    unit = "Minute" if minutes == 1 else "Minuten"
    context["error"] = (
        f"Zu viele fehlgeschlagene Anmeldungen. Bitte in {minutes} {unit} erneut versuchen."
    )
    response = render(request, "login.html", context, status_code=429)
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, portal: PortalDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    end_session(response, request, portal)
    return response
