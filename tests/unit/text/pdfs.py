"""Test material for the text stage: born-digital and scanned PDFs made on the spot.

Positions are given the way a person measures a printed page: ``x`` from the left edge and
``y`` from the top edge down to the text's baseline, in points.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdf
import pypdfium2 as pdfium
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

FONT = "Helvetica"


@dataclass(frozen=True)
class Line:
    x: float
    y: float
    text: str
    size: float = 14.0

    def box(self) -> tuple[float, float, float, float]:
        """Roughly where the printed line stands: top-left origin, points."""
        width = stringWidth(self.text, FONT, self.size)
        return (self.x, self.y - 0.8 * self.size, self.x + width, self.y + 0.25 * self.size)

    def word_box(self, word: str) -> tuple[float, float, float, float]:
        """Where one word of the line stands (top-left origin, points)."""
        start = self.text.index(word)
        x0 = self.x + stringWidth(self.text[:start], FONT, self.size)
        x1 = x0 + stringWidth(word, FONT, self.size)
        return (x0, self.y - 0.8 * self.size, x1, self.y + 0.25 * self.size)


INVOICE = [
    Line(60, 90, "Müller & Söhne GmbH", 18),
    Line(60, 140, "Rechnungsnummer: RE-2024-0815", 14),
    Line(60, 170, "Größe der Lieferung: 12 Kartons", 14),
    Line(60, 200, "Gesamtbetrag: 1.234,56 EUR", 14),
    Line(60, 230, "Zahlbar innerhalb von vierzehn Tagen ohne Abzug.", 14),
]


def text_pdf(
    pages: list[list[Line]], size: tuple[float, float] = A4, invisible: bool = False
) -> bytes:
    """A born-digital PDF, one list of lines per page."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=size)
    for lines in pages:
        for line in lines:
            text = pdf.beginText()
            text.setFont(FONT, line.size)
            if invisible:
                text.setTextRenderMode(3)
            text.setTextOrigin(line.x, size[1] - line.y)
            text.textOut(line.text)
            pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def page_image(pdf: bytes, index: int = 0, dpi: int = 200) -> Image.Image:
    """A page of ``pdf`` as a grey scan."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[index]
        return page.render(scale=dpi / 72, grayscale=True).to_pil().copy()
    finally:
        document.close()


def image_pdf(
    images: list[Image.Image],
    dpi: int = 200,
    hidden_text: dict[int, str] | None = None,
    visible_text: dict[int, str] | None = None,
) -> bytes:
    """An image-only PDF (one image per page, page sized to the image at ``dpi``).

    ``hidden_text`` puts an invisible text layer on the given pages (0-based), as a scanner's
    own OCR would; ``visible_text`` prints a small line on top of the image, like a stamp.
    """
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for index, image in enumerate(images):
        width, height = image.width * 72 / dpi, image.height * 72 / dpi
        pdf.setPageSize((width, height))
        pdf.drawImage(ImageReader(image), 0, 0, width, height)
        for text, invisible in (
            ((hidden_text or {}).get(index), True),
            ((visible_text or {}).get(index), False),
        ):
            if text:
                obj = pdf.beginText()
                obj.setTextRenderMode(3 if invisible else 0)
                obj.setFont(FONT, 8)
                obj.setTextOrigin(20, 20)
                obj.textOut(text)
                pdf.drawText(obj)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def scanned(pages: list[list[Line]], dpi: int = 200, turn: dict[int, int] | None = None) -> bytes:
    """Born-digital pages printed and scanned: image-only PDF.

    ``turn`` maps a page index to degrees counter-clockwise the sheet lay turned in the scanner.
    """
    source = text_pdf(pages)
    images = []
    for index in range(len(pages)):
        image = page_image(source, index, dpi)
        degrees = (turn or {}).get(index, 0)
        if degrees:
            image = image.rotate(degrees, expand=True, fillcolor=255)
        images.append(image)
    return image_pdf(images, dpi)


def with_rotate(pdf: bytes, rotate: dict[int, int]) -> bytes:
    """The PDF with ``/Rotate`` set on some pages."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    for index, degrees in rotate.items():
        writer.pages[index].rotation = degrees
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two ``x0, y0, x1, y1`` boxes intersect."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
