"""Separator sheets: printable, found on noisy scans in any orientation, never elsewhere."""

from __future__ import annotations

import io
import random
import statistics
import time

import pypdfium2 as pdfium
import pytest
import segno
import segno.helpers
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from backoffice.intake.separator import (
    SEPARATOR_PREFIX,
    SeparatorInfo,
    make_separator_sheet,
    parse_separator_payload,
    read_separator,
    separator_payload,
)
from backoffice.samples.scan import ScanParams, blank_page, image_pdf, scan_document


def _render(pdf: bytes, dpi: int = 100) -> Image.Image:
    document = pdfium.PdfDocument(pdf)
    image = document[0].render(scale=dpi / 72, grayscale=True).to_pil()
    document.close()
    return image


def _scanned(
    pdf: bytes,
    *,
    dpi: int,
    skew: float,
    upside_down: bool,
    seed: int,
    blur: float = 0.0,
    contrast: float = 1.0,
) -> bytes:
    params = ScanParams(
        dpi=dpi,
        skew_deg=skew,
        noise=0.035,
        blur=blur,
        contrast=contrast,
        paper=238,
        upside_down_pages=(1,) if upside_down else (),
        speckles=60,
        jpeg_quality=70,
        edge_shadow=True,
    )
    return image_pdf(scan_document(pdf, params, (seed,)))


def test_payloads() -> None:
    assert separator_payload() == f"{SEPARATOR_PREFIX}:v1"
    assert separator_payload("MUELLER") == "BACKOFFICE-SEP:v1:CLIENT=MUELLER"
    assert parse_separator_payload("BACKOFFICE-SEP:v1") == SeparatorInfo(None)
    assert parse_separator_payload("BACKOFFICE-SEP:v1:CLIENT=KLEIN") == SeparatorInfo("KLEIN")
    for other in (
        "BACKOFFICE-SEP:v2",
        "BACKOFFICE-SEP",
        "BCD\n002\n1\nSCT",
        "BACKOFFICE-SEP:v1:FOO=1",
        "https://example.org",
        "",
    ):
        assert parse_separator_payload(other) is None
    with pytest.raises(ValueError):
        separator_payload("A:B")
    with pytest.raises(ValueError):
        separator_payload("")


def test_sheet_is_a_printable_a4_pdf_with_title_and_code() -> None:
    pdf = make_separator_sheet("SCHNEIDER")
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width), round(height)) == (595, 842)
    text = document[0].get_textpage().get_text_range()
    assert "Trennblatt" in text and "SCHNEIDER" in text
    document.close()
    assert make_separator_sheet("SCHNEIDER") == pdf
    assert (
        "Trennblatt"
        in pdfium.PdfDocument(make_separator_sheet()).get_page(0).get_textpage().get_text_range()
    )


@pytest.mark.parametrize("code", [None, "MUELLER", "KLEIN"])
def test_reads_clean_sheet(code: str | None) -> None:
    assert read_separator(_render(make_separator_sheet(code))) == SeparatorInfo(code)


@pytest.mark.parametrize(
    ("dpi", "skew", "upside_down", "blur", "contrast"),
    [
        (200, 1.5, False, 0.0, 1.0),
        (300, -1.5, True, 1.1, 0.75),
        (200, -0.7, True, 0.8, 0.8),
        (300, 0.4, False, 0.0, 0.72),
    ],
)
def test_reads_noisy_skewed_scans_at_100_dpi(
    dpi: int, skew: float, upside_down: bool, blur: float, contrast: float
) -> None:
    for seed, code in enumerate((None, "SCHNEIDER")):
        scan = _scanned(
            make_separator_sheet(code),
            dpi=dpi,
            skew=skew,
            upside_down=upside_down,
            seed=seed,
            blur=blur,
            contrast=contrast,
        )
        assert read_separator(_render(scan, 100)) == SeparatorInfo(code)


def _document_with_girocode() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setFont("Helvetica", 11)
    canvas.drawString(70, 760, "Rechnung RE-2026-0042 - Bitte zahlen Sie mit GiroCode")
    code = segno.helpers.make_epc_qr(
        name="Muster GmbH", iban="DE18370501981902348571", amount=119.0, text="RE-2026-0042"
    )
    buffer_png = io.BytesIO()
    code.save(buffer_png, kind="png", scale=6)
    canvas.drawImage(ImageReader(io.BytesIO(buffer_png.getvalue())), 70, 500, 150, 150)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_ignores_other_qr_codes_and_ordinary_pages() -> None:
    giro = _document_with_girocode()
    assert read_separator(_render(giro)) is None
    assert (
        read_separator(_render(_scanned(giro, dpi=300, skew=0.5, upside_down=False, seed=1)))
        is None
    )
    plain = segno.make("BACKOFFICE-SEP:v2:CLIENT=MUELLER", error="h")
    buffer = io.BytesIO()
    plain.save(buffer, kind="png", scale=10, border=4)
    assert read_separator(Image.open(buffer)) is None
    params = ScanParams(
        dpi=200,
        skew_deg=0.0,
        noise=0.03,
        blur=0.0,
        contrast=1.0,
        paper=240,
        upside_down_pages=(),
        speckles=40,
        jpeg_quality=75,
        edge_shadow=False,
    )
    assert read_separator(_render(image_pdf([blank_page(params, (3,))]))) is None


def test_accepts_colour_and_palette_images() -> None:
    grey = _render(make_separator_sheet("KLEIN"))
    assert read_separator(grey.convert("RGB")) == SeparatorInfo("KLEIN")
    assert read_separator(grey.convert("P")) == SeparatorInfo("KLEIN")


def test_fast_on_a_100_dpi_page() -> None:
    rng = random.Random(0)
    pages = [
        _render(
            _scanned(
                make_separator_sheet("MUELLER"),
                dpi=200,
                skew=rng.uniform(-1.5, 1.5),
                upside_down=i % 2 == 1,
                seed=i,
            ),
            100,
        )
        for i in range(3)
    ] + [_render(_document_with_girocode(), 100)]
    timings = []
    for _ in range(3):
        for page in pages:
            started = time.perf_counter()
            read_separator(page)
            timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.05
