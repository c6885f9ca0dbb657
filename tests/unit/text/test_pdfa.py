"""PDF/A-2b copies of searchable PDFs (ghostscript)."""

from __future__ import annotations

import io

import pdfplumber
import pytest
from reportlab.pdfgen import canvas

from backoffice.text import pdfa

pytestmark = pytest.mark.skipif(not pdfa.available(), reason="ghostscript not installed")


def test_pdfa_copy_keeps_text_and_declares_pdfa_with_output_intent() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, "Rechnungsnummer RE-2026-0042 Müller")
    c.showPage()
    c.save()
    out = pdfa.to_pdfa(buf.getvalue())
    assert out is not None
    assert b"pdfaid:part='2'" in out or b'pdfaid:part="2"' in out
    assert b"GTS_PDFA1" in out and b"OutputIntents" in out
    with pdfplumber.open(io.BytesIO(out)) as pdf:
        assert "RE-2026-0042 Müller" in (pdf.pages[0].extract_text() or "")


def test_garbage_gives_none_not_an_exception() -> None:
    assert pdfa.to_pdfa(b"%PDF-1.7 not really", timeout=20) is None
