"""Legal retention periods of archived originals (GoBD, §147 AO / §257 HGB after BEG IV).

Invoices and other Buchungsbelege are kept 8 years, Handels- und Geschäftsbriefe (letters,
reminders, most other post) 6 years, books and annual accounts 10 years; each period runs to
the end of the calendar year, counted from the end of the year the document is dated in. The
office service's accountant may lengthen any of them (an open tax assessment, an audit); the
periods are therefore data, not code paths.
"""

from __future__ import annotations

from datetime import date

from backoffice.models import DocType

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
