"""Lines of a page, with the word boxes behind every character when we have them.

Extraction works on lines of text. When the text stage also delivers words with boxes, the
lines are rebuilt from those words (grouped by vertical position, left to right), so every
character offset maps back to a word and an extracted value gets a ``bbox``. Scans are often
fed in at a slight angle; the vertical position is corrected by the page's skew (measured
from neighbouring words) so a label and its right-aligned value stay on one line. Large horizontal
gaps between words become three spaces, which keeps table columns apart for the column
heuristics in :mod:`.extract`.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .schema import BBox, WordLike

A4_WIDTH_PT = 595.3
A4_HEIGHT_PT = 841.9
MM = 72 / 25.4
"""One millimetre in PDF points."""


@dataclass(frozen=True)
class Line:
    """One line of text on one page, optionally backed by the words it was built from."""

    text: str
    page: int
    number: int
    words: tuple[WordLike, ...] = ()
    offsets: tuple[int, ...] = ()
    """Start offset in ``text`` of each word in ``words``."""

    @property
    def top(self) -> float | None:
        """Upper edge of the line in points, when it has word boxes."""
        return min(w.bbox[1] for w in self.words) if self.words else None

    @property
    def left(self) -> float | None:
        """Left edge of the line in points, when it has word boxes."""
        return min(w.bbox[0] for w in self.words) if self.words else None

    def bbox(self, start: int, end: int) -> BBox | None:
        """Union box of the words overlapping ``text[start:end]``; ``None`` without words."""
        boxes = [
            w.bbox
            for w, off in zip(self.words, self.offsets, strict=True)
            if off < end and off + len(w.text) > start
        ]
        if not boxes:
            return None
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )


def _centre(w: WordLike) -> float:
    return (w.bbox[1] + w.bbox[3]) / 2


def skew_slope(words: Sequence[WordLike], height: float) -> float:
    """Vertical drift per point to the right (a scan fed in at a slight angle), else 0.

    Neighbouring words of one printed line are close horizontally and nearly level; the
    median slope between such pairs is the page skew. On a skewed scan a label on the left
    and its value on the right edge otherwise fall into different lines, and in the wrong
    order ("000427" above "Rechnungsnummer").
    """
    ws = sorted(words, key=_centre)
    slopes: list[float] = []
    for i, a in enumerate(ws):
        ca = _centre(a)
        for b in ws[i + 1 :]:
            cb = _centre(b)
            if cb - ca > 0.8 * height:
                break
            if b.bbox[0] >= a.bbox[2]:
                left, right = a, b
            elif a.bbox[0] >= b.bbox[2]:
                left, right = b, a
            else:
                continue
            gap = right.bbox[0] - left.bbox[2]
            dx = (right.bbox[0] + right.bbox[2] - left.bbox[0] - left.bbox[2]) / 2
            if gap > 3 * height or dx < 2 * height:
                continue
            slopes.append((_centre(right) - _centre(left)) / dx)
    if len(slopes) < 8:
        return 0.0
    slope = statistics.median(slopes)
    return slope if 0.003 <= abs(slope) <= 0.08 else 0.0


def lines_from_words(words: Sequence[WordLike], page: int) -> list[Line]:
    """Group words into reading-order lines by the (skew-corrected) vertical centre."""
    ws = [w for w in words if w.text.strip()]
    if not ws:
        return []
    heights = [max(w.bbox[3] - w.bbox[1], 1.0) for w in ws]
    tol = 0.5 * statistics.median(heights)
    slope = skew_slope(ws, statistics.median(heights))

    def level(w: WordLike) -> float:
        return _centre(w) - slope * (w.bbox[0] + w.bbox[2]) / 2

    ws.sort(key=lambda w: (level(w), w.bbox[0]))
    groups: list[list[WordLike]] = []
    centre = -1e9
    for w in ws:
        c = level(w)
        if groups and abs(c - centre) <= tol:
            groups[-1].append(w)
            centre = (centre * (len(groups[-1]) - 1) + c) / len(groups[-1])
        else:
            groups.append([w])
            centre = c
    lines: list[Line] = []
    for number, group in enumerate(groups):
        group.sort(key=lambda w: w.bbox[0])
        parts: list[str] = []
        offsets: list[int] = []
        pos = 0
        prev: WordLike | None = None
        for w in group:
            if prev is not None:
                h = max(prev.bbox[3] - prev.bbox[1], 1.0)
                sep = "   " if w.bbox[0] - prev.bbox[2] > 1.5 * h else " "
                parts.append(sep)
                pos += len(sep)
            offsets.append(pos)
            parts.append(w.text)
            pos += len(w.text)
            prev = w
        lines.append(Line("".join(parts), page, number, tuple(group), tuple(offsets)))
    return lines


def lines_from_text(text: str, page: int) -> list[Line]:
    """Plain lines of a page text (no geometry); form feeds and CRs are treated as newlines."""
    raw = re.split(r"\r\n|\r|\n|\f", text)
    return [Line(t.rstrip(), page, i) for i, t in enumerate(raw)]


def build_pages(
    text_pages: Sequence[str], words: Sequence[Sequence[WordLike]] | None = None
) -> list[list[Line]]:
    """Lines per page: from words where a page has them, from the page text otherwise."""
    pages: list[list[Line]] = []
    for i, text in enumerate(text_pages):
        page_words = words[i] if words is not None and i < len(words) else ()
        pages.append(lines_from_words(page_words, i) if page_words else lines_from_text(text, i))
    return pages


def page_width(words: Sequence[WordLike]) -> float:
    """Width of the page the words are on (A4 unless words reach further right)."""
    right = max((w.bbox[2] for w in words), default=0.0)
    return max(A4_WIDTH_PT, right)
