"""House styles: how a sender's documents look on paper.

A classifier or extractor trained on generated post must not be able to learn one template, so
each sender prints with one of several clearly different house styles: letterhead on the right,
in a coloured band, centred, in a sidebar; tables with grids, zebra stripes or bare rules;
totals in boxes or with double underlines; footers in columns or one line; a monospaced ERP
print-out. All of them keep the DIN 5008 (form B) geometry real post has: the address window
45 mm from the top and 20–25 mm from the left with a tiny return line, the information block
at 125 mm, fold marks at 105/210 mm.

A layout only decides *where and how*; *what* is printed comes as a :class:`Draft` from the
composers. :func:`render_draft` lays a draft out twice (dry, then real) so that page counts in
"Seite 1 von 2" are right, and returns the PDF with the exact text drawn on each page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from backoffice.samples.content import Sender
from backoffice.samples.render import (
    BLACK,
    FAMILY_BY_NAME,
    GREY,
    LIGHT,
    MM,
    PAGE_H,
    PAGE_W,
    WHITE,
    Block,
    Color,
    Para,
    QRBlock,
    Renderer,
    Signature,
    SignatureFields,
    Spacer,
    Table,
    Title,
    Totals,
    new_canvas,
)


@dataclass
class Draft:
    """Everything one document prints, independent of its house style."""

    sender: Sender
    english: bool
    return_line: str
    recipient: list[str]
    info: list[tuple[str, str]]
    title: str | None
    blocks: list[Block]
    footer: list[list[str]]
    running_header: str
    pdf_title: str
    creator: str
    tagline: str | None = None
    contact_lines: list[str] = field(default_factory=list)
    always_page_numbers: bool = False


@dataclass(frozen=True)
class TableStyle:
    size: float = 9.0
    header_fill: Color | None = None
    header_text: Color = BLACK
    top_rule: bool = True
    header_rule: bool = True
    row_rules: bool = False
    rule_color: Color = BLACK
    zebra: Color | None = None
    grid: bool = False
    box: bool = False
    dashed: bool = False
    padding: float = 3.0
    bottom_rule: bool = True


@dataclass(frozen=True)
class TotalsStyle:
    width: float = 80 * MM
    size: float = 9.5
    rule_above_strong: bool = True
    double_under_strong: bool = False
    fill: Color | None = None
    strong_fill: Color | None = None
    strong_text: Color = BLACK
    box: bool = False
    grid: bool = False


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isupper() and len(w) > 2]
    return "".join(w[0] for w in words[:2]) or name[:2].upper()


class Layout:
    """Base house style: DIN 5008 positions, a right-hand information block, column footer."""

    name = "base"
    left = 25 * MM
    right = PAGE_W - 20 * MM
    address_x = 20 * MM
    body_size = 10.0
    leading = 1.32
    table_style = TableStyle()
    totals_style = TotalsStyle()
    body_bottom = 32 * MM
    title_size = 15.0
    info_x = 125 * MM
    info_top = PAGE_H - 50 * MM
    underline_return = True
    always_page_numbers = False

    # -- page furniture ----------------------------------------------------------------------

    def first_page(self, r: Renderer, d: Draft) -> float:
        """Draw letterhead, fold marks, address window and information block; body top."""
        if d.sender.style.fold_marks:
            self.fold_marks(r)
        self.letterhead(r, d)
        self.address(r, d)
        info_bottom = self.info_block(r, d)
        return min(info_bottom - 8 * MM, PAGE_H - 98 * MM)

    def next_page(self, r: Renderer, d: Draft, page: int, total: int) -> float:
        size = 8.0
        y = PAGE_H - 15 * MM
        r.text(self.left, y, d.sender.name, size, bold=True)
        r.text(self.right, y, d.running_header, size, align="r", color=GREY)
        r.line(self.left, y - 2.5 * MM, self.right, y - 2.5 * MM, width=0.4, color=GREY)
        return y - 8 * MM

    def fold_marks(self, r: Renderer) -> None:
        for y_mm in (105.0, 210.0):
            r.line(4 * MM, PAGE_H - y_mm * MM, 8 * MM, PAGE_H - y_mm * MM, width=0.4, color=GREY)
        r.line(4 * MM, PAGE_H / 2, 10 * MM, PAGE_H / 2, width=0.4, color=GREY)

    def letterhead(self, r: Renderer, d: Draft) -> None:
        raise NotImplementedError

    def address(self, r: Renderer, d: Draft) -> None:
        """The address window: return line in the Vermerkzone, recipient below."""
        top = PAGE_H - 45 * MM
        x = self.address_x
        size = 6.5
        y = top - 13 * MM
        width = r.text(x, y, d.return_line, size, color=GREY)
        if self.underline_return:
            r.line(x, y - 1.2, x + width, y - 1.2, width=0.3, color=GREY)
        y = top - 17.7 * MM - 3.8 * MM
        for line in d.recipient:
            r.text(x, y, line, self.body_size)
            y -= self.body_size * 1.2

    def info_block(self, r: Renderer, d: Draft) -> float:
        size = 8.5
        y = self.info_top
        for label, value in d.info:
            r.text(self.info_x, y, label, size, color=GREY)
            r.text(self.right, y, value, size, align="r")
            y -= size * 1.45
        return y

    def page_label(self, d: Draft, page: int, total: int) -> str:
        return f"Page {page} of {total}" if d.english else f"Seite {page} von {total}"

    def footer(self, r: Renderer, d: Draft, page: int, total: int) -> None:
        size = 6.8
        top = 24 * MM
        r.line(self.left, top + 3 * MM, self.right, top + 3 * MM, width=0.4, color=GREY)
        columns = [c for c in d.footer if c]
        width = (self.right - self.left) / max(len(columns), 1)
        for i, column in enumerate(columns):
            y = top
            for line in column:
                for part in r.wrap(line, width - 2 * MM, size):
                    r.text(self.left + i * width, y, part, size, color=GREY)
                    y -= size * 1.3
        if total > 1 or self.always_page_numbers or d.always_page_numbers:
            r.text(self.right, top + 5.5 * MM, self.page_label(d, page, total), 8, align="r")

    # -- body blocks --------------------------------------------------------------------------

    def draw_title(self, r: Renderer, d: Draft, block: Title, y: float) -> float:
        y -= self.title_size
        r.text(self.left, y, block.text, self.title_size, bold=True)
        y -= self.title_size * 0.5
        if block.subtitle:
            y -= self.body_size
            r.text(self.left, y, block.subtitle, self.body_size)
            y -= self.body_size * 0.6
        return y - 3 * MM

    def logo(
        self, r: Renderer, d: Draft, x: float, y: float, size: float, *, square: bool = False
    ) -> None:
        accent = d.sender.style.accent
        if square:
            r.rect(x, y, size, size, fill=accent)
        else:
            r.circle(x + size / 2, y + size / 2, size / 2, fill=accent)
        r.text(
            x + size / 2,
            y + size * 0.32,
            _initials(d.sender.name),
            size * 0.42,
            bold=True,
            align="c",
            color=WHITE,
        )


class Classic(Layout):
    """Letterhead top right, info block beside the window, ruled table, three-column footer."""

    name = "classic"

    def letterhead(self, r: Renderer, d: Draft) -> None:
        y = PAGE_H - 20 * MM
        r.text(self.right, y, d.sender.name, 15, bold=True, align="r")
        y -= 5 * MM
        if d.tagline:
            r.text(self.right, y, d.tagline, 8.5, align="r", color=GREY)
            y -= 4 * MM
        for line in d.contact_lines:
            r.text(self.right, y, line, 8, align="r")
            y -= 3.6 * MM
        rule = min(PAGE_H - 42 * MM, y + 1.5 * MM)
        r.line(
            self.left,
            rule,
            self.right,
            rule,
            width=0.8,
            color=d.sender.style.accent,
        )


class Band(Layout):
    """A coloured band across the top, info boxes in a row, zebra table, shaded totals."""

    name = "band"
    address_x = 22 * MM
    left = 22 * MM
    table_style = TableStyle(
        header_fill=(0.2, 0.3, 0.5),
        header_text=WHITE,
        top_rule=False,
        header_rule=False,
        zebra=(0.94, 0.95, 0.97),
        bottom_rule=True,
    )
    totals_style = TotalsStyle(fill=(0.94, 0.95, 0.97), rule_above_strong=False)
    body_bottom = 24 * MM

    def letterhead(self, r: Renderer, d: Draft) -> None:
        accent = d.sender.style.accent
        r.rect(0, PAGE_H - 30 * MM, PAGE_W, 30 * MM, fill=accent)
        r.text(self.left, PAGE_H - 17 * MM, d.sender.name, 17, bold=True, color=WHITE)
        if d.tagline:
            r.text(self.left, PAGE_H - 23 * MM, d.tagline, 8.5, color=WHITE)
        y = PAGE_H - 10 * MM
        for line in d.contact_lines:
            r.text(self.right, y, line, 7.5, align="r", color=WHITE)
            y -= 3.3 * MM

    def info_block(self, r: Renderer, d: Draft) -> float:
        if not d.info:
            return PAGE_H - 92 * MM
        top = PAGE_H - 93 * MM
        n = len(d.info)
        width = (self.right - self.left) / n
        for i, (label, value) in enumerate(d.info):
            x = self.left + i * width
            r.rect(x + 1, top - 12 * MM, width - 2, 12 * MM, stroke=LIGHT, fill=(0.97, 0.97, 0.97))
            r.text(x + 2.5 * MM, top - 4.5 * MM, label, 7, color=GREY)
            r.text(x + 2.5 * MM, top - 9.5 * MM, value, 9, bold=True)
        return top - 12 * MM

    def first_page(self, r: Renderer, d: Draft) -> float:
        if d.sender.style.fold_marks:
            self.fold_marks(r)
        self.letterhead(r, d)
        self.address(r, d)
        return self.info_block(r, d) - 7 * MM

    def draw_title(self, r: Renderer, d: Draft, block: Title, y: float) -> float:
        y -= self.title_size
        r.text(self.left, y, block.text, self.title_size, bold=True, color=d.sender.style.accent)
        y -= self.title_size * 0.4
        if block.subtitle:
            y -= self.body_size
            r.text(self.left, y, block.subtitle, self.body_size)
        return y - 4 * MM

    def footer(self, r: Renderer, d: Draft, page: int, total: int) -> None:
        size = 6.8
        lines = [" · ".join(c) for c in d.footer if c]
        y = 17 * MM
        r.line(self.left, 20.5 * MM, self.right, 20.5 * MM, width=0.3, color=LIGHT)
        for line in lines:
            r.text(PAGE_W / 2, y, line, size, align="c", color=GREY)
            y -= size * 1.35
        if total > 1 or d.always_page_numbers:
            r.text(self.right, 22 * MM, self.page_label(d, page, total), 7.5, align="r", color=GREY)


class Centered(Layout):
    """Craft-business look: centred letterhead with double rule, gridded table, centred footer."""

    name = "centered"
    table_style = TableStyle(
        grid=True, box=True, top_rule=True, header_fill=(0.9, 0.9, 0.9), rule_color=(0.3, 0.3, 0.3)
    )
    totals_style = TotalsStyle(
        grid=True, box=True, rule_above_strong=False, strong_fill=(0.9, 0.9, 0.9)
    )
    title_size = 16.0

    def letterhead(self, r: Renderer, d: Draft) -> None:
        y = PAGE_H - 18 * MM
        r.text(PAGE_W / 2, y, d.sender.name, 17, bold=True, align="c")
        y -= 5.5 * MM
        if d.tagline:
            r.text(PAGE_W / 2, y, d.tagline, 9, align="c", color=GREY)
            y -= 4.5 * MM
        r.text(PAGE_W / 2, y, "  ·  ".join(d.contact_lines[:3]), 7.5, align="c")
        y -= 3.5 * MM
        r.line(self.left, y, self.right, y, width=1.2)
        r.line(self.left, y - 1.6, self.right, y - 1.6, width=0.4)

    def draw_title(self, r: Renderer, d: Draft, block: Title, y: float) -> float:
        y -= self.title_size
        r.text(PAGE_W / 2, y, block.text.upper(), self.title_size, bold=True, align="c")
        y -= self.title_size * 0.5
        if block.subtitle:
            y -= self.body_size
            r.text(PAGE_W / 2, y, block.subtitle, self.body_size, align="c")
        return y - 5 * MM

    def info_block(self, r: Renderer, d: Draft) -> float:
        size = 9.0
        y = self.info_top
        for label, value in d.info:
            r.text(self.info_x, y, label, size, bold=True)
            r.text(self.info_x + 33 * MM, y, value, size)
            y -= size * 1.45
        return y

    def footer(self, r: Renderer, d: Draft, page: int, total: int) -> None:
        size = 6.8
        y = 20 * MM
        r.line(self.left, y + 4 * MM, self.right, y + 4 * MM, width=0.4)
        for column in d.footer:
            if column:
                r.text(PAGE_W / 2, y, " – ".join(column), size, align="c")
                y -= size * 1.35
        if total > 1 or d.always_page_numbers:
            r.text(
                PAGE_W / 2,
                8 * MM,
                f"- {page} -" if not d.english else f"{page}/{total}",
                8,
                align="c",
            )


class Minimal(Layout):
    """Lots of white space, small letterhead top right, info line under the window."""

    name = "minimal"
    address_x = 24 * MM
    left = 24 * MM
    table_style = TableStyle(
        top_rule=False, header_rule=True, row_rules=True, rule_color=(0.75, 0.75, 0.75), padding=3.5
    )
    totals_style = TotalsStyle(width=70 * MM)
    underline_return = False
    title_size = 13.0

    def letterhead(self, r: Renderer, d: Draft) -> None:
        accent = d.sender.style.accent
        r.rect(self.left, PAGE_H - 24 * MM, 7 * MM, 7 * MM, fill=accent)
        y = PAGE_H - 18 * MM
        r.text(self.right, y, d.sender.name, 10, bold=True, align="r")
        y -= 4 * MM
        for line in d.contact_lines:
            r.text(self.right, y, line, 7.5, align="r", color=GREY)
            y -= 3.3 * MM

    def info_block(self, r: Renderer, d: Draft) -> float:
        y = PAGE_H - 100 * MM
        x = self.left
        size = 8.5
        for label, value in d.info:
            label_w = r.width(label, size)
            value_w = r.width(value, size, bold=True)
            if x + label_w + value_w + 4 * MM > self.right:
                y -= 5 * MM
                x = self.left
            r.text(x, y, label, size, color=GREY)
            r.text(x + label_w + 1.5 * MM, y, value, size, bold=True)
            x += label_w + value_w + 9 * MM
        return y - 2 * MM

    def first_page(self, r: Renderer, d: Draft) -> float:
        if d.sender.style.fold_marks:
            self.fold_marks(r)
        self.letterhead(r, d)
        self.address(r, d)
        return self.info_block(r, d) - 6 * MM

    def footer(self, r: Renderer, d: Draft, page: int, total: int) -> None:
        size = 6.5
        y = 22 * MM
        for column in d.footer:
            if column:
                r.text(self.left, y, "  ".join(column), size, color=GREY)
                y -= size * 1.4
        if total > 1 or d.always_page_numbers:
            r.text(self.right, 12 * MM, f"{page}/{total}", 8, align="r", color=GREY)


class Erp(Layout):
    """A monospaced print-out from an old ERP: page number always, dashed rules, ``Belegnummer``."""

    name = "erp"
    body_size = 9.0
    table_style = TableStyle(size=8.5, dashed=True, padding=2.5)
    totals_style = TotalsStyle(size=9, width=85 * MM, double_under_strong=True)
    always_page_numbers = True
    title_size = 13.0
    info_x = 118 * MM

    def letterhead(self, r: Renderer, d: Draft) -> None:
        y = PAGE_H - 16 * MM
        r.text(self.left, y, d.sender.name.upper(), 11, bold=True)
        y -= 4.2 * MM
        for line in d.contact_lines[:4]:
            r.text(self.left, y, line, 8)
            y -= 3.6 * MM

    def info_block(self, r: Renderer, d: Draft) -> float:
        size = 8.5
        y = self.info_top
        width = max((len(label) for label, _ in d.info), default=0)
        for label, value in d.info:
            r.text(self.info_x, y, f"{label.ljust(width)} : {value}", size)
            y -= size * 1.4
        return y

    def footer(self, r: Renderer, d: Draft, page: int, total: int) -> None:
        size = 7.0
        y = 22 * MM
        r.line(self.left, y + 3.5 * MM, self.right, y + 3.5 * MM, width=0.5, dash=(2, 2))
        for column in d.footer:
            if column:
                r.text(self.left, y, " / ".join(column), size)
                y -= size * 1.35
        r.text(self.right, PAGE_H - 16 * MM, self.page_label(d, page, total), 8, align="r")

    def next_page(self, r: Renderer, d: Draft, page: int, total: int) -> float:
        y = PAGE_H - 16 * MM
        r.text(self.left, y, f"{d.sender.name.upper()} - {d.running_header}", 8)
        r.line(self.left, y - 2.5 * MM, self.right, y - 2.5 * MM, width=0.5, dash=(2, 2))
        return y - 10 * MM

    def draw_title(self, r: Renderer, d: Draft, block: Title, y: float) -> float:
        y -= self.title_size
        r.text(self.left, y, block.text.upper(), self.title_size, bold=True)
        r.line(
            self.left,
            y - 2,
            self.left + r.width(block.text.upper(), self.title_size, True),
            y - 2,
            width=0.6,
            dash=(1.5, 1),
        )
        y -= self.title_size * 0.5
        if block.subtitle:
            y -= self.body_size
            r.text(self.left, y, block.subtitle, self.body_size)
        return y - 4 * MM


class Sidebar(Layout):
    """A tinted sidebar on the right carries contact, bank and tax data plus the info block."""

    name = "sidebar"
    right = 140 * MM
    left = 22 * MM
    address_x = 22 * MM
    sidebar_x = 147 * MM
    body_bottom = 18 * MM
    table_style = TableStyle(top_rule=False, header_rule=True, size=8.5, padding=2.5)
    totals_style = TotalsStyle(width=62 * MM, size=9)

    def _sidebar(self, r: Renderer, d: Draft) -> float:
        r.rect(
            self.sidebar_x - 4 * MM,
            0,
            PAGE_W - self.sidebar_x + 4 * MM,
            PAGE_H,
            fill=(0.95, 0.95, 0.93),
        )
        r.rect(
            self.sidebar_x - 4 * MM,
            PAGE_H - 6 * MM,
            PAGE_W - self.sidebar_x + 4 * MM,
            6 * MM,
            fill=d.sender.style.accent,
        )
        return PAGE_H - 16 * MM

    def letterhead(self, r: Renderer, d: Draft) -> None:
        y = self._sidebar(r, d)
        for i, line in enumerate(r.wrap(d.sender.name, PAGE_W - self.sidebar_x - 8 * MM, 11, True)):
            r.text(self.sidebar_x, y - i * 4.6 * MM, line, 11, bold=True)
        self._sidebar_bottom = (
            y
            - 4.6 * MM * len(r.wrap(d.sender.name, PAGE_W - self.sidebar_x - 8 * MM, 11, True))
            - 3 * MM
        )

    def info_block(self, r: Renderer, d: Draft) -> float:
        y = self._sidebar_bottom
        size = 7.5
        for label, value in d.info:
            r.text(self.sidebar_x, y, label, size, color=GREY)
            y -= size * 1.25
            r.text(self.sidebar_x, y, value, size + 1, bold=True)
            y -= size * 1.7
        y -= 3 * MM
        for column in d.footer:
            for line in column:
                for part in r.wrap(line, PAGE_W - self.sidebar_x - 6 * MM, 6.6):
                    r.text(self.sidebar_x, y, part, 6.6)
                    y -= 6.6 * 1.3
            y -= 2.5 * MM
        return PAGE_H - 92 * MM

    def footer(self, r: Renderer, d: Draft, page: int, total: int) -> None:
        if total > 1 or d.always_page_numbers:
            r.text(self.right, 10 * MM, self.page_label(d, page, total), 7.5, align="r", color=GREY)

    def next_page(self, r: Renderer, d: Draft, page: int, total: int) -> float:
        self._sidebar(r, d)
        r.text(self.sidebar_x, PAGE_H - 16 * MM, d.sender.name, 8, bold=True)
        r.text(self.left, PAGE_H - 16 * MM, d.running_header, 8, color=GREY)
        return PAGE_H - 24 * MM


class Boxed(Layout):
    """Round logo, info in a rounded box, the table and totals boxed, footer in a frame."""

    name = "boxed"
    left = 22 * MM
    address_x = 22 * MM
    right = PAGE_W - 16 * MM
    table_style = TableStyle(
        box=True,
        top_rule=False,
        header_rule=True,
        rule_color=(0.45, 0.45, 0.45),
        header_fill=(0.96, 0.96, 0.96),
    )
    totals_style = TotalsStyle(box=True, rule_above_strong=True, width=75 * MM)
    info_x = 122 * MM
    body_bottom = 34 * MM

    def letterhead(self, r: Renderer, d: Draft) -> None:
        self.logo(r, d, self.left, PAGE_H - 32 * MM, 16 * MM)
        x = self.left + 20 * MM
        r.text(x, PAGE_H - 21 * MM, d.sender.name, 14, bold=True)
        if d.tagline:
            r.text(x, PAGE_H - 26 * MM, d.tagline, 8.5, color=GREY)
        y = PAGE_H - 14 * MM
        for line in d.contact_lines:
            r.text(self.right, y, line, 7.5, align="r")
            y -= 3.4 * MM

    def info_block(self, r: Renderer, d: Draft) -> float:
        if not d.info:
            return PAGE_H - 92 * MM
        size = 8.5
        height = len(d.info) * size * 1.5 + 5 * MM
        top = PAGE_H - 47 * MM
        r.rect(
            self.info_x - 3 * MM,
            top - height,
            self.right - self.info_x + 3 * MM,
            height,
            stroke=(0.5, 0.5, 0.5),
            radius=3 * MM,
            width=0.6,
        )
        y = top - 5 * MM
        for label, value in d.info:
            r.text(self.info_x, y, label, size)
            r.text(self.right - 3 * MM, y, value, size, bold=True, align="r")
            y -= size * 1.5
        return top - height

    def footer(self, r: Renderer, d: Draft, page: int, total: int) -> None:
        size = 6.6
        columns = [c for c in d.footer if c]
        width = (self.right - self.left - 6 * MM) / max(len(columns), 1)
        wrapped = [
            [part for line in column for part in r.wrap(line, width - 2 * MM, size)]
            for column in columns
        ]
        height = max((len(c) for c in wrapped), default=1) * size * 1.3 + 4 * MM
        r.rect(
            self.left,
            9 * MM,
            self.right - self.left,
            height,
            stroke=(0.6, 0.6, 0.6),
            radius=2 * MM,
            width=0.5,
        )
        for i, column in enumerate(wrapped):
            y = 9 * MM + height - 4.5 * MM
            for line in column:
                r.text(self.left + 3 * MM + i * width, y, line, size)
                y -= size * 1.3
        if total > 1 or d.always_page_numbers:
            r.text(
                self.right,
                9 * MM + height + 2 * MM,
                self.page_label(d, page, total),
                7.5,
                align="r",
            )


class International(Layout):
    """Square logo, big title in the header, key/value table under it, accent totals."""

    name = "international"
    table_style = TableStyle(
        top_rule=False, header_rule=True, row_rules=True, rule_color=(0.8, 0.8, 0.8)
    )
    totals_style = TotalsStyle(
        width=72 * MM, strong_fill=(0.2, 0.3, 0.5), strong_text=WHITE, rule_above_strong=False
    )
    info_top = PAGE_H - 52 * MM

    def letterhead(self, r: Renderer, d: Draft) -> None:
        self.logo(r, d, self.left, PAGE_H - 30 * MM, 13 * MM, square=True)
        r.text(self.left + 16 * MM, PAGE_H - 21 * MM, d.sender.name, 12.5, bold=True)
        y = PAGE_H - 25.5 * MM
        for line in d.contact_lines[:2]:
            r.text(self.left + 16 * MM, y, line, 7.5, color=GREY)
            y -= 3.3 * MM
        size = self._header_title_size(r, d)
        if d.title and size:
            r.text(
                self.right,
                PAGE_H - 24 * MM,
                d.title.upper(),
                size,
                bold=True,
                align="r",
                color=d.sender.style.accent,
            )

    @staticmethod
    def _header_title_size(r: Renderer, d: Draft) -> float:
        """Font size for the title in the header, or 0 when it is too long to go there."""
        if not d.title:
            return 0.0
        for size in (22.0, 20.0, 18.0, 16.0):
            if r.width(d.title.upper(), size, True) <= 85 * MM:
                return size
        return 0.0

    def draw_title(self, r: Renderer, d: Draft, block: Title, y: float) -> float:
        if block.text == d.title and self._header_title_size(r, d):
            if block.subtitle:
                y -= self.body_size
                r.text(self.left, y, block.subtitle, self.body_size, bold=True)
                return y - 5 * MM
            return y
        return super().draw_title(r, d, block, y)

    def info_block(self, r: Renderer, d: Draft) -> float:
        size = 8.5
        y = self.info_top
        for label, value in d.info:
            r.text(self.info_x, y, label, size, bold=True, color=d.sender.style.accent)
            r.text(self.right, y, value, size, align="r")
            r.line(self.info_x, y - 1.8, self.right, y - 1.8, width=0.3, color=LIGHT)
            y -= size * 1.6
        return y


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Classic(),
        Band(),
        Centered(),
        Minimal(),
        Erp(),
        Sidebar(),
        Boxed(),
        International(),
    )
}
ALL_LAYOUTS: tuple[str, ...] = tuple(LAYOUTS)


# --------------------------------------------------------------------------------------------
# Flowing the body
# --------------------------------------------------------------------------------------------


class _Flow:
    """Places body blocks top to bottom, breaking pages (with table carry-overs) as needed."""

    def __init__(self, r: Renderer, layout: Layout, d: Draft, total: int) -> None:
        self.r = r
        self.layout = layout
        self.d = d
        self.total = total
        self.page = 1
        self.y = layout.first_page(r, d)

    @property
    def size(self) -> float:
        return self.layout.body_size

    def room(self) -> float:
        return self.y - self.layout.body_bottom

    def break_page(self) -> None:
        self.layout.footer(self.r, self.d, self.page, self.total)
        self.r.show_page()
        self.page += 1
        self.y = self.layout.next_page(self.r, self.d, self.page, self.total)

    def ensure(self, height: float) -> None:
        if height > self.room():
            self.break_page()

    def finish(self) -> None:
        self.layout.footer(self.r, self.d, self.page, self.total)
        self.r.show_page()

    # -- blocks ------------------------------------------------------------------------------

    def block(self, block: Block) -> None:
        if isinstance(block, Para):
            self.para(block)
        elif isinstance(block, Title):
            self.ensure(self.layout.title_size * 3 + self.size * 4)
            self.y = self.layout.draw_title(self.r, self.d, block, self.y)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, Totals):
            self.totals(block)
        elif isinstance(block, Signature):
            self.signature(block)
        elif isinstance(block, QRBlock):
            self.qr(block)
        elif isinstance(block, SignatureFields):
            self.signature_fields(block)
        elif isinstance(block, Spacer):
            self.y -= block.height

    def para(self, block: Para) -> None:
        size = self.size + block.size_delta
        leading = size * self.layout.leading
        x = self.layout.left + block.indent
        lines = self.r.wrap(block.text, self.layout.right - x, size, block.bold)
        # Keep short paragraphs (up to 3 lines) together; avoid a lone first line otherwise.
        needed = leading * (len(lines) if len(lines) <= 3 else 2)
        if block.keep_with_next:
            needed += leading * 3 + block.space_after
        self.ensure(needed)
        for line in lines:
            self.ensure(leading)
            self.y -= leading
            self.r.text(x, self.y + (leading - size) * 0.6, line, size, bold=block.bold)
        self.y -= block.space_after

    def table(self, block: Table) -> None:
        style = self.layout.table_style
        r = self.r
        size = style.size + block.size_delta
        pad = style.padding
        left, right = self.layout.left, self.layout.right
        total_weight = sum(c.weight for c in block.columns)
        xs = [left]
        for col in block.columns:
            xs.append(xs[-1] + (right - left) * col.weight / total_weight)
        leading = size * 1.25

        def cell_lines(row: list[str], bold: bool) -> list[list[str]]:
            out = []
            for i, cell in enumerate(row):
                if i == block.wrap_column:
                    out.append(r.wrap(cell, xs[i + 1] - xs[i] - 2 * pad, size, bold))
                else:
                    out.append([cell])
            return out

        def row_height(lines: list[list[str]]) -> float:
            return max(len(c) for c in lines) * leading + 2 * pad

        def draw_row(
            row: list[str], *, header: bool = False, index: int = 0, bold: bool = False
        ) -> None:
            lines = cell_lines(row, header or bold)
            height = row_height(lines)
            top = self.y
            if header and style.header_fill is not None:
                r.rect(left, top - height, right - left, height, fill=style.header_fill)
            elif not header and style.zebra is not None and index % 2 == 1:
                r.rect(left, top - height, right - left, height, fill=style.zebra)
            color = style.header_text if header else BLACK
            for depth in range(max(len(c) for c in lines)):
                baseline = top - pad - size * 0.85 - depth * leading
                for i, cell in enumerate(lines):
                    if depth >= len(cell):
                        continue
                    align = block.columns[i].align
                    if align == "r":
                        x = xs[i + 1] - pad
                    elif align == "c":
                        x = (xs[i] + xs[i + 1]) / 2
                    else:
                        x = xs[i] + pad
                    r.text(
                        x,
                        baseline,
                        cell[depth],
                        size,
                        bold=header or bold,
                        align=align,
                        color=color,
                    )
            dash = (2, 2) if style.dashed else None
            if style.grid:
                for x in xs:
                    r.line(x, top, x, top - height, width=0.4, color=style.rule_color)
                r.line(left, top - height, right, top - height, width=0.4, color=style.rule_color)
            elif header and style.header_rule:
                r.line(
                    left,
                    top - height,
                    right,
                    top - height,
                    width=0.7,
                    color=style.rule_color,
                    dash=dash,
                )
            elif not header and style.row_rules:
                r.line(left, top - height, right, top - height, width=0.3, color=style.rule_color)
            self.y = top - height

        header_row = [c.header for c in block.columns]
        header_h = row_height(cell_lines(header_row, True))

        def carry_row(drawn: int) -> list[str]:
            assert block.carry is not None
            cells = [""] * len(block.columns)
            label_col = block.wrap_column if block.wrap_column is not None else 0
            cells[label_col] = block.carry.label
            cells[block.carry.column] = block.carry.fmt_amount[drawn]
            return cells

        def start_segment(with_carry: int | None) -> float:
            segment_top = self.y
            if style.top_rule:
                r.line(
                    left,
                    self.y,
                    right,
                    self.y,
                    width=0.8,
                    color=style.rule_color,
                    dash=(2, 2) if style.dashed else None,
                )
            draw_row(header_row, header=True)
            if with_carry is not None:
                draw_row(carry_row(with_carry), bold=True)
            return segment_top

        def end_segment(segment_top: float) -> None:
            if style.box:
                r.rect(
                    left,
                    self.y,
                    right - left,
                    segment_top - self.y,
                    stroke=style.rule_color,
                    width=0.6,
                )
            elif style.bottom_rule and not style.grid:
                r.line(
                    left,
                    self.y,
                    right,
                    self.y,
                    width=0.6,
                    color=style.rule_color,
                    dash=(2, 2) if style.dashed else None,
                )

        first_h = row_height(cell_lines(block.rows[0], False)) if block.rows else 0
        self.ensure(header_h + first_h + 2 * leading)
        segment_top = start_segment(None)
        carry_h = leading + 2 * pad
        for index, row in enumerate(block.rows):
            height = row_height(cell_lines(row, False))
            remaining_after = len(block.rows) - index - 1
            reserve = carry_h if (block.carry is not None and remaining_after > 0) else 0
            if height + reserve > self.room():
                if block.carry is not None:
                    draw_row(carry_row(index), bold=True)
                end_segment(segment_top)
                self.break_page()
                segment_top = start_segment(index if block.carry is not None else None)
            draw_row(row, index=index)
        end_segment(segment_top)
        self.y -= 4 * MM

    def totals(self, block: Totals) -> None:
        style = self.layout.totals_style
        r = self.r
        size = style.size
        row_h = size * 1.55
        height = row_h * len(block.rows) + 3 * MM
        self.ensure(height + 2 * MM)
        x0 = self.layout.right - style.width
        x1 = self.layout.right
        top = self.y
        if style.fill is not None:
            r.rect(x0, top - height + 1 * MM, style.width, height, fill=style.fill)
        y = top - 1 * MM
        for label, value, strong in block.rows:
            row_top = y
            if strong and style.rule_above_strong:
                r.line(x0, row_top, x1, row_top, width=0.7)
            if strong and style.strong_fill is not None:
                r.rect(x0, row_top - row_h, style.width, row_h, fill=style.strong_fill)
            baseline = row_top - row_h + size * 0.45
            color = style.strong_text if strong else BLACK
            row_size = size + (0.5 if strong else 0)
            # Narrow totals columns (sidebar layout) shrink a long label rather than overprint.
            while row_size > 6.0 and (
                r.width(label, row_size, strong) + r.width(value, row_size, strong) + 6 * MM
                > style.width
            ):
                row_size -= 0.25
            r.text(x0 + 2 * MM, baseline, label, row_size, bold=strong, color=color)
            r.text(x1 - 2 * MM, baseline, value, row_size, bold=strong, align="r", color=color)
            if style.grid:
                r.line(x0, row_top - row_h, x1, row_top - row_h, width=0.4)
            if strong and style.double_under_strong:
                r.line(x1 - 30 * MM, row_top - row_h, x1, row_top - row_h, width=0.5)
                r.line(x1 - 30 * MM, row_top - row_h - 1.6, x1, row_top - row_h - 1.6, width=0.5)
            y -= row_h
        if style.box or style.grid:
            r.rect(x0, y, style.width, top - y, stroke=(0.3, 0.3, 0.3), width=0.6)
        self.y = y - 5 * MM

    def signature(self, block: Signature) -> None:
        size = self.size
        lead = size * self.layout.leading
        height = lead * (2 + len(block.lines)) + 14 * MM
        self.ensure(height)
        self.y -= lead
        self.r.text(self.layout.left, self.y, block.closing, size)
        if block.company:
            self.y -= lead
            self.r.text(self.layout.left, self.y, block.company, size)
        self.r.squiggle(self.layout.left + 2 * MM, self.y - 9 * MM, block.seed)
        self.y -= 15 * MM
        for line in block.lines:
            self.r.text(self.layout.left, self.y, line, size)
            self.y -= lead

    def qr(self, block: QRBlock) -> None:
        self.ensure(block.size + 4 * MM)
        top = self.y - 2 * MM
        self.r.qr(block.code, self.layout.left, top - block.size, block.size)
        y = top - 3 * MM
        for i, line in enumerate(block.caption):
            self.r.text(
                self.layout.left + block.size + 4 * MM, y, line, 8 if i else 8.5, bold=i == 0
            )
            y -= 3.8 * MM
        self.y = top - block.size - 3 * MM

    def signature_fields(self, block: SignatureFields) -> None:
        size = self.size - 1
        self.ensure(26 * MM)
        self.y -= 16 * MM
        mid = (self.layout.left + self.layout.right) / 2
        for x0 in (self.layout.left, mid + 5 * MM):
            self.r.line(x0, self.y, x0 + (mid - self.layout.left - 10 * MM), self.y, width=0.6)
        for i in range(max(len(block.left), len(block.right))):
            y = self.y - (i + 1) * size * 1.3
            if i < len(block.left):
                self.r.text(self.layout.left, y, block.left[i], size)
            if i < len(block.right):
                self.r.text(mid + 5 * MM, y, block.right[i], size)
        self.y -= (max(len(block.left), len(block.right)) + 1) * size * 1.3


def _run(draft: Draft, layout: Layout, r: Renderer, total: int) -> int:
    flow = _Flow(r, layout, draft, total)
    for block in draft.blocks:
        flow.block(block)
    flow.finish()
    return flow.page


def render_draft(draft: Draft, layout_name: str, font: str) -> tuple[bytes, list[str]]:
    """Lay ``draft`` out in ``layout_name`` with ``font``; return PDF bytes and page texts."""
    layout = LAYOUTS[layout_name]
    family = FAMILY_BY_NAME[font]
    pages = _run(draft, layout, Renderer(family, None), 0)
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer, title=draft.pdf_title, author=draft.sender.name, creator=draft.creator
    )
    renderer = Renderer(family, canvas)
    drawn = _run(draft, layout, renderer, pages)
    if drawn != pages:  # pragma: no cover - the dry run measures exactly what is drawn
        raise RuntimeError(f"page count changed between passes: {pages} != {drawn}")
    canvas.save()
    return buffer.getvalue(), renderer.page_texts()
