"""``backoffice dunning …`` end to end on a real catalog: run, list, approve, send, print queue."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from backoffice.commands import dunning as dunning_commands
from backoffice.commands.dunning import app
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import AuditEvent, DunningNotice, DunningStatus
from tests.unit.followups.receivables import Debtor, add_client, add_receivable


def test_run_list_approve_send(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dunning_commands.console, "width", 200)
    ctx = Context.from_settings(settings)
    client = add_client(ctx)
    add_receivable(ctx, client, number="RE-7", debtor=Debtor(email=None))
    runner = CliRunner()
    var = ["--var", str(settings.var_dir)]

    out = runner.invoke(app, ["run", "--today", "2026-09-22", *var])
    assert out.exit_code == 0, out.output
    assert "1 Mahnung(en) vorgeschlagen" in out.output

    listed = runner.invoke(app, ["list", *var])
    assert "RE-7" in listed.output and "Zahlungserinnerung" in listed.output
    assert "1.190,00 €" in listed.output and "02.10.2026" in listed.output

    assert runner.invoke(app, ["approve", *var]).exit_code != 0  # neither ids nor --all
    out = runner.invoke(app, ["approve", "--all", "--client", "KLEIN", *var])
    assert out.exit_code == 0 and "1 Mahnung(en) freigegeben" in out.output
    refused = runner.invoke(app, ["approve", "1", *var])
    assert refused.exit_code == 1 and "nicht mehr vorgeschlagen" in refused.output

    out = runner.invoke(app, ["send", "--today", "2026-09-23", *var])
    assert out.exit_code == 0, out.output
    assert "1 zum Drucken" in out.output
    queue = runner.invoke(app, ["list", "--status", "print", *var])
    assert "zu drucken" in queue.output and "RE-7" in queue.output

    with ctx.catalog.session() as s:
        (notice,) = s.query(DunningNotice).all()
        assert notice.status == DunningStatus.PRINT
        approved = s.query(AuditEvent).filter(AuditEvent.action == "dunning.approved").one()
        assert approved.actor.startswith("cli")
