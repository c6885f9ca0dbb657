"""The archive pages every role has: list and search, document page, downloads, "Fällig".

All data comes through :mod:`backoffice.portal.access` (directly or via search), so these pages
show a client user only their own filed post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from backoffice.models import DocType, FollowUp, FollowUpKind, FollowUpStatus, Role
from backoffice.portal import access
from backoffice.portal.access import Scope
from backoffice.portal.auth import page_scope
from backoffice.portal.documents import download, view_document
from backoffice.portal.search import PaymentState, SearchFilters, known_senders, search
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import FIELD_LABELS, content_disposition, render

router = APIRouter(include_in_schema=False)
PageScope = Annotated[Scope, Depends(page_scope)]


def parse_date(value: str | None) -> date | None:
    """``2024-03-01`` (date inputs) or ``01.03.2024`` (typed by hand)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", value):
            day, month, year = (int(p) for p in value.split("."))
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_amount(value: str | None) -> Decimal | None:
    """``1.234,56`` or ``1234.56`` (with or without €)."""
    value = (value or "").replace("€", "").replace(" ", "").strip()
    if not value:
        return None
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and abs(amount) < Decimal("1e12") else None


@dataclass
class ArchiveParams:
    """The archive form as typed, echoed back into the form."""

    q: str = ""
    typ: str = ""
    absender: str = ""
    von: str = ""
    bis: str = ""
    betrag_min: str = ""
    betrag_max: str = ""
    status: str = ""
    mandant: str = ""
    seite: int = 1
    problems: list[str] = field(default_factory=list)

    def to_filters(self, session: Session, scope: Scope) -> SearchFilters:
        doc_type = DocType(self.typ) if self.typ in DocType.__members__.values() else None
        status = (
            PaymentState(self.status) if self.status in PaymentState.__members__.values() else None
        )
        client_id = None
        if self.mandant:
            client_id = access.get_client_by_code(session, scope, self.mandant).id
        filters = SearchFilters(
            doc_type=doc_type,
            sender=self.absender.strip()[:200] or None,
            date_from=parse_date(self.von),
            date_to=parse_date(self.bis),
            amount_min=parse_amount(self.betrag_min),
            amount_max=parse_amount(self.betrag_max),
            status=status,
            client_id=client_id,
        )
        for raw, parsed, label in (
            (self.von, filters.date_from, "Datum von"),
            (self.bis, filters.date_to, "Datum bis"),
            (self.betrag_min, filters.amount_min, "Betrag ab"),
            (self.betrag_max, filters.amount_max, "Betrag bis"),
        ):
            if raw.strip() and parsed is None:
                self.problems.append(f"{label}: „{raw}“ wurde nicht verstanden und ignoriert.")
        return filters

    def page_link(self, page: int) -> str:
        params = {
            k: v
            for k, v in (
                ("q", self.q),
                ("typ", self.typ),
                ("absender", self.absender),
                ("von", self.von),
                ("bis", self.bis),
                ("betrag_min", self.betrag_min),
                ("betrag_max", self.betrag_max),
                ("status", self.status),
                ("mandant", self.mandant),
            )
            if v
        }
        params["seite"] = str(page)
        return "/archiv?" + urlencode(params)


