"""Separator sheets ("Trennblätter"): make them for printing, recognise them in scans.

Staff scan a whole tray of post at once. A separator sheet in front of each document tells
intake where one document ends and the next begins, and optionally which client the next
document belongs to, so that routing does not have to guess. The sheet carries a large QR
code with the payload ``BACKOFFICE-SEP:v1`` or ``BACKOFFICE-SEP:v1:CLIENT=<code>``; everything
else on it is for the humans handling the paper.

Recognition looks only for that payload: ordinary post may carry QR codes too (GiroCode on
invoices, parcel labels), and those must never split a batch. The QR code is big and uses the
highest error correction so that it still decodes from a noisy, skewed or upside-down scan
rendered at 100 dpi, which keeps the per-page check cheap.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import segno
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

SEPARATOR_PREFIX = "BACKOFFICE-SEP"
SEPARATOR_VERSION = "v1"
_CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


@dataclass(frozen=True)
class SeparatorInfo:
    """What a separator sheet says: the client of the following document, if it names one."""

    client_code: str | None


def separator_payload(client_code: str | None = None) -> str:
    """The QR payload for a sheet; client codes are restricted so the payload stays parseable."""
    if client_code is None:
        return f"{SEPARATOR_PREFIX}:{SEPARATOR_VERSION}"
    if not _CODE_RE.match(client_code):
        raise ValueError(f"client code {client_code!r} cannot go on a separator sheet")
    return f"{SEPARATOR_PREFIX}:{SEPARATOR_VERSION}:CLIENT={client_code}"


def parse_separator_payload(text: str) -> SeparatorInfo | None:
    """Interpret a decoded QR text; ``None`` unless it is one of our v1 separator payloads."""
    parts = text.strip().split(":")
    if len(parts) < 2 or parts[0] != SEPARATOR_PREFIX or parts[1] != SEPARATOR_VERSION:
        return None
    client: str | None = None
    for part in parts[2:]:
        key, _, value = part.partition("=")
        if key == "CLIENT" and _CODE_RE.match(value):
            client = value
        else:
            return None
    return SeparatorInfo(client)


def make_separator_sheet(client_code: str | None = None) -> bytes:
    """A printable A4 separator sheet as PDF bytes (deterministic for the same client code)."""
    payload = separator_payload(client_code)
    width, height = A4
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"Trennblatt {client_code}" if client_code else "Trennblatt")
    canvas.setCreator("Backoffice")

    canvas.setFont("Helvetica-Bold", 54)
    canvas.drawCentredString(width / 2, height - 42 * mm, "Trennblatt")
    canvas.setFont("Helvetica", 13)
    canvas.drawCentredString(
        width / 2, height - 53 * mm, "Backoffice · Dokumententrennung beim Scannen"
    )

    qr = segno.make(payload, error="h", micro=False)
    size = 95 * mm
    modules = len(qr.matrix)
    module = size / modules
    x0 = (width - size) / 2
    y0 = height - 72 * mm - size
    canvas.setFillColorRGB(0, 0, 0)
    for row, cells in enumerate(qr.matrix):
        start = None
        for col in range(modules + 1):
            dark = col < modules and bool(cells[col])
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                canvas.rect(
                    x0 + start * module,
                    y0 + (modules - 1 - row) * module,
                    (col - start) * module,
                    module,
                    stroke=0,
                    fill=1,
                )
                start = None

    y = y0 - 20 * mm
    if client_code:
        canvas.setFont("Helvetica", 16)
        canvas.drawCentredString(width / 2, y + 6 * mm, "Mandant")
        canvas.setFont("Helvetica-Bold", 40)
        canvas.drawCentredString(width / 2, y - 8 * mm, client_code)
    else:
        canvas.setFont("Helvetica-Bold", 22)
        canvas.drawCentredString(width / 2, y, "Mandant: automatische Zuordnung")
    canvas.setFont("Helvetica", 10.5)
    lines = [
        "Dieses Blatt vor jedes Dokument in den Scannerstapel legen.",
        "Alle folgenden Seiten bis zum nächsten Trennblatt gelten als ein Dokument"
        + (f" des Mandanten {client_code}." if client_code else "."),
        "Trennblätter werden beim Einlesen erkannt und nicht archiviert; sie können "
        "wiederverwendet werden.",
        "Bitte nicht knicken, beschriften oder überkleben.",
    ]
    y = 48 * mm
    for line in lines:
        canvas.drawCentredString(width / 2, y, line)
        y -= 6 * mm
    canvas.setFont("Helvetica", 7)
    canvas.drawCentredString(width / 2, 14 * mm, payload)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def read_separator(image: Image.Image) -> SeparatorInfo | None:
    """Recognise a separator sheet on a rendered page; ``None`` for any other page.

    Works on grey or colour images in any orientation. Only QR codes are searched, which keeps
    a 100-dpi A4 page well under the intake's per-page budget.
    """
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    array = np.asarray(image)
    results = zxingcpp.read_barcodes(
        array, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode), try_invert=False
    )
    for result in results:
        info = parse_separator_payload(result.text)
        if info is not None:
            return info
    return None
