"""Low-level drawing for sample documents: fonts, a text-recording canvas, and content blocks.

Ground truth must contain exactly the text a document shows, so no text reaches the PDF except
through :meth:`Renderer.text`, which both draws and records it. Strings drawn one after the
other on the same baseline form one line of ``page_texts``, ordered left to right like a line
of OCR output or of a PDF text extractor; lines keep their drawing order.

A :class:`Renderer` can run *dry* (no canvas) so that a document can be laid out once to count
its pages before being drawn for real with correct "Seite 1 von 3" footers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

PAGE_W, PAGE_H = A4
Color = tuple[float, float, float]
BLACK: Color = (0.0, 0.0, 0.0)
GREY: Color = (0.38, 0.38, 0.38)
LIGHT: Color = (0.93, 0.93, 0.93)
WHITE: Color = (1.0, 1.0, 1.0)
INK_BLUE: Color = (0.10, 0.16, 0.45)

MM = mm

# --------------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontFamily:
    """A regular/bold pair; ``files`` are TrueType file names (``None`` = PDF base-14 font)."""

    name: str
    regular: str
    bold: str
    mono: bool = False
    files: tuple[str, str] | None = None


FAMILIES: tuple[FontFamily, ...] = (
    FontFamily("Helvetica", "Helvetica", "Helvetica-Bold"),
    FontFamily("Times", "Times-Roman", "Times-Bold"),
    FontFamily("Courier", "Courier", "Courier-Bold", mono=True),
    FontFamily(
        "DejaVuSans",
        "DejaVuSans",
        "DejaVuSans-Bold",
        files=("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ),
    FontFamily(
        "DejaVuSerif",
        "DejaVuSerif",
        "DejaVuSerif-Bold",
        files=("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    ),
    FontFamily(
        "DejaVuSansCondensed",
        "DejaVuSansCondensed",
        "DejaVuSansCondensed-Bold",
        files=("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"),
    ),
    FontFamily(
        "DejaVuSansMono",
        "DejaVuSansMono",
        "DejaVuSansMono-Bold",
        mono=True,
        files=("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
    ),
    FontFamily(
        "LiberationSans",
        "LiberationSans",
        "LiberationSans-Bold",
        files=("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ),
    FontFamily(
        "LiberationSerif",
        "LiberationSerif",
        "LiberationSerif-Bold",
        files=("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    ),
    FontFamily(
        "LiberationSansNarrow",
        "LiberationSansNarrow",
        "LiberationSansNarrow-Bold",
        files=("LiberationSansNarrow-Regular.ttf", "LiberationSansNarrow-Bold.ttf"),
    ),
    FontFamily(
        "LiberationMono",
        "LiberationMono",
        "LiberationMono-Bold",
        mono=True,
        files=("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf"),
    ),
    FontFamily("FreeSans", "FreeSans", "FreeSansBold", files=("FreeSans.ttf", "FreeSansBold.ttf")),
    FontFamily(
        "FreeSerif", "FreeSerif", "FreeSerifBold", files=("FreeSerif.ttf", "FreeSerifBold.ttf")
    ),
    FontFamily(
        "FreeMono",
        "FreeMono",
        "FreeMonoBold",
        mono=True,
        files=("FreeMono.ttf", "FreeMonoBold.ttf"),
    ),
)
FAMILY_BY_NAME = {f.name: f for f in FAMILIES}
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


@lru_cache(maxsize=1)
def _font_files() -> dict[str, Path]:
    index: dict[str, Path] = {}
    for base in FONT_DIRS:
        if base.is_dir():
            for path in sorted(base.rglob("*.ttf")):
                index.setdefault(path.name, path)
    return index


@lru_cache(maxsize=1)
def available_fonts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Register the TrueType families found on this machine; return (proportional, mono) names.

    The base-14 families are always there; a TrueType family whose files are missing is left
    out rather than failing, so the generator still runs on a machine with fewer fonts (its
    output then differs from a machine with all of them).
    """
    files = _font_files()
    proportional: list[str] = []
    mono: list[str] = []
    for family in FAMILIES:
        if family.files is not None:
            paths = [files.get(name) for name in family.files]
            if any(p is None for p in paths):
                continue
            for font_name, path in zip((family.regular, family.bold), paths, strict=True):
                if font_name not in pdfmetrics.getRegisteredFontNames():
                    assert path is not None
                    pdfmetrics.registerFont(TTFont(font_name, str(path)))
        (mono if family.mono else proportional).append(family.name)
    return tuple(proportional), tuple(mono)


