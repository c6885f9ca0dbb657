"""The catalog side of the bookkeeping: stored proposals, approval, correction, DATEV export.

:mod:`~backoffice.exports.bookkeeping` proposes bookings and :mod:`~backoffice.exports.datev`
writes files; both are pure. This module keeps their results in the catalog
(:class:`~backoffice.models.BookingEntry`, :class:`~backoffice.models.PersonalAccount`,
:class:`~backoffice.models.BookingExport`) and files the exports in the archive. The life of a
booking:

``proposed`` → (correct …) → ``approved`` → ``exported`` (locked)

- :func:`propose_pending` proposes bookings for every filed invoice of a client that has none
  yet. Incoming or outgoing is read from the invoice's follow-up (``payable`` = an invoice the
  client received, ``receivable`` = one the client wrote). Personal accounts (Kreditor/
  Debitor numbers) are stored per correspondent, so a supplier keeps its number across runs
  and processes; the expense/revenue account learns from the client's approved and exported
  bookings, where an accountant's correction outranks everything (``source = accountant``).
  Invoices that cannot be booked safely are reported and audited, never guessed.
- :func:`approve` and :func:`correct` are the accountant's (or staff's) decisions. Before
  export a correction edits the row in place and sends it back to ``proposed``, so that an
  approval always refers to the data that is exported. After export the row is locked (GoBD:
  nothing changes without a trace); a correction then adds a *reversal* (same data, opposite
  Soll/Haben side, ``source = reversal``) and the *corrected* booking, both superseding the
  old one and both exported with a later batch.
- :func:`export_period` writes the approved, not yet exported bookings of a period: the EXTF
  Buchungsstapel, the Debitoren/Kreditoren master data of the personal accounts used, and a
  ZIP of the documents, filed write-once under ``clients/<CODE>/exports/<YYYY-MM>/`` where the
  portal offers them to the accountant. Each booking is exported exactly once.

**Document link (Beleglink).** DATEV's Beleglink syntax is ``BEDI "<GUID>"`` (brief §1.4). Each
document gets a GUID derived from the client and the document's content hash (UUID version 5,
so the same document always gets the same GUID), and the ZIP holds the document as
``<Belegfeld 1>_<GUID>.<ext>`` (characters other than letters, digits and ``-`` in the
Belegfeld become ``_``): sorted by invoice number for a person, and the GUID after the last
``_`` is exactly the one in the booking's Beleglink. A ``Belege.csv`` index (GUID, file,
Belegfeld 1, Belegdatum, Buchungstext) lies beside them. Whether DATEV links the images by
this GUID on import depends on the accountant's import path [U].

**Belegfeld 1** is stored normalised (what the file will contain, ≤36 characters); the raw
invoice number is taken from the document at export time and kept in a Beleginfo field by the
writer when it differs.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from backoffice.archive.audit import record_event
from backoffice.archive.storage import client_scope
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.exports.bookkeeping import (
    InvoiceFacts,
    PastBooking,
    ProposalError,
    propose_bookings,
)
from backoffice.exports.datev import (
    Booking,
    ExportError,
    ExtfHeader,
    PersonalAccountRecord,
    clean_text,
    normalise_belegfeld,
    write_buchungsstapel,
    write_debitoren_kreditoren,
)
from backoffice.models import (
    BookingEntry,
    BookingExport,
    BookingStatus,
    Client,
    Correspondent,
    DocType,
    Document,
    DocumentStatus,
    FollowUp,
    FollowUpKind,
    PersonalAccount,
    utcnow,
)

__all__ = [
    "BELEGLINK_NAMESPACE",
    "ExportResult",
    "LedgerError",
    "NothingToExportError",
    "ProposalRun",
    "approve",
    "client_codes",
    "correct",
    "document_guid",
    "export_month",
    "export_period",
    "month_period",
    "pending_ids",
    "previous_month",
    "propose_client",
    "propose_pending",
    "reject",
]

BELEGLINK_NAMESPACE = uuid.UUID("5d0c7a52-3f3e-4b8e-9a51-6c1f0b7e2d41")
"""Namespace of the document GUIDs (fixed: changing it would change every Beleglink)."""

DIRECTIONS: dict[FollowUpKind, bool] = {FollowUpKind.PAYABLE: True, FollowUpKind.RECEIVABLE: False}
"""Follow-up kind → ``incoming``: a payable is an invoice to the client, a receivable its own."""

_TAX_RATE_BY_BU: dict[str, Decimal] = {
    "9": Decimal(19),
    "8": Decimal(7),
    "3": Decimal(19),
    "2": Decimal(7),
}
"""The VAT rate a stored booking was taxed at, read back from its BU-Schlüssel (for history)."""

_LOCKED = (BookingStatus.EXPORTED, BookingStatus.REJECTED)


class LedgerError(ValueError):
    """A booking operation that is not allowed or not possible (German message for people)."""


class NothingToExportError(LedgerError):
    """No approved, not yet exported booking in the period: no (empty) export is written."""


# --------------------------------------------------------------------------- proposing


@dataclass
class ProposalRun:
    """What one :func:`propose_pending` run did for one client."""

    client_code: str
    created: list[int] = field(default_factory=list)
    """Ids of the new bookings."""
    documents: list[int] = field(default_factory=list)
    """Documents that got bookings."""
    failed: dict[int, str] = field(default_factory=dict)
    """Document id → why it cannot be booked automatically (for a person)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client_code,
            "bookings": len(self.created),
            "documents": len(self.documents),
            "failed": {str(k): v for k, v in self.failed.items()},
        }


