"""The dunning run (Mahnwesen) for the clients' own overdue invoices (receivables).

Three steps, each its own function so the daily flow, the CLI and the portal share them:

1. :func:`propose_notices` looks at every open receivable and proposes the next stage when it is
   due (stage 1 ``stage_days[0]`` days after the due date, stage *n+1* ``stage_days[n]`` days
   after stage *n* went out). It never touches a disputed, settled or fully paid invoice, and
   cancels the proposals of items that were settled since the last run. Each stage exists at
   most once per receivable (one catalog row; a cancelled stage can be revived when an item is
   reopened, e.g. after a dispute was withdrawn).
2. :func:`approve` is the staff decision (one notice or many). Nothing leaves the house without
   it; items settled meanwhile are refused and cancelled.
3. :func:`dispatch` dates, renders and files each approved letter in the client's archive (a
   ``Document`` of type letter, subtype ``mahnung``, searchable like all post) and e-mails it to
   the debtor, or queues it for printing when no address is known.

Amounts (see :func:`charges`): the principal is what is still outstanding. From
``interest_from_stage`` on, §288 BGB default interest is added (:mod:`.interest`) and, when the
debtor is not a consumer, the 40 € Pauschale of §288 (5) once; from stage 2 on each letter adds
``letter_fee`` (the first notice, which puts the debtor in Verzug, is not reimbursable). Each
notice shows the whole claim up to its date, so fees are cumulative. A debtor whose kind is
unknown (no correspondent) is treated as a consumer: lower rate, no Pauschale — never more than
the law allows.

Open point: §288 (5) sentence 3 BGB credits the Pauschale against damages that are costs of
legal pursuit, which arguably include the letter fees. The charges follow the configured
practice (Pauschale plus letter fees); a strict reading sets ``letter_fee`` to 0.

"Mahnung" is the German term of art for a dunning letter; "Verzug" is default of payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from backoffice.archive.audit import record_event
from backoffice.archive.retention import retain_until
from backoffice.archive.storage import client_scope, content_key, sha256_hex
from backoffice.config import DunningSettings, Settings
from backoffice.context import Context
from backoffice.display import money
from backoffice.followups.interest import (
    BaseRateTable,
    Interest,
    default_interest,
    interest_start,
    load_table,
)
from backoffice.followups.letters import (
    DunningLetter,
    Letterhead,
    Recipient,
    letter_text,
    render,
    subject_for,
)
from backoffice.followups.mailer import Attachment, MailError, build_message, send
from backoffice.models import (
    Client,
    DocType,
    Document,
    DocumentStatus,
    DunningNotice,
    DunningStatus,
    ExtractedField,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Intake,
    IntakeStatus,
    utcnow,
)
from backoffice.portal.search import index_document

ACTOR = "system:dunning"
LAST_STAGE = 4
PENDING = (DunningStatus.PROPOSED, DunningStatus.APPROVED)
DISPATCHED = (DunningStatus.SENT, DunningStatus.PRINT)
LETTER_SUBTYPE = "mahnung"


def _moment(day: date) -> datetime:
    """A timestamp on ``day`` (now, when ``day`` is today): runs may be dated for tests/replays."""
    now = utcnow()
    return now if day == now.date() else datetime.combine(day, now.timetz())


def table_for(settings: Settings) -> BaseRateTable:
    """The Basiszins table in force: the configured file, else the shipped one."""
    return load_table(settings.dunning.base_rate_file)


# --- what may be dunned, and how much -------------------------------------------------------------


def not_dunnable(followup: FollowUp) -> str | None:
    """Why ``followup`` must not be dunned (German, shown to staff); ``None`` if it may."""
    if followup.kind != FollowUpKind.RECEIVABLE:
        return "keine eigene Rechnung"
    if followup.disputed:
        return "Rechnung ist bestritten"
    if followup.status != FollowUpStatus.OPEN or followup.settled_by:
        how = f" ({followup.settled_by})" if followup.settled_by else ""
        return f"Forderung ist erledigt{how}"
    outstanding = followup.outstanding
    if outstanding is None:
        return "Rechnungsbetrag unbekannt"
    if outstanding <= 0:
        return "Rechnung ist bezahlt"
    if followup.due_date is None:
        return "kein Fälligkeitsdatum"
    return None


def is_consumer(followup: FollowUp) -> bool:
    correspondent = followup.document.correspondent
    return True if correspondent is None else bool(correspondent.consumer)


def recipient_email(followup: FollowUp) -> str | None:
    """The debtor's address: the correspondent's, else the invoice's buyer e-mail, if any."""
    correspondent = followup.document.correspondent
    if correspondent is not None and correspondent.email:
        return correspondent.email
    return followup.document.field("buyer_email") or None


