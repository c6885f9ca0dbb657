"""The text stage: every page of a PDF becomes text, word boxes and a searchable PDF.

Per page the cheap path is tried first: a trustworthy text layer is taken as it is. Only the
other pages are rendered and OCR'd. The calling thread does all PDFium work (analysis and
rendering, under the process-wide PDFium lock) and all PDF assembly, and hands rendered pages to
a pool of ``settings.workers`` threads that each drive one tesseract process. A window of
``workers + 2`` pages in flight bounds memory however long the document is, while keeping a
rendered page ready whenever a tesseract process finishes, so the machine's cores stay busy
with OCR, which is where the time goes.

Orientation is checked only where it matters: a page is first read as it lies; only when the
result does not look like upright text (low confidence) does tesseract's orientation detection
run and the page get read again turned. Upright pages, the vast majority of office post, thus
cost exactly one tesseract run. Before that, a projection profile of the ink (a few
milliseconds, see :mod:`backoffice.text.skew`) straightens pages fed more than 1.5° askew and
sends pages whose lines run vertically to orientation detection first.

A page that cannot be read (tesseract crash or time limit, a page image over the pixel limit)
is recorded as failed with a reason and keeps its original in the searchable PDF; the rest of
the document is unaffected. Only a document that cannot be opened at all raises
:class:`~backoffice.text.model.TextError`.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from backoffice.config import OcrSettings
from backoffice.text.layer import image_coverage, is_usable, needs_coverage, read_layer
from backoffice.text.model import DocumentText, PageText, Word
from backoffice.text.ocr import OcrEngine, OcrError, OcrResult, OcrTimeoutError, TesseractEngine
from backoffice.text.render import PDFIUM_LOCK, display_matrix, open_pdf, render_loaded_page
from backoffice.text.searchable import SearchablePdfBuilder, invisible_text_pdf
from backoffice.text.skew import analyse_layout, deskew, unrotate_box

log = logging.getLogger(__name__)

UPRIGHT_CONFIDENCE = 0.6
"""Below this mean word confidence a page is suspected of lying sideways or upside down.
Upright print reads at 0.9 and more; an upside-down page at about 0.3."""
MIN_WORDS_FOR_ORIENTATION = 3
"""With fewer words there is nothing to judge orientation by (OSD would refuse too)."""
DESKEW_MIN_DEGREES = 1.5
"""Straighten only from here on. Character error rate on 12 invoice pages, read as they are /
straightened (``bench/bench_ocr.py --skew``): unskewed 0.027; ±1° 0.032 / 0.031 and
0.029 / 0.035; ±1.5° 0.035 / 0.038 and 0.039 / 0.032; ±2° 0.069 / 0.032 and 0.056 / 0.032;
±2.5° 0.229 / 0.029 and 0.053 / 0.036. Below 1.5° straightening does not pay; from 2° it halves
the errors or better."""
DESKEW_MIN_SHARPENING = 1.1
"""The straightened row profile must be clearly sharper, else the "skew" is noise (a photo,
a table without text lines)."""

_TRANSPOSE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}
"""Clockwise turns as PIL transpositions (PIL counts counter-clockwise)."""


@dataclass
class _OcrJob:
    """A rendered page on its way to the OCR pool, with what is needed to place the result."""

    index: int
    image: Image.Image
    dpi: float
    width: float
    height: float
    bbox: tuple[float, float, float, float]
    page_rotation: int


@dataclass
class _OcrDone:
    page: PageText
    text_pdf: bytes | None
    job: _OcrJob
    skew: float
    """Degrees (counter-clockwise) the text page must be turned back to sit on the scan."""


def _failed(number: int, error: str, width: float = 0.0, height: float = 0.0) -> PageText:
    return PageText(
        number=number,
        text="",
        source="failed",
        words=[],
        rotation=0,
        confidence=None,
        width=width,
        height=height,
        error=error,
    )


def _prepare(document: pdfium.PdfDocument, index: int, settings: OcrSettings) -> PageText | _OcrJob:
    """Take the page's text layer if it is usable, else render it for OCR (PDFium lock held)."""
    number = index + 1
    width = height = 0.0
    try:
        page = document[index]
    except pdfium.PdfiumError as exc:
        return _failed(number, f"Page {number} cannot be loaded from the PDF ({exc}).")
    try:
        if pdfium_c.FPDFPage_GetAnnotCount(page) > 0 and (
            pdfium_c.FPDFPage_Flatten(page, pdfium_c.FLAT_NORMALDISPLAY) == pdfium_c.FLATTEN_SUCCESS
        ):
            # Filled-in form fields, stamps and comments live in annotations, which PDFium's
            # text page leaves out. Flattening them into this in-memory copy of the page (the
            # input bytes stay as they are) puts their text into the layer; the page has to be
            # loaded again to see it.
            page.close()
            page = document[index]
        width, height = page.get_size()
        bbox = page.get_bbox()
        rotation = page.get_rotation()
        textpage = page.get_textpage()
        try:
            layer = read_layer(textpage, display_matrix(bbox, rotation))
        finally:
            textpage.close()
        coverage = None
        if needs_coverage(layer, settings.min_layer_quality):
            coverage = image_coverage(page, (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]))
        if is_usable(layer, settings.min_layer_quality, coverage):
            return PageText(
                number=number,
                text=layer.text,
                source="layer",
                words=layer.words,
                rotation=0,
                confidence=None,
                width=width,
                height=height,
            )
        image = render_loaded_page(page, settings.dpi)
        return _OcrJob(
            index=index,
            image=image,
            dpi=float(image.info["dpi"][0]),
            width=width,
            height=height,
            bbox=bbox,
            page_rotation=rotation,
        )
    except Image.DecompressionBombError as exc:
        return _failed(number, f"Page {number} was not rendered: {exc}.", width, height)
    except (pdfium.PdfiumError, ValueError, MemoryError, OSError) as exc:
        return _failed(number, f"Page {number} cannot be rendered: {exc}.", width, height)
    finally:
        page.close()


