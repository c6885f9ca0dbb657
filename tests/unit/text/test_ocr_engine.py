"""The tesseract engine's plumbing that needs no OCR run: parsing, errors, the protocol."""

from __future__ import annotations

import pytest
from PIL import Image

from backoffice.config import OcrSettings
from backoffice.text import OcrEngine, OcrError, TesseractEngine, extract_document_text
from backoffice.text.ocr import parse_tsv, words_to_text
from tests.unit.text.pdfs import INVOICE, scanned

TSV = "\n".join(
    [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t1000\t1400\t-1\t",
        "4\t1\t1\t1\t1\t0\t100\t100\t300\t20\t-1\t",
        "5\t1\t1\t1\t1\t1\t100\t100\t120\t20\t96.5\tRechnung",
        "5\t1\t1\t1\t1\t2\t230\t100\t40\t20\t91\tNr.",
        "5\t1\t1\t1\t2\t1\t100\t130\t60\t20\t88\tGröße",
        "5\t1\t2\t1\t1\t1\t100\t300\t60\t20\t95\t ",
        "5\t1\t2\t1\t1\t2\t100\t300\t80\t20\t93\tMüller",
    ]
)


def test_tsv_words_and_text_keep_lines_and_blocks() -> None:
    words = parse_tsv(TSV)
    assert [w.text for w in words] == ["Rechnung", "Nr.", "Größe", "Müller"]
    assert words[0].box == (100, 100, 220, 120)
    assert words[0].confidence == pytest.approx(0.965)
    assert words_to_text(words) == "Rechnung Nr.\nGröße\n\nMüller"


def test_tesseract_engine_satisfies_the_protocol() -> None:
    assert isinstance(TesseractEngine(), OcrEngine)


def test_a_missing_tesseract_is_a_failed_page_with_a_reason() -> None:
    engine = TesseractEngine(binary="/nonexistent/tesseract")
    with pytest.raises(OcrError, match="could not be run"):
        engine.recognize(Image.new("L", (100, 100), 255), dpi=100, timeout=5)
    result = extract_document_text(scanned([INVOICE], dpi=72), OcrSettings(dpi=72), engine=engine)
    assert result.failed_pages == [1]
    assert "could not be run" in (result.pages[0].error or "")


def test_an_image_too_small_to_read_is_refused() -> None:
    with pytest.raises(OcrError, match="too small"):
        TesseractEngine().recognize(Image.new("L", (2, 50), 255), dpi=300, timeout=5)
