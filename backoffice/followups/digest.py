"""The payables digest: an e-mail that tells a client what to pay before it is late.

Once a day (``flows/digest.py`` or ``backoffice followups digest``) every client with an e-mail
address gets one plain-text message listing

* open payables due within ``followups.digest_days_ahead`` days, and every overdue one,
* payables whose Skonto deadline falls in that window (paying early saves money even when the
  invoice itself is due later),
* payables a creditor has already sent a reminder for (urgent whatever their due date), and
* reminders that need the client: an invoice that never arrived, or proof of a payment.

Clients with nothing to pay get no mail. What was sent is known from the audit log
(``digest.sent`` per client and day), so a second run on the same day sends nothing again and no
table is needed for it. Each client's digest is sent and recorded on its own, so one bad address
does not hold back the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backoffice.archive.audit import record_event
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.display import date_de, money
from backoffice.followups.mailer import MailError, build_message, send
from backoffice.followups.queue import URGENT, reminder_note
from backoffice.models import (
    AuditEvent,
    Client,
    Document,
    DocumentStatus,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
)

log = logging.getLogger(__name__)

ACTION = "digest.sent"
ACTOR = "system:digest"
CENT = Decimal("0.01")


def creditor_name(followup: FollowUp) -> str:
    """Who the item is owed to (or by): the correspondent, else the name read on the document."""
    doc = followup.document
    if doc.correspondent is not None:
        return doc.correspondent.name
    return doc.field("seller_name") or doc.field("sender_name") or doc.title or "unbekannt"


@dataclass(frozen=True)
class DueItem:
    """One line of the digest (and of ``followups due``)."""

    followup_id: int
    client_id: int
    document_id: int
    kind: FollowUpKind
    due_date: date | None
    creditor: str
    reference: str | None
    outstanding: Decimal | None
    skonto_percent: Decimal | None = None
    skonto_until: date | None = None
    urgent: bool = False
    note: str | None = None

    def overdue(self, today: date) -> bool:
        return self.due_date is not None and self.due_date < today

    @property
    def skonto_amount(self) -> Decimal | None:
        """What to transfer when paying within the Skonto period."""
        if self.skonto_percent is None or self.outstanding is None:
            return None
        discount = (self.outstanding * self.skonto_percent / 100).quantize(CENT, ROUND_HALF_UP)
        return self.outstanding - discount

    def hint(self, today: date) -> str:
        """Short German remarks: overdue, reminded, Skonto still possible."""
        parts = []
        if self.overdue(today):
            parts.append("überfällig")
        if self.urgent:
            parts.append("gemahnt")
        if self.skonto_percent is not None and self.skonto_until and self.skonto_until >= today:
            parts.append(
                f"{self.skonto_percent.normalize():f} % Skonto bis {date_de(self.skonto_until)}: "
                f"{money(self.skonto_amount)}"
            )
        return ", ".join(parts)


def _item(f: FollowUp, note: str | None = None) -> DueItem:
    return DueItem(
        followup_id=f.id,
        client_id=f.client_id,
        document_id=f.document_id,
        kind=f.kind,
        due_date=f.due_date,
        creditor=creditor_name(f),
        reference=f.reference,
        outstanding=f.outstanding,
        skonto_percent=f.skonto_percent,
        skonto_until=f.skonto_until,
        urgent=f.priority >= URGENT,
        note=note,
    )


def _open(session: Session, kind: FollowUpKind, client_id: int | None) -> list[FollowUp]:
    stmt = (
        select(FollowUp)
        .join(Document, Document.id == FollowUp.document_id)
        .where(
            FollowUp.kind == kind,
            FollowUp.status == FollowUpStatus.OPEN,
            Document.status == DocumentStatus.FILED,
        )
        .options(
            selectinload(FollowUp.document).selectinload(Document.correspondent),
            selectinload(FollowUp.document).selectinload(Document.fields),
        )
        .order_by(FollowUp.due_date.asc().nulls_last(), FollowUp.id)
    )
    if client_id is not None:
        stmt = stmt.where(FollowUp.client_id == client_id)
    return list(session.scalars(stmt))


def due_items(
    session: Session,
    today: date,
    days: int,
    *,
    client_id: int | None = None,
    kind: FollowUpKind = FollowUpKind.PAYABLE,
) -> list[DueItem]:
    """Open items due by ``today + days`` (overdue included), with a Skonto deadline in that
    window, or reminded by the creditor; soonest first. Disputed and settled items are left
    out."""
    until = today + timedelta(days=days)
    items = []
    for f in _open(session, kind, client_id):
        if f.disputed or (f.outstanding is not None and f.outstanding <= 0):
            continue
        due_soon = f.due_date is not None and f.due_date <= until
        skonto_soon = f.skonto_until is not None and today <= f.skonto_until <= until
        if due_soon or skonto_soon or f.priority >= URGENT:
            items.append(_item(f))
    return items


def reminder_tasks(session: Session, *, client_id: int | None = None) -> list[DueItem]:
    """Open reminders that ask something of the client besides paying a listed payable:
    an invoice to request, a payment to prove."""
    tasks = []
    for f in _open(session, FollowUpKind.REMINDER, client_id):
        related = session.get(FollowUp, f.related_id) if f.related_id else None
        if related is not None and related.status != FollowUpStatus.DONE:
            continue  # open: the payable itself is listed, marked as reminded; or cancelled
        if related is not None and related.paid_on is not None:
            written = f.document.doc_date or f.created_at.date()
            if written <= related.paid_on:
                continue  # paid after the reminder was written: nothing left to prove
        note = f.note
        if related is not None:  # paid since the note was written: now it is about proof
            refs = [r.strip() for r in (f.reference or "").split(",") if r.strip()]
            note = reminder_note(f.document.field("dunning_stage") or "?", refs, related, set())
        tasks.append(_item(f, note=note))
    return tasks


@dataclass(frozen=True)
class Digest:
    """One client's message of the day."""

    client_id: int
    client_code: str
    to: str
    until: date
    payables: list[DueItem]
    reminders: list[DueItem]
    subject: str
    body: str

    @property
    def count(self) -> int:
        return len(self.payables) + len(self.reminders)