@dataclass(frozen=True)
class Charges:
    """The claim a notice states: principal, interest, Pauschale and letter fees."""

    principal: Decimal
    interest: Interest
    flat_fee: Decimal
    letter_fees: Decimal

    @property
    def fees(self) -> Decimal:
        return self.flat_fee + self.letter_fees

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest.amount + self.fees


def charges(
    cfg: DunningSettings,
    table: BaseRateTable,
    followup: FollowUp,
    stage: int,
    on: date,
    first_deadline: date | None,
) -> Charges:
    """What stage ``stage`` claims on ``on`` (see the module docstring for the rules)."""
    principal = followup.outstanding or Decimal("0.00")
    consumer = is_consumer(followup)
    interest = Interest(principal, ())
    flat_fee = Decimal("0.00")
    if stage >= cfg.interest_from_stage and followup.due_date is not None:
        start = interest_start(followup.due_date, first_deadline, consumer)
        if start is not None:
            interest = default_interest(principal, start, on, consumer, table)
        if not consumer:
            flat_fee = cfg.flat_fee_b2b
    letter_fees = cfg.letter_fee * max(0, stage - 1)
    return Charges(principal, interest, flat_fee, letter_fees)


def _first_deadline(notices: Iterable[DunningNotice]) -> date | None:
    """The payment deadline of the first notice that went out (it puts the debtor in Verzug)."""
    sent = sorted((n for n in notices if n.status in DISPATCHED), key=lambda n: n.stage)
    return sent[0].deadline if sent else None


def _went_out(notice: DunningNotice) -> date:
    when = notice.sent_at or notice.approved_at or notice.proposed_at
    return when.date()


def next_stage(
    cfg: DunningSettings, followup: FollowUp, notices: Sequence[DunningNotice], today: date
) -> int | None:
    """The stage due on ``today``, or ``None`` (not yet, one is pending, or the last went out)."""
    if any(n.status in PENDING for n in notices):
        return None
    sent = [n for n in notices if n.status in DISPATCHED]
    if not sent:
        assert followup.due_date is not None
        stage, ready = 1, followup.due_date + timedelta(days=cfg.stage_days[0])
    else:
        last = max(sent, key=lambda n: n.stage)
        if last.stage >= LAST_STAGE:
            return None
        stage = last.stage + 1
        wait = cfg.stage_days[min(last.stage, len(cfg.stage_days) - 1)]
        ready = _went_out(last) + timedelta(days=wait)
    return stage if today >= ready else None


# --- step 1: proposals ----------------------------------------------------------------------------


@dataclass
class ProposalRun:
    proposed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[int]]:
        return {"proposed": self.proposed, "cancelled": self.cancelled}


def _notices_by_followup(session: Session, ids: Sequence[int]) -> dict[int, list[DunningNotice]]:
    found: dict[int, list[DunningNotice]] = {i: [] for i in ids}
    if ids:
        for notice in session.scalars(
            select(DunningNotice)
            .where(DunningNotice.followup_id.in_(ids))
            .order_by(DunningNotice.stage)
        ):
            found[notice.followup_id].append(notice)
    return found