@router.get("/archiv")
def archive(
    *,
    request: Request,
    session: SessionDep,
    portal: PortalDep,
    scope: PageScope,
    q: str = "",
    typ: str = "",
    absender: str = "",
    von: str = "",
    bis: str = "",
    betrag_min: str = "",
    betrag_max: str = "",
    status: str = "",
    mandant: str = "",
    seite: str = "1",
) -> Response:
    params = ArchiveParams(
        q=q[:500],
        typ=typ,
        absender=absender[:200],
        von=von[:20],
        bis=bis[:20],
        betrag_min=betrag_min[:30],
        betrag_max=betrag_max[:30],
        status=status,
        mandant=mandant[:32],
        seite=max(1, min(int(seite) if seite.isdigit() else 1, 10_000)),
    )
    filters = params.to_filters(session, scope)
    size = portal.settings.page_size
    page = search(session, scope, params.q, filters, limit=size, offset=(params.seite - 1) * size)
    clients = {c.id: c for c in access.visible_clients(session, scope)}
    pages = max(1, -(-page.total // size))
    return render(
        request,
        "archive.html",
        {
            "params": params,
            "page": page,
            "pages": pages,
            "clients": clients,
            "senders": known_senders(session, scope),
            "doc_types": [t for t in DocType if t != DocType.UNKNOWN],
        },
    )


@router.get("/dokumente/{public_id}")
def document_page(
    request: Request, session: SessionDep, scope: PageScope, public_id: str
) -> Response:
    view = view_document(session, scope, public_id, via="portal")
    doc = view.document
    context: dict[str, object] = {"view": view, "doc": doc}
    if scope.role == Role.STAFF:
        scores = sorted((doc.type_scores or {}).items(), key=lambda kv: (-float(kv[1]), kv[0]))
        context.update(
            top_classes=scores[:2],
            doc_types=list(DocType),
            all_clients=access.visible_clients(session, scope),
            field_names=FIELD_LABELS,
        )
    return render(request, "document.html", context)


def _file_response(
    *,
    session: Session,
    portal: PortalDep,
    scope: Scope,
    public_id: str,
    kind: str,
    inline: bool,
) -> Response:
    result = download(
        session,
        portal,
        scope,
        public_id,
        "original" if kind == "original" else "searchable",
        via="portal",
        inline=inline,
    )
    disposition = "inline" if inline and result.media_type == "application/pdf" else "attachment"
    return Response(
        result.body,
        media_type=result.media_type,
        headers={
            "Content-Disposition": content_disposition(disposition, result.filename),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/dokumente/{public_id}/original")
def download_original(
    session: SessionDep, portal: PortalDep, scope: PageScope, public_id: str
) -> Response:
    return _file_response(
        session=session,
        portal=portal,
        scope=scope,
        public_id=public_id,
        kind="original",
        inline=False,
    )


@router.get("/dokumente/{public_id}/pdf")
def download_searchable(
    session: SessionDep,
    portal: PortalDep,
    scope: PageScope,
    public_id: str,
    download: str = "",
) -> Response:
    """The searchable PDF; inline (for the preview frame) unless ``?download=1``."""
    return _file_response(
        session=session,
        portal=portal,
        scope=scope,
        public_id=public_id,
        kind="searchable",
        inline=not download,
    )


@router.get("/faellig")
def due(
    request: Request,
    session: SessionDep,
    portal: PortalDep,
    scope: PageScope,
    hinweis: str = "",
) -> Response:
    """Open payables by due date (overdue, due within the digest window, Skonto deadlines),
    the client's own open invoices, reminders received and letters that need an answer; staff
    get buttons to record a payment by hand and to flag an invoice as disputed."""
    today = date.today()
    until = today + timedelta(days=portal.ctx.settings.followups.digest_days_ahead)
    open_ = [FollowUpStatus.OPEN]
    payables = access.followups(session, scope, kinds=[FollowUpKind.PAYABLE], statuses=open_)
    receivables = access.followups(session, scope, kinds=[FollowUpKind.RECEIVABLE], statuses=open_)
    reminders = access.followups(session, scope, kinds=[FollowUpKind.REMINDER], statuses=open_)
    replies = access.followups(session, scope, kinds=[FollowUpKind.REPLY], statuses=open_)
    handles = access.public_ids(
        session,
        [f.document_id for f in [*payables, *receivables, *reminders, *replies]],
    )

    def outstanding(items: list[FollowUp]) -> Decimal:
        return sum((f.outstanding or Decimal(0) for f in items), Decimal(0))

    overdue = [f for f in payables if f.due_date and f.due_date < today]
    soon = [f for f in payables if f.due_date and today <= f.due_date <= until]
    skonto = [f for f in payables if f.skonto_until and today <= f.skonto_until <= until]
    return render(
        request,
        "due.html",
        {
            "payables": payables,
            "receivables": receivables,
            "reminders": reminders,
            "replies": replies,
            "handles": handles,
            "today": today,
            "until": until,
            "total": outstanding(payables),
            "summary": {
                "overdue": (len(overdue), outstanding(overdue)),
                "soon": (len(soon), outstanding(soon)),
                "skonto": len(skonto),
            },
            "receivables_total": outstanding(receivables),
            "is_staff": scope.role == Role.STAFF,
            "notice_code": hinweis,
            "show_client": scope.role != Role.CLIENT or len(scope.client_ids) > 1,
        },
    )
