"""Outgoing mail reaches a real SMTP server with the envelope the office service promises."""

from __future__ import annotations

import pytest

from backoffice.config import SmtpSettings
from backoffice.followups.mailer import Attachment, MailError, build_message, send
from tests.services import SmtpSink


def test_message_with_pdf_reaches_the_server(smtp: SmtpSink) -> None:
    cfg = SmtpSettings(host=smtp.host, port=smtp.port, sender="Büro <post@buero.example>")
    msg = build_message(
        cfg,
        to="kunde@example.org",
        subject="Zahlungserinnerung Rechnung 2026-17",
        body="Sehr geehrte Damen und Herren,\n…",
        attachments=[Attachment("mahnung.pdf", b"%PDF-1.7 test")],
        reply_to="mueller@mandant.example",
    )
    send(cfg, [msg])
    (got,) = smtp.messages
    assert got["X-Envelope-To"] == "kunde@example.org"
    assert got["Subject"] == "Zahlungserinnerung Rechnung 2026-17"
    assert got["Reply-To"] == "mueller@mandant.example"
    assert "@buero.example>" in got["Message-ID"]
    (part,) = list(got.iter_attachments())
    assert part.get_filename() == "mahnung.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == b"%PDF-1.7 test"


def test_unreachable_server_is_a_clear_error() -> None:
    from tests.services import free_port

    cfg = SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=2)
    msg = build_message(cfg, to="a@example.org", subject="x", body="y")
    with pytest.raises(MailError, match=r"SMTP 127\.0\.0\.1"):
        send(cfg, [msg])


def test_recipient_without_address_is_refused() -> None:
    with pytest.raises(MailError, match="recipient"):
        build_message(SmtpSettings(), to="Max Mustermann", subject="x", body="y")
