"""Legal retention periods of archived originals (GoBD, §147 AO / §257 HGB after BEG IV).

Invoices and other Buchungsbelege are kept 8 years, Handels- und Geschäftsbriefe (letters,
reminders, most other post) 6 years, books and annual accounts 10 years; each period runs to
the end of the calendar year, counted from the end of the year the document is dated in. The
office service's accountant may lengthen any of them (an open tax assessment, an audit); the
periods are therefore data, not code paths.

A period is derived from the document's class and date. When staff correct either, the period is
derived again with the same rule (:func:`rederive_retention`); it can grow, but never drop below
the retention already committed on the stored original (an S3 Object Lock in compliance mode, or
the folder archive's retention marker), which cannot be shortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.archive.storage import ObjectStore
from backoffice.context import Context
from backoffice.models import DocType, Document

RETENTION_YEARS: dict[DocType, int] = {
    DocType.INVOICE: 8,
    DocType.REMINDER: 6,
    DocType.LETTER: 6,
    DocType.OTHER: 6,
    DocType.UNKNOWN: 10,
}
"""Unknown documents get the longest period: better kept too long than destroyed too early."""

BOOKS_YEARS = 10


def retain_until(doc_type: DocType, doc_date: date | None, received: date) -> date:
    """Last day the original must be kept: 31 December of (document year + period)."""
    year = (doc_date or received).year
    if doc_date is not None and doc_date > received:
        year = received.year  # an implausible future date must not shorten nor stretch the period
    return date(year + RETENTION_YEARS[doc_type], 12, 31)


def document_retention(doc: Document) -> date:
    """The period :func:`retain_until` gives a catalog document (as the filing stage asks)."""
    return retain_until(doc.doc_type, doc.doc_date, doc.intake.received_at.date())


@dataclass(frozen=True)
class RetentionChange:
    """What re-deriving a filed document's retention period did."""

    old: date
    derived: date
    """What the rule gives for the corrected class and date."""
    new: date
    """What the catalog keeps: the derived date, or the committed lock if that is later."""
    locked_until: date | None
    """The original object's retention after the change (``None``: the store keeps none)."""
    lock_extended: bool

    @property
    def kept_longer(self) -> bool:
        """The rule would shorten the period, but a committed lock holds the document longer."""
        return self.new > self.derived


def rederive_retention(
    session: Session, store: ObjectStore, doc: Document, *, actor: str
) -> RetentionChange | None:
    """Derive ``doc.retain_until`` again after its class or date was corrected.

    Only for filed documents (with a retention date): the filing stage derives it for the rest.
    A longer period is also set on the stored original, so the object is not released before
    the catalog allows; a shorter one stops at what the original is already locked for, and the
    audit event says so. The lock is moved before the caller's transaction commits: if that
    transaction fails, the object is merely kept longer than the catalog says, never shorter.
    A period held back by the lock is recorded even when the catalog date stays: the audit log
    shows that the corrected class alone would have allowed less. Returns ``None`` when the
    correction leaves the period as it was.
    """
    old = doc.retain_until
    if old is None:
        return None
    derived = document_retention(doc)
    locked = store.retention(doc.original_key) if doc.original_key else None
    lock_extended = False
    if doc.original_key and locked is not None and derived > locked:
        locked = store.extend_retention(doc.original_key, derived)
        lock_extended = True
    new = max(derived, locked) if locked is not None else derived
    if new == old == derived and not lock_extended:
        return None
    doc.retain_until = new
    change = RetentionChange(old, derived, new, locked, lock_extended)
    record_event(
        session,
        actor=actor,
        action="document.retention_changed",
        client_id=doc.client_id,
        document_id=doc.id,
        detail={
            "old": old.isoformat(),
            "derived": derived.isoformat(),
            "new": new.isoformat(),
            "locked_until": locked.isoformat() if locked else None,
            "lock_extended": lock_extended,
            "kept_longer": change.kept_longer,
        },
    )
    return change


class RetentionError(Exception):
    """A document may not be deleted yet; the message says until when."""


def delete_document(
    ctx: Context, document_id: int, *, actor: str, today: date | None = None
) -> None:
    """Delete a filed document's objects once its retention period is over.

    Before that the request is refused, and the refusal is written to the audit log (GoBD:
    nothing disappears without a trace, and attempts are traced too). The catalog row stays,
    marked by the audit event, so the archive's history remains complete.
    """
    today = today or date.today()
    with ctx.catalog.session() as session:
        doc = session.get_one(Document, document_id)
        until = doc.retain_until
        if until is None or today <= until:
            record_event(
                session,
                actor=actor,
                action="document.delete_refused",
                client_id=doc.client_id,
                document_id=document_id,
                detail={"retain_until": until.isoformat() if until else None},
            )
            refused = until
        else:
            refused = None
            keys = [k for k in (doc.original_key, doc.searchable_key, doc.words_key) if k]
    if refused is not None or until is None:
        raise RetentionError(
            f"Dokument {document_id} ist bis {until:%d.%m.%Y} aufzubewahren."
            if until
            else f"Dokument {document_id} hat keine Aufbewahrungsfrist und wird nicht gelöscht."
        )
    for key in keys:
        ctx.store.delete(key, today=today)
    with ctx.catalog.session() as session:
        record_event(
            session,
            actor=actor,
            action="document.deleted",
            document_id=document_id,
            detail={"keys": keys},
        )
