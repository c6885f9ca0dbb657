"""A scanned sample invoice is readable by tesseract (the point of the scanner simulation)."""

from __future__ import annotations

import re
from typing import Any

import pypdfium2 as pdfium
import pytest
from rapidfuzz import fuzz

from backoffice.samples import GeneratedSet

pytesseract = pytest.importorskip("pytesseract")


@pytest.mark.ocr
def test_invoice_number_readable_in_scan(corpus: GeneratedSet, truth: dict[str, Any]) -> None:
    candidates = [
        d
        for d in truth["documents"]
        if d["doc_type"] == "invoice" and 1 not in d["scan"]["upside_down_pages"]
    ]
    doc = max(candidates, key=lambda d: (d["scan"]["dpi"], -d["scan"]["blur"]))
    pdf = pdfium.PdfDocument(str(corpus.root / doc["files"]["scanned"]))
    image = pdf[0].render(scale=doc["scan"]["dpi"] / 72, grayscale=True).to_pil()
    pdf.close()
    text = pytesseract.image_to_string(image, lang="deu", config="--psm 3")
    number = doc["fields"]["invoice_number"]
    squashed = re.sub(r"\s+", "", text)
    best = max(
        (
            fuzz.ratio(number, squashed[i : i + len(number)])
            for i in range(max(1, len(squashed) - len(number) + 1))
        ),
        default=0,
    )
    assert best >= 85, (number, text[:500])
    assert "rechnung" in text.lower() or "invoice" in text.lower() or "gutschrift" in text.lower()
