"""Scanner simulation: image-only PDFs, determinism, orientation, blank back sides."""

from __future__ import annotations

import io
import random
from dataclasses import replace
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from backoffice.samples.scan import (
    Scanner,
    ScanParams,
    blank_page,
    image_pdf,
    page_pixels,
    random_params,
    render_pages,
    scan_document,
)


def _page_with_mark() -> bytes:
    """A page that is black in its top-left corner only, so orientation is measurable."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.rect(0, A4[1] - 150, 150, 150, stroke=0, fill=1)
    canvas.setFont("Helvetica", 12)
    canvas.drawString(200, 400, "Rechnungsnummer RE-2026-0001")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _params(**changes: Any) -> ScanParams:
    base = ScanParams(
        dpi=200,
        skew_deg=0.0,
        noise=0.02,
        blur=0.0,
        contrast=1.0,
        paper=245,
        upside_down_pages=(),
        speckles=10,
        jpeg_quality=75,
        edge_shadow=False,
    )
    return replace(base, **changes)


def _grey(page_jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page_jpeg)).convert("L"), dtype=np.float32)


def test_scan_is_deterministic_and_sized_for_a4() -> None:
    pdf = _page_with_mark()
    first = scan_document(pdf, _params(), (1, 2))
    second = scan_document(pdf, _params(), (1, 2))
    other = scan_document(pdf, _params(), (1, 3))
    assert [p.jpeg for p in first] == [p.jpeg for p in second]
    assert first[0].jpeg != other[0].jpeg
    assert (first[0].width, first[0].height) == page_pixels(200) == (1654, 2339)


def test_threaded_scanner_matches_single_thread() -> None:
    pdf = _page_with_mark()
    params = _params(blur=0.8, edge_shadow=True, upside_down_pages=(1,))
    with Scanner(workers=3) as scanner:
        futures = [scanner.scan(pdf, params, (7, i)) for i in range(4)]
        threaded = [f.result().jpeg for group in futures for f in group]
    single = [scan_document(pdf, params, (7, i))[0].jpeg for i in range(4)]
    assert threaded == single


def test_upside_down_and_skew_move_the_mark() -> None:
    pdf = _page_with_mark()
    upright = _grey(scan_document(pdf, _params(), (1,))[0].jpeg)
    turned_page = scan_document(pdf, _params(upside_down_pages=(1,)), (1,))[0]
    turned = _grey(turned_page.jpeg)
    assert turned_page.upside_down
    corner = (slice(0, 150), slice(0, 150))
    far = (slice(-150, None), slice(-150, None))
    assert upright[corner].mean() < 80 and upright[far].mean() > 200
    assert turned[far].mean() < 80 and turned[corner].mean() > 200
    skewed = render_pages(pdf, 100, [1.5])[0]
    straight = render_pages(pdf, 100, [0.0])[0]
    assert np.asarray(skewed).tolist() != np.asarray(straight).tolist()


def test_image_pdf_has_no_text_and_one_page_per_image() -> None:
    pdf = _page_with_mark()
    pages = [*scan_document(pdf, _params(), (1,)), blank_page(_params(), (2,))]
    data = image_pdf(pages)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert all((page.extract_text() or "").strip() == "" for page in reader.pages)
    document = pdfium.PdfDocument(data)
    for index in range(2):
        assert document[index].get_size() == pytest.approx((595.2756, 841.8898), abs=0.01)
    assert image_pdf(pages) == data


def test_blank_back_side_is_nearly_white_but_not_clean() -> None:
    page = blank_page(_params(paper=242), (5,))
    grey = _grey(page.jpeg)
    assert 225 < grey.mean() < 250
    assert grey.std() > 0.3


def test_random_params_stay_in_range() -> None:
    rng = random.Random(3)
    samples = [random_params(rng, 3, 300) for _ in range(400)]
    assert all(-1.5 <= p.skew_deg <= 1.5 for p in samples)
    assert all(
        set(p.upside_down_pages) <= {1, 2, 3} and len(p.upside_down_pages) <= 1 for p in samples
    )
    share = sum(bool(p.upside_down_pages) for p in samples) / len(samples)
    assert 0.05 < share < 0.16
    assert any(p.blur for p in samples) and any(not p.blur for p in samples)


def test_positive_skew_turns_counter_clockwise() -> None:
    """Like ``PIL.Image.rotate``: undo a scan's skew with ``rotate(-skew_deg)``."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setLineWidth(4)
    canvas.line(50, A4[1] / 2, A4[0] - 50, A4[1] / 2)
    canvas.showPage()
    canvas.save()
    image = np.asarray(render_pages(buffer.getvalue(), 100, [1.5])[0], dtype=np.float32)

    def row_of_line(column: int) -> float:
        darkness = 255 - image[:, column]
        return float((darkness * np.arange(len(darkness))).sum() / darkness.sum())

    left, right = row_of_line(150), row_of_line(650)
    assert right < left - 10  # the right end is higher up on the page
