"""Assembling the searchable PDF the client receives.

Pages that had a usable text layer are left exactly as they were. On every OCR'd page the
engine's text-only page (invisible text, no image) is laid over the *original* page with pypdf:
the scan keeps its own image, quality and file size, and only a few kilobytes of text are added
per page. A page that had to be turned gets its ``/Rotate`` adjusted so it shows upright, and the
overlay is placed so that the invisible words sit on top of the printed ones.

When no page needed OCR the input bytes are returned unchanged: nothing to add, nothing to pay.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Callable, Sequence

import pypdf
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from backoffice.text.model import Word
from backoffice.text.render import Matrix

log = logging.getLogger(__name__)

_INVISIBLE_FONT = "Helvetica"


def overlay_matrix(
    text_size: tuple[float, float],
    bbox: tuple[float, float, float, float],
    page_rotation: int,
    turn: int,
) -> tuple[Matrix, int]:
    """Where to put a text-only page on the original page, and the page's new ``/Rotate``.

    ``text_size`` is the text page's size (it describes the upright image), ``bbox`` the visible
    box of the original page in user space, ``page_rotation`` its ``/Rotate`` and ``turn`` the
    clockwise degrees the displayed page was turned to be upright. The page is given
    ``/Rotate = page_rotation + turn`` so that a viewer shows it upright; the returned matrix maps
    the text page onto the user space of the original page so that the words overlay the pixels
    they were read from.
    """
    x0, y0, x1, y1 = bbox
    cw, ch = x1 - x0, y1 - y0
    rotation = (page_rotation + turn) % 360
    upright_w, upright_h = (ch, cw) if rotation in (90, 270) else (cw, ch)
    sx, sy = upright_w / text_size[0], upright_h / text_size[1]
    # Displayed (bottom-left origin) coordinates to user space for each /Rotate.
    a, b, c, d, e, f = {
        0: (1.0, 0.0, 0.0, 1.0, x0, y0),
        90: (0.0, 1.0, -1.0, 0.0, x0 + cw, y0),
        180: (-1.0, 0.0, 0.0, -1.0, x0 + cw, y0 + ch),
        270: (0.0, -1.0, 1.0, 0.0, x0, y0 + ch),
    }[rotation]
    return (a * sx, b * sx, c * sy, d * sy, e, f), rotation


def invisible_text_pdf(words: Sequence[Word], width: float, height: float) -> bytes:
    """A one-page PDF of invisible text at the word boxes (points, top-left origin).

    Used for engines that return words but no PDF page. Each word is stretched to its box so
    that selecting text in a viewer highlights the printed word.
    """
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    for word in words:
        x0, y0, x1, y1 = word.bbox
        font_size = max(y1 - y0, 1.0)
        natural = stringWidth(word.text, _INVISIBLE_FONT, font_size)
        text = pdf.beginText()
        text.setTextRenderMode(3)
        text.setFont(_INVISIBLE_FONT, font_size)
        text.setHorizScale(100.0 * (x1 - x0) / natural if natural > 0 else 100.0)
        text.setTextOrigin(x0, height - y1 + 0.2 * font_size)
        text.textOut(word.text)
        pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class SearchablePdfBuilder:
    """Collects text overlays for OCR'd pages and writes the searchable PDF once at the end.

    Each overlay becomes a Form XObject drawn after the page's own content, the way ocrmypdf
    does it. pypdf's ``merge_transformed_page`` would do the same job but parses both content
    streams in Python, which costs more per page than rendering it; here no content stream is
    parsed at all. The fonts of the text pages (tesseract embeds the same tiny glyph-less font in
    every page) are stored once per document.

    The output is written as an incremental update: the original bytes unchanged, followed by
    the new objects. That is cheap for long scans and keeps the original file recoverable from
    the searchable one. Encrypted originals (pypdf cannot extend them) are rewritten whole and
    unencrypted. The pypdf writer is only created for the first overlay, so documents read
    entirely from their text layer cost nothing here. ``repaired`` supplies a PDFium-rewritten
    copy of the input for the rare file PDFium can repair but pypdf cannot read.
    """

    def __init__(self, original: bytes, page_count: int, repaired: Callable[[], bytes]) -> None:
        self._original = original
        self._page_count = page_count
        self._repaired = repaired
        self._writer: pypdf.PdfWriter | None = None
        self._unreadable: Exception | None = None
        self._resources: dict[bytes, PdfObject] = {}
        self._streams: dict[bytes, IndirectObject] = {}

    def _open(self) -> pypdf.PdfWriter:
        if self._unreadable is not None:
            raise self._unreadable  # tried once already; the output stays the original
        if self._writer is None:
            try:
                self._writer = self._load(self._original)
            except Exception as exc:
                log.warning("pypdf cannot read the original (%s); using PDFium's repair", exc)
                try:
                    self._writer = self._load(self._repaired())
                except Exception as again:
                    self._unreadable = again
                    raise
        return self._writer

    def _load(self, data: bytes) -> pypdf.PdfWriter:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # PDFium opened it without a password, so only an owner password (no user password)
            # is set; the empty user password unlocks it.
            reader.decrypt("")
        if len(reader.pages) != self._page_count:
            raise ValueError("pypdf and PDFium disagree on the page count")
        if reader.is_encrypted or data is not self._original:
            return pypdf.PdfWriter(clone_from=reader)
        return pypdf.PdfWriter(reader, incremental=True)

    def _stream(self, writer: pypdf.PdfWriter, data: bytes) -> IndirectObject:
        """A small shared content stream (``q``, ``Q /Name Do``), stored once per document."""
        ref = self._streams.get(data)
        if ref is None:
            stream = DecodedStreamObject()
            stream.set_data(data)
            ref = writer._add_object(stream)
            self._streams[data] = ref
        return ref

    def overlay(
        self,
        index: int,
        text_pdf: bytes,
        *,
        bbox: tuple[float, float, float, float],
        page_rotation: int,
        turn: int,
        skew: float = 0.0,
    ) -> None:
        """Lay the first page of ``text_pdf`` over page ``index`` (0-based) of the output.

        ``skew`` is the counter-clockwise angle the scan was straightened by before OCR; the text
        is turned back by it so that it lies on the slanted print.
        """
        writer = self._open()
        text_page = pypdf.PdfReader(io.BytesIO(text_pdf), strict=False).pages[0]
        box = text_page.mediabox
        size = (float(box.width), float(box.height))
        ctm, rotation = overlay_matrix(size, bbox, page_rotation, turn)
        if skew:
            ctm = _compose(_rotation_about_centre(-skew, size), ctm)
        contents = text_page.get("/Contents")
        if contents is None:
            return
        contents = contents.get_object()
        if isinstance(contents, StreamObject):
            form = contents.clone(writer)
        else:  # an array of streams: join them into one
            form = DecodedStreamObject()
            form.set_data(b"\n".join(part.get_object().get_data() for part in contents))
        assert isinstance(form, StreamObject)
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(FloatObject(v) for v in box),
                NameObject("/Matrix"): ArrayObject(FloatObject(v) for v in ctm),
                NameObject("/Resources"): self._shared_resources(writer, text_page),
            }
        )
        form_ref = getattr(form, "indirect_reference", None) or writer._add_object(form)

        page = writer.pages[index]
        old = _dictionary(page.get("/Resources"))
        resources = DictionaryObject(old)
        xobjects = DictionaryObject(_dictionary(old.get("/XObject")))
        name, n = "/OCRText", 0
        while name in xobjects:
            n += 1
            name = f"/OCRText{n}"
        xobjects[NameObject(name)] = form_ref
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources

        draw = self._stream(writer, f"q {name} Do Q\n".encode())
        original = page.get("/Contents")
        parts = ArrayObject()
        if original is not None:
            # Wrap the page's own content so that a graphics state it leaves behind cannot move
            # the overlay.
            resolved = original.get_object()
            parts.append(self._stream(writer, b"q\n"))
            parts.extend(resolved if isinstance(resolved, ArrayObject) else [original])
            parts.append(self._stream(writer, b"\nQ\n"))
        parts.append(draw)
        page[NameObject("/Contents")] = parts
        if rotation != page_rotation % 360:
            page[NameObject("/Rotate")] = NumberObject(rotation)

    def _shared_resources(self, writer: pypdf.PdfWriter, text_page: pypdf.PageObject) -> PdfObject:
        resources = text_page.get("/Resources")
        if resources is None:
            return DictionaryObject()
        key = hashlib.sha256(repr(_fingerprint(resources)).encode()).digest()
        shared = self._resources.get(key)
        if shared is None:
            cloned = resources.get_object().clone(writer)
            shared = getattr(cloned, "indirect_reference", None) or writer._add_object(cloned)
            self._resources[key] = shared
        return shared

    def build(self) -> bytes:
        """The searchable PDF; the untouched input when there was nothing to overlay."""
        if self._writer is None:
            return self._original
        buffer = io.BytesIO()
        self._writer.write(buffer)
        return buffer.getvalue()


def _rotation_about_centre(degrees: float, size: tuple[float, float]) -> Matrix:
    """Counter-clockwise rotation by ``degrees`` about the centre of a page of ``size``."""
    rad = math.radians(degrees)
    cos, sin = math.cos(rad), math.sin(rad)
    cx, cy = size[0] / 2.0, size[1] / 2.0
    return (cos, sin, -sin, cos, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy)


def _compose(first: Matrix, then: Matrix) -> Matrix:
    """The matrix applying ``first`` and then ``then`` (PDF row-vector convention)."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


def _dictionary(obj: PdfObject | None) -> DictionaryObject:
    """The dictionary behind a possibly indirect, possibly missing entry (empty if none)."""
    resolved = obj.get_object() if obj is not None else None
    return resolved if isinstance(resolved, DictionaryObject) else DictionaryObject()


def _fingerprint(obj: PdfObject | None, depth: int = 0) -> object:
    """A comparable summary of a resource tree (stream contents hashed), to spot equal fonts."""
    if obj is None or depth > 12:
        return None
    if isinstance(obj, IndirectObject):
        return _fingerprint(obj.get_object(), depth + 1)
    if isinstance(obj, StreamObject):
        data = obj.get_data()
        return (
            "stream",
            _fingerprint(DictionaryObject(obj), depth + 1),
            hashlib.sha256(data).hexdigest(),
        )
    if isinstance(obj, DictionaryObject):
        return tuple(
            sorted((str(k), _fingerprint(v, depth + 1)) for k, v in obj.items() if k != "/Length")
        )
    if isinstance(obj, ArrayObject):
        return tuple(_fingerprint(v, depth + 1) for v in obj)
    return repr(obj)
