"""``backoffice followups …`` against a real catalog and SMTP sink."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from backoffice.commands.followups import app
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import AuditEvent, DocType, FollowUp, FollowUpStatus
from tests.services import SmtpSink
from tests.unit.followups.payables_world import (
    add_client,
    add_correspondent,
    file_document,
    followup_of,
)

runner = CliRunner()


def build(var: Path) -> tuple[Context, int, int]:
    ctx = Context.from_settings(Settings(var_dir=var))
    with ctx.catalog.session() as s:
        klein = add_client(s, "KLEIN", "Schreinerei Klein GmbH", "buero@klein.example")
        brandt = add_correspondent(s, klein, "Holzhandel Brandt GmbH")
        fields = {
            "invoice_number": "RE-2026-0815",
            "issue_date": "2026-11-02",
            "due_date": "2026-11-25",
            "gross_total": "1190.00",
            "skonto_percent": "2",
            "skonto_date": "2026-11-24",
        }
        payable = followup_of(
            s, file_document(s, klein, DocType.INVOICE, fields, correspondent=brandt)
        )
        own = {**fields, "invoice_number": "A-17", "seller_name": "Schreinerei Klein GmbH"}
        receivable = followup_of(s, file_document(s, klein, DocType.INVOICE, own))
        other = add_client(s, "MUELLER", "Müller Haustechnik")
        file_document(s, other, DocType.INVOICE, {**fields, "invoice_number": "M-1"})
        return ctx, payable.id, receivable.id


def test_due_lists_payables_of_one_client(tmp_path: Path) -> None:
    var = tmp_path / "var"
    build(var)
    args = ["due", "--client", "KLEIN", "--today", "2026-11-23", "--var", str(var)]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Zahlungen bis 30.11.2026" in result.output
    assert "Holzhandel Brandt GmbH" in result.output and "RE-2026-0815" in result.output
    assert (
        "1.190,00 €" in result.output and "2 % Skonto bis 24.11.2026: 1.166,20 €" in result.output
    )
    assert "M-1" not in result.output and "A-17" not in result.output
    assert "1 Posten, zusammen 1.190,00 €." in result.output
    short = runner.invoke(app, ["due", "--days", "0", "--today", "2026-11-23", "--var", str(var)])
    assert "0 Posten" in short.output
    unknown = runner.invoke(app, ["due", "--client", "NIEMAND", "--var", str(var)])
    assert unknown.exit_code != 0 and "NIEMAND" in unknown.output


def test_dispute_and_undispute_a_receivable(tmp_path: Path) -> None:
    var = tmp_path / "var"
    ctx, _payable, receivable = build(var)
    result = runner.invoke(app, ["dispute", str(receivable), "--var", str(var)])
    assert result.exit_code == 0 and f"Posten {receivable} ist strittig." in result.output
    with ctx.catalog.session() as s:
        assert s.get_one(FollowUp, receivable).disputed
    result = runner.invoke(app, ["dispute", str(receivable), "--off", "--var", str(var)])
    assert "nicht mehr strittig" in result.output
    with ctx.catalog.session() as s:
        assert not s.get_one(FollowUp, receivable).disputed
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("followup.%")))
        assert list(actions) == ["followup.disputed", "followup.undisputed"]
    assert runner.invoke(app, ["dispute", "9999", "--var", str(var)]).exit_code != 0


def test_paid_by_hand_in_part_then_in_full(tmp_path: Path) -> None:
    var = tmp_path / "var"
    ctx, payable, _receivable = build(var)
    args = ["paid", str(payable), "--amount", "190,00", "--on", "2026-11-20", "--var", str(var)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Zahlung über 190,00 € erfasst, offen: 1.000,00 €." in result.output
    result = runner.invoke(app, ["paid", str(payable), "--var", str(var)])
    assert "offen: 0,00 €" in result.output
    with ctx.catalog.session() as s:
        item = s.get_one(FollowUp, payable)
        assert item.status == FollowUpStatus.DONE and item.paid_amount == Decimal("1190.00")
    again = runner.invoke(app, ["paid", str(payable), "--var", str(var)])
    assert again.exit_code != 0


def test_digest_command_sends_once(tmp_path: Path, smtp: SmtpSink) -> None:
    var = tmp_path / "var"
    build(var)
    env = {"BACKOFFICE_SMTP__HOST": smtp.host, "BACKOFFICE_SMTP__PORT": str(smtp.port)}
    args = ["digest", "--today", "2026-11-23", "--var", str(var)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "KLEIN: 1 Posten an buero@klein.example gesendet." in result.output
    assert [m["X-Envelope-To"] for m in smtp.messages] == ["buero@klein.example"]
    result = runner.invoke(app, args, env=env)
    assert "heute schon gesendet" in result.output and len(smtp.messages) == 1
