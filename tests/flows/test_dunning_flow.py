"""The dunning flow on the embedded defaults: propose, approve in between, send next day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.followups.dunning import approve
from backoffice.models import DunningNotice, DunningStatus
from flows.dunning import run_dunning
from tests.services import SmtpSink
from tests.unit.followups.receivables import Debtor, add_client, add_receivable

pytestmark = [pytest.mark.flow]


def test_daily_runs_propose_then_send_what_staff_approved(tmp_path: Path, smtp: SmtpSink) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    settings.smtp.host, settings.smtp.port = smtp.host, smtp.port
    ctx = Context.from_settings(settings)
    client = add_client(ctx)
    add_receivable(ctx, client, number="RE-1")
    add_receivable(ctx, client, number="RE-2", debtor=Debtor(name="Herr Ohnemail", email=None))

    first = run_dunning(settings, date(2026, 9, 22))
    assert first["dispatch"] == {"sent": [], "printed": [], "cancelled": [], "failed": {}}
    ids = first["proposals"]["proposed"]
    assert len(ids) == 2 and smtp.messages == []

    with ctx.catalog.session() as s:
        assert approve(s, ids, "user:sabine@buero.example", date(2026, 9, 22)).approved == ids

    second = run_dunning(settings, date(2026, 9, 23))
    assert second["dispatch"]["sent"] == [ids[0]]
    assert second["dispatch"]["printed"] == [ids[1]]
    assert second["proposals"] == {"proposed": [], "cancelled": []}
    (msg,) = smtp.messages
    assert msg["Subject"] == "Zahlungserinnerung – Rechnung RE-1"
    with ctx.catalog.session() as s:
        statuses = [s.get_one(DunningNotice, i).status for i in ids]
    assert statuses == [DunningStatus.SENT, DunningStatus.PRINT]
