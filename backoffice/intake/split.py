"""Splitting a received original into documents.

A scanner batch holds the post of many clients: separator sheets (QR code, optionally carrying a
client code) mark where a new document starts, and blank pages (back sides of duplex scans) are
dropped. Each resulting document gets its own PDF, stored in the intake area under its sha256,
and a ``documents`` row; the intake's status moves to ``split`` in the same transaction, so a
crash either leaves the intake to be split again (idempotent: same keys, same rows) or done.

Images (PNG, JPEG, multi-page TIFF) are wrapped into a PDF first so that every later stage sees
one format.

Active content never reaches a document: PDFs may carry JavaScript, launch actions and embedded
files. The stored original keeps them untouched (it is evidence), but the cut documents that
clients download and every later stage reads are made without them (:func:`cut_pages`). Nothing
here runs such content anyway: PDFium is used without its form/JavaScript environment.
"""

from __future__ import annotations

import io
import logging
import re
import struct
from dataclasses import dataclass, field

import pypdf
import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject
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
from backoffice.text.render import PDFIUM_LOCK, has_text_layer

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


def as_pdf(
    data: bytes,
    media_type: str | None,
    *,
    max_pixels: int | None = None,
    max_pages: int | None = None,
) -> bytes:
    """The original as PDF bytes; images are wrapped page by page at their own resolution.

    ``max_pixels`` is checked against the size an image *declares* before any pixel is decoded:
    a few kilobytes of PNG can declare 100,000 × 100,000 pixels (a decompression bomb), and
    Pillow on its own only refuses twice its limit and merely warns in between. ``max_pages``
    bounds the frames of a multi-page TIFF, which are all held in memory while wrapping.
    """
    if media_type == "application/pdf":
        return data
    try:
        with Image.open(io.BytesIO(data)) as img:
            frames = _frames(img, max_pixels, max_pages)
            dpi = img.info.get("dpi", (300, 300))[0] or 300
            out = io.BytesIO()
            frames[0].save(out, "PDF", save_all=True, append_images=frames[1:], resolution=dpi)
            return out.getvalue()
    except Image.DecompressionBombError as exc:
        raise UnreadableInputError(_too_many_pixels(None, max_pixels)) from exc
    except _CORRUPT_IMAGE as exc:
        raise UnreadableInputError(f"Das Bild ist beschädigt oder unvollständig ({exc}).") from exc


_CORRUPT_IMAGE = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    TypeError,
    KeyError,
    IndexError,
    ZeroDivisionError,
    struct.error,
)
"""What Pillow's decoders raise on damaged files besides ``OSError``: a TIFF without its size
tags raises ``TypeError``, broken tag tables ``KeyError``/``IndexError``/``struct.error``."""


def _number(value: int) -> str:
    """An integer with German thousands separators (120.000.000)."""
    return f"{value:,}".replace(",", ".")


def _too_many_pixels(size: tuple[int, int] | None, limit: int | None) -> str:
    stated = f"mit {_number(size[0])} × {_number(size[1])} Pixeln " if size else ""
    allowed = (
        f" (erlaubt sind höchstens {_number(limit)} Pixel, Einstellung intake.max_image_pixels)"
        if limit
        else ""
    )
    return (
        f"Das Bild ist {stated}unzulässig groß{allowed}. So große Bilder sind meist präpariert "
        "(„Dekompressionsbombe“) und werden nicht geöffnet."
    )


def _frames(
    img: Image.Image, max_pixels: int | None = None, max_pages: int | None = None
) -> list[Image.Image]:
    count = getattr(img, "n_frames", 1)
    if max_pages is not None and count > max_pages:
        raise UnreadableInputError(
            f"Das Bild hat {count} Seiten; erlaubt sind höchstens {max_pages} "
            "(Einstellung intake.max_pages)."
        )
    frames = []
    for index in range(count):
        img.seek(index)
        if max_pixels is not None and img.width * img.height > max_pixels:
            raise UnreadableInputError(_too_many_pixels(img.size, max_pixels))
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
        if drop_blank and not has_text_layer(pdf, index) and is_blank(image):
            blanks.append(index)
            continue
        current.pages.append(index)
    if current.pages:
        groups.append(current)
    return groups, separators, blanks