def _cancel(session: Session, notice: DunningNotice, reason: str, actor: str) -> None:
    notice.status = DunningStatus.CANCELLED
    record_event(
        session,
        actor=actor,
        action="dunning.cancelled",
        client_id=notice.client_id,
        detail={"notice": notice.id, "stage": notice.stage, "reason": reason},
    )


def _price(
    settings: Settings,
    table: BaseRateTable,
    notice: DunningNotice,
    followup: FollowUp,
    on: date,
    first_deadline: date | None,
) -> None:
    """Write the claim as of ``on`` (the letter's date) and the new deadline into ``notice``."""
    cfg = settings.dunning
    c = charges(cfg, table, followup, notice.stage, on, first_deadline)
    notice.principal = c.principal
    notice.interest = c.interest.amount
    notice.fees = c.fees
    notice.interest_until = on
    notice.deadline = on + timedelta(days=cfg.deadline_days)
    notice.recipient_email = recipient_email(followup)


def propose_notices(session: Session, settings: Settings, today: date) -> ProposalRun:
    """Propose every stage due on ``today``; cancel pending notices of settled items."""
    table = table_for(settings)
    run = ProposalRun()
    followups = list(
        session.scalars(
            select(FollowUp)
            .where(
                FollowUp.kind == FollowUpKind.RECEIVABLE,
                or_(
                    FollowUp.status == FollowUpStatus.OPEN,
                    FollowUp.id.in_(
                        select(DunningNotice.followup_id).where(DunningNotice.status.in_(PENDING))
                    ),
                ),
            )
            .options(
                selectinload(FollowUp.document).selectinload(Document.correspondent),
                selectinload(FollowUp.document).selectinload(Document.fields),
            )
            .order_by(FollowUp.id)
        )
    )
    notices = _notices_by_followup(session, [f.id for f in followups])
    for followup in followups:
        mine = notices[followup.id]
        reason = not_dunnable(followup)
        if reason is not None:
            for notice in mine:
                if notice.status in PENDING:
                    _cancel(session, notice, reason, ACTOR)
                    run.cancelled.append(notice.id)
            continue
        stage = next_stage(settings.dunning, followup, mine, today)
        if stage is None:
            continue
        revived = next((n for n in mine if n.stage == stage), None)
        notice = revived or DunningNotice(
            client_id=followup.client_id, followup_id=followup.id, stage=stage
        )
        if revived is None:
            session.add(notice)
        notice.status = DunningStatus.PROPOSED
        notice.proposed_at = _moment(today)
        notice.approved_by = notice.approved_at = notice.sent_at = None
        _price(settings, table, notice, followup, today, _first_deadline(mine))
        session.flush()
        run.proposed.append(notice.id)
    record_event(
        session,
        actor=ACTOR,
        action="dunning.run",
        detail={"today": today.isoformat(), **run.as_dict()},
    )
    return run


def run_proposals(ctx: Context, today: date | None = None) -> ProposalRun:
    """:func:`propose_notices` in its own transaction (what the daily flow calls)."""
    with ctx.catalog.session() as session:
        return propose_notices(session, ctx.settings, today or date.today())


# --- step 2: approval -----------------------------------------------------------------------------


@dataclass
class Approval:
    approved: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def approve(
    session: Session, notice_ids: Iterable[int], actor: str, today: date | None = None
) -> Approval:
    """Approve proposed notices (one or many); settled or disputed items are refused."""
    result = Approval()
    when = _moment(today or date.today())
    for notice_id in dict.fromkeys(notice_ids):
        notice = session.get(DunningNotice, notice_id)
        if notice is None:
            result.refused[notice_id] = "unbekannt"
            continue
        if notice.status != DunningStatus.PROPOSED:
            result.refused[notice_id] = f"nicht mehr vorgeschlagen ({notice.status.value})"
            continue
        followup = session.get_one(FollowUp, notice.followup_id)
        reason = not_dunnable(followup)
        if reason is not None:
            _cancel(session, notice, reason, actor)
            result.refused[notice_id] = reason
            continue
        notice.status = DunningStatus.APPROVED
        notice.approved_by = actor
        notice.approved_at = when
        record_event(
            session,
            actor=actor,
            action="dunning.approved",
            client_id=notice.client_id,
            document_id=followup.document_id,
            detail={"notice": notice.id, "stage": notice.stage, "total": str(notice.total)},
        )
        result.approved.append(notice_id)
    return result


