"""Staff assign a payment the machine left unmatched to open items by hand, or set it aside.

Transactions come from a real statement import (so they are exactly what staff see on the
``/bank`` page); the remittance texts quote no invoice number, so nothing is matched
automatically.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.followups.reconcile import (
    PaymentError,
    assign_payment,
    ignore_payment,
    import_statement,
    unmatched_transactions,
)
from backoffice.models import (
    AuditEvent,
    BankTransaction,
    FollowUpKind,
    FollowUpStatus,
    PaymentMatch,
)
from backoffice.samples.camt import EntrySpec, make_camt053
from tests.unit.followups.bank_world import ACCOUNT, CUSTOMER_IBAN, Ledger, build_ledger

D = Decimal
TOLERANCE = D("0.01")


@pytest.fixture
def ledger(settings: Settings) -> Ledger:
    return build_ledger(settings)


def booked(ledger: Ledger, amount: str, text: str = "Sammelüberweisung", day: int = 12) -> int:
    """Import one payment (signed amount) that quotes no invoice; returns its transaction id."""
    entry = EntrySpec(date(2025, 3, day), D(amount), "Irgendwer", None, text)
    data = make_camt053(ACCOUNT, [entry], statement_id=f"S-{amount}-{text}-{day}")
    result = import_statement(ledger.ctx, ledger.code, data, actor="test")
    (outcome,) = result.outcomes
    assert outcome.status == "unmatched"
    return outcome.transaction_id


def status_of(ledger: Ledger, transaction_id: int) -> str:
    with ledger.ctx.catalog.session() as s:
        return s.get_one(BankTransaction, transaction_id).status


def matches(ledger: Ledger, transaction_id: int) -> list[tuple[int, Decimal, str, str]]:
    with ledger.ctx.catalog.session() as s:
        rows = s.scalars(
            select(PaymentMatch)
            .where(PaymentMatch.transaction_id == transaction_id)
            .order_by(PaymentMatch.id)
        )
        return [(m.followup_id, m.amount, m.kind, m.reason) for m in rows]


def events(ledger: Ledger, action: str) -> list[AuditEvent]:
    with ledger.ctx.catalog.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_assign_to_one_item_settles_it(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-1001", "119.00")
    tx = booked(ledger, "-119.00")
    with ledger.ctx.catalog.session() as s:
        decision = assign_payment(s, tx, [fid], actor="user:sabine", tolerance=TOLERANCE)
    assert decision.status == "matched"
    paid = ledger.followup(fid)
    assert (paid.status, paid.paid_amount, paid.paid_on, paid.settled_by) == (
        FollowUpStatus.DONE,
        D("119.00"),
        date(2025, 3, 12),
        "staff",
    )
    assert status_of(ledger, tx) == "matched"
    assert matches(ledger, tx) == [(fid, D("119.00"), "full", "von Hand zugeordnet")]
    (event,) = events(ledger, "bank.assigned")
    assert event.actor == "user:sabine" and event.client_id == ledger.client_id
    assert event.detail["transaction_id"] == tx and event.detail["settled"] == [fid]
    with ledger.ctx.catalog.session() as s:
        assert unmatched_transactions(s, [ledger.client_id]) == []
        # Assigned once: the same form sent again is refused, nothing is paid twice.
        with pytest.raises(PaymentError, match="schon bearbeitet"):
            assign_payment(s, tx, [fid], actor="user:sabine", tolerance=TOLERANCE)


def test_assign_to_two_items_settles_both(ledger: Ledger) -> None:
    first = ledger.invoice("RE-2001", "100.00")
    second = ledger.invoice("RE-2002", "50.00")
    tx = booked(ledger, "-150.00")
    with ledger.ctx.catalog.session() as s:
        assign_payment(s, tx, [first, second], actor="sabine", tolerance=TOLERANCE)
    assert [(m[0], m[1], m[2]) for m in matches(ledger, tx)] == [
        (first, D("100.00"), "full"),
        (second, D("50.00"), "full"),
    ]
    assert all(
        ledger.followup(f).status == FollowUpStatus.DONE
        and ledger.followup(f).settled_by == "staff"
        for f in (first, second)
    )
    assert status_of(ledger, tx) == "matched"


def test_assign_less_than_outstanding_is_a_partial_payment(ledger: Ledger) -> None:
    first = ledger.invoice("RE-3001", "100.00")
    second = ledger.invoice("RE-3002", "80.00")
    tx = booked(ledger, "-130.00")
    with ledger.ctx.catalog.session() as s:
        decision = assign_payment(s, tx, [first, second], actor="sabine", tolerance=TOLERANCE)
    assert decision.status == "partial"
    assert status_of(ledger, tx) == "partial"
    assert ledger.followup(first).status == FollowUpStatus.DONE
    rest = ledger.followup(second)
    assert (rest.status, rest.outstanding, rest.paid_on, rest.settled_by) == (
        FollowUpStatus.OPEN,
        D("50.00"),
        None,
        None,
    )
    assert matches(ledger, tx)[1] == (
        second,
        D("30.00"),
        "partial",
        "von Hand zugeordnet, Teilzahlung (offen 50,00 €)",
    )


def test_wrong_direction_is_refused(ledger: Ledger) -> None:
    receivable = ledger.invoice(
        "AR-4001",
        "200.00",
        sender="Kunde Schmidt",
        iban=CUSTOMER_IBAN,
        kind=FollowUpKind.RECEIVABLE,
    )
    payable = ledger.invoice("RE-4002", "200.00")
    money_out = booked(ledger, "-200.00")
    money_in = booked(ledger, "200.00")
    with ledger.ctx.catalog.session() as s:
        with pytest.raises(PaymentError, match=r"Zahlungsrichtung.*Abbuchung.*Eingangsrechnungen"):
            assign_payment(s, money_out, [receivable], actor="sabine", tolerance=TOLERANCE)
        with pytest.raises(PaymentError, match=r"Zahlungseingang.*Ausgangsrechnungen"):
            assign_payment(s, money_in, [payable], actor="sabine", tolerance=TOLERANCE)
        # The right direction works: money in settles the receivable.
        assign_payment(s, money_in, [receivable], actor="sabine", tolerance=TOLERANCE)
    assert ledger.followup(receivable).status == FollowUpStatus.DONE
    assert ledger.followup(payable).status == FollowUpStatus.OPEN
    assert status_of(ledger, money_out) == "unmatched"


def test_another_clients_item_is_refused(ledger: Ledger) -> None:
    foreign = build_ledger(ledger.ctx.settings, code="FREMD")
    theirs = foreign.invoice("RE-5001", "10.00")
    tx = booked(ledger, "-10.00")
    with ledger.ctx.catalog.session() as s:
        with pytest.raises(PaymentError, match="anderen Mandanten"):
            assign_payment(s, tx, [theirs], actor="sabine", tolerance=TOLERANCE)
        # Scoped to the other client, the transaction itself is not found.
        with pytest.raises(PaymentError, match="nicht gefunden"):
            assign_payment(
                s, tx, [theirs], actor="x", tolerance=TOLERANCE, client_ids=[foreign.client_id]
            )
    assert foreign.followup(theirs).status == FollowUpStatus.OPEN
    assert status_of(ledger, tx) == "unmatched"
    assert matches(ledger, tx) == [] and events(ledger, "bank.assigned") == []


def test_more_than_outstanding_is_refused(ledger: Ledger) -> None:
    first = ledger.invoice("RE-6001", "100.00")
    second = ledger.invoice("RE-6002", "20.00")
    tx = booked(ledger, "-150.00")
    small = booked(ledger, "-90.00", text="Abschlag")
    with ledger.ctx.catalog.session() as s:
        with pytest.raises(PaymentError, match="höher als der offene Betrag"):
            assign_payment(s, tx, [first, second], actor="sabine", tolerance=TOLERANCE)
        # Too little to reach the second item: the choice of items is wrong.
        with pytest.raises(PaymentError, match="reicht nicht bis Posten"):
            assign_payment(s, small, [first, second], actor="sabine", tolerance=TOLERANCE)
        with pytest.raises(PaymentError, match="mindestens einen"):
            assign_payment(s, small, [], actor="sabine", tolerance=TOLERANCE)
    assert ledger.followup(first).outstanding == D("100.00")
    assert ledger.followup(second).outstanding == D("20.00")
    assert status_of(ledger, tx) == status_of(ledger, small) == "unmatched"


def test_ignore_sets_a_payment_aside(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-7001", "4.90")
    fee = booked(ledger, "-4.90", text="Kontoführungsgebühr")
    with ledger.ctx.catalog.session() as s:
        ignore_payment(s, fee, actor="user:sabine", reason="  Bankgebühr März ")
        assert unmatched_transactions(s, [ledger.client_id]) == []
        with pytest.raises(PaymentError, match="schon bearbeitet"):
            assign_payment(s, fee, [fid], actor="user:sabine", tolerance=TOLERANCE)
        with pytest.raises(PaymentError, match="nicht gefunden"):
            ignore_payment(s, 999_999, actor="user:sabine")
    assert status_of(ledger, fee) == "ignored"
    assert ledger.followup(fid).status == FollowUpStatus.OPEN
    (event,) = events(ledger, "bank.ignored")
    assert event.detail == {"transaction_id": fee, "amount": "-4.90", "reason": "Bankgebühr März"}
