"""A second look at the head of a scanned page 1 when the document's date is missing.

Tesseract's automatic page segmentation (``--psm 3``) sometimes drops a short line that stands
alone in an information block ("Datum 23.03.26" at the right margin, next to the address
window): it joins it to a neighbouring block or discards it as noise. The date of an invoice,
reminder or letter sits exactly there, and without it the document goes to review and its
retention period and dunning dates are guesses. Reading the upper part of page 1 once more in
sparse-text mode (``--psm 11``, every line on its own) finds such lines. It costs one extra
tesseract run on part of one page, and only for scanned documents whose date is missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from backoffice.config import OcrSettings
from backoffice.text.model import TextError
from backoffice.text.ocr import OcrError, TesseractEngine
from backoffice.text.render import has_text_layer, looks_like_pdf, render_page

from .schema import Field

DATE_FIELDS = {"invoice": "issue_date", "reminder": "issue_date", "letter": "letter_date"}
"""The date each document type is dated by (what the head of page 1 carries)."""
HEAD_SHARE = 0.45
"""Upper part of the page read again: letterhead, address window and information block."""
REREAD_DPI = 300
REREAD_CONFIDENCE = 0.85
"""Found on a second reading of a damaged scan: sure of the value, less of its place."""


def needs_reread(doc_type: str, fields: Sequence[Field], raw: bytes | None) -> bool:
    """Whether the head of page 1 should be read again: a dated type without its date, from a
    scanned PDF (a text layer is complete already; reading it again adds nothing)."""
    name = DATE_FIELDS.get(doc_type)
    if name is None or not looks_like_pdf(raw) or any(f.name == name for f in fields):
        return False
    assert raw is not None
    try:
        return not has_text_layer(raw, 0)
    except (TextError, IndexError):
        return False


def reread_head(raw: bytes, ocr: OcrSettings | None = None) -> str:
    """The text of the upper part of page 1, read line by line (empty when it cannot be read)."""
    ocr = ocr or OcrSettings()
    try:
        image = render_page(raw, 0, REREAD_DPI, grey=True)
    except (TextError, IndexError, ValueError, OSError):
        return ""
    head = image.crop((0, 0, image.width, int(image.height * HEAD_SHARE)))
    engine = TesseractEngine(languages=ocr.languages, psm=11)
    try:
        result = engine.recognize(
            head, dpi=image.info.get("dpi", (REREAD_DPI,))[0], timeout=ocr.timeout_seconds
        )
    except OcrError:
        return ""
    return result.text


def date_from_head(doc_type: str, head_text: str) -> Field | None:
    """The document's date as the extractor finds it in the re-read head, if it does."""
    from .extract import extract_fields

    name = DATE_FIELDS[doc_type]
    found = next((f for f in extract_fields([head_text], doc_type) if f.name == name), None)
    if found is None:
        return None
    return Field(name, found.value, min(found.confidence, REREAD_CONFIDENCE), "text", 0, None)
