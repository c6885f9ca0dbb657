"""The payee's bank details from a GiroCode (EPC069-12 QR code) printed on an invoice.

Many German invoices carry a GiroCode for banking apps. On a scan the IBAN in the small-print
footer is often what OCR loses first, while the QR code next to it still decodes perfectly: it
has its own error correction, and the IBAN inside carries the ISO check digits on top. So when
the page text yields no usable IBAN, the code is read instead.

Reading a code means rendering a page, which costs far more than the text extraction of a
born-digital page; :func:`needs_girocode` therefore keeps it to invoices and reminders whose
text gave no valid IBAN, and :func:`read_girocodes` looks at the first and last page only (where
payment details are printed) and stops at the first page with a valid code.

The payload (one element per line, LF or CRLF)::

    BCD / 001|002 / character set 1-8 / SCT / BIC / name / IBAN / EUR<amount> / purpose /
    structured reference / unstructured remittance / information for the payer

Parsing is strict: a code that breaks the format is ignored rather than half-trusted, because
a wrong IBAN on a payable is worse than a missing one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from backoffice.text.model import TextError
from backoffice.text.render import PDFIUM_LOCK, looks_like_pdf, opened, render_page

from .normalize import valid_bic, valid_iban
from .schema import INVOICE_FIELDS, REMINDER_FIELDS, BBox, Field, FieldSource

GIROCODE_SOURCE: FieldSource = "girocode"
"""``Field.source`` of values read from a GiroCode (stored and shown like the other sources)."""

GIROCODE_CONFIDENCE = 0.98
"""A decoded code passed QR error correction and the IBAN's mod-97 check: as sure as a value
read from a page gets, just short of an e-invoice's XML (1.0)."""

GIROCODE_TYPES = frozenset({"invoice", "reminder"})
"""Document types whose payee IBAN is worth a page render (both ask for a payment)."""

_AMOUNT_RE = re.compile(r"EUR(\d{1,9})(?:\.(\d{1,2}))?")
_PURPOSE_RE = re.compile(r"[A-Z0-9]{4}")
_MIN_AMOUNT = Decimal("0.01")
_MAX_AMOUNT = Decimal("999999999.99")


@dataclass(frozen=True)
class GiroCode:
    """One valid EPC QR payload; ``page`` (0-based) and ``bbox`` when it was read from a PDF."""

    version: str
    iban: str
    """Compact and upper case, ISO check digits verified."""
    name: str
    bic: str | None = None
    amount: Decimal | None = None
    """Euro amount the payer is asked to transfer; ``None`` when the code leaves it open."""
    purpose: str | None = None
    reference: str | None = None
    """Structured creditor reference (ISO 11649)."""
    text: str | None = None
    """Unstructured remittance information (usually the invoice number)."""
    information: str | None = None
    page: int | None = None
    bbox: BBox | None = None
    """Where the code is on the page (PDF points, top-left origin, like ``Field.bbox``)."""


def _amount(value: str) -> Decimal | None:
    """The amount element as a Decimal, ``None`` when empty; ``ValueError`` when malformed."""
    if not value:
        return None
    m = _AMOUNT_RE.fullmatch(value)
    if m is None:
        raise ValueError(f"not an EPC amount: {value!r}")
    amount = Decimal(f"{m.group(1)}.{m.group(2) or '0'}")
    if not _MIN_AMOUNT <= amount <= _MAX_AMOUNT:
        raise ValueError(f"EPC amount out of range: {value!r}")
    return amount


