"""Bank statements in the portal: upload a statement for a client, work the unmatched payments.

Staff may import for every client, a client's users for their own firm only (the client is
looked up through :func:`backoffice.portal.access.get_client_by_code`, so another firm's code
is simply "not found"). Accountants read exports, they do not book payments, so they get 403.

The same rule holds for the payments the machine could not match: whoever may import a
client's statements may also assign its payments to open items ("Zuordnen") or set them aside
("Ignorieren"). Transactions are addressed by their catalog id, so the route looks each one up
and treats one outside the scope as not found (404), exactly like a document; the items offered
and accepted are found through :func:`backoffice.portal.access.restrict_followups`.

The import runs in its own catalog transaction (:func:`import_statement`); the page is then
rendered from a fresh transaction, because the request's transaction began before the import and
would not see its rows.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backoffice.followups.bank import MAX_STATEMENT_BYTES, BankStatementError
from backoffice.followups.reconcile import (
    PARTIAL,
    ImportResult,
    PaymentError,
    assign_payment,
    ignore_payment,
    import_statement,
    unmatched_transactions,
)
from backoffice.models import (
    BankTransaction,
    Client,
    Document,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Role,
)
from backoffice.portal import access
from backoffice.portal.access import NotFoundError, Scope
from backoffice.portal.auth import page_scope, require_csrf
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import render

STATUS_LABELS = {
    "matched": "zugeordnet",
    "partial": "Teilzahlung",
    "unmatched": "nicht zugeordnet",
    "ignored": "Storno",
}

NOTICES = {
    "zugeordnet": "Zahlung zugeordnet, die Posten sind bezahlt.",
    "teilzahlung": "Zahlung zugeordnet; der letzte Posten bleibt teilweise offen.",
    "ignoriert": "Zahlung ohne Posten abgelegt.",
}
"""Post/redirect/get: what the page says after an action (``?hinweis=…``)."""

MAX_ITEMS_PER_PAYMENT = 50
"""More items than anyone assigns to one transfer; bounds the form field."""


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
    *,
    error_title: str = "Nicht eingelesen",
    notice: str | None = None,
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
            "open_items": _open_items(session, scope, {tx.client_id for tx in rows}),
            "codes": codes,
            "result": result,
            "error": error,
            "error_title": error_title,
            "notice": NOTICES.get(notice or ""),
            "labels": STATUS_LABELS,
        },
        status_code=status_code,
    )


def _open_items(
    session: Session, scope: Scope, client_ids: Collection[int]
) -> dict[tuple[int, str], list[FollowUp]]:
    """The open payables and receivables a payment may be assigned to, per (client, kind).

    Oldest due date first: when a transfer pays several items, the usual case is the oldest
    ones, and the form assigns in the order listed.
    """
    if not client_ids:
        return {}
    stmt = (
        select(FollowUp)
        .where(
            FollowUp.client_id.in_(sorted(client_ids)),
            FollowUp.kind.in_([FollowUpKind.PAYABLE, FollowUpKind.RECEIVABLE]),
            FollowUp.status == FollowUpStatus.OPEN,
        )
        .options(selectinload(FollowUp.document).selectinload(Document.correspondent))
        .order_by(FollowUp.due_date, FollowUp.id)
    )
    grouped: dict[tuple[int, str], list[FollowUp]] = {}
    for item in session.scalars(access.restrict_followups(stmt, scope)):
        outstanding = item.outstanding
        if outstanding is not None and outstanding > 0:
            grouped.setdefault((item.client_id, item.kind.value), []).append(item)
    return grouped


def _transaction(session: Session, scope: Scope, transaction_id: int) -> BankTransaction:
    """The transaction if ``scope`` may see its client, else not found (404)."""
    tx = session.get(BankTransaction, transaction_id)
    if tx is None or not scope.allows_client(tx.client_id):
        raise NotFoundError(str(transaction_id))
    return tx


def _scoped_ids(scope: Scope) -> Collection[int] | None:
    return None if scope.all_clients else scope.client_ids


def _code(session: Session, scope: Scope, client_id: int) -> str:
    client = session.scalar(
        access.restrict_clients(select(Client), scope).where(Client.id == client_id)
    )
    if client is None:
        raise NotFoundError(str(client_id))
    return client.code


@router.get("/bank")
def bank_page(
    request: Request,
    portal: PortalDep,
    scope: BankScope,
    client: str | None = None,
    hinweis: str | None = None,
) -> Response:
    """Upload form and the payments no open item was found for."""
    with portal.ctx.catalog.session() as session:
        return _page(request, session, scope, client or None, notice=hinweis)


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


def _back(code: str, notice: str) -> RedirectResponse:
    query = urlencode({"client": code, "hinweis": notice})
    return RedirectResponse(f"/bank?{query}", status_code=303)


def _refused(
    request: Request, session: Session, scope: Scope, code: str, error: PaymentError
) -> Response:
    """The page again with why the action was refused; nothing of it is kept."""
    session.rollback()
    return _page(
        request,
        session,
        scope,
        code,
        error=str(error),
        status_code=400,
        error_title="Nicht gebucht",
    )


@router.post("/bank/{transaction_id}/zuordnen", dependencies=[Depends(require_csrf)])
def bank_assign(
    *,
    request: Request,
    portal: PortalDep,
    session: SessionDep,
    scope: BankScope,
    transaction_id: int,
    posten: Annotated[list[int], Form(max_length=MAX_ITEMS_PER_PAYMENT)],
) -> Response:
    """Assign an unmatched payment to the chosen open items, in the order they were listed."""
    tx = _transaction(session, scope, transaction_id)
    code = _code(session, scope, tx.client_id)
    wanted = list(dict.fromkeys(posten))
    visible = set(
        session.scalars(
            access.restrict_followups(select(FollowUp.id).where(FollowUp.id.in_(wanted)), scope)
        )
    )
    if len(visible) != len(wanted):
        raise NotFoundError(",".join(str(i) for i in wanted if i not in visible))
    try:
        decision = assign_payment(
            session,
            tx.id,
            wanted,
            actor=scope.actor,
            tolerance=portal.ctx.settings.followups.amount_tolerance,
            client_ids=_scoped_ids(scope),
        )
    except PaymentError as exc:
        return _refused(request, session, scope, code, exc)
    return _back(code, "teilzahlung" if decision.status == PARTIAL else "zugeordnet")


@router.post("/bank/{transaction_id}/ignorieren", dependencies=[Depends(require_csrf)])
def bank_ignore(
    *,
    request: Request,
    session: SessionDep,
    scope: BankScope,
    transaction_id: int,
    grund: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Set an unmatched payment aside that pays no item (bank fee, own-account transfer)."""
    tx = _transaction(session, scope, transaction_id)
    code = _code(session, scope, tx.client_id)
    try:
        ignore_payment(
            session, tx.id, actor=scope.actor, reason=grund, client_ids=_scoped_ids(scope)
        )
    except PaymentError as exc:
        return _refused(request, session, scope, code, exc)
    return _back(code, "ignoriert")
