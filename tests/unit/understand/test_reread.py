"""A date the first OCR reading lost is found by reading the head of page 1 line by line."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from backoffice.understand import understand_document
from backoffice.understand.reread import needs_reread
from backoffice.understand.schema import Field

BODY = [
    "Sehr geehrte Damen und Herren,",
    "für die Lieferung vom 02.03.2026 berechnen wir Ihnen:",
    "Kugelhahn DN 20, 4 Stück                          60,92 €",
    "Nettobetrag                                       60,92 €",
    "19 % USt                                          11,57 €",
    "Rechnungsbetrag                                   72,49 €",
    "Zahlbar innerhalb von 14 Tagen ohne Abzug.",
]


def _invoice_pdf() -> bytes:
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4)
    top = A4[1]
    c.setFont("Helvetica-Bold", 14)
    c.drawString(25 * mm, top - 20 * mm, "Sanitär Großhandel Weber GmbH")
    c.setFont("Helvetica", 8)
    c.drawString(25 * mm, top - 47 * mm, "Weber GmbH · Industriestr. 4 · 70565 Stuttgart")
    c.setFont("Helvetica", 11)
    for i, line in enumerate(["Müller Haustechnik GmbH", "Hauptstraße 12", "70173 Stuttgart"]):
        c.drawString(25 * mm, top - (55 + 5 * i) * mm, line)
    for i, line in enumerate(["Rechnung Nr. RE-2026-0417", "Datum 23.03.2026", "Kunde 10442"]):
        c.drawString(125 * mm, top - (55 + 5 * i) * mm, line)
    c.setFont("Helvetica-Bold", 12)
    c.drawString(25 * mm, top - 100 * mm, "Rechnung")
    c.setFont("Helvetica", 11)
    for i, line in enumerate(BODY):
        c.drawString(25 * mm, top - (110 + 6 * i) * mm, line)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _scanned(pdf: bytes, dpi: int = 200) -> bytes:
    """The same page as an image-only PDF, as a scanner delivers it."""
    document = pdfium.PdfDocument(pdf)
    image = document[0].render(scale=dpi / 72, grayscale=True).to_pil()
    document.close()
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


def _first_reading_without_the_date() -> str:
    """What a first OCR pass that dropped the information block's date line gives."""
    return "\n".join(
        [
            "Sanitär Großhandel Weber GmbH",
            "Weber GmbH · Industriestr. 4 · 70565 Stuttgart",
            "Müller Haustechnik GmbH Rechnung Nr. RE-2026-0417",
            "Hauptstraße 12",
            "70173 Stuttgart Kunde 10442",
            "Rechnung",
            *BODY,
        ]
    )


def test_lost_date_is_found_in_the_head_of_a_scan() -> None:
    raw = _scanned(_invoice_pdf())
    result = understand_document([_first_reading_without_the_date()], [], raw=raw)
    assert result.classification.label == "invoice"
    dates = {f.name: f.value for f in result.fields}
    assert dates.get("issue_date") == "2026-03-23"


def test_born_digital_pages_and_dated_documents_are_not_read_again() -> None:
    born_digital = _invoice_pdf()
    assert not needs_reread("invoice", [], born_digital)  # the text layer is complete
    scanned = _scanned(born_digital)
    assert needs_reread("invoice", [], scanned)
    dated = [Field("issue_date", "2026-03-23", 0.9, "text")]
    assert not needs_reread("invoice", dated, scanned)
    assert not needs_reread("other", [], scanned)
    assert not needs_reread("invoice", [], b"<Invoice/>")
