"""A month of one client's paper, from intake to the accountant's DATEV export.

March 2026 for Müller Haustechnik: four supplier invoices, a supplier's Zahlungserinnerung for
the first of them, three of the client's own invoices to its customers, and a bank statement at
the end of the month. Everything goes through the real intake (PDFs in a folder), the real
catalog and archive, a real bank statement (CAMT.053), the daily dunning run with approval and
dispatch to a real SMTP server, and the booking proposals, approval and export. What comes out
is compared with what the generator wrote, value by value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.config import Settings, SmtpSettings
from backoffice.context import Context
from backoffice.exports.bookkeeping import InvoiceFacts, propose_bookings
from backoffice.exports.datev import normalise_belegfeld, parse_extf
from backoffice.exports.ledger import approve as approve_bookings
from backoffice.exports.ledger import export_period, pending_ids, propose_pending
from backoffice.followups.dunning import approve as approve_notices
from backoffice.followups.dunning import dispatch, propose_notices
from backoffice.followups.queue import URGENT
from backoffice.followups.reconcile import import_statement
from backoffice.models import (
    BankTransaction,
    BookingEntry,
    Client,
    Correspondent,
    DocType,
    Document,
    DocumentStatus,
    DunningNotice,
    DunningStatus,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    PersonalAccount,
)
from backoffice.pipeline import run_batch, seed_clients
from backoffice.samples.camt import EntrySpec, make_camt053
from backoffice.samples.clients import DEMO_CLIENTS
from backoffice.samples.month import DEBTORS, MonthDocument, MonthSet, generate_month
from tests.services import SmtpSink

CLIENT = DEMO_CLIENTS[0]
MONTH_END = date(2026, 3, 31)
STAFF = "staff@buero.example"


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _by_reference(session: object, kind: FollowUpKind) -> dict[str, FollowUp]:
    rows = session.scalars(select(FollowUp).where(FollowUp.kind == kind))  # type: ignore[attr-defined]
    return {f.reference: f for f in rows}


def _statement(month: MonthSet) -> bytes:
    """The month's bank statement: one invoice paid, one half paid, one customer paid, a debit
    nobody can match."""
    incoming, outgoing = month.of_kind("incoming"), month.of_kind("outgoing")
    paid, halved, customer = incoming[1], incoming[2], outgoing[0]
    return make_camt053(
        CLIENT.iban,
        [
            EntrySpec(
                date(2026, 3, 12),
                customer.gross,
                customer.counterpart,
                customer.counterpart_iban,
                remittance=f"Rechnung {customer.number} vielen Dank",
            ),
            EntrySpec(
                date(2026, 3, 16),
                -paid.gross,
                paid.counterpart,
                paid.counterpart_iban,
                remittance=f"RE {paid.number} Kd {CLIENT.code}",
            ),
            EntrySpec(
                date(2026, 3, 20),
                -_cents(halved.gross / 2),
                halved.counterpart,
                halved.counterpart_iban,
                remittance=f"Teilzahlung {halved.number}",
            ),
            EntrySpec(
                date(2026, 3, 27),
                Decimal("-89.90"),
                "Telekom Deutschland GmbH",
                "DE41200400600100000000",
                remittance="Lastschrift Kundenkonto 4711 0815",
            ),
        ],
        statement_id="MUELLER-2026-03",
        owner_name=CLIENT.name,
    )


def _expected_rows(
    doc: MonthDocument, incoming: bool, filed: Document, accounts: dict[object, int]
) -> list[tuple[object, ...]]:
    """The DATEV rows the ground truth calls for: the proposal rules applied to the generator's
    fields (amounts, rates, dates, number) and the filed document's text (account keywords)."""
    fields = {k: v for k, v in doc.fields.items() if isinstance(v, str)}
    for part in doc.fields.get("vat_breakdown", []):  # type: ignore[union-attr]
        fields[f"vat_{part['rate']}_net"] = part["net"]
        fields[f"vat_{part['rate']}_amount"] = part["vat"]
    facts = InvoiceFacts.from_fields(
        fields,
        incoming=incoming,
        text=filed.text or "",
        correspondent_key=str(filed.correspondent_id),
    )
    rows = []
    for b in propose_bookings(facts, chart="03", personal_accounts=dict(accounts)):
        rows.append(
            (
                b.amount,
                b.debit_credit,
                b.account,
                b.contra_account,
                b.bu_key,
                b.document_date,
                normalise_belegfeld(b.belegfeld1),
                b.due_date,
            )
        )
    return rows