def _unbooked_invoices(session: Session, client_id: int) -> list[tuple[Document, bool | None]]:
    """Filed invoices of the client without any booking, with their direction (None: unknown)."""
    has_booking = exists().where(BookingEntry.document_id == Document.id)
    docs = list(
        session.scalars(
            select(Document)
            .where(
                Document.client_id == client_id,
                Document.status == DocumentStatus.FILED,
                Document.doc_type == DocType.INVOICE,
                ~has_booking,
            )
            .options(selectinload(Document.fields), selectinload(Document.correspondent))
            .order_by(Document.doc_date, Document.id)
        )
    )
    kinds: dict[int, set[FollowUpKind]] = {}
    if docs:
        for doc_id, kind in session.execute(
            select(FollowUp.document_id, FollowUp.kind).where(
                FollowUp.client_id == client_id,
                FollowUp.document_id.in_([d.id for d in docs]),
                FollowUp.kind.in_(list(DIRECTIONS)),
            )
        ).tuples():
            kinds.setdefault(doc_id, set()).add(kind)
    result: list[tuple[Document, bool | None]] = []
    for doc in docs:
        found = {DIRECTIONS[k] for k in kinds.get(doc.id, set())}
        result.append((doc, found.pop() if len(found) == 1 else None))
    return result


def _registry(session: Session, client_id: int) -> dict[Hashable, int]:
    """The client's stored personal accounts as ``propose_bookings`` expects them."""
    rows = session.execute(
        select(PersonalAccount.kind, PersonalAccount.key, PersonalAccount.number).where(
            PersonalAccount.client_id == client_id
        )
    ).tuples()
    return {(kind, key): number for kind, key, number in rows}


