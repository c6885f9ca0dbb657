"""The results of the text stage: words, pages and documents.

These are the types every later stage (classification, field extraction, search, archive) codes
against, so they stay plain dataclasses without behaviour that depends on how the text was won.
All geometry is in PDF points on the *upright* page with the origin at its top-left corner, so a
box means the same thing whether the page came from a text layer or from OCR, and whether or not
the scan had to be turned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PageSource = Literal["layer", "ocr", "failed"]

PAGE_SEPARATOR = "\f"
"""Between pages in :attr:`DocumentText.text`; a form feed never occurs inside page text."""


class TextError(Exception):
    """The document as a whole cannot be read (not a PDF, locked with a password, no pages).

    The message is meant for office staff, so it names the problem in plain words.
    """


@dataclass(frozen=True)
class Word:
    """One word with where it stands on the upright page."""

    text: str
    confidence: float
    """0..1; a text layer is taken as certain (1.0), OCR reports its own estimate."""
    bbox: tuple[float, float, float, float]
    """``x0, y0, x1, y1`` in PDF points, origin at the top-left of the upright page."""


@dataclass
class PageText:
    """The text of one page and how it was obtained."""

    number: int
    """1-based page number in the document."""
    text: str
    source: PageSource
    words: list[Word]
    rotation: int
    """Degrees (0/90/180/270, clockwise) the page as displayed was turned to make it upright."""
    confidence: float | None
    """Mean OCR word confidence (0..1), weighted by word length; ``None`` unless OCR'd."""
    width: float
    """Width of the upright page in points."""
    height: float
    """Height of the upright page in points."""
    error: str | None = None
    """Why the page failed, in words staff can act on; ``None`` unless ``source == "failed"``."""


@dataclass
class DocumentText:
    """All pages of one document plus the searchable PDF handed to the client."""

    pages: list[PageText]
    searchable_pdf: bytes = field(repr=False)

    @property
    def text(self) -> str:
        """The whole document as one string, pages separated by a form feed."""
        return PAGE_SEPARATOR.join(page.text for page in self.pages)

    @property
    def failed_pages(self) -> list[int]:
        """1-based numbers of the pages whose text could not be obtained."""
        return [page.number for page in self.pages if page.source == "failed"]

    @property
    def needs_review(self) -> bool:
        """True when a person has to look: some page could not be read at all."""
        return bool(self.failed_pages)