def proposed_ids(session: Session, client_code: str | None = None) -> list[int]:
    """Ids of all proposed notices (of one client, if given): for "approve all"."""
    stmt = select(DunningNotice.id).where(DunningNotice.status == DunningStatus.PROPOSED)
    if client_code is not None:
        stmt = stmt.join(Client, Client.id == DunningNotice.client_id).where(
            Client.code == client_code
        )
    return list(session.scalars(stmt.order_by(DunningNotice.id)))


# --- step 3: letters, filing, sending -------------------------------------------------------------


def _letterhead(client: Client) -> Letterhead:
    return Letterhead(
        name=client.name,
        street=client.street,
        zip=client.zip,
        city=client.city,
        email=client.email,
        phone=client.phone,
        iban=client.iban,
        bic=client.bic,
        vat_id=client.vat_id,
    )


def _recipient(followup: FollowUp) -> Recipient:
    doc = followup.document
    c = doc.correspondent
    if c is not None:
        return Recipient(name=c.name, street=c.street, zip=c.zip, city=c.city)
    return Recipient(name=doc.field("buyer_name") or "Kundin/Kunde")


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def invoice_number(followup: FollowUp) -> str:
    return (
        followup.reference or followup.document.field("invoice_number") or f"{followup.document_id}"
    )


def letter_for(session: Session, settings: Settings, notice: DunningNotice) -> DunningLetter:
    """The letter of ``notice`` as dated by its ``interest_until`` (proposal or dispatch day)."""
    followup = session.get_one(FollowUp, notice.followup_id)
    client = session.get_one(Client, notice.client_id)
    others = _notices_by_followup(session, [followup.id])[followup.id]
    c = charges(
        settings.dunning,
        table_for(settings),
        followup,
        notice.stage,
        notice.interest_until,
        _first_deadline(n for n in others if n.stage < notice.stage),
    )
    doc = followup.document
    return DunningLetter(
        stage=notice.stage,
        sender=_letterhead(client),
        recipient=_recipient(followup),
        letter_date=notice.interest_until,
        invoice_number=invoice_number(followup),
        invoice_date=_iso(doc.field("issue_date")) or doc.doc_date,
        due_date=followup.due_date or notice.interest_until,
        invoice_amount=followup.amount or c.principal,
        paid=followup.paid_amount or Decimal("0.00"),
        interest=c.interest,
        flat_fee=c.flat_fee,
        letter_fees=c.letter_fees,
        deadline=notice.deadline,
        customer_number=doc.field("customer_number"),
    )


def preview_pdf(session: Session, settings: Settings, notice_id: int) -> bytes:
    """The letter as it stands (the filed one once it exists), for staff to look at."""
    notice = session.get_one(DunningNotice, notice_id)
    return render(letter_for(session, settings, notice)).pdf


