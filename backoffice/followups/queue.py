"""Queueing follow-ups when a document has been filed, and the dispute flag staff set on them.

Filing is half the job; the other half is acting on what arrived:

* an incoming invoice becomes a **payable** with its due date (explicit, or issue date plus the
  payment terms), amount and Skonto terms; the client's own outgoing invoice becomes a
  **receivable** that the dunning run watches;
* an incoming **reminder** (Mahnung) is matched to the invoice it refers to (domain brief §3):
  first the creditor (same correspondent, else USt-IdNr, IBAN, normalised name), then the
  normalised invoice number against that creditor's payables, paid ones included, else the
  principal (without fees and interest) plus the invoice date. Open → the payable becomes
  urgent; already paid → a task to send proof; never received → a task to request it. A
  reminder is never a second payable. An invoice that arrives after its reminder picks the
  waiting reminder up;
* a **credit note** (Gutschrift) reduces or settles the invoice it refers to: the client's own
  credit note its receivable, a creditor's credit note the client's payable. It is recorded as
  a ``review`` follow-up linked to that item (``related_id``) — done when applied, open (staff
  look at it) while its invoice is unknown — so the credit is applied exactly once;
* a **letter** that sets a deadline becomes a reply task.

Each (document, kind) pair is unique in the catalog and every side effect happens only together
with creating its follow-up, so re-running the stage changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.archive.audit import record_event
from backoffice.archive.correspondents import NAME_MATCH, is_client_itself, normalise_name
from backoffice.models import (
    Client,
    Correspondent,
    DocType,
    Document,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
)

URGENT = 2
DEFAULT_TERMS_DAYS = 14
"""Assumed payment period when an invoice states none (a common German default)."""
SETTLED_BY_CREDIT_NOTE = "credit_note"
CREDIT_NOTE_KIND = FollowUpKind.REVIEW
"""A credit note's own follow-up: open while staff must find its invoice, done once applied."""


class FollowUpError(ValueError):
    """A change a person asked for that does not fit the follow-up (shown to them as is)."""


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
        amount = Decimal(value) if value else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def _dates(value: str | None) -> set[date]:
    return {d for d in (_date(v.strip()) for v in (value or "").split(",")) if d is not None}


def normalise_reference(number: str) -> str:
    """Invoice numbers as compared across documents (case, spaces and separators ignored)."""
    return "".join(ch for ch in number.upper() if ch.isalnum())


def _references(value: str | None) -> list[str]:
    return [r.strip() for r in (value or "").split(",") if r.strip()]


def _issued_by_client(doc: Document, client: Client) -> bool:
    return is_client_itself(doc.field("seller_name"), [client.name, *client.aliases])


def _is_credit_note(doc: Document) -> bool:
    return doc.doc_type == DocType.INVOICE and doc.field("is_credit_note") == "true"


REDETERMINED_NOTE = "Dokument getrennt – neu erkannt"
"""Note of a follow-up cancelled because its document was split: filing the first part again
reopens that row with the part's values (one row per document and kind)."""


def queue_followups(session: Session, doc: Document) -> list[FollowUp]:
    """Create the follow-ups a filed document calls for (none twice)."""
    if doc.client_id is None:
        return []
    client = session.get_one(Client, doc.client_id)
    existing = {
        f.kind: f for f in session.scalars(select(FollowUp).where(FollowUp.document_id == doc.id))
    }

    if _is_credit_note(doc):
        if existing:
            return []
        return [_queue_credit_note(session, doc, client)]
    wanted = _plan(session, doc, client)
    created = []
    for kind, kwargs in wanted:
        old = existing.get(kind)
        if old is not None and _redetermined(old):
            # the same row again (links to it stay valid), with what the part says now
            for name, value in {"priority": 0, **kwargs, "status": FollowUpStatus.OPEN}.items():
                setattr(old, name, value)
            created.append(old)
            continue
        if old is not None:
            continue
        followup = FollowUp(client_id=doc.client_id, document_id=doc.id, kind=kind, **kwargs)
        session.add(followup)
        created.append(followup)
    session.flush()
    for followup in created:
        if followup.kind == FollowUpKind.PAYABLE:
            _adopt_reminders(session, followup, doc)
        if followup.kind in (FollowUpKind.PAYABLE, FollowUpKind.RECEIVABLE):
            _adopt_credit_notes(session, followup)
    session.flush()
    return created


def _redetermined(followup: FollowUp) -> bool:
    return followup.status == FollowUpStatus.CANCELLED and REDETERMINED_NOTE in (
        followup.note or ""
    )


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


