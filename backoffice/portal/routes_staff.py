"""Staff pages: review queue, corrections, re-processing, quarantine and uploads.

Corrections are plain form posts that redirect back to the document (post/redirect/get), so a
reload never repeats one and the page works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from starlette.datastructures import FormData

from backoffice.archive.audit import record_event
from backoffice.intake.firstpage import uncertain_pages
from backoffice.intake.quarantine import release
from backoffice.models import (
    DocType,
    Document,
    DocumentStatus,
    QuarantineEntry,
    Role,
)
from backoffice.portal import access, corrections
from backoffice.portal.access import NotFoundError, Scope
from backoffice.portal.auth import page_scope, require_csrf
from backoffice.portal.documents import current_fields, run_pipeline, take_upload
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import FIELD_LABELS, render

MAX_UPLOAD_FILES = 50


def staff_scope(scope: Annotated[Scope, Depends(page_scope)]) -> Scope:
    """Only staff reach these pages; others get 403."""
    scope.require_role(Role.STAFF)
    return scope


StaffScope = Annotated[Scope, Depends(staff_scope)]
router = APIRouter(include_in_schema=False)
forms = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])


async def form_data(request: Request) -> FormData:
    """The posted form (parsed once per request, also for the CSRF check)."""
    return await request.form()


def _back(public_id: str, note: str = "") -> RedirectResponse:
    suffix = f"?hinweis={note}" if note else ""
    return RedirectResponse(f"/dokumente/{public_id}{suffix}", status_code=303)


@router.get("/pruefen")
def review_queue(request: Request, session: SessionDep, scope: StaffScope) -> Response:
    """Documents the machine was unsure about, or could not assign to a client."""
    stmt = (
        select(Document)
        .where(
            or_(Document.needs_review.is_(True), Document.status == DocumentStatus.UNASSIGNED),
            Document.status != DocumentStatus.QUARANTINED,
        )
        .options(selectinload(Document.fields), selectinload(Document.client))
        .order_by(Document.created_at, Document.id)
        .limit(500)
    )
    docs = list(session.scalars(access.restrict_documents(stmt, scope)))
    handles = access.public_ids(session, [d.id for d in docs])
    rows = []
    for doc in docs:
        scores = sorted((doc.type_scores or {}).items(), key=lambda kv: (-float(kv[1]), kv[0]))
        rows.append(
            {
                "doc": doc,
                "public_id": handles[doc.id],
                "top": scores[:2],
                "fields": current_fields(doc)[:6],
                "split_pages": ", ".join(map(str, uncertain_pages(doc.flags or []))),
            }
        )
    return render(
        request,
        "review.html",
        {
            "rows": rows,
            "doc_types": [t for t in DocType if t != DocType.UNKNOWN],
            "clients": access.visible_clients(session, scope),
        },
    )


@forms.post("/dokumente/{public_id}/klasse")
def correct_class(
    session: SessionDep,
    portal: PortalDep,
    scope: StaffScope,
    public_id: str,
    doc_type: Annotated[str, Form()],
) -> Response:
    doc = access.get_document(session, scope, public_id)
    if doc_type not in DocType.__members__.values():
        return _back(public_id, "klasse-ungueltig")
    corrections.correct_doc_type(
        session, doc, DocType(doc_type), scope.actor, store=portal.ctx.store
    )
    return _back(public_id, "gespeichert")


@forms.post("/dokumente/{public_id}/mandant")
def correct_client(
    *,
    session: SessionDep,
    portal: PortalDep,
    scope: StaffScope,
    background: BackgroundTasks,
    public_id: str,
    client: Annotated[str, Form(max_length=32)],
) -> Response:
    doc = access.get_document(session, scope, public_id)
    try:
        target = access.get_client_by_code(session, scope, client)
    except NotFoundError:
        return _back(public_id, "mandant-unbekannt")
    outcome = corrections.correct_client(session, doc, target, scope.actor)
    if outcome.needs_processing:
        background.add_task(run_pipeline, portal, doc.id)
    return _back(public_id, "gespeichert")


@forms.post("/dokumente/{public_id}/felder")
def correct_fields(
    session: SessionDep,
    portal: PortalDep,
    scope: StaffScope,
    public_id: str,
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Every ``field:<name>`` input whose value changed becomes a staff value."""
    doc = access.get_document(session, scope, public_id)
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if key.startswith("field:") and isinstance(value, str):
            values[key[len("field:") :]] = value
    new_name, new_value = form.get("new_name"), form.get("new_value")
    if isinstance(new_name, str) and isinstance(new_value, str) and new_name and new_value:
        values[new_name] = new_value
    for name, value in values.items():
        if name not in FIELD_LABELS and not any(f.name == name for f in doc.fields):
            continue
        if not value.strip() or len(value) > 1000:
            continue
        corrections.correct_field(session, doc, name, value, scope.actor, store=portal.ctx.store)
    return _back(public_id, "gespeichert")