def _file_letter(
    ctx: Context, session: Session, notice: DunningNotice, letter: DunningLetter
) -> bytes:
    """Store the PDF in the client's archive and catalog it as a filed letter document."""
    followup = session.get_one(FollowUp, notice.followup_id)
    client = session.get_one(Client, notice.client_id)
    rendered = render(letter)
    pdf, digest = rendered.pdf, sha256_hex(rendered.pdf)
    until = retain_until(DocType.LETTER, letter.letter_date, letter.letter_date)
    key = content_key(client_scope(client.code), "originals", digest, ".pdf")
    ctx.store.put(key, pdf, content_type="application/pdf", retain_until=until)
    title = f"{letter.subject} – Rechnung {letter.invoice_number}"
    intake = Intake(
        sha256=digest,
        size=len(pdf),
        source="dunning",
        source_ref=f"dunning-notice:{notice.id}",
        filename=f"mahnung-{notice.id}-stufe-{notice.stage}.pdf",
        media_type="application/pdf",
        storage_key=key,
        status=IntakeStatus.SPLIT,
        client_hint=client.code,
        page_count=rendered.pages,
    )
    session.add(intake)
    session.flush()
    doc = Document(
        intake_id=intake.id,
        client_id=client.id,
        correspondent_id=followup.document.correspondent_id,
        first_page=1,
        page_count=rendered.pages,
        pages=list(range(1, rendered.pages + 1)),
        sha256=digest,
        status=DocumentStatus.FILED,
        doc_type=DocType.LETTER,
        subtype=LETTER_SUBTYPE,
        type_confidence=1.0,
        type_scores={DocType.LETTER.value: 1.0},
        route_confidence=1.0,
        route_reason="eigener Mahnlauf",
        title=title[:300],
        doc_date=letter.letter_date,
        text=letter_text(letter),
        text_source="layer",
        original_key=key,
        searchable_key=key,
        retain_until=until,
    )
    session.add(doc)
    session.flush()
    facts = {
        "subject": letter.subject,
        "letter_date": letter.letter_date.isoformat(),
        "referenced_invoice_numbers": letter.invoice_number,
        "amount_outstanding": f"{letter.total:.2f}",
        "new_deadline": letter.deadline.isoformat(),
        "dunning_stage": str(notice.stage),
    }
    for name, value in facts.items():
        session.add(
            ExtractedField(
                document_id=doc.id, name=name, value=value, confidence=1.0, source="text"
            )
        )
    notice.letter_key = key
    notice.letter_document_id = doc.id
    index_document(session, doc)
    record_event(
        session,
        actor=ACTOR,
        action="dunning.filed",
        client_id=client.id,
        document_id=doc.id,
        detail={
            "notice": notice.id,
            "stage": notice.stage,
            "invoice_document_id": followup.document_id,
            "key": key,
            "retain_until": until.isoformat(),
        },
    )
    return pdf


def _mail_body(letter: DunningLetter) -> str:
    return (
        "Sehr geehrte Damen und Herren,\n\n"
        f"anbei erhalten Sie unser Schreiben „{letter.subject}“ zu unserer Rechnung "
        f"{letter.invoice_number} als PDF.\n\n"
        f"Offener Gesamtbetrag: {money(letter.total)}\n"
        f"Zahlbar bis: {letter.deadline:%d.%m.%Y}\n\n"
        "Haben Sie bereits gezahlt oder Fragen zur Rechnung? Antworten Sie bitte einfach auf "
        "diese E-Mail.\n\n"
        f"Mit freundlichen Grüßen\n{letter.sender.name}\n"
    )


@dataclass
class Dispatch:
    sent: list[int] = field(default_factory=list)
    printed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "printed": self.printed,
            "cancelled": self.cancelled,
            "failed": {str(k): v for k, v in self.failed.items()},
        }


