"""The text stage: every page becomes text, word boxes and part of a searchable PDF.

A page with a usable text layer (born-digital) is read directly; any other page is rendered,
turned upright and read by an OCR engine (tesseract, behind the :class:`OcrEngine` protocol so
another engine can be added without touching callers). Callers use
:func:`extract_document_text` and the result types below.
"""

from backoffice.text import stage
from backoffice.text.model import PAGE_SEPARATOR, DocumentText, PageText, TextError, Word
from backoffice.text.ocr import (
    OcrEngine,
    OcrError,
    OcrResult,
    OcrTimeoutError,
    OcrWord,
    Orientation,
    TesseractEngine,
)
from backoffice.text.render import render_page
from backoffice.text.stage import extract_document_text

__all__ = [
    "PAGE_SEPARATOR",
    "DocumentText",
    "OcrEngine",
    "OcrError",
    "OcrResult",
    "OcrTimeoutError",
    "OcrWord",
    "Orientation",
    "PageText",
    "TesseractEngine",
    "TextError",
    "Word",
    "extract_document_text",
    "render_page",
    "stage",
]
