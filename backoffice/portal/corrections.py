"""Staff corrections of the machine's results, and the training data they become.

Every correction does three things in the caller's transaction: it changes the catalog (class,
client or a field as ``ExtractedField(source="staff")``), records a :class:`Correction` row (the
training data for the next classifier, :func:`training_examples`) and appends a
``document.corrected`` audit event with the old and the new value. The search index is refreshed
so the archive shows the change at once.

The class and the document date decide the legal retention period, so correcting either derives
it again (:func:`backoffice.archive.retention.rederive_retention`, the filing stage's rule): a
letter that turns out to be an invoice is kept 8 years instead of 6, and the stored original's
lock is extended with it; the reverse never releases an original before its committed lock.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.archive.retention import rederive_retention
from backoffice.archive.storage import ObjectStore
from backoffice.models import (
    Client,
    Correction,
    DocType,
    Document,
    DocumentStatus,
    ExtractedField,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
)
from backoffice.portal.search import index_document

_KINDS_FOR_TYPE: dict[DocType, set[FollowUpKind]] = {
    DocType.INVOICE: {FollowUpKind.PAYABLE, FollowUpKind.RECEIVABLE},
    DocType.REMINDER: {FollowUpKind.REMINDER},
    DocType.LETTER: {FollowUpKind.REPLY},
}
_UNSURE_TYPE_FLAG = "Dokumentart unsicher"
DATE_FIELDS = ("issue_date", "letter_date")
"""The fields the document date comes from, the first one present winning (as when it was read)."""


@dataclass(frozen=True)
class Outcome:
    changed: bool
    needs_processing: bool = False
    """The document must go through the pipeline again (filing under a new client)."""


def _record(
    session: Session, doc: Document, *, actor: str, name: str, old: str | None, new: str | None
) -> None:
    session.add(
        Correction(document_id=doc.id, field=name, old_value=old, new_value=new, actor=actor)
    )
    record_event(
        session,
        actor=actor,
        action="document.corrected",
        client_id=doc.client_id,
        document_id=doc.id,
        detail={"field": name, "old": old, "new": new},
    )


def correct_doc_type(
    session: Session, doc: Document, new_type: DocType, actor: str, *, store: ObjectStore
) -> Outcome:
    """Set the class; for a filed document its follow-ups and retention follow it."""
    old = doc.doc_type
    if old == new_type:
        return Outcome(False)
    doc.doc_type = new_type
    doc.type_confidence = 1.0
    doc.flags = [f for f in (doc.flags or []) if not str(f).startswith(_UNSURE_TYPE_FLAG)]
    _record(session, doc, actor=actor, name="doc_type", old=old.value, new=new_type.value)
    rederive_retention(session, store, doc, actor=actor)
    if doc.status == DocumentStatus.FILED and doc.client_id is not None:
        _realign_followups(session, doc)
    session.flush()
    index_document(session, doc)
    return Outcome(True)


def _realign_followups(session: Session, doc: Document) -> None:
    from backoffice.followups.queue import queue_followups

    wanted = _KINDS_FOR_TYPE.get(doc.doc_type, set())
    for followup in session.scalars(select(FollowUp).where(FollowUp.document_id == doc.id)):
        if followup.status == FollowUpStatus.OPEN and followup.kind not in wanted:
            followup.status = FollowUpStatus.CANCELLED
            followup.note = ((followup.note or "") + " [Dokumentart korrigiert]").strip()[:500]
    session.flush()
    queue_followups(session, doc)


def correct_client(session: Session, doc: Document, client: Client, actor: str) -> Outcome:
    """Assign a client; the document must then be filed (again) in that client's archive."""
    if doc.client_id == client.id:
        return Outcome(False)
    old = session.get(Client, doc.client_id) if doc.client_id is not None else None
    doc.client_id = client.id
    doc.correspondent_id = None
    doc.client_hint = client.code
    doc.flags = [f for f in (doc.flags or []) if not str(f).startswith("Mandant nicht eindeutig")]
    for followup in session.scalars(select(FollowUp).where(FollowUp.document_id == doc.id)):
        followup.client_id = client.id
    refile = doc.status in (DocumentStatus.FILED, DocumentStatus.UNASSIGNED)
    if refile:
        doc.status = DocumentStatus.UNDERSTOOD
    _record(
        session, doc, actor=actor, name="client", old=old.code if old else None, new=client.code
    )
    session.flush()
    index_document(session, doc)
    return Outcome(True, needs_processing=refile)