def _body(
    client: Client, today: date, until: date, payables: list[DueItem], tasks: list[DueItem]
) -> str:
    lines = ["Guten Tag,", ""]
    if payables:
        lines += [
            f"für {client.name} sind bis zum {date_de(until)} folgende Zahlungen fällig "
            "(überfällige und gemahnte eingeschlossen):",
            "",
            f"{'Fällig am':<11} {'Gläubiger':<30} {'Rechnung':<18} {'Offen':>14}  Hinweis",
            "-" * 90,
        ]
        for item in payables:
            lines.append(
                f"{date_de(item.due_date):<11} {item.creditor[:30]:<30} "
                f"{(item.reference or '–')[:18]:<18} {money(item.outstanding):>14}  "
                f"{item.hint(today)}".rstrip()
            )
        total = sum((i.outstanding or Decimal(0) for i in payables), Decimal(0))
        lines += ["-" * 90, f"{'Summe':<61} {money(total):>14}", ""]
    if tasks:
        lines += ["Mahnungen, die Ihre Mithilfe brauchen:", ""]
        for item in tasks:
            lines.append(f"- {item.creditor}: {item.note or 'bitte prüfen'}")
        lines.append("")
    lines += [
        "Die Belege finden Sie im Archiv-Portal unter „Fällig“.",
        "Bereits bezahlt? Dann antworten Sie bitte kurz auf diese E-Mail.",
        "",
        "Ihr Büroservice",
    ]
    return "\n".join(lines) + "\n"


def build_digests(
    session: Session, settings: Settings, today: date, *, skip_sent: bool = True
) -> list[Digest]:
    """The digests due today, one per client with an e-mail address and something to pay.

    ``skip_sent`` leaves out clients whose digest for ``today`` is already in the audit log.
    """
    days = settings.followups.digest_days_ahead
    until = today + timedelta(days=days)
    sent = already_sent(session, today) if skip_sent else set()
    digests = []
    for client in session.scalars(select(Client).order_by(Client.code)):
        if not client.email or client.id in sent:
            continue
        payables = due_items(session, today, days, client_id=client.id)
        tasks = reminder_tasks(session, client_id=client.id)
        count = len(payables) + len(tasks)
        if not count:
            continue
        digests.append(
            Digest(
                client_id=client.id,
                client_code=client.code,
                to=client.email,
                until=until,
                payables=payables,
                reminders=tasks,
                subject=f"Fällige Zahlungen bis {date_de(until)} – {count} Posten",
                body=_body(client, today, until, payables, tasks),
            )
        )
    return digests


def already_sent(session: Session, today: date) -> set[int]:
    """Clients whose digest for ``today`` has been sent (from the audit log)."""
    stmt = select(AuditEvent.client_id, AuditEvent.detail).where(AuditEvent.action == ACTION)
    return {
        client_id
        for client_id, detail in session.execute(stmt).tuples()
        if client_id is not None and (detail or {}).get("date") == today.isoformat()
    }


@dataclass
class DigestRun:
    """What one run did: digests sent, and clients whose message could not be delivered."""

    sent: list[Digest] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": {d.client_code: d.count for d in self.sent},
            "failed": dict(self.failed),
        }


def send_digests(ctx: Context, today: date | None = None) -> DigestRun:
    """Send today's digests that have not been sent yet; each is recorded once delivered."""
    today = today or date.today()
    with ctx.catalog.session() as session:
        digests = build_digests(session, ctx.settings, today)
    run = DigestRun()
    smtp = ctx.settings.smtp
    for digest in digests:
        try:
            message = build_message(smtp, to=digest.to, subject=digest.subject, body=digest.body)
            send(smtp, [message])
        except MailError as exc:
            log.warning("digest for %s not sent: %s", digest.client_code, exc)
            run.failed[digest.client_code] = str(exc)
            continue
        with ctx.catalog.session() as session:
            record_event(
                session,
                actor=ACTOR,
                action=ACTION,
                client_id=digest.client_id,
                detail={
                    "date": today.isoformat(),
                    "to": digest.to,
                    "subject": digest.subject,
                    "followups": [i.followup_id for i in [*digest.payables, *digest.reminders]],
                    "message_id": message["Message-ID"],
                },
            )
        run.sent.append(digest)
    return run
