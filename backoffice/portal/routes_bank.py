"""Bank statements in the portal: upload a statement for a client, see unmatched payments.

Staff may import for every client, a client's users for their own firm only (the client is
looked up through :func:`backoffice.portal.access.get_client_by_code`, so another firm's code
is simply "not found"). Accountants read exports, they do not book payments, so they get 403.

The import runs in its own catalog transaction (:func:`import_statement`); the page is then
rendered from a fresh transaction, because the request's transaction began before the import and
would not see its rows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from backoffice.followups.bank import MAX_STATEMENT_BYTES, BankStatementError
from backoffice.followups.reconcile import (
    ImportResult,
    PaymentError,
    import_statement,
    unmatched_transactions,
)
from backoffice.models import Client, Role
from backoffice.portal import access
from backoffice.portal.access import Scope
from backoffice.portal.auth import page_scope, require_csrf
from backoffice.portal.state import PortalDep
from backoffice.portal.web import render

STATUS_LABELS = {
    "matched": "zugeordnet",
    "partial": "Teilzahlung",
    "unmatched": "nicht zugeordnet",
    "ignored": "Storno",
}


def bank_scope(scope: Annotated[Scope, Depends(page_scope)]) -> Scope:
    """Staff and client users; accountants get 403."""
    scope.require_role(Role.STAFF, Role.CLIENT)
    return scope


BankScope = Annotated[Scope, Depends(bank_scope)]
router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: Session,
    scope: Scope,
    client_code: str | None,
    result: ImportResult | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    clients = access.visible_clients(session, scope)
    selected: Client | None = None
    if client_code:
        selected = access.get_client_by_code(session, scope, client_code)
    ids = [selected.id] if selected else [c.id for c in clients]
    codes = {c.id: c.code for c in clients}
    rows = unmatched_transactions(session, ids)
    return render(
        request,
        "bank.html",
        {
            "clients": clients,
            "selected": selected,
            "unmatched": rows,
            "codes": codes,
            "result": result,
            "error": error,
            "labels": STATUS_LABELS,
        },
        status_code=status_code,
    )


@router.get("/bank")
def bank_page(
    request: Request, portal: PortalDep, scope: BankScope, client: str | None = None
) -> Response:
    """Upload form and the payments no open item was found for."""
    with portal.ctx.catalog.session() as session:
        return _page(request, session, scope, client or None)


@router.post("/bank", dependencies=[Depends(require_csrf)])
def bank_upload(
    *,
    request: Request,
    portal: PortalDep,
    scope: BankScope,
    file: UploadFile,
    client: Annotated[str, Form(max_length=32)],
) -> Response:
    """Import an uploaded statement for ``client`` and show what became of each payment."""
    with portal.ctx.catalog.session() as session:
        code = access.get_client_by_code(session, scope, client).code
    data = file.file.read(MAX_STATEMENT_BYTES + 1)
    result = None
    error = None
    try:
        result = import_statement(portal.ctx, code, data, actor=scope.actor, filename=file.filename)
    except (BankStatementError, PaymentError) as exc:
        error = str(exc)
    with portal.ctx.catalog.session() as session:
        return _page(
            request, session, scope, code, result, error, status_code=400 if error else 200
        )
