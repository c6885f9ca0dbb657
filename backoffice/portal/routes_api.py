"""The REST API under ``/api``: the archive for scripts and other programs.

Authenticated with personal API tokens (``Authorization: Bearer bo_…``), with exactly the
permissions of the user's pages: the same scope, the same helpers, the same audit events.
Documents are identified by their public id; catalog ids never leave the server. Bearer tokens
are not sent by browsers on their own, so the API needs no CSRF protection.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from backoffice.archive.audit import record_event
from backoffice.models import DocType, FollowUp, FollowUpKind, FollowUpStatus, Role
from backoffice.portal import access
from backoffice.portal.access import Scope
from backoffice.portal.auth import api_scope
from backoffice.portal.documents import download, take_upload, view_document
from backoffice.portal.search import PaymentState, SearchFilters, SearchHit, search
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import DOC_TYPE_LABELS, FIELD_LABELS, content_disposition

ApiScope = Annotated[Scope, Depends(api_scope)]
router = APIRouter(prefix="/api", tags=["Archiv"])


class ClientOut(BaseModel):
    code: str
    name: str


class DocumentSummary(BaseModel):
    id: str = Field(description="Öffentliche Kennung des Dokuments")
    client_code: str | None
    title: str
    doc_type: DocType
    doc_type_label: str
    doc_date: date | None
    sender: str | None
    amount: Decimal | None
    status: str
    snippet: str | None = Field(
        default=None, description="Textausschnitt (HTML, Treffer in <mark>)"
    )
    rank: float = 0.0


class DocumentPage(BaseModel):
    items: list[DocumentSummary]
    total: int
    limit: int
    offset: int


class FieldOut(BaseModel):
    name: str
    label: str
    value: str
    source: str
    confidence: float


class FollowUpOut(BaseModel):
    document_id: str
    client_code: str | None
    kind: FollowUpKind
    status: FollowUpStatus
    due_date: date | None
    amount: Decimal | None
    reference: str | None
    note: str | None
    priority: int


class DocumentDetail(DocumentSummary):
    page_count: int
    retain_until: date | None
    fields: list[FieldOut]
    followups: list[FollowUpOut]
    original_url: str | None
    searchable_url: str | None


class UploadOut(BaseModel):
    filename: str | None
    status: str
    duplicate: bool


def _codes(session: SessionDep, scope: Scope) -> dict[int, str]:
    return {c.id: c.code for c in access.visible_clients(session, scope)}


def _summary(hit: SearchHit, codes: dict[int, str]) -> DocumentSummary:
    return DocumentSummary(
        id=hit.public_id,
        client_code=codes.get(hit.client_id) if hit.client_id is not None else None,
        title=hit.title.striptags(),
        doc_type=hit.doc_type,
        doc_type_label=DOC_TYPE_LABELS[hit.doc_type.value],
        doc_date=hit.doc_date,
        sender=hit.sender,
        amount=hit.amount,
        status=hit.status,
        snippet=str(hit.snippet) or None,
        rank=hit.rank,
    )


def _followup_out(f: FollowUp, handles: dict[int, str], codes: dict[int, str]) -> FollowUpOut:
    return FollowUpOut(
        document_id=handles[f.document_id],
        client_code=codes.get(f.client_id),
        kind=f.kind,
        status=f.status,
        due_date=f.due_date,
        amount=f.amount,
        reference=f.reference,
        note=f.note,
        priority=f.priority,
    )


@router.get("/clients", response_model=list[ClientOut], summary="Mandanten im Zugriff")
def api_clients(session: SessionDep, scope: ApiScope) -> list[ClientOut]:
    return [ClientOut(code=c.code, name=c.name) for c in access.visible_clients(session, scope)]


@router.get("/documents", response_model=DocumentPage, summary="Dokumente suchen und filtern")
def api_documents(
    *,
    session: SessionDep,
    scope: ApiScope,
    q: Annotated[str, Query(max_length=500, description="Suchtext")] = "",
    doc_type: DocType | None = None,
    sender: Annotated[str | None, Query(max_length=200)] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    amount_min: Annotated[Decimal | None, Query(ge=-1e12, le=1e12)] = None,
    amount_max: Annotated[Decimal | None, Query(ge=-1e12, le=1e12)] = None,
    status: PaymentState | None = None,
    client: Annotated[str | None, Query(max_length=32, description="Mandantenkürzel")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DocumentPage:
    client_id = access.get_client_by_code(session, scope, client).id if client else None
    filters = SearchFilters(
        doc_type=doc_type,
        sender=sender,
        date_from=date_from,
        date_to=date_to,
        amount_min=amount_min,
        amount_max=amount_max,
        status=status,
        client_id=client_id,
    )
    page = search(session, scope, q, filters, limit=limit, offset=offset)
    codes = _codes(session, scope)
    return DocumentPage(
        items=[_summary(h, codes) for h in page.hits],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/documents/{document_id}",
    response_model=DocumentDetail,
    summary="Ein Dokument mit Feldern und Wiedervorlagen",
    responses={404: {"description": "Nicht gefunden (oder nicht im Zugriff)"}},
)
def api_document(session: SessionDep, scope: ApiScope, document_id: str) -> DocumentDetail:
    view = view_document(session, scope, document_id, via="api")
    doc = view.document
    codes = _codes(session, scope)
    handles = {doc.id: view.public_id}
    base = f"/api/documents/{view.public_id}"
    return DocumentDetail(
        id=view.public_id,
        client_code=codes.get(doc.client_id) if doc.client_id is not None else None,
        title=doc.title or "Dokument",
        doc_type=doc.doc_type,
        doc_type_label=DOC_TYPE_LABELS[doc.doc_type.value],
        doc_date=doc.doc_date,
        sender=view.sender,
        amount=view.amount,
        status=doc.status.value,
        page_count=doc.page_count,
        retain_until=doc.retain_until,
        fields=[
            FieldOut(
                name=f.name,
                label=FIELD_LABELS.get(f.name, f.name),
                value=f.value,
                source=f.source,
                confidence=f.confidence,
            )
            for f in view.fields
        ],
        followups=[_followup_out(f, handles, codes) for f in view.followups],
        original_url=f"{base}/original" if doc.original_key else None,
        searchable_url=f"{base}/searchable" if doc.searchable_key else None,
    )


def _file(
    session: SessionDep,
    portal: PortalDep,
    scope: Scope,
    document_id: str,
    kind: Literal["original", "searchable"],
) -> Response:
    result = download(session, portal, scope, document_id, kind, via="api")
    return Response(
        result.body,
        media_type=result.media_type,
        headers={
            "Content-Disposition": content_disposition("attachment", result.filename),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


_FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/pdf": {}, "application/octet-stream": {}}},
    404: {"description": "Nicht gefunden (oder nicht im Zugriff)"},
}


@router.get(
    "/documents/{document_id}/original",
    summary="Das Original, wie es eingegangen ist",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
def api_original(
    session: SessionDep, portal: PortalDep, scope: ApiScope, document_id: str
) -> Response:
    return _file(session, portal, scope, document_id, "original")


@router.get(
    "/documents/{document_id}/searchable",
    summary="Das durchsuchbare PDF",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
def api_searchable(
    session: SessionDep, portal: PortalDep, scope: ApiScope, document_id: str
) -> Response:
    return _file(session, portal, scope, document_id, "searchable")


@router.get("/followups", response_model=list[FollowUpOut], summary="Wiedervorlagen")
def api_followups(
    session: SessionDep,
    scope: ApiScope,
    kind: FollowUpKind | None = None,
    status: FollowUpStatus | None = FollowUpStatus.OPEN,
    client: Annotated[str | None, Query(max_length=32)] = None,
) -> list[FollowUpOut]:
    client_id = access.get_client_by_code(session, scope, client).id if client else None
    items = access.followups(
        session,
        scope,
        kinds=[kind] if kind else None,
        statuses=[status] if status else None,
        client_id=client_id,
    )
    handles = access.public_ids(session, [f.document_id for f in items])
    codes = _codes(session, scope)
    return [_followup_out(f, handles, codes) for f in items]


@router.post(
    "/uploads",
    response_model=UploadOut,
    status_code=201,
    summary="Eine Datei einliefern (Büroservice, oder Mandant für sich selbst)",
    responses={403: {"description": "Keine Berechtigung für diesen Mandanten"}},
)
def api_upload(
    session: SessionDep,
    portal: PortalDep,
    scope: ApiScope,
    file: Annotated[UploadFile, File(description="PDF oder Bild")],
    client: Annotated[str | None, Form(max_length=32)] = None,
) -> UploadOut:
    if scope.role == Role.ACCOUNTANT:
        raise HTTPException(status_code=403, detail="Keine Berechtigung zum Einliefern.")
    if scope.role == Role.CLIENT:
        own = access.visible_clients(session, scope)
        if client is None and len(own) == 1:
            client = own[0].code
        if client is None or client not in {c.code for c in own}:
            raise HTTPException(status_code=403, detail="Nur für den eigenen Mandanten.")
    hint = access.get_client_by_code(session, scope, client).code if client else None
    received = take_upload(portal, scope, file, via="api", client_hint=hint)
    record_event(
        session,
        actor=scope.actor,
        action="upload.received",
        detail={"files": [received.filename], "client": hint, "via": "api"},
    )
    return UploadOut(
        filename=received.filename or "upload",
        status=received.status.value,
        duplicate=received.duplicate,
    )
