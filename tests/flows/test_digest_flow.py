"""The payables digest flow on the embedded defaults, delivering to a real SMTP sink."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from backoffice.config import Settings, SmtpSettings
from backoffice.context import Context
from backoffice.models import DocType
from flows.digest import run_digest
from tests.services import SmtpSink
from tests.unit.followups.payables_world import add_client, add_correspondent, file_document

pytestmark = [pytest.mark.flow]


def test_digest_flow_mails_each_client_once_a_day(tmp_path: Path, smtp: SmtpSink) -> None:
    settings = Settings(
        var_dir=tmp_path / "var",
        smtp=SmtpSettings(host=smtp.host, port=smtp.port, sender="Büro <post@buero.example>"),
    )
    ctx = Context.from_settings(settings)
    with ctx.catalog.session() as s:
        klein = add_client(s, "KLEIN", "Schreinerei Klein GmbH", "buero@klein.example")
        brandt = add_correspondent(s, klein, "Holzhandel Brandt GmbH")
        fields = {
            "invoice_number": "RE-2026-0815",
            "issue_date": "2026-11-02",
            "due_date": "2026-11-25",
            "gross_total": "1190.00",
        }
        file_document(s, klein, DocType.INVOICE, fields, correspondent=brandt)

    result = run_digest(settings, date(2026, 11, 23))
    assert result == {"sent": {"KLEIN": 1}, "failed": {}}
    (msg,) = smtp.messages
    assert msg["X-Envelope-To"] == "buero@klein.example"
    assert msg["Subject"] == "Fällige Zahlungen bis 30.11.2026 – 1 Posten"
    assert "RE-2026-0815" in msg.get_content() and "1.190,00 €" in msg.get_content()

    assert run_digest(settings, date(2026, 11, 23)) == {"sent": {}, "failed": {}}
    assert len(smtp.messages) == 1
