"""``backoffice books …`` against a real catalog and archive (Typer's test runner)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from backoffice.commands.books import app
from backoffice.config import Settings
from backoffice.models import BookingEntry, BookingStatus
from tests.portal.world import build_world, give_vat

runner = CliRunner(env={"COLUMNS": "250"})


def test_propose_list_approve_correct_export(tmp_path: Path) -> None:
    var = tmp_path / "var"
    world = build_world(Settings(var_dir=var), with_tokens=False)
    give_vat(world)
    args = ["--var", str(var)]

    result = runner.invoke(app, ["propose", "--client", "ALPHA", *args])
    assert result.exit_code == 0, result.output
    assert "ALPHA: 1 Buchungen zu 1 Rechnungen vorgeschlagen" in result.output
    assert "nicht buchbar" in result.output  # the April invoice: gross total only

    with world.ctx.catalog.session() as s:
        (entry,) = s.scalars(select(BookingEntry)).all()
        booking_id = entry.id
    listed = runner.invoke(app, ["list", "--client", "ALPHA", "--status", "proposed", *args])
    assert listed.exit_code == 0 and "RE-1001" in listed.output and "Vorschlag" in listed.output

    nothing = runner.invoke(app, ["export", "--client", "ALPHA", "--month", "2024-03", *args])
    assert nothing.exit_code == 1 and "keine freigegebenen" in nothing.output

    fixed = runner.invoke(
        app, ["correct", str(booking_id), "--contra-account", "4940", "--text", "Neu", *args]
    )
    assert fixed.exit_code == 0 and "erneut freigeben" in fixed.output
    assert runner.invoke(app, ["approve", "--client", "ALPHA", *args]).exit_code != 0
    approved = runner.invoke(app, ["approve", "--all", "--client", "ALPHA", *args])
    assert approved.exit_code == 0 and "1 Buchung(en) freigegeben" in approved.output

    exported = runner.invoke(app, ["export", "--client", "ALPHA", "--month", "2024-03", *args])
    assert exported.exit_code == 0, exported.output
    assert "clients/ALPHA/exports/2024-03/EXTF_Buchungsstapel_2024-03_E1.csv" in exported.output
    with world.ctx.catalog.session() as s:
        entry = s.get_one(BookingEntry, booking_id)
        assert (entry.status, entry.contra_account, entry.text) == (
            BookingStatus.EXPORTED,
            4940,
            "Neu",
        )
        assert entry.approved_by is not None and entry.approved_by.startswith("cli")

    again = runner.invoke(app, ["approve", str(booking_id), "--client", "ALPHA", *args])
    assert again.exit_code == 1 and "exportiert" in again.output
    unknown = runner.invoke(app, ["list", "--client", "NOPE", *args])
    assert unknown.exit_code != 0
