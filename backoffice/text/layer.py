"""Reading a page's existing text layer and judging whether it can be trusted.

Born-digital PDFs (invoices from accounting software, e-mailed letters) carry their text; taking
it is a hundred times cheaper than OCR and exact. But "has a text layer" is not enough: scanners
and earlier OCR runs leave invisible layers of garbage, broken font encodings produce
private-use characters, and a scanned page may carry nothing but a stamped page number. So a
layer is taken only when most of its characters sit in plausible tokens (words, numbers, codes)
and it is not just a few characters on top of a page-sized image.

Text and word boxes come from PDFium's text page: one call for the whole text and one rectangle
query per word, which keeps born-digital pages at several hundred per second (pdfplumber, which
parses the content stream in Python, manages about ten).
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from itertools import groupby

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from backoffice.text.model import Word
from backoffice.text.render import Matrix, apply

_TOKEN = re.compile(r"\S+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_LINE_BREAK = re.compile(r"\r\n?")

_LETTER = "A-Za-zÀ-ÖØ-öø-ɏ"
"""Latin letters including umlauts, ß and the accented letters of European names."""
_EDGE_PUNCT = "\"'()[]{}<>«»„“”‚‘’.,;:!?*"
_WORD = re.compile(rf"[{_LETTER}]+(?:[-'’.&/][{_LETTER}]+)*\.?")
_NUMBER = re.compile(r"[-+±]?(?:€|\$)?\d+(?:[.,:/\-]\d+)*(?:€|%|[.,]-{1,2})?")
_CODE = re.compile(rf"[{_LETTER}0-9]+(?:[-/._:#][{_LETTER}0-9]+)*")
_CONTACT = re.compile(r"\S+@\S+\.\w+|(?:https?://|www\.)\S+")
_VOWELS = set("aeiouyäöüàáâãåæèéêëìíîïòóôõøùúûýAEIOUYÄÖÜÀÁÂÃÅÆÈÉÊËÌÍÎÏÒÓÔÕØÙÚÛÝ")
_STANDALONE = set("-–—•·*/&§€%+=:")
_SEGMENT = re.compile(r"[-'’.&/]")
_RARE_LETTERS = set("jqxyJQXYı")
RARE_LETTER_SHARE = 0.04
"""Share of j/q/x/y letters beyond which a text starts to lose credibility (see :func:`judge`)."""
RARE_LETTER_MIN_LETTERS = 40

MIN_LAYER_CHARS = 3
"""A layer with fewer plausible characters than this (a stamped page number) is not a text."""
SPARSE_LAYER_CHARS = 200
"""On a page mostly covered by an image, a layer shorter than this is probably a stamp or a
header added to a scan, not the scan's text; such pages are OCR'd."""
IMAGE_COVERAGE = 0.5


@dataclass
class LayerText:
    """What the text layer of one page holds."""

    text: str
    words: list[Word]
    quality: float
    """Share of non-space characters that sit in plausible tokens (0..1)."""
    plausible_chars: int


def _plausible(token: str) -> bool:
    """Whether a whitespace-separated token looks like something a letter would contain."""
    if _CONTACT.fullmatch(token):
        return True
    core = token.strip(_EDGE_PUNCT)
    if not core:
        return len(token) <= 3 and all(ch in _STANDALONE or ch in ".:" for ch in token)
    if len(core) == 1:
        return core.isdigit() or core in _STANDALONE
    if _NUMBER.fullmatch(core):
        return True
    if _WORD.fullmatch(core):
        letters = [ch for ch in core if ch.isalpha()]
        if len(letters) >= 5 and not any(ch in _VOWELS for ch in letters):
            return False
        return all(_plausible_case(part) for part in _SEGMENT.split(core) if part)
    if _CODE.fullmatch(core):
        return any(ch.isdigit() for ch in core)
    return False


def _plausible_case(segment: str) -> bool:
    """Whether the upper/lower case pattern of a word could occur in a German or English text.

    Allowed: "rechnung", "Rechnung", "GMBH", "GmbH", "KölnBonn", "iPhone", "PDFs", "USt", "KGaA".
    Refused: "aJJes", "BENog", "UdyNIS", "lIlIl" (what OCR of noise or of a page lying upside
    down produces).
    """
    runs = [(upper, len(list(group))) for upper, group in groupby(segment, key=str.isupper)]
    if len(runs) > 4:
        return False
    for index, (upper, length) in enumerate(runs):
        if not upper or length < 2:
            continue
        if index + 1 < len(runs) and runs[index + 1][1] >= 2:
            return False  # capitals followed by a lower-case word: "aJJes", "BENog"
        if index + 1 == len(runs) and index > 0:
            return False  # capitals closing a lower-case word: "UdyNIS"
    return True


def judge(text: str) -> tuple[float, int]:
    """Share of non-space characters in plausible tokens, and how many characters that is.

    Weighting by characters rather than tokens keeps a few stray symbols on a real letter from
    mattering, while a layer of broken glyph codes or OCR noise scores low. Word-shaped garbage
    (OCR of a page that lay upside down: "jaizsHunjyez beusalwesas") is caught by its letters:
    j, q, x and y make up under 3 % of the letters of German and English text but 18 % of
    tesseract's reading of an upside-down German page (upside down, h, f and b read as y, j, q).
    """
    total = 0
    good = 0
    for token in text.split():
        total += len(token)
        if _plausible(token):
            good += len(token)
    if total == 0:
        return 0.0, 0
    credibility = 1.0
    letters = sum(1 for ch in text if ch.isalpha())
    if letters >= RARE_LETTER_MIN_LETTERS:
        rare = sum(1 for ch in text if ch in _RARE_LETTERS) / letters
        credibility = max(0.0, 1.0 - max(0.0, rare - RARE_LETTER_SHARE) * 5.0)
    return good / total * credibility, round(good * credibility)


def _page_text(textpage: pdfium.PdfTextPage) -> str:
    """All characters of the text page, index-aligned with PDFium's character list."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    if count <= 0:
        return ""
    buffer = (ctypes.c_ushort * (count + 1))()
    written = pdfium_c.FPDFText_GetText(textpage, 0, count, buffer)
    text = bytes(memoryview(buffer).cast("B")[: max(written - 1, 0) * 2]).decode(
        "utf-16-le", errors="replace"
    )
    if len(text) == count:
        return text
    # Rare: PDFium skipped or inserted characters (or a character outside the BMP). Rebuild the
    # text one character at a time so that word boxes stay aligned with the characters.
    return "".join(
        chr(code) if 0 < (code := pdfium_c.FPDFText_GetUnicode(textpage, i)) < 0x110000 else " "
        for i in range(count)
    )


