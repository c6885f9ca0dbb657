"""``backoffice bank import|unmatched|assign|ignore`` against a real catalog and archive folder
(payments outside the account are ``backoffice followups paid``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from backoffice.commands.bank import app
from backoffice.config import Settings
from backoffice.models import AuditEvent, BankTransaction, FollowUpStatus
from backoffice.samples.camt import EntrySpec, make_camt053
from tests.unit.followups.bank_world import ACCOUNT, SUPPLIER_IBAN, build_ledger

runner = CliRunner()


def test_import_and_list_unmatched(settings: Settings, tmp_path: Path) -> None:
    ledger = build_ledger(settings)
    full = ledger.invoice("RE-1001", "119.00")
    part = ledger.invoice("RE-1002", "300.00")
    manual = ledger.invoice("RE-1003", "45.00")
    file = tmp_path / "auszug.xml"
    file.write_bytes(
        make_camt053(
            ACCOUNT,
            [
                EntrySpec(
                    date(2025, 3, 10), Decimal("-119.00"), "Müller", SUPPLIER_IBAN, "RE-1001"
                ),
                EntrySpec(
                    date(2025, 3, 10), Decimal("-100.00"), "Müller", SUPPLIER_IBAN, "RE-1002"
                ),
                EntrySpec(date(2025, 3, 11), Decimal("-7.77"), "Kiosk Eck", None, "Zeitung"),
            ],
            statement_id="2025-03-11",
        )
    )
    var = ["--var", str(settings.var_dir)]

    result = runner.invoke(app, ["import", str(file), "--client", "KLEIN", *var])
    assert result.exit_code == 0, result.output
    assert "zugeordnet" in result.output and "Teilzahlung" in result.output
    assert "3 neue Buchungen (1 zugeordnet, 1 Teilzahlungen, 1 offen)" in result.output
    assert ledger.followup(full).status == FollowUpStatus.DONE
    assert ledger.followup(part).outstanding == Decimal("200.00")

    again = runner.invoke(app, ["import", str(file), "--client", "KLEIN", *var])
    assert again.exit_code == 0, again.output
    assert "0 neue Buchungen" in again.output and "3 schon bekannt" in again.output

    listed = runner.invoke(app, ["unmatched", "--client", "KLEIN", *var])
    assert listed.exit_code == 0, listed.output
    assert "Kiosk Eck" in listed.output and "-7,77 €" in listed.output
    assert "1 Zahlungen ohne Zuordnung" in listed.output
    assert runner.invoke(app, ["unmatched", "--client", "NIX", *var]).exit_code != 0

    with ledger.ctx.catalog.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["bank.import"]
    assert ledger.followup(manual).status == FollowUpStatus.OPEN


def test_import_refuses_a_file_that_is_no_statement(settings: Settings, tmp_path: Path) -> None:
    build_ledger(settings)
    file = tmp_path / "rechnung.xml"
    file.write_bytes(b"<Invoice/>")
    result = runner.invoke(
        app, ["import", str(file), "--client", "KLEIN", "--var", str(settings.var_dir)]
    )
    assert result.exit_code == 1
    assert "Nicht eingelesen" in result.output and "Keine CAMT.053" in result.output


def test_assign_and_ignore_round_trip(settings: Settings, tmp_path: Path) -> None:
    ledger = build_ledger(settings)
    first = ledger.invoice("RE-8001", "100.00")
    second = ledger.invoice("RE-8002", "60.00")
    file = tmp_path / "auszug.xml"
    file.write_bytes(
        make_camt053(
            ACCOUNT,
            [
                EntrySpec(date(2025, 3, 14), Decimal("-130.00"), "Müller", None, "Sammelzahlung"),
                EntrySpec(date(2025, 3, 14), Decimal("-4.90"), "Bank", None, "Kontoführung"),
            ],
            statement_id="2025-03-14",
        )
    )
    var = ["--var", str(settings.var_dir)]
    assert runner.invoke(app, ["import", str(file), "--client", "KLEIN", *var]).exit_code == 0
    with ledger.ctx.catalog.session() as s:
        rows = s.execute(select(BankTransaction.remittance, BankTransaction.id)).tuples().all()
        ids = {text: tx_id for text, tx_id in rows}
    payment, fee = ids["Sammelzahlung"], ids["Kontoführung"]

    wrong = runner.invoke(app, ["assign", str(fee), "999", *var])
    assert wrong.exit_code == 1 and "Posten 999 nicht gefunden" in wrong.output

    assigned = runner.invoke(app, ["assign", str(payment), str(first), str(second), *var])
    assert assigned.exit_code == 0, assigned.output
    assert f"Posten {first}: 100,00 € (bezahlt)" in assigned.output
    assert f"Posten {second}: 30,00 € (Teilzahlung)" in assigned.output
    assert ledger.followup(first).status == FollowUpStatus.DONE
    assert ledger.followup(second).outstanding == Decimal("30.00")

    ignored = runner.invoke(app, ["ignore", str(fee), "--reason", "Bankgebühr", *var])
    assert ignored.exit_code == 0, ignored.output
    listed = runner.invoke(app, ["unmatched", "--client", "KLEIN", *var])
    assert "Keine offenen Zahlungen" in listed.output
    again = runner.invoke(app, ["ignore", str(fee), *var])
    assert again.exit_code == 1 and "schon bearbeitet" in again.output

    with ledger.ctx.catalog.session() as s:
        assert s.get_one(BankTransaction, payment).status == "partial"
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("bank.%"))))
    assert [(e.action, e.actor.startswith("cli:")) for e in events] == [
        ("bank.import", True),
        ("bank.assigned", True),
        ("bank.ignored", True),
    ]
    assert events[2].detail["reason"] == "Bankgebühr"
