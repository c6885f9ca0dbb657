"""Staff actions on payables and receivables from the "Fällig" page.

Plain form posts (CSRF-checked) that redirect back to ``/faellig`` (post/redirect/get). Items are
addressed by their document's public id, never by the sequential follow-up id, and found through
:mod:`backoffice.portal.access`, so the same isolation rules hold as everywhere else; only staff
may act (others get 403). Every change is audited by the domain functions called here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from backoffice.followups.queue import FollowUpError, set_disputed
from backoffice.followups.reconcile import PaymentError, mark_paid
from backoffice.models import FollowUp, FollowUpKind, FollowUpStatus
from backoffice.portal import access
from backoffice.portal.access import NotFoundError, Scope
from backoffice.portal.auth import require_csrf
from backoffice.portal.routes_archive import parse_amount, parse_date
from backoffice.portal.routes_staff import StaffScope
from backoffice.portal.state import SessionDep

forms = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])


def _back(note: str) -> RedirectResponse:
    return RedirectResponse(f"/faellig?hinweis={note}", status_code=303)


def _invoice_item(session: Session, scope: Scope, public_id: str) -> FollowUp:
    """The payable or receivable of the document ``public_id`` within ``scope``."""
    doc = access.get_document(session, scope, public_id)
    for followup in access.document_followups(session, scope, doc):
        if followup.kind in (FollowUpKind.PAYABLE, FollowUpKind.RECEIVABLE):
            return followup
    raise NotFoundError(public_id)


@forms.post("/dokumente/{public_id}/bezahlt")
def mark_paid_by_hand(
    session: SessionDep,
    scope: StaffScope,
    public_id: str,
    betrag: Annotated[str, Form(max_length=30)] = "",
    datum: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record a payment staff know of; an empty amount means everything still outstanding."""
    item = _invoice_item(session, scope, public_id)
    if item.status != FollowUpStatus.OPEN:
        return _back("nicht-moeglich")
    amount = parse_amount(betrag) if betrag.strip() else item.outstanding
    paid_on = parse_date(datum) if datum.strip() else date.today()
    if amount is None or paid_on is None or amount <= Decimal(0):
        return _back("eingabe-ungueltig")
    try:
        mark_paid(session, item.id, amount=amount, paid_on=paid_on, actor=scope.actor)
    except PaymentError:
        return _back("nicht-moeglich")
    return _back("bezahlt" if item.status == FollowUpStatus.DONE else "teilzahlung")


@forms.post("/dokumente/{public_id}/strittig")
def mark_disputed(
    session: SessionDep,
    scope: StaffScope,
    public_id: str,
    strittig: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    """Set (``strittig=1``) or clear (``0``) the flag that keeps an invoice out of dunning."""
    item = _invoice_item(session, scope, public_id)
    disputed = strittig != "0"
    try:
        set_disputed(session, item, disputed, actor=scope.actor)
    except FollowUpError:
        return _back("nicht-moeglich")
    return _back("strittig" if disputed else "nicht-strittig")
