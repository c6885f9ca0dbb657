"""Queueing follow-ups when a document has been filed.

Filing is half the job; the other half is acting on what arrived:

* an incoming invoice becomes a **payable** with its due date (explicit, or issue date plus the
  payment terms) and amount; the client's own outgoing invoice becomes a **receivable** that the
  dunning run watches;
* an incoming **reminder** (Mahnung) is linked to the payable of the invoice it refers to and
  escalates it; when that invoice never arrived, the follow-up says to request it. A reminder is
  never a second payable;
* a **letter** that sets a deadline becomes a reply task.

Each (document, kind) pair is unique in the catalog, so re-running the stage changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.archive.correspondents import normalise_name
from backoffice.models import (
    Client,
    DocType,
    Document,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
)

URGENT = 2
DEFAULT_TERMS_DAYS = 14
"""Assumed payment period when an invoice states none (a common German default)."""


@dataclass(frozen=True)
class Queued:
    kind: FollowUpKind
    due_date: date | None
    amount: Decimal | None
    note: str | None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _amount(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def normalise_reference(number: str) -> str:
    """Invoice numbers as compared across documents (case, spaces and separators ignored)."""
    return "".join(ch for ch in number.upper() if ch.isalnum())


def _issued_by_client(doc: Document, client: Client) -> bool:
    seller = doc.field("seller_name")
    if not seller:
        return False
    names = [client.name, *client.aliases]
    return (
        max(fuzz.token_sort_ratio(normalise_name(seller), normalise_name(n)) for n in names) >= 90
    )


def queue_followups(session: Session, doc: Document) -> list[FollowUp]:
    """Create the follow-ups a filed document calls for (none twice)."""
    if doc.client_id is None:
        return []
    client = session.get_one(Client, doc.client_id)
    existing = {
        f.kind: f for f in session.scalars(select(FollowUp).where(FollowUp.document_id == doc.id))
    }
    wanted = _plan(session, doc, client)
    created = []
    for kind, kwargs in wanted:
        if kind in existing:
            continue
        followup = FollowUp(client_id=doc.client_id, document_id=doc.id, kind=kind, **kwargs)
        session.add(followup)
        created.append(followup)
    session.flush()
    return created


def _plan(
    session: Session, doc: Document, client: Client
) -> list[tuple[FollowUpKind, dict[str, Any]]]:
    if doc.doc_type == DocType.INVOICE:
        return _plan_invoice(doc, client)
    if doc.doc_type == DocType.REMINDER:
        return [_plan_reminder(session, doc)]
    if doc.doc_type == DocType.LETTER and doc.field("deadline"):
        return [
            (
                FollowUpKind.REPLY,
                {
                    "due_date": _date(doc.field("deadline")),
                    "note": (doc.field("summary") or doc.field("subject") or "Antwort nötig")[:500],
                },
            )
        ]
    return []


def _plan_invoice(doc: Document, client: Client) -> list[tuple[FollowUpKind, dict[str, Any]]]:
    if doc.field("is_credit_note") == "true":
        return []
    issue = _date(doc.field("issue_date"))
    due = _date(doc.field("due_date"))
    if due is None and issue is not None:
        terms = doc.field("payment_terms_days")
        days = int(terms) if terms and terms.isdigit() else DEFAULT_TERMS_DAYS
        due = issue + timedelta(days=days)
    note = None
    if doc.field("skonto_percent"):
        note = f"Skonto {doc.field('skonto_percent')} % bis {doc.field('skonto_date') or '?'}"
    kind = FollowUpKind.RECEIVABLE if _issued_by_client(doc, client) else FollowUpKind.PAYABLE
    return [
        (
            kind,
            {
                "due_date": due,
                "amount": _amount(doc.field("gross_total")),
                "reference": doc.field("invoice_number"),
                "note": note,
            },
        )
    ]


def _plan_reminder(session: Session, doc: Document) -> tuple[FollowUpKind, dict[str, Any]]:
    refs = [r.strip() for r in (doc.field("referenced_invoice_numbers") or "").split(",") if r]
    wanted = {normalise_reference(r) for r in refs}
    payable = None
    if wanted:
        for candidate in session.scalars(
            select(FollowUp).where(
                FollowUp.client_id == doc.client_id, FollowUp.kind == FollowUpKind.PAYABLE
            )
        ):
            if candidate.reference and normalise_reference(candidate.reference) in wanted:
                payable = candidate
                break
    stage = doc.field("dunning_stage") or "?"
    if payable is None:
        note = (
            f"Mahnung (Stufe {stage}) zu Rechnung {', '.join(refs) or 'unbekannt'}: "
            "Rechnung liegt nicht vor – beim Absender anfordern."
        )
    elif payable.status == FollowUpStatus.DONE:
        note = f"Mahnung (Stufe {stage}): Rechnung ist bezahlt – Zahlungsnachweis senden."
    else:
        payable.priority = URGENT
        note = f"Mahnung (Stufe {stage}): Rechnung offen – dringend zahlen."
    return (
        FollowUpKind.REMINDER,
        {
            "due_date": _date(doc.field("new_deadline")),
            "amount": _amount(doc.field("amount_outstanding")),
            "reference": ", ".join(refs)[:100] or None,
            "related_id": payable.id if payable else None,
            "priority": URGENT,
            "note": note[:500],
        },
    )
