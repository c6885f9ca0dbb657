"""A readable page for an XML-only e-invoice (XRechnung, CII or UBL).

The XML is the original and stays untouched in the archive (GoBD: for e-invoices the XML alone
is the record). People, and the search, still need something to read: this renders the invoice's
fields as a plain A4 PDF with a real text layer, which then serves as the document's searchable
PDF and its text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from backoffice.text.model import DocumentText, PageText, Word

LABELS = {
    "invoice_number": "Rechnungsnummer",
    "issue_date": "Rechnungsdatum",
    "service_date": "Leistungsdatum",
    "due_date": "Fällig am",
    "seller_name": "Verkäufer",
    "seller_vat_id": "USt-IdNr. Verkäufer",
    "buyer_name": "Käufer",
    "customer_number": "Kundennummer",
    "net_total": "Nettobetrag",
    "vat_total": "Umsatzsteuer",
    "gross_total": "Gesamtbetrag",
    "currency": "Währung",
    "iban": "IBAN",
    "bic": "BIC",
    "payment_terms_days": "Zahlungsziel (Tage)",
}
FONT, SIZE, LEADING = "Helvetica", 10, 14


def render_einvoice(fields: Sequence[tuple[str, str]], profile: str | None) -> DocumentText:
    """A one-page (or longer) PDF listing the e-invoice's fields, and its text and word boxes."""
    lines = [f"E-Rechnung ({profile or 'XML'})", ""]
    for name, value in fields:
        label = LABELS.get(name)
        if label:
            lines.append(f"{label}: {value}")
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, invariant=1)
    width, height = A4
    pages: list[PageText] = []
    page_lines: list[str] = []
    words: list[Word] = []
    y = height - 25 * mm

    def finish() -> None:
        canvas.showPage()
        pages.append(
            PageText(
                len(pages) + 1, "\n".join(page_lines), "layer", list(words), 0, None, width, height
            )
        )
        page_lines.clear()
        words.clear()

    for line in lines:
        if y < 20 * mm:
            finish()
            y = height - 25 * mm
        canvas.setFont(FONT, SIZE)
        canvas.drawString(20 * mm, y, line)
        x = 20 * mm
        for token in line.split():
            w = canvas.stringWidth(token, FONT, SIZE)
            words.append(Word(token, 1.0, (x, height - y - SIZE, x + w, height - y + 2)))
            x += w + canvas.stringWidth(" ", FONT, SIZE)
        page_lines.append(line)
        y -= LEADING
    finish()
    canvas.save()
    return DocumentText(pages, buf.getvalue())
