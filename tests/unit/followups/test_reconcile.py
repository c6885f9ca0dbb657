"""Reconciling bank statements with open items: the pure rules and the catalog import."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.config import Settings
from backoffice.followups.reconcile import (
    OpenItem,
    Payment,
    PaymentError,
    decide,
    import_statement,
    mark_paid,
    references_in,
    unmatched_transactions,
)
from backoffice.models import (
    AuditEvent,
    BankTransaction,
    FollowUpKind,
    FollowUpStatus,
    PaymentMatch,
)
from backoffice.samples.camt import BatchSpec, EntrySpec, make_camt053
from tests.unit.followups.bank_world import (
    ACCOUNT,
    CUSTOMER_IBAN,
    OTHER_SUPPLIER_IBAN,
    SUPPLIER_IBAN,
    Ledger,
    build_ledger,
)

D = Decimal

# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("text", "reference", "found"),
    [
        ("Rechnung RE-1001 vom 01.03.", "RE-1001", True),
        ("rg re 1001", "RE-1001", True),
        ("RE1001", "re-1001", True),
        ("Rechnungen RE-1001, RE-1002", "RE-1002", True),
        ("RE-1001/RE-1002", "RE-1001", True),
        ("RE-10011", "RE-1001", False),
        ("XRE-1001", "RE-1001", False),
        ("Beleg 2024-0042", "0042", False),
        ("Zahlung vom 12.03.2025", "12", False),
        ("Zahlung vom 12.03.2025", "2025", False),
        ("Kundennr. 4711 Rg 2025 17", "2025-17", True),
        ("", "RE-1", False),
    ],
)
def test_reference_in_text(text: str, reference: str, found: bool) -> None:
    assert references_in(text, reference) is found


def item(
    id: int, ref: str | None, outstanding: str, iban: str | None = None, **kw: object
) -> OpenItem:
    return OpenItem(id, ref, D(outstanding), iban, **kw)  # type: ignore[arg-type]


def pay(
    amount: str, text: str = "", iban: str | None = None, on: date = date(2025, 3, 10)
) -> Payment:
    return Payment(D(amount), on, iban, text)


def test_decide_full_partial_and_overpaid() -> None:
    items = [item(1, "RE-1001", "119.00"), item(2, "RE-1002", "50.00")]
    full = decide(pay("119.00", "RE-1001"), items)
    assert full.status == "matched"
    assert [(a.item_id, a.kind, a.settles) for a in full.allocations] == [(1, "full", True)]
    part = decide(pay("100.00", "RE 1001"), items)
    assert part.status == "partial"
    assert [(a.item_id, a.amount, a.kind, a.settles) for a in part.allocations] == [
        (1, D("100.00"), "partial", False)
    ]
    over = decide(pay("150.00", "RE-1001"), items)
    assert over.status == "unmatched" and "höher" in over.note
    # The tolerance absorbs a cent of rounding, not more.
    assert decide(pay("118.99", "RE-1001"), items).status == "matched"
    assert decide(pay("118.98", "RE-1001"), items).status == "partial"


def test_decide_skonto_only_in_time() -> None:
    items = [item(1, "RE-7", "1000.00", skonto_percent=D("2"), skonto_until=date(2025, 3, 10))]
    in_time = decide(pay("980.00", "RE-7", on=date(2025, 3, 10)), items)
    assert [(a.kind, a.settles) for a in in_time.allocations] == [("skonto", True)]
    late = decide(pay("980.00", "RE-7", on=date(2025, 3, 11)), items)
    assert late.status == "partial"


def test_decide_several_invoices_in_one_payment() -> None:
    items = [item(1, "RE-1", "100.00"), item(2, "RE-2", "50.00"), item(3, "RE-3", "10.00")]
    both = decide(pay("150.00", "RE-1 RE-2"), items)
    assert both.status == "matched"
    assert {(a.item_id, a.amount) for a in both.allocations} == {(1, D("100.00")), (2, D("50.00"))}
    wrong = decide(pay("140.00", "RE-1 RE-2"), items)
    assert wrong.status == "unmatched" and not wrong.allocations


def test_decide_iban_and_amount_only_when_unique() -> None:
    items = [
        item(1, "A-100", "59.50", SUPPLIER_IBAN),
        item(2, "A-101", "80.00", SUPPLIER_IBAN),
        item(3, "B-900", "59.50", OTHER_SUPPLIER_IBAN),
    ]
    one = decide(pay("59.50", "Kundennr 77", SUPPLIER_IBAN), items)
    assert [(a.item_id, a.reason) for a in one.allocations] == [(1, "IBAN und Betrag")]
    # Amount alone is never enough, …
    assert decide(pay("59.50", "Kundennr 77"), items).status == "unmatched"
    # … and two items of the same payee with the same amount are ambiguous.
    twins = [*items, item(4, "A-102", "59.50", SUPPLIER_IBAN)]
    ambiguous = decide(pay("59.50", "Kundennr 77", SUPPLIER_IBAN), twins)
    assert ambiguous.status == "unmatched" and "Mehrdeutig" in ambiguous.note


def test_decide_same_number_at_two_payees() -> None:
    items = [item(1, "1001", "10.00", SUPPLIER_IBAN), item(2, "1001", "10.00", OTHER_SUPPLIER_IBAN)]
    assert decide(pay("10.00", "Rechnung 1001"), items).status == "unmatched"
    by_iban = decide(pay("10.00", "Rechnung 1001", OTHER_SUPPLIER_IBAN), items)
    assert [a.item_id for a in by_iban.allocations] == [2]


# --------------------------------------------------------------------------- catalog import


def statement(*entries: EntrySpec | BatchSpec, sid: str = "2025-03-10") -> bytes:
    return make_camt053(ACCOUNT, list(entries), statement_id=sid, owner_name="Klein Elektro")


def out(day: int, amount: str, text: str, iban: str | None = SUPPLIER_IBAN) -> EntrySpec:
    return EntrySpec(date(2025, 3, day), D(f"-{amount}"), "Bürobedarf Müller GmbH", iban, text)


@pytest.fixture
def ledger(settings: Settings) -> Ledger:
    return build_ledger(settings)


def test_full_payment_settles_payable(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-1001", "119.00")
    other = ledger.invoice("RE-1002", "40.00")
    result = import_statement(
        ledger.ctx,
        "KLEIN",
        statement(out(10, "119.00", "Rechnung RE-1001"), out(11, "12.34", "Porto")),
        actor="test",
    )
    assert (result.new, result.known) == (2, 0)
    assert [(o.status, o.followup_ids) for o in result.outcomes] == [
        ("matched", (fid,)),
        ("unmatched", ()),
    ]
    paid = ledger.followup(fid)
    assert (paid.status, paid.paid_on, paid.settled_by, paid.paid_amount) == (
        FollowUpStatus.DONE,
        date(2025, 3, 10),
        "bank",
        D("119.00"),
    )
    assert ledger.followup(other).status == FollowUpStatus.OPEN
    assert result.source_key.startswith("clients/KLEIN/bank/") and result.source_key.endswith(
        ".xml"
    )
    assert ledger.ctx.store.get(result.source_key).startswith(b"<?xml")
    with ledger.ctx.catalog.session() as s:
        (match,) = s.scalars(select(PaymentMatch))
        assert (match.followup_id, match.kind, match.amount) == (fid, "full", D("119.00"))
        assert "Rechnungsnummer und IBAN" in match.reason
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "bank.import"))
        assert event.detail["matched"] == 1 and event.detail["unmatched"] == 1
        assert event.detail["settled"] == [fid]
        listed = unmatched_transactions(s, [ledger.client_id])
        assert [t.remittance for t in listed] == ["Porto"]


def test_partial_then_rest(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-2001", "500.00")
    first = import_statement(
        ledger.ctx, "KLEIN", statement(out(5, "200.00", "Abschlag RE-2001"), sid="A"), actor="t"
    )
    assert first.outcomes[0].status == "partial"
    halfway = ledger.followup(fid)
    assert (halfway.status, halfway.paid_amount, halfway.outstanding) == (
        FollowUpStatus.OPEN,
        D("200.00"),
        D("300.00"),
    )
    rest = import_statement(
        ledger.ctx, "KLEIN", statement(out(20, "300.00", "Rest RE-2001"), sid="B"), actor="t"
    )
    assert rest.outcomes[0].status == "matched"
    done = ledger.followup(fid)
    assert (done.status, done.paid_amount, done.paid_on) == (
        FollowUpStatus.DONE,
        D("500.00"),
        date(2025, 3, 20),
    )
    with ledger.ctx.catalog.session() as s:
        kinds = list(s.scalars(select(PaymentMatch.kind).order_by(PaymentMatch.id)))
    assert kinds == ["partial", "full"]


def test_partial_and_rest_in_one_statement_apply_in_date_order(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-2002", "300.00")
    result = import_statement(
        ledger.ctx,
        "KLEIN",
        statement(out(20, "100.00", "RE-2002 Rest"), out(5, "200.00", "RE-2002 Teil")),
        actor="t",
    )
    assert sorted(o.status for o in result.outcomes) == ["matched", "partial"]
    assert ledger.followup(fid).status == FollowUpStatus.DONE


def test_skonto_in_time_and_late(ledger: Ledger) -> None:
    in_time = ledger.invoice("SK-1", "1190.00", skonto=("2", date(2025, 3, 10)))
    late = ledger.invoice("SK-2", "1190.00", skonto=("2", date(2025, 3, 10)))
    result = import_statement(
        ledger.ctx,
        "KLEIN",
        statement(out(10, "1166.20", "SK-1 abzgl. 2% Skonto"), out(12, "1166.20", "SK-2 Skonto")),
        actor="t",
    )
    assert [o.status for o in result.outcomes] == ["matched", "partial"]
    settled = ledger.followup(in_time)
    assert (settled.status, settled.settled_by, settled.paid_amount) == (
        FollowUpStatus.DONE,
        "skonto",
        D("1166.20"),
    )
    open_rest = ledger.followup(late)
    assert (open_rest.status, open_rest.outstanding) == (FollowUpStatus.OPEN, D("23.80"))


def test_one_payment_for_several_invoices(ledger: Ledger) -> None:
    a = ledger.invoice("RE-3001", "100.00")
    b = ledger.invoice("RE-3002", "250.50")
    c = ledger.invoice("RE-3003", "99.00")
    result = import_statement(
        ledger.ctx, "KLEIN", statement(out(10, "350.50", "RE-3001 und RE 3002")), actor="t"
    )
    assert set(result.outcomes[0].followup_ids) == {a, b}
    assert ledger.followup(a).status == ledger.followup(b).status == FollowUpStatus.DONE
    assert ledger.followup(c).status == FollowUpStatus.OPEN


def test_batch_booking_pays_two_suppliers(ledger: Ledger) -> None:
    a = ledger.invoice("M-1", "10.00")
    b = ledger.invoice("Z-9", "20.00", sender="Zebra AG", iban=OTHER_SUPPLIER_IBAN)
    batch = BatchSpec(
        date(2025, 3, 10),
        (out(10, "10.00", "M-1"), out(10, "20.00", "Z-9", OTHER_SUPPLIER_IBAN)),
    )
    result = import_statement(ledger.ctx, "KLEIN", statement(batch), actor="t")
    assert [o.followup_ids for o in result.outcomes] == [(a,), (b,)]


def test_iban_and_amount_fallback_and_ambiguity(ledger: Ledger) -> None:
    unique = ledger.invoice("U-1", "59.50")
    twin_a = ledger.invoice("T-1", "77.00", sender="Zebra AG", iban=OTHER_SUPPLIER_IBAN)
    twin_b = ledger.invoice("T-2", "77.00", sender="Zebra AG", iban=OTHER_SUPPLIER_IBAN)
    result = import_statement(
        ledger.ctx,
        "KLEIN",
        statement(
            out(10, "59.50", "Kundennummer 4711"),
            out(10, "77.00", "Kundennummer 4711", OTHER_SUPPLIER_IBAN),
        ),
        actor="t",
    )
    assert [(o.status, o.followup_ids) for o in result.outcomes] == [
        ("matched", (unique,)),
        ("unmatched", ()),
    ]
    assert "Mehrdeutig" in result.outcomes[1].detail
    assert ledger.followup(twin_a).status == ledger.followup(twin_b).status == FollowUpStatus.OPEN


def test_receivable_settled_by_credit_not_by_debit(ledger: Ledger) -> None:
    receivable = ledger.invoice(
        "AR-2025-17", "238.00", sender="Kunde AG", iban=CUSTOMER_IBAN, kind=FollowUpKind.RECEIVABLE
    )
    payable = ledger.invoice("AR-2025-18", "238.00")
    credit = EntrySpec(
        date(2025, 3, 14), D("238.00"), "Kunde AG", CUSTOMER_IBAN, "Ihre Rechnung AR 2025 17"
    )
    result = import_statement(ledger.ctx, "KLEIN", statement(credit), actor="t")
    assert result.outcomes[0].followup_ids == (receivable,)
    assert ledger.followup(receivable).status == FollowUpStatus.DONE
    assert ledger.followup(payable).status == FollowUpStatus.OPEN


def test_reimport_changes_nothing(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-4001", "80.00")
    data = statement(out(10, "50.00", "RE-4001"), out(11, "9.99", "Abo"))
    import_statement(ledger.ctx, "KLEIN", data, actor="t")

    def snapshot() -> tuple[object, ...]:
        with ledger.ctx.catalog.session() as s:
            return (
                s.scalar(select(func.count()).select_from(BankTransaction)),
                s.scalar(select(func.count()).select_from(PaymentMatch)),
                s.scalar(select(func.count()).select_from(AuditEvent)),
                ledger.followup(fid).paid_amount,
            )

    before = snapshot()
    again = import_statement(ledger.ctx, "KLEIN", data, actor="t")
    assert (again.new, again.known, again.outcomes) == (0, 2, [])
    assert snapshot() == before == (2, 1, 1, D("50.00"))


def test_other_clients_items_are_never_touched(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-5001", "10.00")
    ledger.other_client("FREMD")
    result = import_statement(
        ledger.ctx, "FREMD", statement(out(10, "10.00", "RE-5001")), actor="t"
    )
    assert result.outcomes[0].status == "unmatched"
    assert result.source_key.startswith("clients/FREMD/bank/")
    assert ledger.followup(fid).status == FollowUpStatus.OPEN
    with pytest.raises(PaymentError, match="Unbekannter Mandant"):
        import_statement(ledger.ctx, "NIEMAND", statement(), actor="t")


def test_csv_statement_import(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-6001", "1190.00")
    data = (
        "Buchungstag;Valutadatum;Name Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;"
        "Verwendungszweck;Betrag;Währung\n"
        f"10.03.2025;10.03.2025;Bürobedarf Müller GmbH;{SUPPLIER_IBAN};RE-6001;-1.190,00;EUR\n"
    ).encode("cp1252")
    result = import_statement(ledger.ctx, "KLEIN", data, actor="t")
    assert result.source_key.endswith(".csv")
    assert result.outcomes[0].followup_ids == (fid,)
    assert import_statement(ledger.ctx, "KLEIN", data, actor="t").new == 0


def test_mark_paid_by_hand(ledger: Ledger) -> None:
    fid = ledger.invoice("RE-7001", "100.00")
    with ledger.ctx.catalog.session() as s:
        part = mark_paid(s, fid, amount=D("40"), paid_on=date(2025, 3, 1), actor="sabine")
        assert (part.status, part.outstanding) == (FollowUpStatus.OPEN, D("60.00"))
        with pytest.raises(PaymentError, match="höher"):
            mark_paid(s, fid, amount=D("70"), paid_on=date(2025, 3, 2), actor="sabine")
        with pytest.raises(PaymentError, match="größer als 0"):
            mark_paid(s, fid, amount=D("0"), paid_on=date(2025, 3, 2), actor="sabine")
        with pytest.raises(PaymentError, match="nicht gefunden"):
            mark_paid(s, fid, amount=D("60"), paid_on=date(2025, 3, 2), actor="x", client_ids=[])
        done = mark_paid(s, fid, amount=D("60"), paid_on=date(2025, 3, 2), actor="sabine")
        assert (done.status, done.paid_on, done.settled_by) == (
            FollowUpStatus.DONE,
            date(2025, 3, 2),
            "staff",
        )
        with pytest.raises(PaymentError, match="nicht mehr offen"):
            mark_paid(s, fid, amount=D("1"), paid_on=date(2025, 3, 3), actor="sabine")
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "followup.paid")))
        assert [(e.actor, e.detail["amount"], e.detail["settled"]) for e in events] == [
            ("sabine", "40.00", False),
            ("sabine", "60.00", True),
        ]
    # A settled item is no longer a candidate: the bank payment that follows stays unmatched.
    result = import_statement(
        ledger.ctx, "KLEIN", statement(out(10, "100.00", "RE-7001")), actor="t"
    )
    assert result.outcomes[0].status == "unmatched"
