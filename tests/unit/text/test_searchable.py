"""Placement of OCR text in the searchable PDF for every page rotation and turn."""

from __future__ import annotations

import io

import pypdf
import pypdfium2 as pdfium
import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from backoffice.config import OcrSettings
from backoffice.text import OcrResult, OcrWord, Orientation, extract_document_text
from backoffice.text.render import apply, display_matrix
from tests.unit.text.fakes import FakeEngine

DPI = 100


class _TurnEngine(FakeEngine):
    """Reads confidently only once the image has been turned the expected way."""

    def __init__(self, turn: int) -> None:
        super().__init__(orientation=Orientation(rotation=turn, confidence=10.0))
        self.turn = turn

    def recognize(self, image: Image.Image, *, dpi: float, timeout: float) -> OcrResult:
        # The marker pixel was put where the top-left corner ends up after the turn.
        upright = image.getpixel((1, 1)) == 0
        conf = 0.95 if upright or self.turn == 0 else 0.1
        words = [OcrWord("Rechnung", conf, (20, 30, 120, 50), (1, 1, 1))] * 3
        return OcrResult(words=words[:1] if conf > 0.5 else words, text="Rechnung", pdf=None)


def _page(page_rotation: int, turn: int) -> bytes:
    """A 300 x 200 px scan whose content needs ``turn`` after ``/Rotate`` is applied."""
    image = Image.new("L", (300, 200), 255)
    # Put a marker at the pixel that becomes the top-left corner of the upright page.
    displayed_turn = (page_rotation + turn) % 360
    x, y = {0: (0, 0), 90: (0, 196), 180: (296, 196), 270: (296, 0)}[displayed_turn]
    image.paste(0, (x, y, x + 4, y + 4))
    # The page box does not start at the origin, to catch offset mistakes.
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(216, 144))
    pdf.drawImage(ImageReader(image), -30, -40, 216, 144)
    pdf.showPage()
    pdf.save()
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(buffer.getvalue())))
    page = writer.pages[0]
    page.rotation = page_rotation
    page.mediabox = pypdf.generic.RectangleObject([-30, -40, 186, 104])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("page_rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_ocr_text_sits_where_it_was_read(page_rotation: int, turn: int) -> None:
    pdf = _page(page_rotation, turn)
    settings = OcrSettings(workers=1, dpi=DPI)
    result = extract_document_text(pdf, settings, engine=_TurnEngine(turn))
    page = result.pages[0]
    assert page.rotation == turn
    word = page.words[0]
    assert word.bbox == pytest.approx((20 * 0.72, 30 * 0.72, 120 * 0.72, 50 * 0.72), abs=0.8)

    # The output page shows upright, and its text is where the word was read.
    document = pdfium.PdfDocument(result.searchable_pdf)
    out_page = document[0]
    assert (out_page.get_rotation() - page_rotation - turn) % 360 == 0
    assert out_page.get_size() == pytest.approx((page.width, page.height), abs=0.5)
    textpage = out_page.get_textpage()
    assert textpage.get_text_range().strip() == "Rechnung"
    matrix = display_matrix(out_page.get_bbox(), out_page.get_rotation())
    left, bottom, right, top = textpage.get_charbox(0, loose=True)
    centre = apply(matrix, (left + right) / 2, (bottom + top) / 2)
    x0, y0, x1, y1 = word.bbox
    assert x0 - 1 <= centre[0] <= x1 + 1
    assert y0 - 1 <= centre[1] <= y1 + 1