def dispatch_notice(ctx: Context, notice_id: int, today: date) -> str:
    """File and send (or queue for print) one approved notice; returns what happened.

    The letter is dated ``today``: claim and deadline are recomputed for that day, then the
    letter is filed (committed) before the mail goes out. When sending fails the notice stays
    approved with its filed letter, and the next dispatch sends that same letter again.
    """
    settings = ctx.settings
    with ctx.catalog.session() as session:
        notice = session.get_one(DunningNotice, notice_id)
        if notice.status != DunningStatus.APPROVED:
            return "skipped"
        followup = session.get_one(FollowUp, notice.followup_id)
        reason = not_dunnable(followup)
        if reason is not None:
            _cancel(session, notice, reason, ACTOR)
            return "cancelled"
        if notice.letter_document_id is None:
            others = _notices_by_followup(session, [followup.id])[followup.id]
            first = _first_deadline(n for n in others if n.stage < notice.stage)
            _price(settings, table_for(settings), notice, followup, today, first)
            letter = letter_for(session, settings, notice)
            pdf = _file_letter(ctx, session, notice, letter)
        else:
            letter = letter_for(session, settings, notice)
            pdf = ctx.store.get(notice.letter_key or "")
        notice.recipient_email = to = recipient_email(followup)
        client_email = session.get_one(Client, notice.client_id).email
    if to:
        message = build_message(
            settings.smtp,
            to=to,
            subject=f"{letter.subject} – Rechnung {letter.invoice_number}",
            body=_mail_body(letter),
            attachments=[
                Attachment(f"{subject_for(notice.stage)} {letter.invoice_number}.pdf", pdf)
            ],
            reply_to=client_email,
        )
        send(settings.smtp, [message])
    with ctx.catalog.session() as session:
        notice = session.get_one(DunningNotice, notice_id)
        if to:
            notice.status = DunningStatus.SENT
            notice.sent_at = _moment(today)
        else:
            notice.status = DunningStatus.PRINT
        record_event(
            session,
            actor=ACTOR,
            action="dunning.sent" if to else "dunning.print_queued",
            client_id=notice.client_id,
            document_id=notice.letter_document_id,
            detail={"notice": notice.id, "stage": notice.stage, "to": to},
        )
    return "sent" if to else "print"


def dispatch(ctx: Context, today: date | None = None) -> Dispatch:
    """Dispatch every approved notice; one failing mail does not stop the others."""
    day = today or date.today()
    with ctx.catalog.session() as session:
        ids = list(
            session.scalars(
                select(DunningNotice.id)
                .where(DunningNotice.status == DunningStatus.APPROVED)
                .order_by(DunningNotice.id)
            )
        )
    result = Dispatch()
    for notice_id in ids:
        try:
            outcome = dispatch_notice(ctx, notice_id, day)
        except MailError as exc:
            result.failed[notice_id] = str(exc)
            with ctx.catalog.session() as session:
                record_event(
                    session,
                    actor=ACTOR,
                    action="dunning.send_failed",
                    detail={"notice": notice_id, "error": str(exc)},
                )
            continue
        if outcome == "sent":
            result.sent.append(notice_id)
        elif outcome == "print":
            result.printed.append(notice_id)
        elif outcome == "cancelled":
            result.cancelled.append(notice_id)
    return result


# --- listings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeView:
    """One notice with what staff need to decide on it."""

    id: int
    client_code: str
    debtor: str
    reference: str
    stage: int
    subject: str
    status: DunningStatus
    principal: Decimal
    interest: Decimal
    fees: Decimal
    total: Decimal
    deadline: date
    recipient_email: str | None
    letter_document_id: int | None


def list_notices(
    session: Session,
    statuses: Sequence[DunningStatus] | None = None,
    client_code: str | None = None,
) -> list[NoticeView]:
    stmt = (
        select(DunningNotice, FollowUp, Client)
        .join(FollowUp, FollowUp.id == DunningNotice.followup_id)
        .join(Client, Client.id == DunningNotice.client_id)
        .options(selectinload(FollowUp.document).selectinload(Document.correspondent))
        .order_by(Client.code, DunningNotice.id)
    )
    if statuses:
        stmt = stmt.where(DunningNotice.status.in_(list(statuses)))
    if client_code:
        stmt = stmt.where(Client.code == client_code)
    views = []
    for notice, followup, client in session.execute(stmt).tuples():
        views.append(
            NoticeView(
                id=notice.id,
                client_code=client.code,
                debtor=_recipient(followup).name,
                reference=invoice_number(followup),
                stage=notice.stage,
                subject=subject_for(notice.stage),
                status=notice.status,
                principal=notice.principal,
                interest=notice.interest,
                fees=notice.fees,
                total=notice.total,
                deadline=notice.deadline,
                recipient_email=notice.recipient_email,
                letter_document_id=notice.letter_document_id,
            )
        )
    return views
