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
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.archive.retention import rederive_retention
from backoffice.archive.storage import ObjectStore
from backoffice.context import Context
from backoffice.followups.queue import REDETERMINED_NOTE
from backoffice.models import (
    BookingEntry,
    BookingStatus,
    Client,
    Correction,
    DocType,
    Document,
    DocumentStatus,
    DunningNotice,
    ExtractedField,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    PaymentMatch,
)
from backoffice.portal.search import index_document, index_documents

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


SPLIT_REASON = "von Hand getrennt"
_PAGE_LIST = re.compile(r"^[\d\s,;]+$")
_BOOKED = (
    "Das Dokument ist schon gebucht, bezahlt oder gemahnt (Buchung freigegeben oder exportiert, "
    "Zahlung zugeordnet, Mahnung vorgeschlagen). Bitte das zuerst rückgängig machen lassen, "
    "dann trennen."
)


@dataclass(frozen=True)
class SplitOutcome:
    """The parts of a split (head first), or why it was refused."""

    parts: list[int]
    refusal: str | None = None
    """Short code of the reason (a notice on the document page), None when split."""
    message: str = ""


def parse_pages(value: str) -> list[int] | None:
    """The pages of a "Hier trennen: ab Seite" input: "6", or several as "3, 6" or "3 6"."""
    if not _PAGE_LIST.match(value or ""):
        return None
    return sorted({int(n) for n in re.findall(r"\d+", value) if len(n) <= 5}) or None


def split_by_staff(ctx: Context, document_id: int, pages: str, actor: str) -> SplitOutcome:
    """Split a document before ``pages`` as staff decided.

    The cut is the pipeline's (:func:`backoffice.pipeline.split_document`): every part goes back
    to ``text`` and must be processed again (the caller queues that for every part). What came
    of the document as a whole is withdrawn in the same transaction: its open follow-ups are
    cancelled (each part gets its own when it is filed again) and booking proposals nobody
    approved are removed, so that the parts are proposed afresh. A booking the accountant
    approved or exported refuses the split: the books would otherwise keep an entry for a
    document that no longer exists in that form, and only the accountant corrects the books.
    """
    # imported here: the pipeline loads the understanding models, which pages do not need
    from backoffice.pipeline import SplitError, split_document

    wanted = parse_pages(pages)
    if wanted is None:
        return SplitOutcome(
            [], "trennen-seiten", "Bitte die Seite(n) als Zahlen angeben, z. B. „6“ oder „3, 6“."
        )
    with ctx.catalog.session() as session:
        if _booked(session, document_id):
            return SplitOutcome([], "trennen-gebucht", _BOOKED)

    def withdraw(session: Session, head: Document) -> dict[str, Any]:
        if _booked(session, head.id):
            raise SplitError(_BOOKED, "trennen-gebucht")
        cancelled = []
        for followup in session.scalars(
            select(FollowUp).where(
                FollowUp.document_id == head.id, FollowUp.status == FollowUpStatus.OPEN
            )
        ):
            followup.status = FollowUpStatus.CANCELLED
            followup.note = f"{followup.note or ''} [{REDETERMINED_NOTE}]".strip()[:500]
            cancelled.append(followup.id)
        proposals = list(
            session.scalars(
                select(BookingEntry.id).where(
                    BookingEntry.document_id == head.id,
                    BookingEntry.status == BookingStatus.PROPOSED,
                )
            )
        )
        if proposals:
            session.execute(delete(BookingEntry).where(BookingEntry.id.in_(proposals)))
        return {"cancelled_followups": cancelled, "removed_bookings": proposals}

    try:
        created = split_document(
            ctx, document_id, wanted, actor=actor, reason=SPLIT_REASON, prepare=withdraw
        )
    except SplitError as exc:
        return SplitOutcome([], exc.code, str(exc))
    parts = [document_id, *created]
    with ctx.catalog.session() as session:
        index_documents(session, parts)
    return SplitOutcome(parts)


def _booked(session: Session, document_id: int) -> bool:
    """Whether the document is already acted on beyond recall: the accountant approved or
    exported a booking, a payment was applied to it, or a dunning letter was proposed."""
    booked = session.scalar(
        select(BookingEntry.id)
        .where(
            BookingEntry.document_id == document_id,
            BookingEntry.status.in_([BookingStatus.APPROVED, BookingStatus.EXPORTED]),
        )
        .limit(1)
    )
    if booked is not None:
        return True
    followups = select(FollowUp.id).where(FollowUp.document_id == document_id)
    acted = session.scalar(
        select(FollowUp.id)
        .where(FollowUp.document_id == document_id, FollowUp.paid_amount > 0)
        .union(
            select(PaymentMatch.followup_id).where(PaymentMatch.followup_id.in_(followups)),
            select(DunningNotice.followup_id).where(DunningNotice.followup_id.in_(followups)),
        )
        .limit(1)
    )
    return acted is not None


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