# --- invoices ------------------------------------------------------------------------------------


def skonto_terms(doc: Document) -> tuple[Decimal | None, date | None]:
    """Skonto percent and last day, from ``skonto_date`` or issue date plus ``skonto_days``."""
    percent = _amount(doc.field("skonto_percent"))
    if percent is None or not Decimal(0) < percent < Decimal(100):
        return None, None
    until = _date(doc.field("skonto_date"))
    days = doc.field("skonto_days")
    issue = _date(doc.field("issue_date"))
    if until is None and days and days.isdigit() and issue is not None:
        until = issue + timedelta(days=int(days))
    return percent, until


def _plan_invoice(doc: Document, client: Client) -> list[tuple[FollowUpKind, dict[str, Any]]]:
    issue = _date(doc.field("issue_date"))
    due = _date(doc.field("due_date"))
    if due is None and issue is not None:
        terms = doc.field("payment_terms_days")
        days = int(terms) if terms and terms.isdigit() else DEFAULT_TERMS_DAYS
        due = issue + timedelta(days=days)
    percent, until = skonto_terms(doc)
    note = None
    if percent is not None:
        note = (
            f"Skonto {percent.normalize():f} % bis {until.strftime('%d.%m.%Y') if until else '?'}"
        )
    kind = FollowUpKind.RECEIVABLE if _issued_by_client(doc, client) else FollowUpKind.PAYABLE
    return [
        (
            kind,
            {
                "due_date": due,
                "amount": _amount(doc.field("gross_total")),
                "reference": (doc.field("invoice_number") or "")[:100] or None,
                "note": note,
                "skonto_percent": percent,
                "skonto_until": until,
            },
        )
    ]


# --- reminders -----------------------------------------------------------------------------------


def _creditor_ids(session: Session, doc: Document) -> set[int] | None:
    """The client's correspondents that are the sender of ``doc`` (``None``: cannot tell).

    The filing stage already matched the sender to a correspondent where it could; a reminder
    often names no seller, so its USt-IdNr, IBAN and name are compared again here.
    """
    assert doc.client_id is not None
    ids = {doc.correspondent_id} if doc.correspondent_id is not None else set()
    vat_id = (doc.field("seller_vat_id") or "").replace(" ", "").upper()
    iban = (doc.field("iban") or "").replace(" ", "").upper()
    name = doc.field("seller_name") or doc.field("sender_name")
    if not (vat_id or iban or name):
        return ids or None
    wanted = normalise_name(name) if name else ""
    for corr in session.scalars(
        select(Correspondent).where(Correspondent.client_id == doc.client_id)
    ):
        if (
            (vat_id and (corr.vat_id or "").replace(" ", "").upper() == vat_id)
            or (iban and (corr.iban or "").replace(" ", "").upper() == iban)
            or (wanted and fuzz.token_sort_ratio(wanted, normalise_name(corr.name)) >= NAME_MATCH)
        ):
            ids.add(corr.id)
    return ids


def _payables_of(session: Session, client_id: int, creditors: set[int] | None) -> list[FollowUp]:
    """The client's payables (open and paid, newest first), of ``creditors`` when known."""
    stmt = (
        select(FollowUp)
        .join(Document, Document.id == FollowUp.document_id)
        .where(
            FollowUp.client_id == client_id,
            FollowUp.kind == FollowUpKind.PAYABLE,
            FollowUp.status != FollowUpStatus.CANCELLED,
        )
        .order_by(FollowUp.id.desc())
    )
    if creditors:
        stmt = stmt.where(Document.correspondent_id.in_(sorted(creditors)))
    return list(session.scalars(stmt))


def _principal_candidates(doc: Document) -> set[Decimal]:
    """What the reminder says is owed for the invoice itself (fees and interest taken off)."""
    outstanding = _amount(doc.field("amount_outstanding"))
    if outstanding is None:
        return set()
    extra = sum(
        (a for a in (_amount(doc.field("fees")), _amount(doc.field("interest"))) if a), Decimal(0)
    )
    return {outstanding, outstanding - extra} - {Decimal(0)}


def _invoice_date(followup: FollowUp) -> date | None:
    return _date(followup.document.field("issue_date")) or followup.document.doc_date


def _amount_fits(payable: FollowUp, principals: set[Decimal]) -> bool:
    return payable.amount is not None and (
        payable.amount in principals or payable.outstanding in principals
    )