@forms.post("/dokumente/{public_id}/geprueft")
def mark_reviewed(session: SessionDep, scope: StaffScope, public_id: str) -> Response:
    doc = access.get_document(session, scope, public_id)
    corrections.mark_reviewed(session, doc, scope.actor)
    return RedirectResponse("/pruefen", status_code=303)


@forms.post("/dokumente/{public_id}/neu-verarbeiten")
def reprocess(
    session: SessionDep,
    portal: PortalDep,
    scope: StaffScope,
    background: BackgroundTasks,
    public_id: str,
) -> Response:
    """Understand and file the document again (its text is kept)."""
    doc = access.get_document(session, scope, public_id)
    if doc.text is None:
        doc.status = DocumentStatus.NEW
    else:
        doc.status = DocumentStatus.TEXT
    doc.error = None
    record_event(
        session,
        actor=scope.actor,
        action="document.reprocess",
        client_id=doc.client_id,
        document_id=doc.id,
        detail={"from": doc.status.value},
    )
    background.add_task(run_pipeline, portal, doc.id)
    return _back(public_id, "wird-verarbeitet")


@forms.post("/dokumente/{public_id}/trennen")
def split_document(
    *,
    session: SessionDep,
    portal: PortalDep,
    scope: StaffScope,
    background: BackgroundTasks,
    public_id: str,
    seiten: Annotated[str, Form(max_length=200)],
) -> Response:
    """Split the document before the given pages ("Hier trennen: ab Seite …").

    Every part, the document itself included, is understood and filed again afterwards, in the
    background like :func:`reprocess`.
    """
    doc = access.get_document(session, scope, public_id)
    document_id = doc.id
    # the split runs its own transactions; ours holds no lock at this point
    session.rollback()
    outcome = corrections.split_by_staff(portal.ctx, document_id, seiten, scope.actor)
    if outcome.refusal:
        return _back(public_id, outcome.refusal)
    for part in outcome.parts:
        background.add_task(run_pipeline, portal, part)
    return _back(public_id, "getrennt")


@router.get("/quarantaene")
def quarantine(request: Request, session: SessionDep, scope: StaffScope) -> Response:
    entries = list(
        session.scalars(
            select(QuarantineEntry)
            .where(QuarantineEntry.resolved_at.is_(None))
            .order_by(QuarantineEntry.id)
        )
    )
    return render(request, "quarantine.html", {"entries": entries})


@forms.post("/quarantaene/{entry_id}/freigeben")
def quarantine_retry(
    session: SessionDep,
    portal: PortalDep,
    scope: StaffScope,
    background: BackgroundTasks,
    entry_id: int,
) -> Response:
    entry = session.get(QuarantineEntry, entry_id)
    if entry is None or entry.resolved_at is not None:
        raise NotFoundError(str(entry_id))
    document_id = entry.document_id
    # ``release`` runs its own transaction; ours holds no lock at this point.
    session.rollback()
    release(portal.ctx.catalog, entry_id, actor=scope.actor)
    if document_id is not None:
        background.add_task(run_pipeline, portal, document_id)
    return RedirectResponse("/quarantaene?hinweis=freigegeben", status_code=303)


@router.get("/hochladen")
def upload_form(request: Request, session: SessionDep, scope: StaffScope) -> Response:
    return render(
        request,
        "upload.html",
        {"clients": access.visible_clients(session, scope), "results": None},
    )


@forms.post("/hochladen")
def upload(
    *,
    request: Request,
    session: SessionDep,
    portal: PortalDep,
    scope: StaffScope,
    files: list[UploadFile],
    client: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Store the files as originals (source ``upload``); processing happens in the flow."""
    hint = None
    if client:
        hint = access.get_client_by_code(session, scope, client).code
    if len(files) > MAX_UPLOAD_FILES:
        raise HTTPException(status_code=400, detail=f"Höchstens {MAX_UPLOAD_FILES} Dateien.")
    results = []
    for upload_file in files:
        received = take_upload(portal, scope, upload_file, via="portal", client_hint=hint)
        results.append(received)
    record_event(
        session,
        actor=scope.actor,
        action="upload.received",
        detail={"files": [r.filename for r in results], "client": hint},
    )
    return render(
        request,
        "upload.html",
        {"clients": access.visible_clients(session, scope), "results": results},
    )
