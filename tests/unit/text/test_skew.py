"""Straightening slightly skewed scans, and finding sheets fed sideways."""

from __future__ import annotations

import io
import math

import pdfplumber
import pytest
from PIL import Image

from backoffice.config import OcrSettings
from backoffice.text import extract_document_text
from backoffice.text.skew import analyse_layout, deskew, unrotate_box
from tests.unit.text.pdfs import INVOICE, Line, image_pdf, overlaps, page_image, text_pdf

DPI = 200
ITEMS = ["Wartung Heizungsanlage", "Büromaterial", "Fahrtkosten Pauschale", "Prüfung Rauchmelder"]
BODY = [
    *INVOICE,
    *(
        Line(
            60 + 9 * (i % 5), 260 + 24 * i, f"Position {i + 1}: {ITEMS[i % 4]} {17 * i + 5},00 EUR"
        )
        for i in range(12)
    ),
]


def _skewed(degrees: float) -> Image.Image:
    """The page as a scan fed ``degrees`` counter-clockwise askew."""
    return page_image(text_pdf([BODY]), dpi=DPI).rotate(
        degrees, resample=Image.Resampling.BICUBIC, fillcolor=255
    )


def _moved(box: tuple[float, float, float, float], degrees: float, size: tuple[float, float]):
    """Where the centre of a box drawn on the page lands when the page is skewed."""
    cx, cy = size[0] / 2, size[1] / 2
    x, y = (box[0] + box[2]) / 2 - cx, (box[1] + box[3]) / 2 - cy
    rad = math.radians(degrees)
    return (cx + x * math.cos(rad) + y * math.sin(rad), cy - x * math.sin(rad) + y * math.cos(rad))


@pytest.mark.parametrize("degrees", [-2.5, -1.0, 0.0, 0.7, 2.0])
def test_the_skew_of_a_scan_is_measured(degrees: float) -> None:
    layout = analyse_layout(_skewed(degrees), DPI)
    assert layout is not None
    assert layout.skew == pytest.approx(-degrees, abs=0.15)
    assert not layout.sideways


def test_a_sheet_fed_sideways_is_recognised_and_a_blank_one_is_not_measured() -> None:
    layout = analyse_layout(_skewed(0).rotate(90, expand=True), DPI)
    assert layout is not None and layout.sideways
    assert analyse_layout(Image.new("L", (1654, 2339), 255), DPI) is None


def test_a_box_on_the_straightened_image_maps_back_onto_the_skewed_one() -> None:
    image = Image.new("L", (400, 300), 255)
    image.paste(0, (250, 200, 270, 210))
    straight = deskew(image, 3.0)
    ys, xs = zip(
        *[(y, x) for y in range(300) for x in range(400) if straight.getpixel((x, y)) == 0],
        strict=True,
    )
    back = unrotate_box((min(xs), min(ys), max(xs) + 1, max(ys) + 1), 3.0, straight.size)
    assert overlaps(back, (250, 200, 270, 210))
    assert back == pytest.approx((250, 200, 270, 210), abs=2.5)


@pytest.mark.ocr
def test_a_skewed_scan_is_straightened_and_its_words_stay_on_the_print() -> None:
    degrees = 2.5
    image = _skewed(degrees)
    pdf = image_pdf([image], dpi=DPI)
    result = extract_document_text(pdf, OcrSettings(workers=1, dpi=DPI, timeout_seconds=60))
    page = result.pages[0]
    assert page.rotation == 0
    assert "Rechnungsnummer: RE-2024-0815" in page.text
    assert page.text.count("Wartung Heizungsanlage") == 3
    size = (page.width, page.height)
    centre = _moved(INVOICE[1].word_box("Rechnungsnummer:"), degrees, size)
    box = next(w.bbox for w in page.words if w.text.startswith("Rechnungsnummer"))
    assert box[0] <= centre[0] <= box[2] and box[1] <= centre[1] <= box[3]
    with pdfplumber.open(io.BytesIO(result.searchable_pdf)) as doc:
        found = next(
            w for w in doc.pages[0].extract_words() if w["text"].startswith("Rechnungsnummer")
        )
    # pdfplumber boxes the rotated glyphs generously; the word's centre must sit on the print.
    middle = ((found["x0"] + found["x1"]) / 2, (found["top"] + found["bottom"]) / 2)
    assert middle == pytest.approx(centre, abs=8)