def cut_pages(pdf: pdfium.PdfDocument, pages: list[int]) -> bytes:
    """A new PDF made of ``pages`` of ``pdf``, in order, without active content.

    PDFium copies pages only: document-level JavaScript, open actions and attached files stay
    behind. What hangs on the pages themselves (page and annotation actions, file-attachment
    annotations) is removed by :func:`strip_active_content`.
    """
    out = pdfium.PdfDocument.new()
    out.import_pages(pdf, pages)
    buf = io.BytesIO()
    out.save(buf)
    out.close()
    return strip_active_content(buf.getvalue())


_ACTIVE_MARKERS = re.compile(
    rb"/(JavaScript|JS|AA|Launch|SubmitForm|ImportData|EmbeddedFiles?|FileAttachment|RichMedia"
    rb"|Screen|Movie|Sound)(?=[\s/<>\[\]()%])"
)
"""Names without which a PDFium-written file has no active content. PDFium writes names in
plain form (``/Java#53cript`` comes out as ``/JavaScript``) and no object streams, so a file
without any of them needs no parsing; a false alarm only costs one pass of pypdf."""

_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute"}
"""Actions that run code, start programs or send data; navigation actions are harmless."""

_ACTIVE_ANNOTATIONS = {"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound"}
"""Annotations that carry files or players; their content is not part of the printed page."""


def strip_active_content(body: bytes) -> bytes:
    """``body`` without JavaScript, launch/submit actions and embedded files.

    The pages, their text and their links stay as they are. Only used on PDFs this module
    wrote (see :data:`_ACTIVE_MARKERS`); the original keeps everything.
    """
    if not _ACTIVE_MARKERS.search(body):
        return body
    try:
        cleaned = _without_active_content(body)
    except (pypdf.errors.PyPdfError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise UnreadableInputError(
            "Die PDF-Datei enthält aktive Inhalte (Skripte oder eingebettete Dateien), die sich "
            f"nicht sicher entfernen ließen ({exc})."
        ) from exc
    log.info("active content (JavaScript, actions, attached files) removed from a document")
    return cleaned


def _without_active_content(body: bytes) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(body)))
    root = writer.root_object
    for key in ("/OpenAction", "/AA"):
        root.pop(NameObject(key), None)
    names = root.get("/Names")
    names = names.get_object() if names is not None else None
    if isinstance(names, DictionaryObject):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            names.pop(NameObject(key), None)
    for page in writer.pages:
        page.pop(NameObject("/AA"), None)
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        if not isinstance(annots, ArrayObject):
            page.pop(NameObject("/Annots"), None)  # absent, or not the array it must be
            continue
        kept = ArrayObject()
        for ref in annots:
            annot = ref.get_object()
            if not isinstance(annot, DictionaryObject):
                continue
            if annot.get("/Subtype") in _ACTIVE_ANNOTATIONS:
                continue
            annot.pop(NameObject("/AA"), None)
            action = annot.get("/A")
            if action is not None and _is_active(action.get_object()):
                annot.pop(NameObject("/A"), None)
            kept.append(ref)
        page[NameObject("/Annots")] = kept
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _is_active(action: object, depth: int = 0) -> bool:
    """True for an action, or a chain of them (``/Next``), that does more than navigate.

    A chain deeper than any real document uses counts as active: it is removed, not followed.
    """
    if depth > 20:
        return True
    if not isinstance(action, DictionaryObject):
        return False
    if action.get("/S") in _ACTIVE_ACTIONS:
        return True
    following = action.get("/Next")
    if following is None:
        return False
    chain = following.get_object()
    items = chain if isinstance(chain, ArrayObject) else [chain]
    return any(_is_active(item.get_object(), depth + 1) for item in items)


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
        pdf_bytes = as_pdf(
            store.get(key),
            media_type,
            max_pixels=settings.intake.max_image_pixels,
            max_pages=settings.intake.max_pages,
        )
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
        intake.separator_pages = [p + 1 for p in separators]
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
