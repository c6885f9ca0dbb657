"""OCR with the real tesseract: text, positions, orientation, time limits."""

from __future__ import annotations

import io

import pdfplumber
import pypdfium2 as pdfium
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4

from backoffice.config import OcrSettings
from backoffice.text import DocumentText, TesseractEngine, extract_document_text
from tests.unit.text.pdfs import INVOICE, overlaps, scanned

pytestmark = pytest.mark.ocr

SETTINGS = OcrSettings(workers=2, dpi=200, timeout_seconds=60)


Box = tuple[float, float, float, float]


def _box_of(words: list[tuple[str, Box]], prefix: str) -> Box:
    return next(box for text, box in words if text.startswith(prefix))


@pytest.fixture(scope="module")
def upright() -> tuple[bytes, DocumentText]:
    pdf = scanned([INVOICE], dpi=200)
    return pdf, extract_document_text(pdf, SETTINGS)


def test_a_scan_is_read_with_its_umlauts(upright: tuple[bytes, DocumentText]) -> None:
    _, result = upright
    page = result.pages[0]
    assert page.source == "ocr"
    assert page.rotation == 0
    assert page.confidence is not None and page.confidence > 0.8
    for expected in ("Rechnungsnummer", "RE-2024-0815", "Müller", "Söhne", "Größe", "1.234,56"):
        assert expected in page.text
    assert (page.width, page.height) == pytest.approx(A4, abs=0.5)


def test_ocr_word_boxes_are_points_where_the_words_are_printed(
    upright: tuple[bytes, DocumentText],
) -> None:
    _, result = upright
    page = result.pages[0]
    for word in page.words:
        x0, y0, x1, y1 = word.bbox
        assert 0 <= x0 < x1 <= page.width
        assert 0 <= y0 < y1 <= page.height
        assert 0 <= word.confidence <= 1
    box = _box_of([(w.text, w.bbox) for w in page.words], "Rechnungsnummer")
    assert overlaps(box, INVOICE[1].word_box("Rechnungsnummer:"))


def test_the_searchable_pdf_has_the_words_over_the_printed_ones(
    upright: tuple[bytes, DocumentText],
) -> None:
    pdf, result = upright
    searchable = result.searchable_pdf
    assert searchable.startswith(pdf)  # the scan itself is kept as it was
    with pdfplumber.open(io.BytesIO(searchable)) as doc:
        page = doc.pages[0]
        assert (float(page.width), float(page.height)) == pytest.approx(A4, abs=0.5)
        words = [
            (w["text"], (w["x0"], w["top"], w["x1"], w["bottom"])) for w in page.extract_words()
        ]
    box = _box_of(words, "Rechnungsnummer")
    assert overlaps(box, INVOICE[1].word_box("Rechnungsnummer:"))
    assert any(text.startswith("Größe") for text, _ in words)


def test_pages_lying_upside_down_or_sideways_come_out_upright() -> None:
    # Sheet 1 lay upside down, sheet 2 turned a quarter to the left (needs 90° clockwise).
    pdf = scanned([INVOICE, INVOICE], dpi=200, turn={0: 180, 1: 90})
    result = extract_document_text(pdf, SETTINGS)
    assert [p.rotation for p in result.pages] == [180, 90]
    for page in result.pages:
        assert page.source == "ocr"
        assert "Rechnungsnummer" in page.text and "Größe" in page.text
        assert (page.width, page.height) == pytest.approx(A4, abs=1)
        box = _box_of([(w.text, w.bbox) for w in page.words], "Rechnungsnummer")
        assert overlaps(box, INVOICE[1].word_box("Rechnungsnummer:"))
    # The searchable PDF shows those pages upright and has their text.
    document = pdfium.PdfDocument(result.searchable_pdf)
    for index in range(2):
        page = document[index]
        assert page.get_size() == pytest.approx(A4, abs=1)
        assert "Rechnungsnummer" in page.get_textpage().get_text_range()


def test_a_blank_scan_is_an_empty_page_not_a_failure() -> None:
    result = extract_document_text(scanned([[]], dpi=200), SETTINGS)
    page = result.pages[0]
    assert page.source == "ocr" and page.text == "" and page.words == []
    assert not result.needs_review


def test_a_page_over_the_time_limit_fails_without_failing_the_document() -> None:
    pdf = scanned([INVOICE, INVOICE], dpi=200)
    result = extract_document_text(pdf, SETTINGS.model_copy(update={"timeout_seconds": 0.01}))
    assert result.failed_pages == [1, 2]
    assert all("limit" in (page.error or "") for page in result.pages)
    assert result.searchable_pdf == pdf


def test_orientation_detection_declines_a_near_empty_page() -> None:
    engine = TesseractEngine()
    image = Image.new("L", (1000, 1400), 255)
    image.paste(0, (100, 100, 140, 120))
    assert engine.detect_orientation(image, dpi=200, timeout=30) is None