def parse_epc(payload: str) -> GiroCode | None:
    """The GiroCode in a decoded QR text, or ``None`` unless it is a well-formed SCT payload.

    Checked: service tag ``BCD``, version ``001``/``002``, character set 1-8, identification
    ``SCT``, the BIC (required by version 001, optional in 002, and valid when given), a name of
    1-70 characters, an IBAN with valid ISO check digits (the bank's own account check digit is
    not required, see :func:`.normalize.repair_iban`), an amount ``EUR`` with at most two
    decimals between 0.01 and 999999999.99, a 4-character purpose code and at most one of
    structured reference (35) and remittance text (140). Spaces inside the IBAN are tolerated
    because some generators group it as printed; the check digits still have to hold.
    """
    lines = [line.strip() for line in payload.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not 7 <= len(lines) <= 12:
        return None
    lines += [""] * (12 - len(lines))
    tag, version, charset, ident, bic, name, iban, amount_s, purpose, ref, text, info = lines
    if tag != "BCD" or version not in ("001", "002") or ident != "SCT":
        return None
    if charset not in {str(n) for n in range(1, 9)}:
        return None
    bic = bic.upper()
    if (version == "001" and not bic) or (bic and not valid_bic(bic)):
        return None
    if not 0 < len(name) <= 70:
        return None
    iban = re.sub(r"\s", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban) or not valid_iban(
        iban, national=False
    ):
        return None
    try:
        amount = _amount(amount_s)
    except ValueError:
        return None
    if purpose and not _PURPOSE_RE.fullmatch(purpose):
        return None
    if len(ref) > 35 or len(text) > 140 or (ref and text) or len(info) > 70:
        return None
    return GiroCode(
        version=version,
        iban=iban,
        name=name,
        bic=bic or None,
        amount=amount,
        purpose=purpose or None,
        reference=ref or None,
        text=text or None,
        information=info or None,
    )


def _decode(image: Image.Image, page: int) -> list[GiroCode]:
    """Valid GiroCodes among the QR codes on one rendered page (read like separator sheets)."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    results = zxingcpp.read_barcodes(
        np.asarray(image),
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        try_invert=False,
    )
    scale = 72.0 / float(image.info.get("dpi", (72.0, 72.0))[0])
    found = []
    for result in results:
        code = parse_epc(result.text)
        if code is None:
            continue
        corners = result.position
        xs = [p.x for p in (corners.top_left, corners.top_right, corners.bottom_left)]
        xs.append(corners.bottom_right.x)
        ys = [p.y for p in (corners.top_left, corners.top_right, corners.bottom_left)]
        ys.append(corners.bottom_right.y)
        bbox = (min(xs) * scale, min(ys) * scale, max(xs) * scale, max(ys) * scale)
        found.append(dataclasses.replace(code, page=page, bbox=bbox))
    return found


def read_girocodes(
    pdf: bytes, pages: Sequence[int] | None = None, dpi: int = 200
) -> list[GiroCode]:
    """Valid GiroCodes on the first page of ``pages`` (0-based) that carries any.

    By default only the first and the last page are looked at: payment details sit at the end of
    an invoice, and one-page invoices are the common case, so this bounds the cost at two renders
    (about 20-60 ms each at 200 dpi, where a GiroCode's modules are still 3-4 pixels wide).
    Pages are rendered one at a time under the product's PDFium lock, which is released while
    the QR decoder works. An unreadable PDF or page yields no codes rather than an error: the
    code is a second chance for a field, not something the document depends on.
    """
    try:
        with PDFIUM_LOCK, opened(pdf) as document:
            count = len(document)
    except (TextError, pdfium.PdfiumError):
        return []
    if pages is None:
        pages = [0, count - 1]
    seen: set[int] = set()
    for index in pages:
        if index in seen or not 0 <= index < count:
            continue
        seen.add(index)
        try:
            image = render_page(pdf, index, dpi)
        except (TextError, pdfium.PdfiumError, ValueError, Image.DecompressionBombError):
            continue
        found = _decode(image, index)
        if found:
            return found
    return []


def needs_girocode(doc_type: str, fields: Sequence[Field], raw: bytes | None) -> bool:
    """Whether a document's GiroCode should be read: the rule that keeps renders rare.

    Only invoices and reminders that are PDFs and whose IBAN is missing or fails its ISO check
    digits; a valid text IBAN is never second-guessed (that would render every invoice), and an
    IBAN from e-invoice XML is never touched.
    """
    if doc_type not in GIROCODE_TYPES or not looks_like_pdf(raw):
        return False
    iban = next((f for f in fields if f.name == "iban"), None)
    if iban is None:
        return True
    if iban.source == "einvoice":
        return False
    return not valid_iban(iban.value, national=False)


def with_girocode(doc_type: str, fields: Sequence[Field], codes: Sequence[GiroCode]) -> list[Field]:
    """``fields`` with the IBAN (and, for invoices, a missing BIC) taken from ``codes``.

    Codes that disagree on the IBAN leave the fields alone (two payees on one page cannot be
    told apart without the text). E-invoice values are never replaced.
    """
    ibans = {c.iban for c in codes}
    if len(ibans) != 1:
        return list(fields)
    code = codes[0]
    current = next((f for f in fields if f.name == "iban"), None)
    if current is not None and current.source == "einvoice":
        return list(fields)

    def field(name: str, value: str) -> Field:
        return Field(name, value, GIROCODE_CONFIDENCE, GIROCODE_SOURCE, code.page, code.bbox)

    if current is None:
        out = [*fields, field("iban", code.iban)]
    else:
        out = [field("iban", code.iban) if f is current else f for f in fields]
    names = INVOICE_FIELDS if doc_type == "invoice" else REMINDER_FIELDS
    if code.bic and "bic" in names and not any(f.name == "bic" for f in fields):
        out.append(field("bic", code.bic))
    return out


__all__ = [
    "GIROCODE_CONFIDENCE",
    "GIROCODE_SOURCE",
    "GiroCode",
    "needs_girocode",
    "parse_epc",
    "read_girocodes",
    "with_girocode",
]