def _looks_upright(result: OcrResult) -> bool:
    confidence = result.confidence
    if confidence is None or len(result.words) < MIN_WORDS_FOR_ORIENTATION:
        return True
    return confidence >= UPRIGHT_CONFIDENCE


def _turn(
    engine: OcrEngine, image: Image.Image, dpi: float, deadline: float
) -> tuple[int, Image.Image] | None:
    """Ask the engine for the orientation; the turn and the turned image, or ``None``."""
    orientation = engine.detect_orientation(image, dpi=dpi, timeout=deadline - time.monotonic())
    if orientation is None or orientation.rotation not in _TRANSPOSE:
        return None
    return orientation.rotation, image.transpose(_TRANSPOSE[orientation.rotation])


def recognize_upright(
    engine: OcrEngine, image: Image.Image, dpi: float, deadline: float, *, sideways: bool = False
) -> tuple[OcrResult, int, Image.Image]:
    """Read the page, turning it first if it does not read as upright text.

    Returns the result, the clockwise turn applied and the (possibly turned) image. The first
    reading is kept unless the turned one is more confident, so a poor but upright scan is never
    made worse by a wrong orientation guess; and once the first reading exists, a failure or
    timeout of the orientation check only means the first reading stands. A page whose ink
    suggests vertical lines (``sideways``) is checked for orientation before the first reading,
    which saves reading it once the wrong way round.
    """
    if sideways:
        try:
            turned = _turn(engine, image, dpi, deadline)
        except OcrError as exc:
            log.info("orientation check abandoned: %s", exc)
            turned = None
        if turned is not None:
            result = engine.recognize(turned[1], dpi=dpi, timeout=deadline - time.monotonic())
            if _looks_upright(result):
                return result, turned[0], turned[1]
    result = engine.recognize(image, dpi=dpi, timeout=deadline - time.monotonic())
    if _looks_upright(result):
        return result, 0, image
    try:
        turned = _turn(engine, image, dpi, deadline)
        if turned is None:
            return result, 0, image
        second = engine.recognize(turned[1], dpi=dpi, timeout=deadline - time.monotonic())
    except OcrError as exc:
        log.info("orientation check abandoned: %s", exc)
        return result, 0, image
    if (second.confidence or 0.0) > (result.confidence or 0.0):
        return second, turned[0], turned[1]
    return result, 0, image


_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def _ocr_slots(workers: int) -> threading.BoundedSemaphore:
    """Process-wide permits for ``workers`` pages in OCR at once.

    The flow may run several documents at the same time, each with its own pool; without a
    shared limit two documents with two workers each would start four tesseract processes on a
    two-core machine, doubling every page's time (and bringing pages closer to their time limit)
    without reading one page more per second.
    """
    with _SLOTS_LOCK:
        slots = _SLOTS.get(workers)
        if slots is None:
            slots = _SLOTS[workers] = threading.BoundedSemaphore(workers)
        return slots


def _ocr_page(
    engine: OcrEngine, job: _OcrJob, timeout: float, slots: threading.BoundedSemaphore
) -> _OcrDone:
    """Worker: wait for an OCR permit, then :func:`_read_page`."""
    with slots:
        return _read_page(engine, job, timeout)


