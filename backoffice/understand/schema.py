"""The value objects the understanding stage hands to the rest of the product.

Everything here is a small frozen dataclass so results can be cached, compared in tests and
stored as JSON by the catalog without surprises. Field *names* are the product-wide canonical
ones (see :data:`INVOICE_FIELDS` and friends); amounts are strings with a dot decimal
(``"1234.56"``), dates ISO (``"2026-03-15"``), booleans ``"true"``/``"false"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

DOC_TYPES: tuple[str, ...] = ("invoice", "reminder", "letter", "other")
"""The four classes every document ends up in."""

OTHER_SUBTYPES: tuple[str, ...] = ("contract", "tax_office", "bank_statement", "advertising")

FieldSource = Literal["einvoice", "girocode", "text", "staff"]

INVOICE_FIELDS: tuple[str, ...] = (
    "invoice_number",
    "issue_date",
    "service_date",
    "due_date",
    "payment_terms_days",
    "skonto_percent",
    "skonto_date",
    "seller_name",
    "buyer_name",
    "customer_number",
    "net_total",
    "vat_total",
    "gross_total",
    "currency",
    "iban",
    "bic",
    "seller_vat_id",
    "seller_tax_number",
    "reverse_charge",
    "is_credit_note",
)
"""Fixed invoice field names; per-rate fields ``vat_<rate>_net``/``vat_<rate>_amount`` come on
top, the rate written as a plain percent without trailing zeros (``19``, ``7``, ``0``, ``5.5``)."""

REMINDER_FIELDS: tuple[str, ...] = (
    "referenced_invoice_numbers",
    "referenced_invoice_dates",
    "amount_outstanding",
    "fees",
    "interest",
    "new_deadline",
    "dunning_stage",
    "court_threat",
    "issue_date",
    "iban",
    "customer_number",
)
LETTER_FIELDS: tuple[str, ...] = ("letter_date", "subject", "sender_name", "deadline", "summary")
OTHER_FIELDS: tuple[str, ...] = ("subtype", "issue_date", "subject")

BBox = tuple[float, float, float, float]


class WordLike(Protocol):
    """What this package needs from an OCR/text-layer word (``backoffice.text.Word``).

    Typed structurally so that the understanding stage does not import the text stage: any
    object with these read-only attributes works, including the frozen ``Word`` dataclass.
    ``bbox`` is ``(x0, y0, x1, y1)`` in PDF points with the origin at the top left.
    """

    @property
    def text(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def bbox(self) -> BBox: ...


@dataclass(frozen=True)
class Field:
    """One extracted value with where it came from and how sure we are of it."""

    name: str
    value: str
    confidence: float
    source: FieldSource
    page: int | None = None
    """0-based page index in the document, when the value was read from a page."""
    bbox: BBox | None = None
    """Union of the boxes of the words the value was read from (PDF points, top-left origin)."""


@dataclass(frozen=True)
class Classification:
    """Document type with calibrated class probabilities."""

    label: str
    confidence: float
    scores: dict[str, float]
    subtype: str | None = None

    @property
    def top2(self) -> list[tuple[str, float]]:
        """The two most likely classes, best first; what a reviewer sees as the alternative."""
        return sorted(self.scores.items(), key=lambda kv: (-kv[1], kv[0]))[:2]


@dataclass(frozen=True)
class ClientProfile:
    """What routing knows about one client of the office service (the recipient of the post).

    ``emails`` are the mailboxes that receive this client's post; a matching ``hint_address``
    routes there directly.
    """

    id: int
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    customer_numbers: tuple[str, ...] = ()
    zip: str | None = None
    city: str | None = None
    street: str | None = None
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routing:
    """Which client a document belongs to; ``client_id`` is ``None`` rather than a guess."""

    client_id: int | None
    confidence: float
    reason: str
    candidates: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class Understanding:
    """Everything the understanding stage found out about one document."""

    classification: Classification
    routing: Routing
    fields: list[Field]
    flags: list[str]
    einvoice_profile: str | None
    review_threshold: float = 0.80
    routing_threshold: float = 0.85

    @property
    def needs_review(self) -> bool:
        """True when a person must look: unsure type, unsure client, or any validation flag."""
        return (
            self.classification.confidence < self.review_threshold
            or self.routing.client_id is None
            or self.routing.confidence < self.routing_threshold
            or bool(self.flags)
        )

    def field_value(self, name: str) -> str | None:
        """The value of the named field, or ``None`` when it was not found."""
        for f in self.fields:
            if f.name == name:
                return f.value
        return None
