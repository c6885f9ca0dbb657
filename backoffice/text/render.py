"""Opening PDFs and rendering pages with PDFium (pypdfium2).

PDFium is fast and tolerant of damaged files, but it is not thread-safe: no two threads may call
into it at the same time, not even for different documents. Every PDFium call in the text stage
therefore runs under :data:`PDFIUM_LOCK`; other parts of the product that use pypdfium2 in threads
must take the same lock. PDFium releases the GIL while it works, so holding the lock does not stall
the Python threads that wait on tesseract.

The pixel guards live here too: a page is never rendered to more pixels than
``PIL.Image.MAX_IMAGE_PIXELS`` (which the caller sets as the product's decompression-bomb limit),
and a page whose embedded images exceed that limit is refused before PDFium decodes them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from backoffice.text.model import TextError

PDFIUM_LOCK = threading.RLock()
"""Serialises every PDFium call in the process (PDFium has global state and no locking)."""

MAX_RENDER_SIDE = 30_000
"""Longest bitmap side we render; tesseract and leptonica refuse images past 32767 pixels."""

MIN_RENDER_DPI = 50
"""Below this a page shrunk to fit the pixel limit is unreadable anyway, so it is refused."""

Matrix = tuple[float, float, float, float, float, float]
"""A PDF affine matrix ``(a, b, c, d, e, f)``: ``x' = a*x + c*y + e``, ``y' = b*x + d*y + f``."""

_OPEN_ERRORS = {
    pdfium_c.FPDF_ERR_FILE: "the file could not be read",
    pdfium_c.FPDF_ERR_FORMAT: "this is not a PDF or it is damaged beyond repair",
    pdfium_c.FPDF_ERR_PASSWORD: "the PDF is protected with a password",
    pdfium_c.FPDF_ERR_SECURITY: "the PDF uses an unsupported encryption",
    pdfium_c.FPDF_ERR_PAGE: "the page could not be found or has an error",
}


def open_pdf(pdf: bytes) -> pdfium.PdfDocument:
    """Open ``pdf`` with PDFium or raise :class:`TextError` saying why in plain words.

    Must be called with :data:`PDFIUM_LOCK` held. PDFium reads straight from ``pdf`` (never
    changing it), so the caller keeps the bytes alive while the document is open. The document
    is loaded through the raw API because pypdfium2 cannot tell "no pages" from a load error:
    PDFium's last-error code is only fresh after a failed load.
    """
    if not pdf:
        raise TextError("The file is empty.")
    raw = pdfium_c.FPDF_LoadMemDocument64(pdf, len(pdf), None)
    if not raw:
        code = pdfium_c.FPDF_GetLastError()
        reason = _OPEN_ERRORS.get(code, "it could not be opened")
        raise TextError(f"The document cannot be read: {reason}.")
    if pdfium_c.FPDF_GetPageCount(raw) < 1:
        pdfium_c.FPDF_CloseDocument(raw)
        raise TextError("The PDF contains no pages.")
    return pdfium.PdfDocument(raw)


@contextmanager
def opened(pdf: bytes | pdfium.PdfDocument) -> Iterator[pdfium.PdfDocument]:
    """Use an already open document as it is, or open bytes for the duration of the block."""
    if isinstance(pdf, pdfium.PdfDocument):
        yield pdf
        return
    document = open_pdf(pdf)
    try:
        yield document
    finally:
        document.close()


def display_matrix(bbox: tuple[float, float, float, float], rotation: int) -> Matrix:
    """Map PDF user space to the displayed page: points, origin top-left, ``/Rotate`` applied.

    ``bbox`` is the visible box PDFium uses (crop box within the media box). This is the same
    mapping PDFium applies when it renders, so word boxes from the text layer line up with the
    rendered image and with OCR boxes.
    """
    x0, y0, x1, y1 = bbox
    match rotation % 360:
        case 90:
            return (0.0, 1.0, 1.0, 0.0, -y0, -x0)
        case 180:
            return (-1.0, 0.0, 0.0, 1.0, x1, -y0)
        case 270:
            return (0.0, -1.0, -1.0, 0.0, y1, x1)
        case _:
            return (1.0, 0.0, 0.0, -1.0, -x0, y1)


def apply(matrix: Matrix, x: float, y: float) -> tuple[float, float]:
    """Transform one point with a PDF affine matrix."""
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def render_scale(width_pt: float, height_pt: float, dpi: int) -> float:
    """Pixels per point for rendering a page at ``dpi`` within the pixel limits.

    A page that would exceed ``Image.MAX_IMAGE_PIXELS`` (or the longest side tesseract accepts)
    is rendered at a lower resolution instead; only when that falls below a readable resolution is
    the page refused. This is what keeps an A0 plan or a page with absurd dimensions from
    allocating gigabytes.
    """
    if not (width_pt > 0 and height_pt > 0) or not (math.isfinite(width_pt * height_pt)):
        raise ValueError(f"the page has no usable size ({width_pt:g} x {height_pt:g} pt)")
    scale = dpi / 72.0
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width_pt * height_pt * scale * scale > limit:
        scale = math.sqrt(limit / (width_pt * height_pt)) * 0.999
    scale = min(scale, MAX_RENDER_SIDE / max(width_pt, height_pt))
    if scale * 72.0 < min(dpi, MIN_RENDER_DPI):
        raise ValueError(
            f"the page is too large to render readably ({width_pt / 72 * 2.54:.0f} x "
            f"{height_pt / 72 * 2.54:.0f} cm)"
        )
    return scale


def check_embedded_images(page: pdfium.PdfPage) -> None:
    """Refuse a page whose embedded images exceed ``Image.MAX_IMAGE_PIXELS``.

    PDFium decodes an image at full size before scaling it down, so a small page can still hide
    a decompression bomb. Reading the declared pixel size costs nothing compared with decoding.
    Must be called with :data:`PDFIUM_LOCK` held.
    """
    limit = Image.MAX_IMAGE_PIXELS
    if limit is None:
        return
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        if not isinstance(obj, pdfium.PdfImage):  # pragma: no cover - the filter guarantees it
            continue
        try:
            width, height = obj.get_px_size()
        except pdfium.PdfiumError:
            continue
        if width * height > limit:
            raise Image.DecompressionBombError(
                f"an embedded image has {width} x {height} pixels, more than the limit of "
                f"{limit} (possible decompression bomb)"
            )


def scan_resolution(pdf: bytes) -> dict[int, float]:
    """Resolution (dpi across the page width) of the largest image on each page that has one.

    A scan made at too low a resolution reads badly however it is rendered afterwards; the
    pipeline flags such pages so that staff can rescan them.
    """
    found: dict[int, float] = {}
    with PDFIUM_LOCK, opened(pdf) as document:
        for index in range(len(document)):
            page = document[index]
            width_in = page.get_width() / 72.0
            best = 0
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
                if isinstance(obj, pdfium.PdfImage):
                    try:
                        best = max(best, obj.get_px_size()[0])
                    except pdfium.PdfiumError:
                        continue
            if best and width_in > 0:
                found[index + 1] = best / width_in
    return found


def render_loaded_page(page: pdfium.PdfPage, dpi: int, *, grey: bool = True) -> Image.Image:
    """Render an open page (lock held by the caller); see :func:`render_page`."""
    width, height = page.get_size()
    scale = render_scale(width, height, dpi)
    check_embedded_images(page)
    if grey:
        # Rendering straight into an 8-bit grey bitmap gives the same pixels (within 2 levels) as
        # PDFium's "grayscale" render flag, at a quarter of the cost: the flag converts every
        # pixel on the way, which for a 300 dpi scan took longer than decoding it.
        bitmap = page.render(scale=scale, force_bitmap_format=pdfium_c.FPDFBitmap_Gray)
    else:
        bitmap = page.render(scale=scale)
    try:
        # to_pil shares the bitmap's buffer for "L"; copy so the image owns its pixels and the
        # PDFium bitmap can be released right here under the lock.
        image = bitmap.to_pil().copy()
    finally:
        bitmap.close()
    image.info["dpi"] = (scale * 72.0, scale * 72.0)
    return image


def render_page(
    pdf: bytes | pdfium.PdfDocument, index: int, dpi: int, *, grey: bool = True
) -> Image.Image:
    """Render page ``index`` (0-based) as displayed (``/Rotate`` applied) at about ``dpi``.

    The effective resolution is in ``image.info["dpi"]``; it is lower than asked for when the page
    would otherwise exceed ``Image.MAX_IMAGE_PIXELS``. Raises :class:`TextError` for bytes that
    are not a readable PDF, ``IndexError`` for a page that does not exist,
    ``PIL.Image.DecompressionBombError`` for an embedded image over the pixel limit and
    ``ValueError`` for a page without a usable size.
    """
    with PDFIUM_LOCK, opened(pdf) as document:
        if not 0 <= index < len(document):
            raise IndexError(f"page index {index} out of range (document has {len(document)})")
        page = document[index]
        try:
            return render_loaded_page(page, dpi, grey=grey)
        finally:
            page.close()


def looks_like_pdf(data: bytes | None) -> bool:
    """A ``%PDF-`` marker within the first kilobyte, where PDF readers accept it."""
    return bool(data) and b"%PDF-" in (data or b"")[:1024]


def has_text_layer(pdf: bytes | pdfium.PdfDocument, index: int) -> bool:
    """Whether the page carries text of its own (born-digital or already OCRed).

    Such a page is never a blank back side, however little ink it has (a one-line letter must
    not be dropped as empty), and reading it again with OCR cannot add anything.
    """
    with PDFIUM_LOCK, opened(pdf) as document:
        return _page_has_text(document, index)


def _page_has_text(document: pdfium.PdfDocument, index: int) -> bool:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return bool(textpage.get_text_range().strip())
        finally:
            textpage.close()
    finally:
        page.close()
