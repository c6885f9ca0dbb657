"""Text-layer pages: when a layer is trusted, and what comes out of it."""

from __future__ import annotations

import ctypes
import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from backoffice.config import OcrSettings
from backoffice.text import extract_document_text
from backoffice.text.layer import judge
from backoffice.text.render import apply, display_matrix
from tests.unit.text.fakes import FakeEngine
from tests.unit.text.pdfs import INVOICE, image_pdf, overlaps, page_image, text_pdf, with_rotate

SETTINGS = OcrSettings(workers=2, dpi=100)


@pytest.mark.parametrize(
    "text",
    [
        "Sehr geehrte Frau Müller, anbei unsere Rechnung Nr. RE-2024-0815 vom 03.05.2024.",
        "Gesamtbetrag: 1.234,56 € zahlbar bis 31.05.2024; IBAN DE89 3704 0044 0532 0130 00",
        "Größe Straße Übergabe GmbH & Co. KG, USt-IdNr. DE123456789, info@mueller-gmbh.de",
    ],
)
def test_real_text_is_judged_plausible(text: str) -> None:
    quality, chars = judge(text)
    assert quality > 0.9
    assert chars > 40


@pytest.mark.parametrize(
    "garbage",
    [
        "lIlIl ,.,' ~~ iI1l | ;;i '' \\\\ ~^ ¦¦ lIlI1 ]]] .,.,",
        "\ue000\ue001\ue002 \ue003\ue004 \ue005\ue006\ue007\ue008 \ue009",
        "jaizsHunjyez aJJes beusalwesas) siaidjezuly qeyssuuı UdyNIS BENog",
        "xkcdqrtz bvnmwq plkjhg zxcvbnm qwrtzp",
    ],
)
def test_garbage_is_judged_implausible(garbage: str) -> None:
    quality, _ = judge(garbage)
    assert quality < OcrSettings().min_layer_quality


def test_born_digital_page_is_taken_from_its_layer() -> None:
    pdf = text_pdf([INVOICE, INVOICE[:2]])
    engine = FakeEngine()
    result = extract_document_text(pdf, SETTINGS, engine=engine)

    assert [p.source for p in result.pages] == ["layer", "layer"]
    assert engine.calls == 0
    page = result.pages[0]
    assert "Rechnungsnummer: RE-2024-0815" in page.text
    assert "Müller & Söhne GmbH" in page.text  # umlauts survive
    assert "Größe" in page.text
    assert page.rotation == 0 and page.confidence is None and page.error is None
    assert (page.width, page.height) == pytest.approx(A4)
    assert result.searchable_pdf is pdf  # nothing to add, the input is handed back
    assert not result.needs_review
    assert "\f" in result.text


def test_layer_word_boxes_are_points_on_the_page_where_the_words_were_drawn() -> None:
    pdf = text_pdf([INVOICE])
    page = extract_document_text(pdf, SETTINGS).pages[0]
    words = {w.text: w for w in page.words}
    box = words["Rechnungsnummer:"].bbox
    assert overlaps(box, INVOICE[1].word_box("Rechnungsnummer:"))
    assert words["Größe"].text == "Größe"
    for word in page.words:
        x0, y0, x1, y1 = word.bbox
        assert 0 <= x0 < x1 <= page.width
        assert 0 <= y0 < y1 <= page.height
        assert word.confidence == 1.0


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_layer_boxes_follow_the_displayed_page_of_a_rotated_page(rotate: int) -> None:
    pdf = with_rotate(text_pdf([INVOICE]), {0: rotate})
    page = extract_document_text(pdf, SETTINGS).pages[0]
    expected = (A4[1], A4[0]) if rotate in (90, 270) else A4
    assert (page.width, page.height) == pytest.approx(expected)
    # Compare with where PDFium itself puts the word on the displayed page.
    document = pdfium.PdfDocument(pdf)
    pdfium_page = document[0]
    textpage = pdfium_page.get_textpage()
    start = textpage.get_text_range().index("Rechnungsnummer")
    left, bottom, right, top = textpage.get_charbox(start)
    dx, dy = ctypes.c_int(), ctypes.c_int()
    scale = 100
    pdfium_c.FPDF_PageToDevice(
        pdfium_page, 0, 0, int(page.width * scale), int(page.height * scale), 0,
        (left + right) / 2, (bottom + top) / 2, dx, dy,
    )  # fmt: skip
    centre = (dx.value / scale, dy.value / scale)
    box = next(w.bbox for w in page.words if w.text.startswith("Rechnungsnummer"))
    assert box[0] - 1 <= centre[0] <= box[2] + 1
    assert box[1] - 1 <= centre[1] <= box[3] + 1
    matrix = display_matrix(pdfium_page.get_bbox(), rotate)
    assert apply(matrix, (left + right) / 2, (bottom + top) / 2) == pytest.approx(centre, abs=0.05)


def test_scan_with_a_good_invisible_ocr_layer_keeps_that_layer() -> None:
    image = page_image(text_pdf([INVOICE]), dpi=100)
    hidden = " ".join(line.text for line in INVOICE) * 3
    pdf = image_pdf([image], dpi=100, hidden_text={0: hidden})
    engine = FakeEngine()
    page = extract_document_text(pdf, SETTINGS, engine=engine).pages[0]
    assert page.source == "layer"
    assert engine.calls == 0


def test_scan_with_a_garbage_layer_is_ocrd_again() -> None:
    image = page_image(text_pdf([INVOICE]), dpi=100)
    garbage = (
        "lIlIl ,.,' ~~ iI1l | ;;i '' ~^ ¦¦ lIlI1 ]]] .,., jaizsHunjyez aJJes beusalwesas) " * 5
    )
    pdf = image_pdf([image], dpi=100, hidden_text={0: garbage})
    engine = FakeEngine()
    page = extract_document_text(pdf, SETTINGS, engine=engine).pages[0]
    assert page.source == "ocr"
    assert page.text == "Erkannt"
    assert engine.calls == 1


def test_scan_with_only_a_stamp_as_text_is_ocrd() -> None:
    image = page_image(text_pdf([INVOICE]), dpi=100)
    pdf = image_pdf([image], dpi=100, visible_text={0: "Eingegangen am 12.05.2024"})
    page = extract_document_text(pdf, SETTINGS, engine=FakeEngine()).pages[0]
    assert page.source == "ocr"


def test_image_only_page_goes_to_ocr() -> None:
    pdf = image_pdf([page_image(text_pdf([INVOICE]), dpi=100)], dpi=100)
    page = extract_document_text(pdf, SETTINGS, engine=FakeEngine()).pages[0]
    assert page.source == "ocr"


def test_filled_in_form_fields_are_part_of_the_text() -> None:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("Helvetica", 12)
    pdf.drawString(60, 760, "Antrag auf Erstattung der Umsatzsteuer für das Jahr 2024")
    pdf.drawString(60, 720, "Name des Antragstellers:")
    pdf.acroForm.textfield(
        name="name", value="Jürgen Weißmüller", x=250, y=715, width=250, height=20
    )
    pdf.save()
    data = buffer.getvalue()
    page = extract_document_text(data, SETTINGS, engine=FakeEngine()).pages[0]
    assert page.source == "layer"
    assert "Jürgen Weißmüller" in page.text
    box = next(w.bbox for w in page.words if w.text == "Weißmüller")
    assert overlaps(box, (250, A4[1] - 735, 500, A4[1] - 715))
    assert extract_document_text(data, SETTINGS).searchable_pdf is data
