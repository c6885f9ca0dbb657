"""Pages for accountants (and staff): clients, booking proposals, exports and their files.

Exports are whatever lies under ``clients/<CODE>/exports/`` in the archive; the export feature
writes there. Listing and downloading go through :func:`access.export_files` /
:func:`access.get_export`, so only files of clients in scope can be named at all.

``/buchungen`` shows a client's booking proposals (:mod:`backoffice.exports.ledger`):
approve one or all, correct account, tax key and text, and export a month. The forms post and
redirect back (post/redirect/get) with a short note; every decision is audited by the ledger.
Clients are looked up through :func:`access.get_client_by_code` and bookings through
:func:`access.get_booking`, so another client's booking is "not found".
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from backoffice.archive.audit import record_event
from backoffice.archive.storage import ObjectMissingError, StorageError
from backoffice.exports import ledger
from backoffice.models import (
    BookingEntry,
    BookingExport,
    BookingStatus,
    Document,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Role,
    utcnow,
)
from backoffice.portal import access
from backoffice.portal.access import NotFoundError, Scope
from backoffice.portal.auth import page_scope, require_csrf
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import content_disposition, media_type_for, render


def accountant_scope(scope: Annotated[Scope, Depends(page_scope)]) -> Scope:
    scope.require_role(Role.ACCOUNTANT, Role.STAFF)
    return scope


AccountantScope = Annotated[Scope, Depends(accountant_scope)]
router = APIRouter(include_in_schema=False)


@router.get("/mandanten")
def clients(request: Request, session: SessionDep, scope: AccountantScope) -> Response:
    """The clients in scope with their filed documents and open payables."""
    visible = access.visible_clients(session, scope)
    doc_counts = dict(
        session.execute(
            access.restrict_documents(
                select(Document.client_id, func.count()).group_by(Document.client_id), scope
            )
        )
        .tuples()
        .all()
    )
    open_payables = dict(
        session.execute(
            access.restrict_followups(
                select(FollowUp.client_id, func.count())
                .where(
                    FollowUp.kind == FollowUpKind.PAYABLE,
                    FollowUp.status == FollowUpStatus.OPEN,
                )
                .group_by(FollowUp.client_id),
                scope,
            )
        )
        .tuples()
        .all()
    )
    rows = [
        {"client": c, "documents": doc_counts.get(c.id, 0), "payables": open_payables.get(c.id, 0)}
        for c in visible
    ]
    return render(request, "clients.html", {"rows": rows})


@router.get("/exporte")
def exports(
    request: Request, session: SessionDep, portal: PortalDep, scope: AccountantScope
) -> Response:
    files = access.export_files(session, portal.ctx.store, scope)
    return render(request, "exports.html", {"files": files})


@router.get("/exporte/{client_code}/{name:path}")
def export_download(
    session: SessionDep,
    portal: PortalDep,
    scope: AccountantScope,
    client_code: str,
    name: str,
) -> Response:
    item = access.get_export(session, portal.ctx.store, scope, client_code, name)
    try:
        body = portal.ctx.store.get(item.key)
    except (ObjectMissingError, StorageError) as exc:
        raise NotFoundError(name) from exc
    client = access.get_client_by_code(session, scope, client_code)
    record_event(
        session,
        actor=scope.actor,
        action="export.downloaded",
        client_id=client.id,
        detail={"key": item.key},
    )
    filename = f"{client_code}_{item.name.replace('/', '_')}"
    return Response(
        body,
        media_type=media_type_for(item.key),
        headers={
            "Content-Disposition": content_disposition("attachment", filename),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- bookings ------------------------------------------------------------------------------------

BOOKING_STATUS_LABELS = {
    "proposed": "Vorschlag",
    "approved": "freigegeben",
    "exported": "exportiert",
    "rejected": "verworfen",
}
BOOKING_SOURCE_LABELS = {
    "proposal": "maschinell",
    "accountant": "korrigiert",
    "reversal": "Storno",
    "import": "importiert",
}
STATUS_FILTERS: dict[str, tuple[BookingStatus, ...]] = {
    "offen": (BookingStatus.PROPOSED, BookingStatus.APPROVED),
    "vorschlag": (BookingStatus.PROPOSED,),
    "freigegeben": (BookingStatus.APPROVED,),
    "exportiert": (BookingStatus.EXPORTED,),
    "alle": tuple(BookingStatus),
}
MAX_ROWS = 500
CSRF = [Depends(require_csrf)]


def _to_bookings(code: str, note: str = "", message: str = "") -> RedirectResponse:
    query = {"mandant": code}
    if note:
        query["hinweis"] = note
    if message:
        query["meldung"] = message[:300]
    return RedirectResponse(f"/buchungen?{urlencode(query)}", status_code=303)


@router.get("/buchungen")
def bookings(
    request: Request,
    session: SessionDep,
    scope: AccountantScope,
    mandant: str | None = None,
    status: str = "offen",
    hinweis: str = "",
    meldung: str = "",
) -> Response:
    """A client's bookings (default: the open ones) with approve, correct and export forms."""
    visible = access.visible_clients(session, scope)
    if not visible:
        return render(request, "bookings.html", {"clients": [], "client": None})
    client = access.get_client_by_code(session, scope, mandant) if mandant else visible[0]
    statuses = STATUS_FILTERS.get(status, STATUS_FILTERS["offen"])
    stmt = (
        select(BookingEntry)
        .where(BookingEntry.client_id == client.id, BookingEntry.status.in_(statuses))
        .order_by(BookingEntry.document_date.desc(), BookingEntry.id)
        .limit(MAX_ROWS)
    )
    rows = list(session.scalars(access.restrict_bookings(stmt, scope)))
    doc_ids = [r.document_id for r in rows if r.document_id is not None]
    visible_docs = set(
        session.scalars(
            access.restrict_documents(select(Document.id).where(Document.id.in_(doc_ids)), scope)
        )
    )
    handles = access.public_ids(session, visible_docs)
    exports = list(
        session.scalars(
            select(BookingExport)
            .where(BookingExport.client_id == client.id)
            .order_by(BookingExport.id.desc())
            .limit(12)
        )
    )
    last = ledger.previous_month(utcnow().date())
    return render(
        request,
        "bookings.html",
        {
            "clients": visible,
            "client": client,
            "rows": rows,
            "handles": handles,
            "status": status if status in STATUS_FILTERS else "offen",
            "filters": list(STATUS_FILTERS),
            "pending": sum(1 for r in rows if r.status == BookingStatus.PROPOSED),
            "exports": exports,
            "month": last,
            "hinweis": hinweis,
            "meldung": meldung,
            "STATUS_LABELS": BOOKING_STATUS_LABELS,
            "SOURCE_LABELS": BOOKING_SOURCE_LABELS,
        },
    )