def _normalise(name: str, value: str) -> str:
    """Amounts and dates in the catalog's canonical spelling (dot decimal, ISO date)."""
    value = value.strip()
    if name.endswith(("_total", "_amount", "_net")) or name in {"amount_outstanding", "fees"}:
        candidate = value.replace("€", "").replace(" ", "")
        if "," in candidate:
            candidate = candidate.replace(".", "").replace(",", ".")
        try:
            return str(Decimal(candidate).quantize(Decimal("0.01")))
        except InvalidOperation:
            return value
    if name.endswith(("_date", "deadline")) and len(value) == 10 and value[2] == ".":
        try:
            day, month, year = (int(p) for p in value.split("."))
            return date(year, month, day).isoformat()
        except ValueError:
            return value
    return value


def correct_field(
    session: Session, doc: Document, name: str, value: str, actor: str, *, store: ObjectStore
) -> Outcome:
    """Store a staff value for a field (one staff row per field, updated in place).

    A corrected issue or letter date becomes the document's date, and with it its retention.
    """
    value = _normalise(name, value)
    old = doc.field(name)
    if old == value:
        return Outcome(False)
    staff = next((f for f in doc.fields if f.name == name and f.source == "staff"), None)
    if staff is None:
        doc.fields.append(ExtractedField(name=name, value=value, confidence=1.0, source="staff"))
    else:
        staff.value = value
    _record(session, doc, actor=actor, name=name, old=old, new=value)
    _update_payable(session, doc, name, value)
    if name in DATE_FIELDS:
        _update_doc_date(session, doc, actor=actor, store=store)
    session.flush()
    index_document(session, doc)
    return Outcome(True)


def _update_doc_date(session: Session, doc: Document, *, actor: str, store: ObjectStore) -> None:
    """Take the document date from the date fields again; a changed year moves the retention."""
    for name in DATE_FIELDS:
        value = doc.field(name)
        if value:
            try:
                new_date: date | None = date.fromisoformat(value)
            except ValueError:
                return  # not a date (yet): the document keeps the date it has
            break
    else:
        new_date = None
    if new_date == doc.doc_date:
        return
    doc.doc_date = new_date
    rederive_retention(session, store, doc, actor=actor)


def _update_payable(session: Session, doc: Document, name: str, value: str) -> None:
    """Keep an open payable in line with corrected due date, amount and invoice number."""
    payable = session.scalar(
        select(FollowUp).where(
            FollowUp.document_id == doc.id,
            FollowUp.kind == FollowUpKind.PAYABLE,
            FollowUp.status == FollowUpStatus.OPEN,
        )
    )
    if payable is None:
        return
    if name == "due_date":
        with contextlib.suppress(ValueError):
            payable.due_date = date.fromisoformat(value)
    elif name == "gross_total":
        with contextlib.suppress(InvalidOperation):
            payable.amount = Decimal(value)
    elif name == "invoice_number":
        payable.reference = value[:100]


def mark_reviewed(session: Session, doc: Document, actor: str) -> Outcome:
    """Staff looked at it and agree: it leaves the review queue."""
    if not doc.needs_review:
        return Outcome(False)
    doc.needs_review = False
    record_event(
        session,
        actor=actor,
        action="document.reviewed",
        client_id=doc.client_id,
        document_id=doc.id,
        detail={"flags": list(doc.flags or [])},
    )
    return Outcome(True)


def training_examples(session: Session) -> list[tuple[str, str]]:
    """(text, label) pairs from class corrections: the latest label per document.

    A document corrected twice (a slip, then the right class) yields one example with the
    final class; documents without text are skipped.
    """
    latest: dict[int, str] = {}
    rows = session.execute(
        select(Correction.document_id, Correction.new_value)
        .where(Correction.field == "doc_type")
        .order_by(Correction.id)
    ).tuples()
    for doc_id, label in rows:
        if label:
            latest[doc_id] = label
    if not latest:
        return []
    texts = dict(
        session.execute(select(Document.id, Document.text).where(Document.id.in_(sorted(latest))))
        .tuples()
        .all()
    )
    return [(text, latest[doc_id]) for doc_id in sorted(latest) if (text := texts.get(doc_id))]
