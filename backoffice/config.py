"""One settings object for the whole product.

Every part reads its configuration from :class:`Settings`. Values come, in rising priority, from
the embedded defaults below, an optional TOML file (``BACKOFFICE_CONFIG`` or ``./backoffice.toml``)
and environment variables prefixed ``BACKOFFICE_`` (nested parts with ``__``, e.g.
``BACKOFFICE_OCR__TIMEOUT_SECONDS=60``).

The embedded defaults run on one machine with zero set-up: a SQLite catalog and a local archive
folder under ``./var/``. Production points the same code at PostgreSQL and S3 purely by URL
(``postgresql+psycopg://…``, ``s3://bucket/prefix``); there is no code fork between the two.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_VAR = Path("var")


class S3Settings(BaseModel):
    """Connection details for an S3-compatible archive (used when ``archive_url`` is ``s3://``)."""

    endpoint_url: str | None = None
    region: str = "eu-central-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    object_lock: bool = False
    """Use S3 Object Lock (compliance mode) for originals; the bucket must be versioned."""


class OcrSettings(BaseModel):
    """How pages become text."""

    languages: str = "deu+eng"
    dpi: int = 300
    """Resolution at which pages without a usable text layer are rendered for OCR."""
    timeout_seconds: float = 120.0
    """Per-page tesseract time limit; a page over it is recorded as failed, not the document."""
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    min_scan_dpi: int = 150
    """Scanned pages below this resolution are flagged for a rescan (text is still read)."""
    pdfa: bool = True
    """Convert searchable PDFs of scanned documents to PDF/A-2b (needs ghostscript)."""
    min_layer_quality: float = 0.6
    """Share of plausible word characters a text layer needs before it is trusted over OCR."""


class MailRoute(BaseModel):
    """One routing rule: mail to (or from) a matching address belongs to a client.

    Rules give the intake a ``client_hint``; the understanding stage still checks the document
    itself, so a rule never files anything on its own.
    """

    address_pattern: str
    """Shell-style pattern, case-insensitive: ``mueller+post@office.example``,
    ``post+*@office.example``, ``*@mueller-haustechnik.de``."""
    client_code: str | None = None
    """The client. ``None`` takes the plus tag of the matching address, upper-cased
    (``post+mueller@office.example`` gives ``MUELLER``)."""
    match: Literal["recipient", "sender"] = "recipient"
    """Compare against the recipients (envelope, To, Cc) or against the sender (From)."""


class MailboxSettings(BaseModel):
    """One IMAP mailbox that is fetched (``backoffice.intake.imap``)."""

    name: str = ""
    """Label in logs and reports; the user name if empty."""
    host: str
    port: int | None = None
    """Default: 993 for ``imaps``, 143 otherwise."""
    user: str
    password: SecretStr = SecretStr("")
    tls: Literal["imaps", "starttls", "plain"] = "imaps"
    """``plain`` sends the password unencrypted: only for a server on the same machine."""
    ca_file: Path | None = None
    """CA certificate(s) to trust instead of the system store (a private or self-signed CA)."""
    verify_tls: bool = True
    folder: str = "INBOX"
    processed_folder: str | None = None
    """Where handled messages are moved; ``None`` leaves them in ``folder``, marked as seen."""
    client_code: str | None = None
    """Every message in this mailbox belongs to this client (a client's own mailbox)."""
    timeout_seconds: float = 60.0
    max_messages: int = 200
    """Messages handled per fetch run; the rest follow in the next run."""


class MailSettings(BaseModel):
    """E-mail intake: mailboxes to fetch and how their messages are routed to clients."""

    mailboxes: list[MailboxSettings] = Field(default_factory=list)
    routes: list[MailRoute] = Field(default_factory=list)
    max_message_bytes: int = 400 * 1024 * 1024
    """Size limit of a whole message (attachments are base64, about 4/3 of their size); the
    parts inside are held to ``max_file_bytes`` each."""
    inline_image_min_bytes: int = 16 * 1024
    """Images embedded in the HTML text (``cid:``) smaller than this are logos and signature
    graphics, not post; they stay in the stored message but do not become documents."""


class IntakeSettings(BaseModel):
    """Limits and switches for taking in post."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_pages: int = 1000
    """A PDF with more pages is quarantined with a readable reason instead of processed."""
    drop_blank_pages: bool = True
    max_image_pixels: int = 120_000_000
    """Pillow's decompression-bomb limit, set deliberately (about 40x30 cm at 600 dpi)."""
    max_unpacked_bytes: int = 1024 * 1024 * 1024
    """Total bytes one container (e-mail, ZIP) may unpack to, nested parts included; guards
    against ZIP bombs (a few KB that expand to many GB)."""
    max_container_members: int = 500
    """Parts one e-mail or ZIP may have; more is quarantined rather than unpacked."""
    max_nesting_depth: int = 5
    """How deep containers may nest: an e-mail's attachment is at depth 1, a file in a ZIP
    attached to it at depth 2. A container whose parts would lie deeper is quarantined."""
    split_threshold: float = 0.8
    """A batch without separator sheets is cut before a page whose first-page probability
    (``backoffice.intake.firstpage``) reaches this; above 1 no batch is ever cut."""
    split_review_threshold: float = 0.35
    """From this probability up to ``split_threshold`` a page is not cut but the document goes
    to review, so staff decide instead of the machine guessing silently."""
    mail: MailSettings = Field(default_factory=MailSettings)


class UnderstandSettings(BaseModel):
    """Thresholds below which the machine asks staff instead of guessing."""

    review_threshold: float = 0.80
    routing_threshold: float = 0.85
    model_dir: Path | None = None
    """Trained classifier pipeline; ``None`` means the one shipped in ``models/``."""


class SmtpSettings(BaseModel):
    """Outgoing mail: payables digests to clients, dunning letters to debtors."""

    host: str = "127.0.0.1"
    port: int = 25
    tls: Literal["plain", "starttls", "smtps"] = "plain"
    user: str | None = None
    password: SecretStr = SecretStr("")
    sender: str = "Backoffice <post@backoffice.localhost>"
    """``From`` of every message; replies go to the client (``Reply-To``) where known."""
    timeout_seconds: float = 30.0


class FollowupSettings(BaseModel):
    """When clients hear about what is due."""

    digest_days_ahead: int = 7
    """The payables digest lists open items due within this many days (and all overdue ones)."""
    amount_tolerance: Decimal = Decimal("0.01")
    """Bank reconciliation: largest difference (EUR) still counted as the full amount."""


class DunningSettings(BaseModel):
    """The dunning run's rhythm and charges (intervals are practice, not law: configurable)."""

    stage_days: list[int] = Field(default_factory=lambda: [7, 14, 14, 10])
    """Days after the due date for stage 1, then after the previous notice for 2, 3, 4."""
    deadline_days: int = 10
    """Payment period granted in each letter."""
    flat_fee_b2b: Decimal = Decimal("40.00")
    """§288 (5) BGB Pauschale, charged once from stage 2 when the debtor is not a consumer."""
    letter_fee: Decimal = Decimal("2.50")
    """Costs per letter from stage 2 (the first Mahnung causing Verzug is not reimbursable)."""
    interest_from_stage: int = 2
    base_rate_file: Path | None = None
    """A TOML table of Basiszins changes; ``None`` uses the one shipped with the product."""


class BookkeepingSettings(BaseModel):
    """DATEV defaults for clients whose record does not override them."""

    consultant_number: int = 1001
    client_number: int = 1
    account_length: int = 4
    fiscal_year_start_month: int = 1


class Settings(BaseSettings):
    """All configuration of one Backoffice installation."""

    model_config = SettingsConfigDict(
        env_prefix="BACKOFFICE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    var_dir: Path = DEFAULT_VAR
    catalog_url: str = ""
    """SQLAlchemy URL. Empty means ``sqlite:///<var_dir>/catalog.sqlite``."""
    archive_url: str = ""
    """A path, ``file:///path`` or ``s3://bucket/prefix``; empty means ``<var_dir>/archive``."""
    s3: S3Settings = Field(default_factory=S3Settings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    understand: UnderstandSettings = Field(default_factory=UnderstandSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    followups: FollowupSettings = Field(default_factory=FollowupSettings)
    dunning: DunningSettings = Field(default_factory=DunningSettings)
    bookkeeping: BookkeepingSettings = Field(default_factory=BookkeepingSettings)
    flow_workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    """Documents processed at once by the intake flow."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("BACKOFFICE_CONFIG", "backoffice.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def resolved_catalog_url(self) -> str:
        """The catalog URL with the embedded default filled in."""
        if self.catalog_url:
            return self.catalog_url
        return f"sqlite:///{(self.var_dir / 'catalog.sqlite').resolve()}"

    @property
    def resolved_archive_url(self) -> str:
        """The archive URL with the embedded default filled in."""
        if self.archive_url:
            return self.archive_url
        return str((self.var_dir / "archive").resolve())

    @property
    def quarantine_dir(self) -> Path:
        return self.var_dir / "quarantine"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def make_settings(**overrides: Any) -> Settings:
    """Fresh settings with explicit overrides (tests and the CLI's ``--var`` option)."""
    return Settings(**overrides)