@router.post("/buchungen/{client_code}/freigeben", dependencies=CSRF)
def approve_bookings(
    session: SessionDep,
    scope: AccountantScope,
    client_code: str,
    ids: Annotated[list[int] | None, Form()] = None,
    alle: Annotated[bool, Form()] = False,
) -> Response:
    client = access.get_client_by_code(session, scope, client_code)
    wanted = ledger.pending_ids(session, client.id) if alle else list(ids or [])
    for booking_id in wanted:
        access.get_booking(session, scope, client, booking_id)
    if not wanted:
        return _to_bookings(client.code, "nichts-ausgewaehlt")
    try:
        changed = ledger.approve(session, wanted, scope.actor, client_id=client.id)
    except ledger.LedgerError as exc:
        return _to_bookings(client.code, "fehler", str(exc))
    return _to_bookings(client.code, "freigegeben", f"{len(changed)} Buchung(en) freigegeben.")


@router.post("/buchungen/{client_code}/{booking_id}/korrigieren", dependencies=CSRF)
def correct_booking(
    session: SessionDep,
    scope: AccountantScope,
    client_code: str,
    booking_id: int,
    konto: Annotated[int, Form()],
    gegenkonto: Annotated[int, Form()],
    bu: Annotated[str, Form(max_length=4)] = "",
    text: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    client = access.get_client_by_code(session, scope, client_code)
    booking = access.get_booking(session, scope, client, booking_id)
    try:
        result = ledger.correct(
            session,
            booking.id,
            scope.actor,
            account=konto,
            contra_account=gegenkonto,
            bu_key=bu.strip() or None,
            text=text,
            client_id=client.id,
        )
    except ledger.LedgerError as exc:
        return _to_bookings(client.code, "fehler", str(exc))
    if result.id == booking.id:
        return _to_bookings(client.code, "korrigiert", f"Buchung {booking.id} korrigiert.")
    return _to_bookings(
        client.code,
        "korrigiert",
        f"Buchung {booking.id} war exportiert: Storno und neue Buchung {result.id} angelegt.",
    )


@router.post("/buchungen/{client_code}/export", dependencies=CSRF)
def export_month(
    session: SessionDep,
    portal: PortalDep,
    scope: AccountantScope,
    client_code: str,
    monat: Annotated[str, Form(max_length=7)],
) -> Response:
    client = access.get_client_by_code(session, scope, client_code)
    try:
        start, end = ledger.month_period(monat)
        result = ledger.export_period(
            portal.ctx, client, start, end, scope.actor, utcnow(), session=session
        )
    except ledger.LedgerError as exc:
        return _to_bookings(client.code, "fehler", str(exc))
    return _to_bookings(
        client.code,
        "exportiert",
        f"{result.booking_count} Buchungen für {monat} exportiert (Export {result.export_id}).",
    )