def match_reminder(session: Session, doc: Document) -> tuple[FollowUp | None, str | None]:
    """The payable a reminder refers to and how it was found (``number`` or ``amount``)."""
    assert doc.client_id is not None
    creditors = _creditor_ids(session, doc)
    payables = _payables_of(session, doc.client_id, creditors)
    wanted = {normalise_reference(r) for r in _references(doc.field("referenced_invoice_numbers"))}
    wanted.discard("")
    by_number = [p for p in payables if p.reference and normalise_reference(p.reference) in wanted]
    if by_number:
        by_number.sort(key=lambda p: p.status != FollowUpStatus.OPEN)
        return by_number[0], "number"
    principals = _principal_candidates(doc)
    if not principals:
        return None, None
    dates = _dates(doc.field("referenced_invoice_dates"))
    by_amount = [p for p in payables if _amount_fits(p, principals)]
    if dates:
        by_amount = [p for p in by_amount if _invoice_date(p) in dates]
    elif not creditors:
        return None, None  # an amount alone, from an unknown sender, is no evidence
    if len(by_amount) == 1:
        return by_amount[0], "amount"
    return None, None


def reminder_note(
    stage: str, refs: list[str], payable: FollowUp | None, principal: set[Decimal]
) -> str:
    """What the client or staff must do about a reminder, given the payable it refers to."""
    if payable is None:
        return (
            f"Mahnung (Stufe {stage}) zu Rechnung {', '.join(refs) or 'unbekannt'}: "
            "Rechnung liegt nicht vor – beim Absender anfordern."
        )
    number = payable.reference or "ohne Nummer"
    if payable.status == FollowUpStatus.DONE:
        return (
            f"Mahnung (Stufe {stage}) zu Rechnung {number}: Rechnung ist bezahlt – "
            "Zahlungsnachweis an den Absender senden."
        )
    note = f"Mahnung (Stufe {stage}) zu Rechnung {number}: Rechnung offen – dringend zahlen."
    if principal and payable.outstanding is not None and payable.outstanding not in principal:
        claimed = max(principal)
        note += (
            f" Betrag weicht ab (gemahnt {claimed:.2f} €, offen {payable.outstanding:.2f} €) – "
            "Teilzahlungen und Gutschriften prüfen."
        )
    return note


def _plan_reminder(session: Session, doc: Document) -> tuple[FollowUpKind, dict[str, Any]]:
    refs = _references(doc.field("referenced_invoice_numbers"))
    payable, _how = match_reminder(session, doc)
    if payable is not None and payable.status == FollowUpStatus.OPEN:
        payable.priority = URGENT
    note = reminder_note(
        doc.field("dunning_stage") or "?", refs, payable, _principal_candidates(doc)
    )
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


def _adopt_reminders(session: Session, payable: FollowUp, doc: Document) -> None:
    """Link reminders that came before this invoice to its new payable (and make it urgent)."""
    number = normalise_reference(payable.reference or "")
    creditors = _creditor_ids(session, doc)
    waiting = session.scalars(
        select(FollowUp).where(
            FollowUp.client_id == payable.client_id,
            FollowUp.kind == FollowUpKind.REMINDER,
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.related_id.is_(None),
        )
    )
    for reminder in waiting:
        rdoc = reminder.document
        theirs = _creditor_ids(session, rdoc)
        if creditors and theirs and not creditors & theirs:
            continue  # another creditor's reminder
        refs = {
            normalise_reference(r) for r in _references(rdoc.field("referenced_invoice_numbers"))
        }
        if number and number in refs:
            pass
        elif refs or not (creditors and theirs):
            continue
        else:
            principals = _principal_candidates(rdoc)
            dates = _dates(rdoc.field("referenced_invoice_dates"))
            if not _amount_fits(payable, principals) or (
                dates and _date(doc.field("issue_date")) not in dates
            ):
                continue
        reminder.related_id = payable.id
        payable.priority = URGENT
        stage = rdoc.field("dunning_stage") or "?"
        reminder.note = reminder_note(
            stage,
            _references(rdoc.field("referenced_invoice_numbers")),
            payable,
            _principal_candidates(rdoc),
        )[:500]


# --- credit notes --------------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]")


def _credit_target_kind(doc: Document, client: Client) -> FollowUpKind:
    return FollowUpKind.RECEIVABLE if _issued_by_client(doc, client) else FollowUpKind.PAYABLE


def _mentioned_numbers(doc: Document) -> set[str]:
    """Normalised invoice numbers a credit note refers to: a referenced-number field if staff
    (or an e-invoice) gave one, else every number-like word of its text."""
    own = normalise_reference(doc.field("invoice_number") or "")
    refs = {normalise_reference(r) for r in _references(doc.field("referenced_invoice_numbers"))}
    if not refs:
        refs = {normalise_reference(t) for t in _TOKEN.findall(doc.text or "")}
        refs = {r for r in refs if len(r) >= 3 and any(ch.isdigit() for ch in r)}
    return refs - {own, ""}


