"""The catalog schema: what the office service knows about every piece of post.

The catalog is the record of truth. Prefect only executes; every stage of a document's way
through the house writes its outcome here, so any worker can resume where another stopped.
The archive objects (originals, searchable PDFs) live in object storage and are referenced by key.

Tenant isolation is structural: every row that belongs to a client carries ``client_id``.
The schema runs unchanged on SQLite (embedded default) and PostgreSQL (production); types are
chosen from SQLAlchemy's portable set and migrations live in ``backoffice/migrations``.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now; one place so tests can reason about it."""
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[enum.Enum]) -> Enum:
    """Enums stored as their readable values in a plain string column (portable, greppable)."""
    return Enum(
        cls,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (needed for SQLite batch migrations)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Role(enum.StrEnum):
    STAFF = "staff"
    CLIENT = "client"
    ACCOUNTANT = "accountant"


class IntakeStatus(enum.StrEnum):
    """Where a received original stands. ``received`` is written before any processing."""

    RECEIVED = "received"
    SPLIT = "split"
    UNPACKED = "unpacked"
    """A container (e-mail, ZIP): its parts were received as child intakes."""
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


class DocumentStatus(enum.StrEnum):
    """A document's stage. Each value is reached only after the stage's outcome is stored."""

    NEW = "new"
    TEXT = "text"
    UNDERSTOOD = "understood"
    FILED = "filed"
    UNASSIGNED = "unassigned"
    """No client could be determined: not filed until staff assign one."""
    QUARANTINED = "quarantined"


class DocType(enum.StrEnum):
    INVOICE = "invoice"
    REMINDER = "reminder"
    LETTER = "letter"
    OTHER = "other"
    UNKNOWN = "unknown"


class FollowUpKind(enum.StrEnum):
    PAYABLE = "payable"
    REMINDER = "reminder"
    """An incoming Mahnung: escalates the payable it refers to."""
    REPLY = "reply"
    """A letter that asks for something, with its deadline."""
    RECEIVABLE = "receivable"
    """The client's own outgoing invoice, watched for dunning."""
    REVIEW = "review"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Client(Base):
    """A client firm of the office service: the recipient of the post we file."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    zip: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    customer_numbers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    vat_id: Mapped[str | None] = mapped_column(String(20))
    iban: Mapped[str | None] = mapped_column(String(34))
    chart: Mapped[str] = mapped_column(String(2), default="03")
    """Kontenrahmen: ``03`` (SKR03) or ``04`` (SKR04)."""
    bic: Mapped[str | None] = mapped_column(String(11))
    phone: Mapped[str | None] = mapped_column(String(50))
    datev_consultant_number: Mapped[int | None] = mapped_column(Integer)
    """Beraternummer of the client's accountant (EXTF header); settings give the default."""
    datev_client_number: Mapped[int | None] = mapped_column(Integer)
    """Mandantennummer at the accountant (EXTF header)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    clients: Mapped[list[Client]] = relationship(secondary="user_clients")


class UserClient(Base):
    """Which clients a user may see (one for a client user, several for an accountant)."""

    __tablename__ = "user_clients"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )


class Correspondent(Base):
    """Someone who writes to a client (supplier, authority, landlord …), per client."""

    __tablename__ = "correspondents"
    __table_args__ = (UniqueConstraint("client_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    iban: Mapped[str | None] = mapped_column(String(34))
    email_domain: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    """Where dunning letters to this debtor are e-mailed (none: they are queued for print)."""
    street: Mapped[str | None] = mapped_column(String(200))
    zip: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    consumer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A consumer debtor: §288 BGB gives +5 points and no 40 € flat fee (B2B: +9 and 40 €)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Intake(Base):
    """A received original exactly as it arrived (a scanner batch, an e-mail attachment …).

    Written, together with the stored object, before anything else happens to it; ``sha256``
    makes re-delivery of the same bytes a recorded duplicate instead of a second document.
    """

    __tablename__ = "intakes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id"), index=True)
    """The container (e-mail, ZIP) this original was unpacked from."""
    size: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(32))
    """``folder``, ``cli``, ``email``, ``upload`` …"""
    source_ref: Mapped[str | None] = mapped_column(String(1000))
    filename: Mapped[str | None] = mapped_column(String(500))
    media_type: Mapped[str | None] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(500))
    status: Mapped[IntakeStatus] = mapped_column(_enum(IntakeStatus), default=IntakeStatus.RECEIVED)
    client_hint: Mapped[str | None] = mapped_column(String(32))
    """Client code known from where it came (mailbox, upload by a client), if any."""
    page_count: Mapped[int | None] = mapped_column(Integer)
    separator_pages: Mapped[list[Any] | None] = mapped_column(JSON)
    """1-based pages that were separator sheets, written when the intake is split; ``[]`` means
    the batch came without sheets (so its documents may be cut at detected first pages)."""
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    redeliveries: Mapped[int] = mapped_column(Integer, default=0)
    """How often the same bytes arrived again after the first time."""

    documents: Mapped[list[Document]] = relationship(back_populates="intake")


class Document(Base):
    """One piece of post (a letter, an invoice …) cut out of an intake."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("intake_id", "first_page"),
        Index("ix_documents_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    correspondent_id: Mapped[int | None] = mapped_column(ForeignKey("correspondents.id"))
    first_page: Mapped[int] = mapped_column(Integer)
    """1-based page of the intake where this document starts (with ``intake_id`` its identity)."""
    page_count: Mapped[int] = mapped_column(Integer)
    pages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """The intake's page numbers of this document, in order (separators and blanks removed)."""
    client_hint: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    """Hash of this document's own PDF (the pages cut from the intake)."""
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus), default=DocumentStatus.NEW
    )
    doc_type: Mapped[DocType] = mapped_column(_enum(DocType), default=DocType.UNKNOWN)
    subtype: Mapped[str | None] = mapped_column(String(32))
    type_confidence: Mapped[float | None] = mapped_column(Float)
    type_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    route_confidence: Mapped[float | None] = mapped_column(Float)
    route_reason: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(String(300))
    doc_date: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(Text)
    text_source: Mapped[str | None] = mapped_column(String(16))
    """``layer``, ``ocr`` or ``mixed``."""
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    original_key: Mapped[str | None] = mapped_column(String(500))
    searchable_key: Mapped[str | None] = mapped_column(String(500))
    words_key: Mapped[str | None] = mapped_column(String(500))
    """Word boxes with confidences (JSON), for highlighting and layout-aware extraction."""
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    """The machine was unsure (class, client, fields): staff should look at it."""
    retain_until: Mapped[date | None] = mapped_column(Date)
    """End of the legal retention period of the original (GoBD); no deletion before it."""
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Readable reasons why staff should look at it (validation, low confidence, failed pages)."""
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    intake: Mapped[Intake] = relationship(back_populates="documents")
    client: Mapped[Client | None] = relationship()
    correspondent: Mapped[Correspondent | None] = relationship()
    fields: Mapped[list[ExtractedField]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="ExtractedField.id"
    )

    def field(self, name: str) -> str | None:
        """The current value of a field (a staff correction wins over machine values)."""
        best: ExtractedField | None = None
        for f in self.fields:
            if f.name == name and (best is None or f.source == "staff"):
                best = f
        return best.value if best else None


class ExtractedField(Base):
    __tablename__ = "extracted_fields"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    """``einvoice``, ``text`` or ``staff``."""
    page: Mapped[int | None] = mapped_column(Integer)
    bbox: Mapped[list[Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    document: Mapped[Document] = relationship(back_populates="fields")


class FollowUp(Base):
    """Something to act on because a document arrived (pay, answer, review …)."""

    __tablename__ = "followups"
    __table_args__ = (UniqueConstraint("document_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    kind: Mapped[FollowUpKind] = mapped_column(_enum(FollowUpKind))
    status: Mapped[FollowUpStatus] = mapped_column(
        _enum(FollowUpStatus), default=FollowUpStatus.OPEN
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    reference: Mapped[str | None] = mapped_column(String(100))
    """Invoice number it concerns (for reminders: the invoice they refer to)."""
    related_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id"))
    """For a reminder: the payable it escalates."""
    priority: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(500))
    skonto_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    skonto_until: Mapped[date | None] = mapped_column(Date)
    paid_amount: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), default=Decimal(0), server_default="0"
    )
    """Sum of the payments matched so far (partial payments add up)."""
    paid_on: Mapped[date | None] = mapped_column(Date)
    settled_by: Mapped[str | None] = mapped_column(String(16))
    """How an item was closed: ``bank``, ``staff``, ``skonto``, ``credit_note``."""
    disputed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Staff flag: the debtor disputes the invoice, so it is never dunned."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    document: Mapped[Document] = relationship()

    @property
    def outstanding(self) -> Decimal | None:
        """What is still owed (``None`` when the amount is unknown)."""
        if self.amount is None:
            return None
        return self.amount - (self.paid_amount or Decimal(0))


class QuarantineEntry(Base):
    """Input the machine could not process, kept with a reason a person understands."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    source_ref: Mapped[str | None] = mapped_column(String(1000))
    reason: Mapped[str] = mapped_column(String(500))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Append-only, hash-chained log of everything done to the archive.

    ``hash`` covers the previous entry's hash and this entry's content, so removing or altering
    any entry breaks the chain (GoBD: no change without a trace).
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)
    """Login limits and the once-a-day digest ask "which events of this kind since then"."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)
    document_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- portal and search (tables of migration 0002) ----------------------------------------------


class ApiToken(Base):
    """A personal API token for ``/api``; only its sha256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DocumentHandle(Base):
    """The opaque, random public id under which the portal addresses a document.

    Catalog ids are sequential and would make URLs guessable; links and the API use this id
    instead, so knowing one document's address tells nothing about any other.
    """

    __tablename__ = "document_handles"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SearchEntry(Base):
    """Per-document search facts kept beside the full-text index (same on both backends).

    The full text itself lives in ``documents_fts`` (SQLite FTS5) or in the ``tsv`` column that
    migration 0002 adds to this table on PostgreSQL. ``indexed_at`` against
    ``Document.updated_at`` tells which entries are stale.
    """

    __tablename__ = "search_entries"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sender: Mapped[str | None] = mapped_column(String(200))
    sender_key: Mapped[str | None] = mapped_column(String(200))
    """``sender`` lower-cased without diacritics, for the sender filter."""
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Correction(Base):
    """A staff correction of the machine's result; the training data of the next model."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(64))
    """``doc_type``, ``client`` or the name of an extracted field."""
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BookingStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    EXPORTED = "exported"
    """Locked: part of an export file; changes only through a new booking."""
    REJECTED = "rejected"


class PersonalAccount(Base):
    """A client's Kreditor/Debitor number for one correspondent, stable once given."""

    __tablename__ = "personal_accounts"
    __table_args__ = (
        UniqueConstraint("client_id", "kind", "key", name="uq_personal_accounts_key"),
        UniqueConstraint("client_id", "number", name="uq_personal_accounts_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    """``kreditor`` or ``debitor``."""
    key: Mapped[str] = mapped_column(String(200))
    """The correspondent's id, else its normalised name (see ``InvoiceFacts.key``)."""
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    correspondent_id: Mapped[int | None] = mapped_column(ForeignKey("correspondents.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BookingExport(Base):
    """One DATEV export of a client's period, filed in the archive under ``exports/``."""

    __tablename__ = "booking_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    booking_count: Mapped[int] = mapped_column(Integer)
    extf_key: Mapped[str] = mapped_column(String(500))
    master_data_key: Mapped[str | None] = mapped_column(String(500))
    documents_key: Mapped[str | None] = mapped_column(String(500))
    """ZIP of the document PDFs, named after their Beleglink/Belegfeld 1."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BookingEntry(Base):
    """A proposed, approved or exported booking line (one per VAT rate of an invoice).

    Fields mirror :class:`backoffice.exports.datev.Booking`. Exported rows are locked; a
    correction after export is a new row (``supersedes_id``) plus its reversal.
    """

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(
        _enum(BookingStatus), default=BookingStatus.PROPOSED
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    debit_credit: Mapped[str] = mapped_column(String(1))
    account: Mapped[int] = mapped_column(Integer)
    contra_account: Mapped[int] = mapped_column(Integer)
    bu_key: Mapped[str | None] = mapped_column(String(4))
    document_date: Mapped[date] = mapped_column(Date)
    belegfeld1: Mapped[str] = mapped_column(String(36))
    belegfeld2: Mapped[str | None] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(String(60), default="")
    service_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="proposal")
    """``proposal`` (machine), ``accountant`` (corrected), ``reversal``, ``import``."""
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    export_id: Mapped[int | None] = mapped_column(ForeignKey("booking_exports.id"), index=True)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BankTransaction(Base):
    """One entry of an imported bank statement (CAMT.053, MT940, CSV), signed: + is credit."""

    __tablename__ = "bank_transactions"
    __table_args__ = (UniqueConstraint("client_id", "entry_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    entry_key: Mapped[str] = mapped_column(String(64))
    """Stable identity across re-imports (bank reference, else a hash of the entry)."""
    statement_id: Mapped[str | None] = mapped_column(String(100))
    account_iban: Mapped[str | None] = mapped_column(String(34))
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    remittance: Mapped[str | None] = mapped_column(Text)
    end_to_end_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="unmatched")
    """``matched``, ``partial`` (less than the item), ``unmatched``, ``ignored``."""
    source_key: Mapped[str | None] = mapped_column(String(500))
    """Archive key of the imported statement file."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PaymentMatch(Base):
    """A bank transaction (or part of it) applied to an open payable or receivable."""

    __tablename__ = "payment_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("bank_transactions.id"), index=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    kind: Mapped[str] = mapped_column(String(16))
    """``full``, ``partial`` or ``skonto``."""
    reason: Mapped[str] = mapped_column(String(200))
    """What matched: reference, IBAN, amount (shown to staff)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DunningStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    SENT = "sent"
    PRINT = "print"
    """Approved, no e-mail address: queued for printing and postal dispatch."""
    CANCELLED = "cancelled"


class DunningNotice(Base):
    """One stage of dunning a receivable: proposed by the daily run, approved by staff."""

    __tablename__ = "dunning_notices"
    __table_args__ = (UniqueConstraint("followup_id", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    """1 Zahlungserinnerung, 2 1. Mahnung, 3 2. Mahnung, 4 letzte Mahnung."""
    status: Mapped[DunningStatus] = mapped_column(
        _enum(DunningStatus), default=DunningStatus.PROPOSED
    )
    principal: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    interest: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    fees: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    interest_until: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    recipient_email: Mapped[str | None] = mapped_column(String(200))
    letter_key: Mapped[str | None] = mapped_column(String(500))
    letter_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    """The letter filed in the client's archive (linked to the invoice via the follow-up)."""
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fees
