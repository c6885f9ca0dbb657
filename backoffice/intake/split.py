"""Splitting a received original into documents.

A scanner batch holds the post of many clients: separator sheets (QR code, optionally carrying a
client code) mark where a new document starts, and blank pages (back sides of duplex scans) are
dropped. Each resulting document gets its own PDF, stored in the intake area under its sha256,
and a ``documents`` row; the intake's status moves to ``split`` in the same transaction, so a
crash either leaves the intake to be split again (idempotent: same keys, same rows) or done.

Images (PNG, JPEG, multi-page TIFF) are wrapped into a PDF first so that every later stage sees
one format.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from sqlalchemy import select

from backoffice.archive.audit import record_event
from backoffice.archive.storage import INTAKE_SCOPE, ObjectStore, content_key, sha256_hex
from backoffice.config import Settings
from backoffice.db import Catalog
from backoffice.intake.mail import unpack_intake
from backoffice.intake.quarantine import quarantine_intake
from backoffice.intake.separator import read_separator
from backoffice.models import Document, Intake, IntakeStatus
from backoffice.text import render_page
from backoffice.text.render import PDFIUM_LOCK

log = logging.getLogger(__name__)

SCAN_DPI = 100
"""Resolution of the quick render used to find separator sheets and blank pages."""


class UnreadableInputError(Exception):
    """The original cannot be opened as a document; the message is shown to staff."""


@dataclass
class PageGroup:
    """Pages (0-based) of one document and the client code its separator sheet carried."""

    pages: list[int] = field(default_factory=list)
    client_hint: str | None = None


def as_pdf(data: bytes, media_type: str | None) -> bytes:
    """The original as PDF bytes; images are wrapped page by page at their own resolution."""
    if media_type == "application/pdf":
        return data
    try:
        with Image.open(io.BytesIO(data)) as img:
            frames = _frames(img)
            dpi = img.info.get("dpi", (300, 300))[0] or 300
            out = io.BytesIO()
            frames[0].save(out, "PDF", save_all=True, append_images=frames[1:], resolution=dpi)
            return out.getvalue()
    except Image.DecompressionBombError as exc:
        raise UnreadableInputError(f"Das Bild ist unzulässig groß ({exc}).") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableInputError(f"Das Bild ist beschädigt oder unvollständig ({exc}).") from exc


def _frames(img: Image.Image) -> list[Image.Image]:
    frames = []
    for index in range(getattr(img, "n_frames", 1)):
        img.seek(index)
        frame = img.copy() if img.mode in ("L", "RGB") else img.convert("RGB")
        frames.append(frame)
    return frames


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open a PDF or raise :class:`UnreadableInputError` with a reason staff understand."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise UnreadableInputError(
                "Die PDF-Datei ist passwortgeschützt; ohne Passwort kann sie nicht gelesen werden."
            ) from exc
        raise UnreadableInputError(
            f"Die PDF-Datei ist beschädigt und nicht lesbar ({exc})."
        ) from exc


def is_blank(image: Image.Image, ink_threshold: float = 0.002) -> bool:
    """True for an empty page: almost no dark pixels once scanner speckles are filtered out."""
    grey = image.convert("L")
    w, h = grey.size
    inner = grey.crop((int(w * 0.05), int(h * 0.05), int(w * 0.95), int(h * 0.95)))
    inner = inner.filter(ImageFilter.MedianFilter(3))
    histogram = inner.histogram()
    dark = sum(histogram[:150])
    return dark / max(1, inner.width * inner.height) < ink_threshold


def plan_groups(
    pdf: pdfium.PdfDocument, *, drop_blank: bool
) -> tuple[list[PageGroup], list[int], list[int]]:
    """Group the pages into documents; also return separator and blank page indices."""
    groups: list[PageGroup] = []
    current = PageGroup()
    separators: list[int] = []
    blanks: list[int] = []
    for index in range(len(pdf)):
        image = render_page(pdf, index, SCAN_DPI, grey=True)
        sep = read_separator(image)
        if sep is not None:
            separators.append(index)
            if current.pages:
                groups.append(current)
            current = PageGroup(client_hint=sep.client_code)
            continue
        if drop_blank and is_blank(image):
            blanks.append(index)
            continue
        current.pages.append(index)
    if current.pages:
        groups.append(current)
    return groups, separators, blanks


def cut_pages(pdf: pdfium.PdfDocument, pages: list[int]) -> bytes:
    """A new PDF made of ``pages`` of ``pdf``, in order."""
    out = pdfium.PdfDocument.new()
    out.import_pages(pdf, pages)
    buf = io.BytesIO()
    out.save(buf)
    out.close()
    return buf.getvalue()


def _take_einvoice_xml(
    catalog: Catalog, store: ObjectStore, intake_id: int, key: str, hint: str | None
) -> list[int]:
    """An XML e-invoice (XRechnung, CII, UBL) is one document whose original is the XML itself."""
    from backoffice.understand import read_einvoice

    data = store.get(key)
    if read_einvoice(data) is None:
        quarantine_intake(
            catalog,
            intake_id,
            "Die XML-Datei ist keine lesbare E-Rechnung (XRechnung, ZUGFeRD/Factur-X, UBL).",
        )
        return []
    digest = sha256_hex(data)
    doc_key = content_key(INTAKE_SCOPE, "documents", digest, ".xml")
    store.put(doc_key, data, content_type="application/xml")
    with catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        if intake.status != IntakeStatus.RECEIVED:
            return list(session.scalars(select(Document.id).where(Document.intake_id == intake_id)))
        doc = Document(
            intake_id=intake_id,
            first_page=1,
            page_count=1,
            pages=[1],
            client_hint=hint,
            sha256=digest,
            original_key=doc_key,
        )
        session.add(doc)
        intake.status = IntakeStatus.SPLIT
        intake.page_count = 1
        session.flush()
        record_event(
            session,
            actor="system",
            action="intake.split",
            detail={"intake_id": intake_id, "documents": [doc.id], "einvoice_xml": True},
        )
        return [doc.id]


def split_intake(
    catalog: Catalog, store: ObjectStore, intake_id: int, settings: Settings
) -> list[int]:
    """Cut an intake into documents; returns their ids (the existing ones if already split).

    Containers (e-mails, Outlook messages, ZIP archives) are not split but unpacked: their parts
    become child intakes in ``received`` state, which the next round of splitting picks up.
    """
    if unpack_intake(catalog, store, intake_id, settings) is not None:
        return []
    with catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        if intake.status != IntakeStatus.RECEIVED:
            return list(session.scalars(select(Document.id).where(Document.intake_id == intake_id)))
        key, media_type, hint = intake.storage_key, intake.media_type, intake.client_hint

    if media_type == "application/xml":
        return _take_einvoice_xml(catalog, store, intake_id, key, hint)
    Image.MAX_IMAGE_PIXELS = settings.intake.max_image_pixels
    try:
        pdf_bytes = as_pdf(store.get(key), media_type)
        with PDFIUM_LOCK:  # PDFium is not thread-safe; the text stage renders concurrently
            pdf = open_pdf(pdf_bytes)
            page_count = len(pdf)
            if page_count == 0:
                raise UnreadableInputError(
                    "Die PDF-Datei enthält keine lesbaren Seiten (unvollständig oder beschädigt)."
                )
            if page_count > settings.intake.max_pages:
                raise UnreadableInputError(
                    f"Die Datei hat {page_count} Seiten; erlaubt sind höchstens "
                    f"{settings.intake.max_pages} (Einstellung intake.max_pages)."
                )
            groups, separators, blanks = plan_groups(
                pdf, drop_blank=settings.intake.drop_blank_pages
            )
            if not groups:
                raise UnreadableInputError("Die Datei enthält nur leere Seiten oder Trennblätter.")
            parts = []
            for group in groups:
                body = cut_pages(pdf, group.pages)
                digest = sha256_hex(body)
                doc_key = content_key(INTAKE_SCOPE, "documents", digest, ".pdf")
                store.put(doc_key, body, content_type="application/pdf")
                parts.append((group, digest, doc_key))
            pdf.close()
    except UnreadableInputError as exc:
        quarantine_intake(catalog, intake_id, str(exc))
        return []
    except (pdfium.PdfiumError, Image.DecompressionBombError, OSError, ValueError) as exc:
        quarantine_intake(catalog, intake_id, f"Die Datei konnte nicht gelesen werden ({exc}).")
        return []

    with catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        if intake.status != IntakeStatus.RECEIVED:  # another worker finished first
            return list(session.scalars(select(Document.id).where(Document.intake_id == intake_id)))
        docs = []
        for group, digest, doc_key in parts:
            doc = Document(
                intake_id=intake_id,
                first_page=group.pages[0] + 1,
                page_count=len(group.pages),
                pages=[p + 1 for p in group.pages],
                client_hint=group.client_hint or hint,
                sha256=digest,
                original_key=doc_key,
            )
            session.add(doc)
            docs.append(doc)
        intake.status = IntakeStatus.SPLIT
        intake.page_count = page_count
        session.flush()
        record_event(
            session,
            actor="system",
            action="intake.split",
            detail={
                "intake_id": intake_id,
                "documents": [d.id for d in docs],
                "separator_pages": [p + 1 for p in separators],
                "blank_pages": [p + 1 for p in blanks],
            },
        )
        return [d.id for d in docs]
