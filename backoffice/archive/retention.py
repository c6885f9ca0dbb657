"""Legal retention periods of archived originals (GoBD, §147 AO / §257 HGB after BEG IV).

Invoices and other Buchungsbelege are kept 8 years, Handels- und Geschäftsbriefe (letters,
reminders, most other post) 6 years, books and annual accounts 10 years; each period runs to
the end of the calendar year, counted from the end of the year the document is dated in. The
office service's accountant may lengthen any of them (an open tax assessment, an audit); the
periods are therefore data, not code paths.
"""

from __future__ import annotations

from datetime import date

from backoffice.archive.audit import record_event
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