@pytest.fixture
def month_settings(any_settings: Settings, smtp: SmtpSink) -> Settings:
    return any_settings.model_copy(
        update={
            "smtp": SmtpSettings(
                host=smtp.host, port=smtp.port, sender="Büro Schmidt <post@buero.example>"
            )
        }
    )


def test_a_month_of_post_ends_in_payables_dunning_and_a_datev_export(
    month_settings: Settings, smtp: SmtpSink, tmp_path: Path
) -> None:
    ctx = Context.from_settings(month_settings)
    month = generate_month(tmp_path / "post", client=CLIENT, first_day=date(2026, 3, 1))
    incoming, outgoing = month.of_kind("incoming"), month.of_kind("outgoing")
    (reminder,) = month.of_kind("reminder")
    seed_clients(ctx, [CLIENT])

    # --- intake: every document filed for the client (the own invoices by their issuer)
    outcomes = run_batch(ctx, [tmp_path / "post"])
    assert len(outcomes) == len(month.documents)
    with ctx.catalog.session() as session:
        docs = list(session.scalars(select(Document)))
        assert {d.status for d in docs} == {DocumentStatus.FILED}
        assert {d.client.code for d in docs if d.client} == {CLIENT.code}
        assert sum(d.doc_type == DocType.REMINDER for d in docs) == 1

        # --- payables, receivables, and the reminder escalating its invoice
        payables = _by_reference(session, FollowUpKind.PAYABLE)
        receivables = _by_reference(session, FollowUpKind.RECEIVABLE)
        assert set(payables) == {d.number for d in incoming}
        assert set(receivables) == {d.number for d in outgoing}
        for d in incoming:
            assert (payables[d.number].amount, payables[d.number].due_date) == (
                d.gross,
                d.due_date,
            )
        for d in outgoing:
            assert (receivables[d.number].amount, receivables[d.number].due_date) == (
                d.gross,
                d.due_date,
            )
        (escalation,) = session.scalars(
            select(FollowUp).where(FollowUp.kind == FollowUpKind.REMINDER)
        )
        reminded = payables[reminder.refers_to or ""]
        assert escalation.related_id == reminded.id
        assert reminded.priority == URGENT
        assert "dringend" in (escalation.note or "")

        # staff complete the customers' e-mail addresses (one customer has none: print)
        for debtor in DEBTORS[:2]:
            correspondent = session.scalar(
                select(Correspondent).where(Correspondent.name == debtor.name)
            )
            assert correspondent is not None, debtor.name
            correspondent.email = debtor.email

    # --- the bank statement pays some items
    result = import_statement(ctx, CLIENT.code, _statement(month), actor=STAFF)
    assert (result.count("matched"), result.count("partial"), result.count("unmatched")) == (
        2,
        1,
        1,
    )
    with ctx.catalog.session() as session:
        payables = _by_reference(session, FollowUpKind.PAYABLE)
        receivables = _by_reference(session, FollowUpKind.RECEIVABLE)
        assert payables[incoming[1].number].status == FollowUpStatus.DONE
        assert payables[incoming[1].number].settled_by == "bank"
        halved = payables[incoming[2].number]
        assert halved.status == FollowUpStatus.OPEN
        assert halved.outstanding == incoming[2].gross - _cents(incoming[2].gross / 2)
        assert receivables[outgoing[0].number].status == FollowUpStatus.DONE
        assert payables[incoming[0].number].status == FollowUpStatus.OPEN
        (stray,) = session.scalars(
            select(BankTransaction).where(BankTransaction.status == "unmatched")
        )
        assert stray.counterparty_name == "Telekom Deutschland GmbH"

    # --- dunning at the end of the month: only the two unpaid own invoices
    with ctx.catalog.session() as session:
        propose_notices(session, month_settings, MONTH_END)
    with ctx.catalog.session() as session:
        notices = list(session.scalars(select(DunningNotice)))
        by_invoice = {n.followup_id: n for n in notices}
        receivables = _by_reference(session, FollowUpKind.RECEIVABLE)
        assert set(by_invoice) == {receivables[d.number].id for d in outgoing[1:]}
        assert {n.stage for n in notices} == {1}
        for d in outgoing[1:]:
            assert by_invoice[receivables[d.number].id].principal == d.gross
        approval = approve_notices(session, [n.id for n in notices], STAFF, today=MONTH_END)
        assert sorted(approval.approved) == sorted(n.id for n in notices)
    sent = dispatch(ctx, MONTH_END)
    assert len(sent.sent) == 1
    assert len(sent.printed) == 1
    (mail,) = smtp.messages
    assert mail["X-Envelope-To"] == DEBTORS[1].email
    assert outgoing[1].number in mail["Subject"]
    assert "Zahlungserinnerung" in mail["Subject"]
    assert mail["Reply-To"] == CLIENT.email
    (pdf,) = list(mail.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF")
    with ctx.catalog.session() as session:
        statuses = {n.followup_id: n.status for n in session.scalars(select(DunningNotice))}
        receivables = _by_reference(session, FollowUpKind.RECEIVABLE)
        assert statuses == {
            receivables[outgoing[1].number].id: DunningStatus.SENT,
            receivables[outgoing[2].number].id: DunningStatus.PRINT,
        }

    # --- bookkeeping: proposals for the seven invoices (never for the reminder), export
    with ctx.catalog.session() as session:
        client = session.scalars(select(Client).where(Client.code == CLIENT.code)).one()
        run = propose_pending(session, client, month_settings)
        assert run.failed == {}
        assert len(run.documents) == len(incoming) + len(outgoing)
        approve_bookings(session, pending_ids(session, client.id), "stb@kanzlei.example")
    exported = export_period(
        ctx,
        CLIENT.code,
        date(2026, 3, 1),
        MONTH_END,
        "stb@kanzlei.example",
        datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
    )
    parsed = parse_extf(ctx.store.get(exported.extf_key))
    rows = sorted(
        (
            b.amount,
            b.debit_credit,
            b.account,
            b.contra_account,
            b.bu_key,
            b.document_date,
            b.belegfeld1,
            b.due_date,
        )
        for b in parsed.bookings()
    )
    with ctx.catalog.session() as session:
        accounts: dict[object, int] = {
            (p.kind, p.key): p.number for p in session.scalars(select(PersonalAccount))
        }
        invoices = {
            d.field("invoice_number"): d
            for d in session.scalars(select(Document).where(Document.doc_type == DocType.INVOICE))
        }
        expected: list[tuple[object, ...]] = []
        for d, is_incoming in [(d, True) for d in incoming] + [(d, False) for d in outgoing]:
            doc = invoices[d.number]
            assert doc.correspondent_id is not None
            expected += _expected_rows(d, is_incoming, doc, accounts)
        assert (
            session.scalar(select(BookingEntry.id).where(BookingEntry.export_id.is_(None))) is None
        )
    assert rows == sorted(expected)
    # each invoice exactly once, the reminder's invoice number included
    numbers = [b.belegfeld1 for b in parsed.bookings()]
    for d in incoming + outgoing:
        per_invoice = [
            b for b in parsed.bookings() if b.belegfeld1 == normalise_belegfeld(d.number)
        ]
        assert sum(b.amount for b in per_invoice) == d.gross, d.number
    assert numbers.count(normalise_belegfeld(reminder.refers_to or "")) == len(
        incoming[0].fields["vat_breakdown"]  # type: ignore[arg-type]
    )
    kreditoren = {b.account for b in parsed.bookings() if b.debit_credit == "H"}
    debitoren = {b.account for b in parsed.bookings() if b.debit_credit == "S"}
    assert all(70000 <= k <= 99999 for k in kreditoren)
    assert all(10000 <= k <= 69999 for k in debitoren)
    assert len(kreditoren) == len({d.counterpart for d in incoming})
    assert len(debitoren) == len({d.counterpart for d in outgoing})
