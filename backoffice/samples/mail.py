"""Sample e-mails: a sender's message to a client's post address with PDF attachments.

Half of a small firm's post now arrives by e-mail. Intake reads ``.eml`` files, routes them by
the ``To`` address and takes the PDF attachments as documents. The messages built here look like
what accounting software and people send (German subject and body, sometimes an HTML
alternative, a signature block), and are byte-for-byte reproducible: the date, Message-ID and
MIME boundaries are derived from the seed instead of the clock and the random module.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

BERLIN_WINTER = dt.timezone(dt.timedelta(hours=1))
BERLIN_SUMMER = dt.timezone(dt.timedelta(hours=2))


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes


def berlin_time(day: dt.date, hour: int, minute: int, second: int) -> dt.datetime:
    """A wall-clock time in Germany with the right UTC offset (summer time from late March)."""
    summer = dt.date(day.year, 3, 25) <= day < dt.date(day.year, 10, 25)
    return dt.datetime(
        day.year,
        day.month,
        day.day,
        hour,
        minute,
        second,
        tzinfo=BERLIN_SUMMER if summer else BERLIN_WINTER,
    )


def _address(display: str, email: str) -> Address:
    local, _, domain = email.partition("@")
    return Address(display_name=display, username=local, domain=domain)


def build_email(
    *,
    rng: random.Random,
    sender_name: str,
    sender_email: str,
    to_name: str,
    to_email: str,
    subject: str,
    body: str,
    attachments: list[Attachment],
    day: dt.date,
    html: bool,
) -> tuple[bytes, str]:
    """The raw message bytes and its Message-ID."""
    when = berlin_time(day, rng.randint(7, 18), rng.randint(0, 59), rng.randint(0, 59))
    domain = sender_email.partition("@")[2]
    message_id = f"<{when:%Y%m%d%H%M%S}.{rng.randrange(16**10):010x}@{domain}>"
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(sender_name, sender_email)
    msg["To"] = _address(to_name, to_email)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    msg["MIME-Version"] = "1.0"
    msg["X-Mailer"] = rng.choice(
        ("FakturaPlus Mailer 12", "Bürostar ERP 2025", "Webmail 8.4", "Outbox 16.0")
    )
    msg.set_content(body, charset="utf-8")
    if html:
        paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
        msg.add_alternative(
            f"<html><body>{paragraphs}</body></html>", subtype="html", charset="utf-8"
        )
    for attachment in attachments:
        msg.add_attachment(
            attachment.data, maintype="application", subtype="pdf", filename=attachment.filename
        )
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"----=_Part_{index}_{rng.randrange(16**12):012x}")
    return msg.as_bytes(), message_id