def _history(session: Session, client_id: int) -> list[PastBooking]:
    """The client's approved and exported bookings as history for the account choice.

    Reversals and bookings that a later correction superseded are left out: they record
    what was wrong. A booking an accountant corrected counts as a staff decision.
    """
    people = {
        number: (kind, key)
        for kind, key, number in session.execute(
            select(PersonalAccount.kind, PersonalAccount.key, PersonalAccount.number).where(
                PersonalAccount.client_id == client_id
            )
        ).tuples()
    }
    superseded = set(
        session.scalars(
            select(BookingEntry.supersedes_id).where(
                BookingEntry.client_id == client_id, BookingEntry.supersedes_id.is_not(None)
            )
        )
    )
    entries = session.scalars(
        select(BookingEntry).where(
            BookingEntry.client_id == client_id,
            BookingEntry.status.in_([BookingStatus.APPROVED, BookingStatus.EXPORTED]),
            BookingEntry.source != "reversal",
        )
    )
    history: list[PastBooking] = []
    for entry in entries:
        if entry.id in superseded:
            continue
        if entry.account in people:
            (kind, key), account = people[entry.account], entry.contra_account
        elif entry.contra_account in people:
            (kind, key), account = people[entry.contra_account], entry.account
        else:
            continue
        history.append(
            PastBooking(
                correspondent_key=key,
                account=account,
                booked_on=entry.document_date,
                source="staff" if entry.source == "accountant" else "machine",
                incoming=kind == "kreditor",
                vat_rate=_TAX_RATE_BY_BU.get(entry.bu_key or ""),
            )
        )
    return history