def _read_page(engine: OcrEngine, job: _OcrJob, timeout: float) -> _OcrDone:
    """Straighten, OCR and express the result in points on the upright page."""
    number = job.index + 1
    deadline = time.monotonic() + timeout
    try:
        layout = analyse_layout(job.image, job.dpi)
        skew = 0.0
        image = job.image
        if (
            layout is not None
            and not layout.sideways
            and abs(layout.skew) >= DESKEW_MIN_DEGREES
            and layout.sharpening >= DESKEW_MIN_SHARPENING
        ):
            skew = layout.skew
            image = deskew(image, skew)
        sideways = layout is not None and layout.sideways
        result, turn, image = recognize_upright(engine, image, job.dpi, deadline, sideways=sideways)
    except OcrTimeoutError:
        error = f"OCR of page {number} took longer than the time limit of {timeout:g} s."
        return _OcrDone(_failed(number, error, job.width, job.height), None, job, 0.0)
    except OcrError as exc:
        error = f"OCR failed on page {number}: {exc}."
        return _OcrDone(_failed(number, error, job.width, job.height), None, job, 0.0)
    except Exception as exc:  # an engine bug must not cost the rest of the document
        log.exception("OCR engine crashed on page %d", number)
        error = f"OCR failed on page {number}: {exc!r}."
        return _OcrDone(_failed(number, error, job.width, job.height), None, job, 0.0)
    width, height = (job.height, job.width) if turn in (90, 270) else (job.width, job.height)
    sx, sy = width / image.width, height / image.height
    words = []
    for w in result.words:
        x0, y0, x1, y1 = unrotate_box(w.box, skew, image.size)
        box = (
            min(max(x0 * sx, 0.0), width),
            min(max(y0 * sy, 0.0), height),
            min(max(x1 * sx, 0.0), width),
            min(max(y1 * sy, 0.0), height),
        )
        words.append(Word(text=w.text, confidence=w.confidence, bbox=box))
    text_pdf, overlay_skew = result.pdf, skew
    if text_pdf is None and words:
        # Words are already on the upright page, so this layer needs no turning back.
        text_pdf, overlay_skew = invisible_text_pdf(words, width, height), 0.0
    page = PageText(
        number=number,
        text=result.text,
        source="ocr",
        words=words,
        rotation=turn,
        confidence=result.confidence,
        width=width,
        height=height,
    )
    return _OcrDone(page, text_pdf if words else None, job, overlay_skew)


def _save_copy(document: pdfium.PdfDocument) -> bytes:
    """PDFium's own rewrite of the document, for when pypdf cannot read the original."""
    buffer = io.BytesIO()
    with PDFIUM_LOCK:
        document.save(buffer)
    return buffer.getvalue()


def extract_document_text(
    pdf: bytes,
    settings: OcrSettings,
    *,
    progress: Callable[[int], None] | None = None,
    engine: OcrEngine | None = None,
) -> DocumentText:
    """Text, word boxes and a searchable PDF for every page of ``pdf``.

    ``progress`` is called from the calling thread with the number of pages finished so far.
    ``engine`` defaults to tesseract with ``settings.languages``. The input bytes are never
    changed. Raises :class:`~backoffice.text.model.TextError` when the document as a whole
    cannot be read; single unreadable pages are reported in the result instead.
    """
    engine = engine or TesseractEngine(languages=settings.languages)
    workers = max(1, settings.workers)
    window = workers + 2
    with PDFIUM_LOCK:
        document = open_pdf(pdf)
        count = len(document)
    pages: list[PageText | None] = [None] * count
    builder = SearchablePdfBuilder(pdf, count, repaired=lambda: _save_copy(document))
    pending: set[Future[_OcrDone]] = set()
    finished = 0

    def finish(page: PageText) -> None:
        nonlocal finished
        pages[page.number - 1] = page
        finished += 1
        if progress is not None:
            progress(finished)

    def collect(block: bool) -> None:
        done, _ = wait(pending, return_when=FIRST_COMPLETED, timeout=None if block else 0)
        for future in done:
            pending.discard(future)
            outcome = future.result()
            if outcome.text_pdf is not None:
                try:
                    builder.overlay(
                        outcome.job.index,
                        outcome.text_pdf,
                        bbox=outcome.job.bbox,
                        page_rotation=outcome.job.page_rotation,
                        turn=outcome.page.rotation,
                        skew=outcome.skew,
                    )
                except Exception:
                    log.exception(
                        "text of page %d could not be added to the searchable PDF",
                        outcome.page.number,
                    )
            finish(outcome.page)

    slots = _ocr_slots(workers)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        for index in range(count):
            while len(pending) >= window:
                collect(block=True)
            with PDFIUM_LOCK:
                prepared = _prepare(document, index, settings)
            if isinstance(prepared, PageText):
                finish(prepared)
            else:
                pending.add(
                    pool.submit(_ocr_page, engine, prepared, settings.timeout_seconds, slots)
                )
            if pending:
                collect(block=False)
        while pending:
            collect(block=True)
        try:
            searchable = builder.build()
        except Exception:
            log.exception("the searchable PDF could not be written; handing back the original")
            searchable = pdf
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        with PDFIUM_LOCK:
            document.close()
    return DocumentText(
        pages=[page for page in pages if page is not None], searchable_pdf=searchable
    )
