"""Follow-ups queued at filing: payables with Skonto, reminders matched to their invoices
(domain brief §3), invoices arriving after their reminder, credit notes, and staff changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.followups.queue import (
    URGENT,
    FollowUpError,
    queue_followups,
    set_disputed,
)
from backoffice.models import (
    AuditEvent,
    Client,
    Correspondent,
    DocType,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
)
from tests.unit.followups.payables_world import (
    add_client,
    add_correspondent,
    doc_followups,
    file_document,
    followup_of,
)

INVOICE = {
    "invoice_number": "RE-2026-0815",
    "issue_date": "2026-11-02",
    "due_date": "2026-11-16",
    "gross_total": "1190.00",
    "seller_name": "Holzhandel Brandt GmbH",
    "is_credit_note": "false",
}


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    ctx = Context.from_settings(settings)
    with ctx.catalog.session() as s:
        yield s


@pytest.fixture
def client(session: Session) -> Client:
    return add_client(session, "KLEIN", "Schreinerei Klein GmbH")


@pytest.fixture
def brandt(session: Session, client: Client) -> Correspondent:
    return add_correspondent(
        session,
        client,
        "Holzhandel Brandt GmbH",
        vat_id="DE123456789",
        iban="DE02120300000000202051",
    )


def reminder(**fields: str) -> dict[str, str]:
    return {"issue_date": "2026-11-25", "dunning_stage": "2", **fields}


def test_payable_carries_due_date_amount_and_skonto(session: Session, client: Client) -> None:
    doc = file_document(
        session,
        client,
        DocType.INVOICE,
        {
            **INVOICE,
            "due_date": "",
            "payment_terms_days": "30",
            "skonto_percent": "2",
            "skonto_date": "2026-11-12",
        },
    )
    payable = followup_of(session, doc)
    assert payable.kind == FollowUpKind.PAYABLE
    assert payable.due_date == date(2026, 12, 2)  # issue date + 30 days
    assert payable.amount == Decimal("1190.00") and payable.outstanding == Decimal("1190.00")
    assert (payable.skonto_percent, payable.skonto_until) == (Decimal("2"), date(2026, 11, 12))
    assert payable.note == "Skonto 2 % bis 12.11.2026"


def test_skonto_days_count_from_the_issue_date(session: Session, client: Client) -> None:
    doc = file_document(
        session, client, DocType.INVOICE, {**INVOICE, "skonto_percent": "3", "skonto_days": "10"}
    )
    payable = followup_of(session, doc)
    assert (payable.skonto_percent, payable.skonto_until) == (Decimal("3"), date(2026, 11, 12))


def test_the_clients_own_invoice_is_a_receivable(session: Session, client: Client) -> None:
    doc = file_document(
        session, client, DocType.INVOICE, {**INVOICE, "seller_name": "Schreinerei Klein GmbH"}
    )
    assert followup_of(session, doc).kind == FollowUpKind.RECEIVABLE


def test_reminder_for_an_open_invoice_makes_it_urgent(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(
            referenced_invoice_numbers="RE 2026/0815",
            amount_outstanding="1190.00",
            fees="5.00",
            new_deadline="2026-12-05",
        ),
        correspondent=brandt,
    )
    payable = followup_of(session, invoice)
    (task,) = doc_followups(session, mahnung)  # a reminder is never a second payable
    assert task.kind == FollowUpKind.REMINDER and task.related_id == payable.id
    assert payable.priority == URGENT and task.priority == URGENT
    assert task.due_date == date(2026, 12, 5)
    assert "Rechnung offen – dringend zahlen" in (task.note or "")
    assert "weicht ab" not in (task.note or "")
    assert (
        len(session.scalars(select(FollowUp).where(FollowUp.kind == FollowUpKind.PAYABLE)).all())
        == 1
    )


def test_reminder_for_a_paid_invoice_asks_to_send_proof(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    payable = followup_of(session, invoice)
    payable.status = FollowUpStatus.DONE
    payable.paid_amount = Decimal("1190.00")
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(referenced_invoice_numbers="RE-2026-0815"),
        correspondent=brandt,
    )
    task = followup_of(session, mahnung)
    assert task.related_id == payable.id and payable.priority == 0
    assert "bezahlt – Zahlungsnachweis" in (task.note or "")


def test_reminder_without_invoice_asks_to_request_it(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(referenced_invoice_numbers="RE-2026-0999", amount_outstanding="80.00"),
        correspondent=brandt,
    )
    task = followup_of(session, mahnung)
    assert task.related_id is None
    assert "RE-2026-0999" in (task.note or "") and "anfordern" in (task.note or "")


def test_the_same_number_at_another_creditor_is_not_a_match(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    other = add_correspondent(
        session, client, "Stadtwerke Nordstadt", iban="DE89370400440532013000"
    )
    file_document(session, client, DocType.INVOICE, INVOICE, correspondent=other)
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(referenced_invoice_numbers="RE-2026-0815"),
        correspondent=brandt,
    )
    assert followup_of(session, mahnung).related_id is None


def test_creditor_found_by_iban_and_invoice_by_amount_and_date(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    file_document(
        session,
        client,
        DocType.INVOICE,
        {**INVOICE, "invoice_number": "RE-2026-0700", "issue_date": "2026-10-01"},
        correspondent=brandt,
    )
    # No number read, no correspondent assigned: the IBAN names the creditor, the principal
    # (total minus fees and interest) and the invoice date name the invoice.
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(
            amount_outstanding="1207.50",
            fees="5.00",
            interest="12.50",
            referenced_invoice_dates="2026-11-02",
            iban="DE02 1203 0000 0000 2020 51",
        ),
    )
    task = followup_of(session, mahnung)
    payable = followup_of(session, invoice)
    assert task.related_id == payable.id and payable.priority == URGENT


def test_amount_alone_from_an_unknown_sender_matches_nothing(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    mahnung = file_document(
        session, client, DocType.REMINDER, reminder(amount_outstanding="1190.00")
    )
    assert followup_of(session, mahnung).related_id is None


def test_amount_difference_is_pointed_out(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    followup_of(session, invoice).paid_amount = Decimal("190.00")
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(referenced_invoice_numbers="RE-2026-0815", amount_outstanding="1190.00"),
        correspondent=brandt,
    )
    note = followup_of(session, mahnung).note or ""
    assert "weicht ab (gemahnt 1190.00 €, offen 1000.00 €)" in note


def test_invoice_arriving_after_its_reminder_picks_it_up(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(referenced_invoice_numbers="RE-2026-0815"),
        correspondent=brandt,
    )
    task = followup_of(session, mahnung)
    assert task.related_id is None
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    payable = followup_of(session, invoice)
    assert task.related_id == payable.id and payable.priority == URGENT
    assert "Rechnung offen – dringend zahlen" in (task.note or "")


def test_filing_twice_changes_nothing(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    credit = file_document(
        session,
        client,
        DocType.INVOICE,
        {**INVOICE, "invoice_number": "GS-17", "gross_total": "-190.00", "is_credit_note": "true"},
        correspondent=brandt,
        text="Gutschrift GS-17 zu Rechnung RE-2026-0815",
    )
    mahnung = file_document(
        session,
        client,
        DocType.REMINDER,
        reminder(referenced_invoice_numbers="RE-2026-0815"),
        correspondent=brandt,
    )
    before = [
        (f.id, f.kind, f.status, f.amount, f.paid_amount, f.related_id, f.note)
        for f in session.scalars(select(FollowUp).order_by(FollowUp.id))
    ]
    for doc in (invoice, credit, mahnung):
        assert queue_followups(session, doc) == []
    after = [
        (f.id, f.kind, f.status, f.amount, f.paid_amount, f.related_id, f.note)
        for f in session.scalars(select(FollowUp).order_by(FollowUp.id))
    ]
    assert after == before


def test_incoming_credit_note_reduces_the_payable(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    credit = file_document(
        session,
        client,
        DocType.INVOICE,
        {
            **INVOICE,
            "invoice_number": "GS-17",
            "gross_total": "-190.00",
            "is_credit_note": "true",
            "issue_date": "2026-11-10",
        },
        correspondent=brandt,
        text="Gutschrift Nr. GS-17\nzu unserer Rechnung Nr. RE-2026-0815",
    )
    payable = followup_of(session, invoice)
    assert payable.status == FollowUpStatus.OPEN
    assert payable.paid_amount == Decimal("190.00") and payable.outstanding == Decimal("1000.00")
    record = followup_of(session, credit)
    assert record.kind == FollowUpKind.REVIEW and record.status == FollowUpStatus.DONE
    assert record.related_id == payable.id and record.settled_by == "credit_note"


def test_clients_credit_note_settles_the_receivable(session: Session, client: Client) -> None:
    own = {**INVOICE, "seller_name": "Schreinerei Klein GmbH", "invoice_number": "2026-117"}
    invoice = file_document(session, client, DocType.INVOICE, own)
    file_document(
        session,
        client,
        DocType.INVOICE,
        {
            **own,
            "invoice_number": "2026-130",
            "gross_total": "1190.00",
            "is_credit_note": "true",
            "referenced_invoice_numbers": "2026-117",
            "issue_date": "2026-11-20",
        },
    )
    receivable = followup_of(session, invoice)
    assert receivable.kind == FollowUpKind.RECEIVABLE
    assert receivable.status == FollowUpStatus.DONE and receivable.settled_by == "credit_note"
    assert receivable.paid_amount == Decimal("1190.00") and receivable.paid_on == date(2026, 11, 20)
    assert (
        session.scalars(select(FollowUp).where(FollowUp.kind == FollowUpKind.PAYABLE)).all() == []
    )


def test_credit_note_before_its_invoice_waits_for_it(
    session: Session, client: Client, brandt: Correspondent
) -> None:
    credit = file_document(
        session,
        client,
        DocType.INVOICE,
        {**INVOICE, "invoice_number": "GS-17", "gross_total": "-1190.00", "is_credit_note": "true"},
        correspondent=brandt,
        text="Gutschrift GS-17 zu Rechnung RE-2026-0815",
    )
    record = followup_of(session, credit)
    assert record.status == FollowUpStatus.OPEN and "keine passende Rechnung" in (record.note or "")
    invoice = file_document(session, client, DocType.INVOICE, INVOICE, correspondent=brandt)
    payable = followup_of(session, invoice)
    assert record.status == FollowUpStatus.DONE and record.related_id == payable.id
    assert payable.status == FollowUpStatus.DONE and payable.settled_by == "credit_note"


def test_dispute_flag_is_set_once_and_audited(session: Session, client: Client) -> None:
    own = {**INVOICE, "seller_name": "Schreinerei Klein GmbH"}
    receivable = followup_of(session, file_document(session, client, DocType.INVOICE, own))
    assert set_disputed(session, receivable, True, actor="cli") is True
    assert set_disputed(session, receivable, True, actor="cli") is False
    assert receivable.disputed
    assert set_disputed(session, receivable, False, actor="cli") is True
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("followup.%"))
    ).all()
    assert actions == ["followup.disputed", "followup.undisputed"]
    letter = file_document(session, client, DocType.LETTER, {"deadline": "2026-12-01"})
    with pytest.raises(FollowUpError):
        set_disputed(session, followup_of(session, letter), True, actor="cli")
