"""Document operations shared by the pages and the API: view, download, re-process.

Both front ends call these, so a document is shown, audited and served the same way whether a
person clicks or a script asks; every view and download writes an audit event here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from fastapi import UploadFile
from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.archive.storage import ObjectMissingError, StorageError
from backoffice.intake.receive import Received, receive_bytes
from backoffice.models import Document, DocumentStatus, ExtractedField, FollowUp
from backoffice.portal import access
from backoffice.portal.access import NotFoundError, Scope
from backoffice.portal.search import index_document
from backoffice.portal.state import Portal
from backoffice.portal.web import media_type_for, safe_filename

log = logging.getLogger(__name__)

FileKind = Literal["original", "searchable"]
Via = Literal["portal", "api"]


@dataclass(frozen=True)
class DocumentView:
    document: Document
    public_id: str
    fields: list[ExtractedField]
    """The current value of each field (a staff correction wins), in extraction order."""
    followups: list[FollowUp]
    sender: str | None
    amount: Decimal | None


def current_fields(doc: Document) -> list[ExtractedField]:
    chosen: dict[str, ExtractedField] = {}
    for f in doc.fields:
        if f.name not in chosen or f.source == "staff":
            chosen[f.name] = f
    return list(chosen.values())


def sender_of(doc: Document) -> str | None:
    if doc.correspondent is not None:
        return doc.correspondent.name
    return doc.field("seller_name") or doc.field("sender_name")


def document_amount(doc: Document) -> Decimal | None:
    """The amount that matters: the invoice total, else what a reminder says is outstanding."""
    for name in ("gross_total", "amount_outstanding"):
        value = doc.field(name)
        if value:
            try:
                return Decimal(value)
            except InvalidOperation:
                continue
    return None


def view_document(session: Session, scope: Scope, public_id: str, *, via: Via) -> DocumentView:
    """Load a document in scope and record that the user looked at it."""
    doc = access.get_document(session, scope, public_id)
    record_event(
        session,
        actor=scope.actor,
        action="document.viewed",
        client_id=doc.client_id,
        document_id=doc.id,
        detail={"via": via},
    )
    return DocumentView(
        doc,
        public_id,
        current_fields(doc),
        access.document_followups(session, scope, doc),
        sender_of(doc),
        document_amount(doc),
    )


@dataclass(frozen=True)
class Download:
    body: bytes
    media_type: str
    filename: str


def download(
    session: Session,
    portal: Portal,
    scope: Scope,
    public_id: str,
    kind: FileKind,
    *,
    via: Via,
    inline: bool = False,
) -> Download:
    """The original or the searchable PDF of a document in scope, audited."""
    doc = access.get_document(session, scope, public_id)
    key = doc.original_key if kind == "original" else doc.searchable_key
    if not key:
        raise NotFoundError(f"{public_id}/{kind}")
    try:
        body = portal.ctx.store.get(key)
    except (ObjectMissingError, StorageError) as exc:
        log.warning("archive object missing for document %s: %s", doc.id, exc)
        raise NotFoundError(f"{public_id}/{kind}") from exc
    record_event(
        session,
        actor=scope.actor,
        action="document.downloaded",
        client_id=doc.client_id,
        document_id=doc.id,
        detail={"kind": kind, "via": via, "inline": inline},
    )
    suffix = Path(key).suffix
    title = doc.title if kind == "original" else f"{doc.title or 'Dokument'} durchsuchbar"
    return Download(body, media_type_for(key), safe_filename(title, doc.doc_date, suffix))


def run_pipeline(portal: Portal, document_id: int) -> None:
    """Process a document (after a reset or a client assignment) and re-index it.

    Runs after the response (a background task): understanding can take seconds. Failures are
    the pipeline's to record (quarantine); here they are only logged.
    """
    try:
        portal.process(portal.ctx, document_id)
    except Exception:
        log.exception("processing document %s from the portal failed", document_id)
    with portal.session() as session, session.begin():
        doc = session.get(Document, document_id)
        if doc is not None and doc.status != DocumentStatus.QUARANTINED:
            index_document(session, doc)


def take_upload(
    portal: Portal, scope: Scope, upload: UploadFile, *, via: str, client_hint: str | None
) -> Received:
    """Store one uploaded file as a received original (processing happens in the flow).

    The browser's file name is only a label: path parts are cut off, it is never used as a path.
    """
    name = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200]
    return receive_bytes(
        portal.ctx.catalog,
        portal.ctx.store,
        upload.file.read(),
        source="upload",
        source_ref=f"{via}:{scope.email}:{name}",
        filename=name,
        client_hint=client_hint,
        max_bytes=portal.ctx.settings.intake.max_file_bytes,
    )