def _clean(text: str) -> str:
    return _CONTROL.sub("", _LINE_BREAK.sub("\n", text))


def read_layer(textpage: pdfium.PdfTextPage, matrix: Matrix) -> LayerText:
    """Text, word boxes (upright page, points, top-left origin) and quality of a text page.

    Must be called with the PDFium lock held. ``matrix`` maps user space to the displayed page
    (see :func:`backoffice.text.render.display_matrix`).
    """
    raw = _page_text(textpage)
    text = _clean(raw).strip()
    quality, plausible = judge(text)
    words: list[Word] = []
    left, top, right, bottom = (ctypes.c_double() for _ in range(4))
    refs = (ctypes.byref(left), ctypes.byref(top), ctypes.byref(right), ctypes.byref(bottom))
    for match in _TOKEN.finditer(raw):
        word = _CONTROL.sub("", match.group())
        if not word:
            continue
        start = match.start()
        rects = pdfium_c.FPDFText_CountRects(textpage, start, match.end() - start)
        box: list[float] | None = None
        for index in range(max(rects, 0)):
            if not pdfium_c.FPDFText_GetRect(textpage, index, *refs):
                continue
            xa, ya = apply(matrix, left.value, top.value)
            xb, yb = apply(matrix, right.value, bottom.value)
            rect = [min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)]
            if box is None:
                box = rect
            else:
                box = [
                    min(box[0], rect[0]),
                    min(box[1], rect[1]),
                    max(box[2], rect[2]),
                    max(box[3], rect[3]),
                ]
        if box is None:
            continue
        words.append(Word(text=word, confidence=1.0, bbox=(box[0], box[1], box[2], box[3])))
    return LayerText(text=text, words=words, quality=quality, plausible_chars=plausible)


def image_coverage(page: pdfium.PdfPage, page_area: float) -> float:
    """Largest share of the page covered by a single image (0..1); lock held by the caller."""
    if page_area <= 0:
        return 0.0
    best = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        try:
            x0, y0, x1, y1 = obj.get_bounds()
        except pdfium.PdfiumError:
            continue
        best = max(best, abs((x1 - x0) * (y1 - y0)) / page_area)
    return min(best, 1.0)


def is_usable(layer: LayerText, min_quality: float, coverage: float | None = None) -> bool:
    """Whether the layer is the page's text, so OCR can be skipped.

    ``coverage`` (largest image share of the page) is only needed when the layer is short; pass
    ``None`` to mean "not measured" and the caller measures it when :func:`needs_coverage` says so.
    """
    if layer.plausible_chars < MIN_LAYER_CHARS or layer.quality < min_quality:
        return False
    return not (
        coverage is not None
        and coverage >= IMAGE_COVERAGE
        and layer.plausible_chars < SPARSE_LAYER_CHARS
    )


def needs_coverage(layer: LayerText, min_quality: float) -> bool:
    """Whether the image coverage could still change the verdict (a short but clean layer)."""
    return is_usable(layer, min_quality) and layer.plausible_chars < SPARSE_LAYER_CHARS