def _record_failure(
    session: Session, client: Client, document: Document, reason: str, actor: str
) -> None:
    """Audit an invoice that cannot be booked, once per distinct reason (runs are repeated)."""
    from backoffice.models import AuditEvent

    last = session.scalar(
        select(AuditEvent.detail)
        .where(
            AuditEvent.client_id == client.id,
            AuditEvent.document_id == document.id,
            AuditEvent.action == "booking.proposal_failed",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if last is not None and last.get("reason") == reason:
        return
    record_event(
        session,
        actor=actor,
        action="booking.proposal_failed",
        client_id=client.id,
        document_id=document.id,
        detail={"reason": reason},
    )


def _store_personal_accounts(
    session: Session,
    client: Client,
    document: Document,
    facts: InvoiceFacts,
    before: set[Hashable],
    registry: dict[Hashable, int],
) -> None:
    for registry_key in set(registry) - before:
        assert isinstance(registry_key, tuple)
        kind, key = str(registry_key[0]), str(registry_key[1])
        session.add(
            PersonalAccount(
                client_id=client.id,
                kind=kind,
                key=key,
                number=registry[registry_key],
                name=clean_text(
                    (document.correspondent.name if document.correspondent else None)
                    or facts.counterpart
                    or key,
                    200,
                ),
                correspondent_id=document.correspondent_id,
            )
        )


def _entry(client: Client, document: Document, booking: Booking) -> BookingEntry:
    return BookingEntry(
        client_id=client.id,
        document_id=document.id,
        status=BookingStatus.PROPOSED,
        amount=booking.amount,
        debit_credit=booking.debit_credit,
        account=booking.account,
        contra_account=booking.contra_account,
        bu_key=booking.bu_key,
        document_date=booking.document_date,
        belegfeld1=normalise_belegfeld(booking.belegfeld1),
        belegfeld2=booking.belegfeld2,
        text=clean_text(booking.text, 60),
        service_date=booking.service_date,
        due_date=booking.due_date,
        source="proposal",
    )


def propose_pending(
    session: Session, client: Client, settings: Settings, *, actor: str = "system:bookkeeping"
) -> ProposalRun:
    """Propose bookings for every filed invoice of ``client`` that has none yet (idempotent).

    Each invoice is proposed in its own savepoint: two processes proposing at the same time
    may both hand out the next Kreditor number; the unique constraint stops the second, which
    reloads the stored numbers and tries once more, so a number is never given twice.
    """
    run = ProposalRun(client.code)
    history = _history(session, client.id)
    registry = _registry(session, client.id)
    for document, incoming in _unbooked_invoices(session, client.id):
        if incoming is None:
            reason = "Eingangs- oder Ausgangsrechnung? Keine eindeutige Zahlung/Forderung dazu."
            run.failed[document.id] = reason
            _record_failure(session, client, document, reason, actor)
            continue
        for attempt in (1, 2):
            before = set(registry)
            try:
                facts = InvoiceFacts.from_document(document, incoming=incoming)
                bookings = propose_bookings(
                    facts,
                    chart=client.chart,
                    history=history,
                    personal_accounts=registry,
                    account_length=settings.bookkeeping.account_length,
                )
                entries = [_entry(client, document, b) for b in bookings]
                with session.begin_nested():
                    _store_personal_accounts(session, client, document, facts, before, registry)
                    session.add_all(entries)
                    session.flush()
            except (ProposalError, ExportError) as exc:
                run.failed[document.id] = str(exc)
                _record_failure(session, client, document, str(exc), actor)
            except IntegrityError:
                registry.clear()
                registry.update(_registry(session, client.id))
                if attempt == 2:
                    raise
                continue
            else:
                run.created.extend(e.id for e in entries)
                run.documents.append(document.id)
                record_event(
                    session,
                    actor=actor,
                    action="booking.proposed",
                    client_id=client.id,
                    document_id=document.id,
                    detail={
                        "bookings": [e.id for e in entries],
                        "accounts": [[e.account, e.contra_account] for e in entries],
                    },
                )
            break
    return run


def propose_client(ctx: Context, client_code: str) -> ProposalRun:
    """:func:`propose_pending` for one client in its own transaction (flows and commands)."""
    with ctx.catalog.session() as session:
        client = _client(session, client_code)
        return propose_pending(session, client, ctx.settings)


def client_codes(ctx: Context) -> list[str]:
    with ctx.catalog.session() as session:
        return list(session.scalars(select(Client.code).order_by(Client.code)))


def _client(session: Session, code: str) -> Client:
    client = session.scalar(select(Client).where(Client.code == code))
    if client is None:
        raise LedgerError(f"Mandant {code!r} unbekannt.")
    return client


# --------------------------------------------------------------------------- decisions


def _load(session: Session, ids: Iterable[int], client_id: int | None) -> list[BookingEntry]:
    wanted = sorted(set(ids))
    stmt = select(BookingEntry).where(BookingEntry.id.in_(wanted)).order_by(BookingEntry.id)
    if client_id is not None:
        stmt = stmt.where(BookingEntry.client_id == client_id)
    found = list(session.scalars(stmt.with_for_update()))
    missing = sorted(set(wanted) - {e.id for e in found})
    if missing:
        raise LedgerError(f"Buchung(en) {', '.join(map(str, missing))} nicht gefunden.")
    return found


def pending_ids(session: Session, client_id: int) -> list[int]:
    """Ids of the client's proposals waiting for approval."""
    return list(
        session.scalars(
            select(BookingEntry.id)
            .where(
                BookingEntry.client_id == client_id,
                BookingEntry.status == BookingStatus.PROPOSED,
            )
            .order_by(BookingEntry.id)
        )
    )


def approve(
    session: Session,
    ids: Iterable[int],
    actor: str,
    *,
    client_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Approve proposals for export; returns the ids that changed (approved ones stay as they are).

    Exported or rejected bookings cannot be approved (again): that raises :class:`LedgerError`
    and approves nothing. ``client_id`` limits the ids to one client (callers acting for a user
    pass it, so an id of another client is "not found").
    """
    entries = _load(session, ids, client_id)
    locked = [e.id for e in entries if e.status in _LOCKED]
    if locked:
        raise LedgerError(
            f"Buchung(en) {', '.join(map(str, locked))} sind exportiert oder verworfen."
        )
    moment = now or utcnow()
    changed: list[int] = []
    for entry in entries:
        if entry.status == BookingStatus.APPROVED:
            continue
        entry.status = BookingStatus.APPROVED
        entry.approved_by = actor
        entry.approved_at = moment
        changed.append(entry.id)
        record_event(
            session,
            actor=actor,
            action="booking.approved",
            client_id=entry.client_id,
            document_id=entry.document_id,
            detail={"booking": entry.id},
        )
    session.flush()
    return changed


def reject(
    session: Session, booking_id: int, actor: str, *, note: str, client_id: int | None = None
) -> BookingEntry:
    """Discard a proposal that should not be booked at all (e.g. a duplicate invoice)."""
    (entry,) = _load(session, [booking_id], client_id)
    if entry.status in _LOCKED:
        raise LedgerError(f"Buchung {entry.id} ist exportiert oder verworfen.")
    entry.status = BookingStatus.REJECTED
    entry.note = clean_text(note, 500) or None
    record_event(
        session,
        actor=actor,
        action="booking.rejected",
        client_id=entry.client_id,
        document_id=entry.document_id,
        detail={"booking": entry.id, "note": entry.note},
    )
    return entry


_UNSET: Any = object()
_EDITABLE = (
    "amount",
    "debit_credit",
    "account",
    "contra_account",
    "bu_key",
    "document_date",
    "text",
    "service_date",
    "due_date",
)


def _validated(values: dict[str, Any], belegfeld1: str) -> None:
    """Refuse values DATEV would reject, before anything is stored."""
    try:
        Booking(
            amount=Decimal(values["amount"]),
            debit_credit=values["debit_credit"],
            account=values["account"],
            contra_account=values["contra_account"],
            bu_key=values["bu_key"],
            document_date=values["document_date"],
            belegfeld1=belegfeld1,
            text=values["text"],
            service_date=values["service_date"],
            due_date=values["due_date"],
        )
    except ExportError as exc:
        raise LedgerError(f"Ungültige Buchung: {exc}") from exc
    if len(values["text"]) > 60:
        raise LedgerError("Buchungstext: höchstens 60 Zeichen.")


def _copy(entry: BookingEntry, **changes: Any) -> BookingEntry:
    data = {name: getattr(entry, name) for name in _EDITABLE}
    data.update(changes)
    return BookingEntry(
        client_id=entry.client_id,
        document_id=entry.document_id,
        status=BookingStatus.PROPOSED,
        belegfeld1=entry.belegfeld1,
        belegfeld2=entry.belegfeld2,
        supersedes_id=entry.id,
        **data,
    )


def correct(
    session: Session,
    booking_id: int,
    actor: str,
    *,
    account: int | None = None,
    contra_account: int | None = None,
    bu_key: str | None = _UNSET,
    text: str | None = None,
    amount: Decimal | None = None,
    debit_credit: str | None = None,
    service_date: date | None = _UNSET,
    due_date: date | None = _UNSET,
    note: str | None = None,
    client_id: int | None = None,
) -> BookingEntry:
    """Correct a booking; returns the booking that now carries the corrected data.

    Arguments left out keep their value (``bu_key=None`` removes the tax key). Before export
    the row itself changes (``source = accountant``) and goes back to ``proposed``. After
    export it stays as it is; a reversal and the corrected booking are added (see the module
    docstring). An exported booking is corrected once: later changes go to the new booking.
    """
    (entry,) = _load(session, [booking_id], client_id)
    if entry.status == BookingStatus.REJECTED:
        raise LedgerError(f"Buchung {entry.id} ist verworfen.")
    old = {name: getattr(entry, name) for name in _EDITABLE}
    changes: dict[str, Any] = {}
    for name, value in (
        ("account", account),
        ("contra_account", contra_account),
        ("amount", amount),
        ("debit_credit", debit_credit),
    ):
        if value is not None:
            changes[name] = value
    if text is not None:
        changes["text"] = clean_text(text.strip())
    if bu_key is not _UNSET:
        changes["bu_key"] = (bu_key or "").strip() or None
    if service_date is not _UNSET:
        changes["service_date"] = service_date
    if due_date is not _UNSET:
        changes["due_date"] = due_date
    new = {**old, **changes}
    _validated(new, entry.belegfeld1)
    diff = {k: [str(old[k]), str(new[k])] for k in changes if old[k] != new[k]}
    if not diff:
        raise LedgerError("Keine Änderung angegeben.")

    if entry.status != BookingStatus.EXPORTED:
        for name, value in changes.items():
            setattr(entry, name, value)
        entry.source = "accountant"
        entry.status = BookingStatus.PROPOSED
        entry.approved_by = None
        entry.approved_at = None
        if note:
            entry.note = clean_text(note, 500)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="booking.corrected",
            client_id=entry.client_id,
            document_id=entry.document_id,
            detail={"booking": entry.id, "changes": diff},
        )
        return entry

    already = session.scalar(
        select(BookingEntry.id).where(BookingEntry.supersedes_id == entry.id).limit(1)
    )
    if already is not None:
        raise LedgerError(
            f"Buchung {entry.id} wurde nach dem Export schon korrigiert "
            f"(siehe Buchung {already}); bitte die neue Buchung korrigieren."
        )
    reversal = _copy(
        entry,
        debit_credit="H" if entry.debit_credit == "S" else "S",
        text=clean_text(f"Storno {entry.text}", 60),
    )
    reversal.source = "reversal"
    reversal.note = f"Storno von Buchung {entry.id}"
    corrected = _copy(entry, **changes)
    corrected.source = "accountant"
    corrected.note = clean_text(note, 500) if note else f"Korrektur von Buchung {entry.id}"
    session.add_all([reversal, corrected])
    session.flush()
    record_event(
        session,
        actor=actor,
        action="booking.corrected_after_export",
        client_id=entry.client_id,
        document_id=entry.document_id,
        detail={
            "booking": entry.id,
            "reversal": reversal.id,
            "corrected": corrected.id,
            "changes": diff,
        },
    )
    return corrected


# --------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportResult:
    """One filed export: its catalog row and the archive keys of its files."""

    export_id: int
    client_code: str
    period_start: date
    period_end: date
    booking_count: int
    extf_key: str
    master_data_key: str
    documents_key: str
    document_count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "export": self.export_id,
            "client": self.client_code,
            "period": f"{self.period_start.isoformat()}–{self.period_end.isoformat()}",
            "bookings": self.booking_count,
            "documents": self.document_count,
            "files": [self.extf_key, self.master_data_key, self.documents_key],
        }


def month_period(month: str | date) -> tuple[date, date]:
    """First and last day of a month given as ``YYYY-MM`` or any date in it."""
    if isinstance(month, str):
        match = re.fullmatch(r"(\d{4})-(\d{2})", month.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise LedgerError(f"Monat {month!r}: bitte als JJJJ-MM angeben.")
        month = date(int(match.group(1)), int(match.group(2)), 1)
    start = month.replace(day=1)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, date.fromordinal(following.toordinal() - 1)


def previous_month(today: date) -> str:
    """``YYYY-MM`` of the month before ``today`` (what the monthly run exports)."""
    start, _ = month_period(today)
    last = date.fromordinal(start.toordinal() - 1)
    return f"{last.year:04d}-{last.month:02d}"


def document_guid(client_code: str, document: Document) -> str:
    """The document's stable GUID for the Beleglink (same document, same GUID, every export)."""
    return str(uuid.uuid5(BELEGLINK_NAMESPACE, f"{client_code}/{document.sha256}"))


def _member_name(belegfeld1: str, guid: str, key: str) -> str:
    suffix = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else "pdf"
    stem = re.sub(r"[^A-Za-z0-9-]", "_", belegfeld1) or "Beleg"
    return f"{stem}_{guid}.{suffix}"


def _fiscal_year_start(day: date, start_month: int) -> date:
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def _header(
    client: Client, settings: Settings, start: date, end: date, now: datetime
) -> ExtfHeader:
    book = settings.bookkeeping
    try:
        return ExtfHeader(
            consultant_number=client.datev_consultant_number or book.consultant_number,
            client_number=client.datev_client_number or book.client_number,
            fiscal_year_start=_fiscal_year_start(start, book.fiscal_year_start_month),
            created_at=now,
            period_from=start,
            period_to=end,
            account_length=book.account_length,
            label=f"Buchungen {start:%Y-%m}",
            chart=client.chart,
            origin="RE",
            exported_by="Backoffice",
        )
    except ExportError as exc:
        raise LedgerError(f"DATEV-Stammdaten von {client.code}: {exc}") from exc


def _zip(members: Sequence[tuple[str, bytes]], now: datetime) -> bytes:
    """A ZIP with fixed member order and timestamps, so the same export gives the same bytes."""
    buffer = io.BytesIO()
    stamp = (max(now.year, 1980), now.month, now.day, now.hour, now.minute, now.second)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED
            )
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _index_csv(rows: Iterable[tuple[str, str, str, date, str]]) -> bytes:
    lines = ["GUID;Datei;Belegfeld 1;Belegdatum;Buchungstext"]
    for guid, name, belegfeld, day, text in rows:
        quoted = '"' + text.replace('"', '""') + '"'
        lines.append(f"{guid};{name};{belegfeld};{day:%d.%m.%Y};{quoted}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")


def _master_records(
    session: Session, client_id: int, numbers: set[int]
) -> list[PersonalAccountRecord]:
    rows = session.execute(
        select(PersonalAccount, Correspondent)
        .outerjoin(Correspondent, Correspondent.id == PersonalAccount.correspondent_id)
        .where(PersonalAccount.client_id == client_id, PersonalAccount.number.in_(numbers))
        .order_by(PersonalAccount.number)
    ).tuples()
    records = []
    for account, corr in rows:
        records.append(
            PersonalAccountRecord(
                account=account.number,
                name=(corr.name if corr else None) or account.name,
                vat_id=corr.vat_id if corr else None,
                street=corr.street if corr else None,
                zip=corr.zip if corr else None,
                city=corr.city if corr else None,
                email=corr.email if corr else None,
                iban=corr.iban if corr else None,
            )
        )
    return records


def export_period(
    ctx: Context,
    client: Client | str,
    start: date,
    end: date,
    actor: str,
    now: datetime,
    *,
    session: Session | None = None,
) -> ExportResult:
    """Export the client's approved, not yet exported bookings dated ``start``–``end``.

    Files (write-once) under ``clients/<CODE>/exports/<YYYY-MM of start>/``, named with the
    export's number so a second export of the same month (corrections, late approvals) sits
    beside the first: ``EXTF_Buchungsstapel_<YYYY-MM>_E<n>.csv``,
    ``EXTF_Debitoren_Kreditoren_<YYYY-MM>_E<n>.csv`` and ``Belege_<YYYY-MM>_E<n>.zip``.
    ``now`` is the header's "Erzeugt am" and the ZIP's timestamps (explicit, so an export is
    reproducible). Raises :class:`NothingToExportError` when there is nothing new, and
    :class:`LedgerError` for a period DATEV would refuse (e.g. across fiscal years).

    With ``session`` the caller's transaction is used (the portal); without, one is opened and
    committed here. The files are stored before the catalog commits; should the commit fail,
    the files stay (the archive is write-once) but no booking is marked exported, and the
    next export gets a new number.
    """
    if session is None:
        with ctx.catalog.session() as own:
            return export_period(ctx, client, start, end, actor, now, session=own)
    code = client if isinstance(client, str) else client.code
    client_row = _client(session, code)
    header = _header(client_row, ctx.settings, start, end, now)
    try:
        header.check_period()
    except ExportError as exc:
        raise LedgerError(f"Zeitraum {start:%d.%m.%Y}–{end:%d.%m.%Y}: {exc}") from exc
    selection = (
        BookingEntry.client_id == client_row.id,
        BookingEntry.status == BookingStatus.APPROVED,
        BookingEntry.export_id.is_(None),
        BookingEntry.document_date >= start,
        BookingEntry.document_date <= end,
    )
    entries = list(
        session.scalars(
            select(BookingEntry)
            .where(*selection)
            .order_by(BookingEntry.document_date, BookingEntry.id)
        )
    )
    if not entries:
        raise NothingToExportError(
            f"{code}: keine freigegebenen, noch nicht exportierten Buchungen "
            f"vom {start:%d.%m.%Y} bis {end:%d.%m.%Y}."
        )
    doc_ids = sorted({e.document_id for e in entries if e.document_id is not None})
    documents = {
        d.id: d
        for d in session.scalars(
            select(Document).where(Document.id.in_(doc_ids)).options(selectinload(Document.fields))
        )
    }

    folder = f"{client_scope(code)}/exports/{start:%Y-%m}"
    export = BookingExport(
        client_id=client_row.id,
        period_start=start,
        period_end=end,
        booking_count=len(entries),
        extf_key="",
        created_by=actor,
        created_at=now,
    )
    session.add(export)
    session.flush()
    tag = f"{start:%Y-%m}_E{export.id}"

    guids: dict[int, str] = {}
    members: list[tuple[str, bytes]] = []
    index: list[tuple[str, str, str, date, str]] = []
    bookings: list[Booking] = []
    for entry in entries:
        document = documents.get(entry.document_id) if entry.document_id is not None else None
        beleglink = None
        raw = entry.belegfeld1
        if document is not None:
            number = document.field("invoice_number")
            if number and normalise_belegfeld(number) == entry.belegfeld1:
                raw = number  # the writer keeps it as Beleginfo when it differs
            source_key = document.original_key or document.searchable_key
            if source_key:
                guid = guids.get(document.id)
                if guid is None:
                    guid = guids[document.id] = document_guid(code, document)
                    name = _member_name(entry.belegfeld1, guid, source_key)
                    members.append((name, ctx.store.get(source_key)))
                    index.append((guid, name, entry.belegfeld1, entry.document_date, entry.text))
                beleglink = f'BEDI "{guid}"'
        bookings.append(
            Booking(
                amount=entry.amount,
                debit_credit=entry.debit_credit,
                account=entry.account,
                contra_account=entry.contra_account,
                bu_key=entry.bu_key,
                document_date=entry.document_date,
                belegfeld1=raw,
                belegfeld2=entry.belegfeld2,
                text=entry.text,
                service_date=entry.service_date,
                due_date=entry.due_date,
                beleglink=beleglink,
            )
        )
    numbers = {b.account for b in bookings} | {b.contra_account for b in bookings}
    try:
        extf = write_buchungsstapel(header, bookings)
        master = write_debitoren_kreditoren(
            header, _master_records(session, client_row.id, numbers)
        )
    except ExportError as exc:
        raise LedgerError(f"Export {code} {start:%Y-%m}: {exc}") from exc
    members.append(("Belege.csv", _index_csv(index)))

    export.extf_key = f"{folder}/EXTF_Buchungsstapel_{tag}.csv"
    export.master_data_key = f"{folder}/EXTF_Debitoren_Kreditoren_{tag}.csv"
    export.documents_key = f"{folder}/Belege_{tag}.zip"
    ctx.store.put(export.extf_key, extf, content_type="text/csv")
    ctx.store.put(export.master_data_key, master, content_type="text/csv")
    ctx.store.put(export.documents_key, _zip(members, now), content_type="application/zip")

    marked = session.execute(
        update(BookingEntry)
        .where(*selection)
        .values(status=BookingStatus.EXPORTED, export_id=export.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", len(entries)) != len(entries):
        raise LedgerError(f"{code}: Buchungen wurden während des Exports geändert; bitte erneut.")
    for entry in entries:
        session.expire(entry)
    record_event(
        session,
        actor=actor,
        action="export.created",
        client_id=client_row.id,
        detail={
            "export": export.id,
            "period": [start.isoformat(), end.isoformat()],
            "bookings": len(entries),
            "files": [export.extf_key, export.master_data_key, export.documents_key],
        },
    )
    return ExportResult(
        export_id=export.id,
        client_code=code,
        period_start=start,
        period_end=end,
        booking_count=len(entries),
        extf_key=export.extf_key,
        master_data_key=export.master_data_key,
        documents_key=export.documents_key,
        document_count=len(guids),
    )


def export_month(
    ctx: Context, client_code: str, month: str, actor: str, now: datetime
) -> ExportResult | None:
    """The monthly export of one client, or None when nothing is approved for that month."""
    start, end = month_period(month)
    try:
        return export_period(ctx, client_code, start, end, actor, now)
    except NothingToExportError:
        return None