def _credit_amount(doc: Document) -> Decimal | None:
    amount = _amount(doc.field("gross_total"))
    return abs(amount) if amount else None


def _queue_credit_note(session: Session, doc: Document, client: Client) -> FollowUp:
    kind = _credit_target_kind(doc, client)
    numbers = _mentioned_numbers(doc)
    stmt = select(FollowUp).where(
        FollowUp.client_id == client.id,
        FollowUp.kind == kind,
        FollowUp.status != FollowUpStatus.CANCELLED,
    )
    if kind == FollowUpKind.PAYABLE:
        creditors = _creditor_ids(session, doc)
        if creditors:
            stmt = stmt.join(Document, Document.id == FollowUp.document_id).where(
                Document.correspondent_id.in_(sorted(creditors))
            )
    matches = [
        f
        for f in session.scalars(stmt.order_by(FollowUp.id.desc()))
        if f.reference and normalise_reference(f.reference) in numbers
    ]
    matches.sort(key=lambda f: f.status != FollowUpStatus.OPEN)
    credit = _credit_amount(doc)
    record = FollowUp(
        client_id=client.id,
        document_id=doc.id,
        kind=CREDIT_NOTE_KIND,
        amount=-credit if credit is not None else None,
        reference=(doc.field("invoice_number") or "")[:100] or None,
    )
    session.add(record)
    session.flush()
    if matches and credit is not None:
        _apply_credit(record, matches[0], credit, _date(doc.field("issue_date")) or doc.doc_date)
    else:
        record.note = (
            f"Gutschrift über {credit or 0:.2f} €: keine passende Rechnung gefunden – "
            "Rechnung zuordnen."
        )
    return record


def _apply_credit(record: FollowUp, target: FollowUp, credit: Decimal, on: date | None) -> None:
    target.paid_amount = (target.paid_amount or Decimal(0)) + credit
    record.related_id = target.id
    record.status = FollowUpStatus.DONE
    record.settled_by = SETTLED_BY_CREDIT_NOTE
    record.paid_on = on
    label = "Forderung" if target.kind == FollowUpKind.RECEIVABLE else "Rechnung"
    record.note = f"Gutschrift über {credit:.2f} € auf {label} {target.reference or ''}".strip()
    if target.status == FollowUpStatus.DONE:
        record.note += " (bereits bezahlt – Erstattung anfordern)"
    elif target.outstanding is not None and target.outstanding <= 0:
        target.status = FollowUpStatus.DONE
        target.settled_by = SETTLED_BY_CREDIT_NOTE
        target.paid_on = on or date.today()


def _adopt_credit_notes(session: Session, target: FollowUp) -> None:
    """Apply credit notes filed before the invoice they refer to."""
    number = normalise_reference(target.reference or "")
    if not number:
        return
    waiting = session.scalars(
        select(FollowUp).where(
            FollowUp.client_id == target.client_id,
            FollowUp.kind == CREDIT_NOTE_KIND,
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.related_id.is_(None),
        )
    )
    for record in waiting:
        doc = record.document
        if not _is_credit_note(doc) or number not in _mentioned_numbers(doc):
            continue
        client = session.get_one(Client, target.client_id)
        credit = _credit_amount(doc)
        if _credit_target_kind(doc, client) == target.kind and credit is not None:
            _apply_credit(record, target, credit, _date(doc.field("issue_date")) or doc.doc_date)


# --- changes staff make (payments by hand: ``backoffice.followups.reconcile.mark_paid``) ---------

PAYABLE_KINDS = (FollowUpKind.PAYABLE, FollowUpKind.RECEIVABLE)


def set_disputed(session: Session, followup: FollowUp, disputed: bool, *, actor: str) -> bool:
    """Set or clear the staff flag that keeps an item out of dunning; ``True`` if it changed."""
    if followup.kind not in PAYABLE_KINDS:
        raise FollowUpError("Nur Rechnungen (Zahlungen, Forderungen) können strittig sein.")
    if followup.disputed == disputed:
        return False
    followup.disputed = disputed
    record_event(
        session,
        actor=actor,
        action="followup.disputed" if disputed else "followup.undisputed",
        client_id=followup.client_id,
        document_id=followup.document_id,
        detail={"followup": followup.id, "kind": followup.kind.value},
    )
    session.flush()
    return True