def _needs_winansi(font_name: str) -> bool:
    return font_name in pdfmetrics.standardFonts


# --------------------------------------------------------------------------------------------
# Recording canvas
# --------------------------------------------------------------------------------------------


class Renderer:
    """Draws on a reportlab canvas (or nowhere, when dry) and records every string drawn."""

    def __init__(self, family: FontFamily, canvas: Canvas | None) -> None:
        self.family = family
        self.canvas = canvas
        self.pages: list[list[tuple[float, float, str]]] = [[]]

    @property
    def dry(self) -> bool:
        return self.canvas is None

    def font_name(self, bold: bool = False) -> str:
        return self.family.bold if bold else self.family.regular

    def width(self, text: str, size: float, bold: bool = False) -> float:
        return float(pdfmetrics.stringWidth(text, self.font_name(bold), size))

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        """Greedy word wrap; a single over-long word is kept whole on its own line."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current = ""
            for word in paragraph.split(" "):
                candidate = f"{current} {word}" if current else word
                if current and self.width(candidate, size, bold) > width:
                    lines.append(current)
                    current = word
                else:
                    current = candidate
            lines.append(current)
        return lines

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        bold: bool = False,
        align: str = "l",
        color: Color = BLACK,
    ) -> float:
        """Draw ``text`` with its baseline at ``y``; return its width. Empty text is skipped."""
        if not text.strip():
            return 0.0
        font = self.font_name(bold)
        if _needs_winansi(font):
            text.encode("cp1252")  # base-14 fonts would silently draw garbage otherwise
        width = self.width(text, size, bold)
        left = x - width if align == "r" else x - width / 2 if align == "c" else x
        self.pages[-1].append((round(y, 2), round(left, 2), text))
        if self.canvas is not None:
            c = self.canvas
            c.setFont(font, size)
            c.setFillColorRGB(*color)
            if align == "r":
                c.drawRightString(x, y, text)
            elif align == "c":
                c.drawCentredString(x, y, text)
            else:
                c.drawString(x, y, text)
        return width

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        width: float = 0.5,
        color: Color = BLACK,
        dash: Sequence[float] | None = None,
    ) -> None:
        if self.canvas is None:
            return
        c = self.canvas
        c.setStrokeColorRGB(*color)
        c.setLineWidth(width)
        c.setDash(list(dash) if dash else [])
        c.line(x1, y1, x2, y2)
        c.setDash([])

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: Color | None = None,
        stroke: Color | None = None,
        width: float = 0.5,
        radius: float = 0.0,
    ) -> None:
        if self.canvas is None:
            return
        c = self.canvas
        if fill is not None:
            c.setFillColorRGB(*fill)
        if stroke is not None:
            c.setStrokeColorRGB(*stroke)
            c.setLineWidth(width)
        if radius:
            c.roundRect(
                x, y, w, h, radius, stroke=int(stroke is not None), fill=int(fill is not None)
            )
        else:
            c.rect(x, y, w, h, stroke=int(stroke is not None), fill=int(fill is not None))

    def circle(
        self,
        x: float,
        y: float,
        r: float,
        *,
        fill: Color | None = None,
        stroke: Color | None = None,
        width: float = 1.0,
    ) -> None:
        if self.canvas is None:
            return
        c = self.canvas
        if fill is not None:
            c.setFillColorRGB(*fill)
        if stroke is not None:
            c.setStrokeColorRGB(*stroke)
            c.setLineWidth(width)
        c.circle(x, y, r, stroke=int(stroke is not None), fill=int(fill is not None))

    def squiggle(self, x: float, y: float, seed: int, width: float = 45 * mm) -> None:
        """A handwritten-looking signature stroke, derived from ``seed`` (no text)."""
        if self.canvas is None:
            return
        c = self.canvas
        c.setStrokeColorRGB(*INK_BLUE)
        c.setLineWidth(0.9)
        path = c.beginPath()
        path.moveTo(x, y)
        step = width / 6
        state = seed
        for i in range(6):
            state = (state * 1103515245 + 12345) % (2**31)
            up = 4 + (state % 9)
            down = -(2 + (state // 9) % 7)
            path.curveTo(
                x + step * (i + 0.3),
                y + up,
                x + step * (i + 0.7),
                y + down,
                x + step * (i + 1),
                y + (state % 5) - 2,
            )
        c.drawPath(path, stroke=1, fill=0)

    def qr(self, payload: str | segno.QRCode, x: float, y: float, size: float) -> None:
        """A QR code as vector squares with its bottom-left corner at ``(x, y)``."""
        if self.canvas is None:
            return
        code = (
            payload
            if isinstance(payload, segno.QRCode)
            else segno.make(payload, error="m", micro=False)
        )
        matrix = code.matrix
        n = len(matrix)
        module = size / n
        c = self.canvas
        c.setFillColorRGB(*BLACK)
        for row, cells in enumerate(matrix):
            start = None
            for col in range(n + 1):
                dark = col < n and bool(cells[col])
                if dark and start is None:
                    start = col
                elif not dark and start is not None:
                    c.rect(
                        x + start * module,
                        y + (n - 1 - row) * module,
                        (col - start) * module,
                        module,
                        stroke=0,
                        fill=1,
                    )
                    start = None

    def show_page(self) -> None:
        if self.canvas is not None:
            self.canvas.showPage()
        self.pages.append([])

    def page_texts(self) -> list[str]:
        """One string per page: runs drawn one after another on the same baseline form a line
        (ordered left to right, as a reader or a text extractor sees them); lines keep their
        drawing order."""
        out = []
        for entries in self.pages:
            groups: list[list[tuple[float, float, str]]] = []
            for entry in entries:
                if groups and abs(entry[0] - groups[-1][-1][0]) < 0.5:
                    groups[-1].append(entry)
                else:
                    groups.append([entry])
            lines = [
                " ".join(text for _, _, text in sorted(group, key=lambda e: e[1]))
                for group in groups
            ]
            out.append("\n".join(lines))
        if out and not self.pages[-1]:
            out.pop()
        return out


# --------------------------------------------------------------------------------------------
# Content blocks (what composers produce; layouts decide how they look)
# --------------------------------------------------------------------------------------------


@dataclass
class Para:
    """A wrapped paragraph of running text."""

    text: str
    bold: bool = False
    space_after: float = 5.0
    size_delta: float = 0.0
    indent: float = 0.0
    keep_with_next: bool = False
    """Headings: never leave this paragraph alone at the bottom of a page."""


@dataclass
class Title:
    """The document title in the body ("Rechnung", "1. Mahnung", a Betreff line)."""

    text: str
    subtitle: str | None = None


@dataclass
class Column:
    header: str
    weight: float
    align: str = "l"


@dataclass
class Carry:
    """Running sum carried to the next page ("Übertrag") when a table breaks."""

    column: int
    amounts: list[Decimal]
    label: str
    fmt_amount: dict[int, str] = field(default_factory=dict)
    """Preformatted running sums keyed by the number of rows already drawn."""


@dataclass
class Table:
    columns: list[Column]
    rows: list[list[str]]
    wrap_column: int | None = None
    carry: Carry | None = None
    size_delta: float = 0.0


@dataclass
class Totals:
    rows: list[tuple[str, str, bool]]
    """``(label, value, strong)``; the strong row is the amount to pay."""


@dataclass
class Signature:
    closing: str
    lines: list[str]
    seed: int = 0
    company: str | None = None


@dataclass
class QRBlock:
    code: segno.QRCode
    caption: list[str]
    size: float = 26 * mm


@dataclass
class SignatureFields:
    """Contract signature lines: two columns of captions under a drawn line."""

    left: list[str]
    right: list[str]


@dataclass
class Spacer:
    height: float


Block = Para | Title | Table | Totals | Signature | QRBlock | SignatureFields | Spacer


def new_canvas(buffer: io.BytesIO, *, title: str, author: str, creator: str) -> Canvas:
    """A canvas whose output depends only on what is drawn (fixed dates and document ID)."""
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator(creator)
    canvas.setProducer(creator)
    return canvas
