"""Blank back sides are dropped; a page with a text layer never is, however short its text."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from backoffice.intake.split import plan_groups
from backoffice.samples.scan import ScanParams, blank_page, image_pdf


def _born_digital(*texts: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for text in texts:
        if text:
            canvas.drawString(72, 700, text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_one_line_letter_is_kept_and_an_empty_page_dropped() -> None:
    pdf = pdfium.PdfDocument(_born_digital("Kündigung zum 31.12.2026.", ""))
    groups, separators, blanks = plan_groups(pdf, drop_blank=True)
    assert [g.pages for g in groups] == [[0]]
    assert (separators, blanks) == ([], [1])


def test_scanned_blank_back_side_is_dropped() -> None:
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
    pdf = pdfium.PdfDocument(image_pdf([blank_page(params, (7,))]))
    groups, _, blanks = plan_groups(pdf, drop_blank=True)
    assert (groups, blanks) == ([], [0])
