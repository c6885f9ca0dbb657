"""The payables digest: what goes in, how it reads, and that it goes out once a day (real SMTP)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from backoffice.config import Settings, SmtpSettings
from backoffice.context import Context
from backoffice.followups.digest import build_digests, due_items, send_digests
from backoffice.models import AuditEvent, DocType, FollowUpStatus
from tests.services import SmtpSink, free_port
from tests.unit.followups.payables_world import (
    add_client,
    add_correspondent,
    file_document,
    followup_of,
)

TODAY = date(2026, 11, 23)


def invoice(number: str, due: str, total: str, **extra: str) -> dict[str, str]:
    return {
        "invoice_number": number,
        "issue_date": "2026-11-01",
        "due_date": due,
        "gross_total": total,
        "is_credit_note": "false",
        **extra,
    }


def build(settings: Settings) -> Context:
    """KLEIN has five payables (due soon, overdue, Skonto soon, later, paid) and two reminders;
    MUELLER has an address but nothing due; BAUER has something due but no address."""
    ctx = Context.from_settings(settings)
    with ctx.catalog.session() as s:
        klein = add_client(s, "KLEIN", "Schreinerei Klein GmbH", "buero@klein.example")
        brandt = add_correspondent(s, klein, "Holzhandel Brandt GmbH")
        werke = add_correspondent(s, klein, "Stadtwerke Nordstadt")
        file_document(
            s, klein, DocType.INVOICE, invoice("RE-1", "2026-11-27", "119.00"), correspondent=brandt
        )
        file_document(
            s, klein, DocType.INVOICE, invoice("77-A", "2026-11-10", "1250.40"), correspondent=werke
        )
        file_document(
            s,
            klein,
            DocType.INVOICE,
            invoice("RE-2", "2026-12-20", "1000.00", skonto_percent="2", skonto_date="2026-11-26"),
            correspondent=brandt,
        )
        file_document(
            s, klein, DocType.INVOICE, invoice("RE-3", "2026-12-20", "50.00"), correspondent=brandt
        )
        paid = file_document(
            s, klein, DocType.INVOICE, invoice("RE-4", "2026-11-24", "80.00"), correspondent=brandt
        )
        followup_of(s, paid).status = FollowUpStatus.DONE
        file_document(
            s,
            klein,
            DocType.REMINDER,
            {"referenced_invoice_numbers": "RE-9", "dunning_stage": "1"},
            correspondent=brandt,
        )
        file_document(
            s,
            klein,
            DocType.REMINDER,
            {"referenced_invoice_numbers": "RE-3", "dunning_stage": "2"},
            correspondent=brandt,
        )
        mueller = add_client(s, "MUELLER", "Müller Haustechnik", "info@mueller.example")
        file_document(s, mueller, DocType.INVOICE, invoice("X-1", "2027-01-31", "10.00"))
        bauer = add_client(s, "BAUER", "Bauer Bau")
        file_document(s, bauer, DocType.INVOICE, invoice("B-1", "2026-11-24", "10.00"))
    return ctx


def test_digest_lists_due_overdue_skonto_and_reminded_items(settings: Settings) -> None:
    ctx = build(settings)
    with ctx.catalog.session() as s:
        (digest,) = build_digests(s, settings, TODAY)
    assert digest.client_code == "KLEIN" and digest.to == "buero@klein.example"
    refs = [i.reference for i in digest.payables]
    assert refs == ["77-A", "RE-1", "RE-2", "RE-3"]  # by due date; paid RE-4 left out
    assert [i.note for i in digest.reminders] == [
        "Mahnung (Stufe 1) zu Rechnung RE-9: Rechnung liegt nicht vor – beim Absender anfordern."
    ]
    assert digest.subject == "Fällige Zahlungen bis 30.11.2026 – 5 Posten"
    lines = digest.body.splitlines()
    assert (
        "für Schreinerei Klein GmbH sind bis zum 30.11.2026 folgende Zahlungen fällig" in lines[2]
    )
    overdue = next(line for line in lines if "77-A" in line)
    assert overdue.startswith("10.11.2026  Stadtwerke Nordstadt")
    assert "1.250,40 €" in overdue and overdue.endswith("überfällig")
    skonto = next(line for line in lines if "RE-2" in line)
    assert skonto.endswith("2 % Skonto bis 26.11.2026: 980,00 €")
    assert next(line for line in lines if "RE-3" in line).endswith("gemahnt")
    assert any(line.startswith("Summe") and line.endswith("2.419,40 €") for line in lines)
    assert "- Holzhandel Brandt GmbH: Mahnung (Stufe 1) zu Rechnung RE-9" in digest.body


def test_window_follows_the_setting_and_disputes_are_left_out(settings: Settings) -> None:
    ctx = build(settings)
    with ctx.catalog.session() as s:
        assert [i.reference for i in due_items(s, TODAY, 0)] == ["77-A", "RE-3"]
        wide = [i.reference for i in due_items(s, TODAY, 90)]
        assert wide == ["77-A", "B-1", "RE-1", "RE-2", "RE-3", "X-1"]
        item = next(i for i in due_items(s, TODAY, 90) if i.reference == "X-1")
        from backoffice.models import FollowUp

        s.get_one(FollowUp, item.followup_id).disputed = True
        assert "X-1" not in [i.reference for i in due_items(s, TODAY, 90)]


def test_send_digests_once_per_day_over_smtp(settings: Settings, smtp: SmtpSink) -> None:
    settings.smtp = SmtpSettings(host=smtp.host, port=smtp.port, sender="Büro <post@buero.example>")
    ctx = build(settings)
    run = send_digests(ctx, TODAY)
    assert run.as_dict() == {"sent": {"KLEIN": 5}, "failed": {}}
    (msg,) = smtp.messages
    assert msg["X-Envelope-To"] == "buero@klein.example"
    assert msg["Subject"] == "Fällige Zahlungen bis 30.11.2026 – 5 Posten"
    body = msg.get_content()
    assert "Holzhandel Brandt GmbH" in body and "980,00 €" in body

    assert send_digests(ctx, TODAY).sent == []  # same day: nothing again
    assert len(smtp.messages) == 1
    with ctx.catalog.session() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "digest.sent"))
        assert event.detail["date"] == "2026-11-23" and event.detail["to"] == "buero@klein.example"
        assert len(event.detail["followups"]) == 5

    assert [d.client_code for d in send_digests(ctx, date(2026, 11, 24)).sent] == ["KLEIN"]
    assert len(smtp.messages) == 2


def test_undeliverable_digest_is_reported_and_retried_later(
    settings: Settings, smtp: SmtpSink
) -> None:
    settings.smtp = SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=2)
    ctx = build(settings)
    run = send_digests(ctx, TODAY)
    assert run.sent == [] and "KLEIN" in run.failed
    settings.smtp = SmtpSettings(host=smtp.host, port=smtp.port)
    assert [d.client_code for d in send_digests(ctx, TODAY).sent] == ["KLEIN"]
    assert Decimal(len(smtp.messages)) == 1


def test_reminder_settled_by_a_later_payment_is_no_task(settings: Settings) -> None:
    ctx = Context.from_settings(settings)
    with ctx.catalog.session() as s:
        klein = add_client(s, "KLEIN", "Schreinerei Klein GmbH", "buero@klein.example")
        brandt = add_correspondent(s, klein, "Holzhandel Brandt GmbH")
        doc = file_document(
            s, klein, DocType.INVOICE, invoice("RE-5", "2026-11-10", "99.00"), correspondent=brandt
        )
        mahnung = {"referenced_invoice_numbers": "RE-5", "issue_date": "2026-11-18"}
        file_document(s, klein, DocType.REMINDER, mahnung, correspondent=brandt)
        assert [i.reference for i in build_digests(s, settings, TODAY)[0].payables] == ["RE-5"]
        payable = followup_of(s, doc)
        payable.status, payable.paid_on = FollowUpStatus.DONE, date(2026, 11, 20)
        assert build_digests(s, settings, TODAY) == []  # paid after the reminder: nothing to do
        payable.paid_on = date(2026, 11, 15)  # paid before: the creditor wants proof
        (digest,) = build_digests(s, settings, TODAY)
        assert digest.payables == [] and digest.reminders[0].note == (
            "Mahnung (Stufe ?) zu Rechnung RE-5: Rechnung ist bezahlt – "
            "Zahlungsnachweis an den Absender senden."
        )
