"""Sending e-mail: payables digests to clients, dunning letters to debtors.

One place builds and sends messages so that every outgoing mail has the same envelope rules:
the office service's address as ``From``, the client's address as ``Reply-To`` (answers go to
the firm, not to the service), a ``Message-ID`` in our domain, and attachments as
``application/pdf``. Sending uses :mod:`smtplib` directly: a synchronous SMTP client is all we
need and the standard library's is well kept.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from backoffice.config import SmtpSettings


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server (nothing was sent)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    media_type: str = "application/pdf"


def build_message(
    smtp: SmtpSettings,
    *,
    to: str,
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
) -> EmailMessage:
    """A plain-text message with attachments, ready for :func:`send`."""
    if not parseaddr(to)[1] or "@" not in parseaddr(to)[1]:
        raise MailError(f"no valid recipient address: {to!r}")
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    domain = parseaddr(smtp.sender)[1].rpartition("@")[2] or "backoffice.localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(body)
    for item in attachments:
        maintype, _, subtype = item.media_type.partition("/")
        msg.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


def send(smtp: SmtpSettings, messages: Sequence[EmailMessage]) -> None:
    """Deliver ``messages`` over one SMTP connection; raises :class:`MailError` on failure."""
    if not messages:
        return
    try:
        client: smtplib.SMTP
        if smtp.tls == "smtps":
            client = smtplib.SMTP_SSL(
                smtp.host,
                smtp.port,
                timeout=smtp.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password.get_secret_value())
            for msg in messages:
                client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from exc
