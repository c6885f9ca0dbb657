"""Word boxes for tests, shaped like ``backoffice.text.Word`` (PDF points, top-left origin)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MM = 72 / 25.4
CHAR_W = 5.0
LINE_H = 10.0


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    bbox: tuple[float, float, float, float]


def words_at(text: str, x: float, y: float, *, confidence: float = 0.95) -> list[Word]:
    """The words of one printed line starting at (x, y)."""
    out = []
    pos = x
    for token in text.split(" "):
        if token:
            width = CHAR_W * len(token)
            out.append(Word(token, confidence, (pos, y, pos + width, y + LINE_H * 0.8)))
            pos += width
        pos += CHAR_W
    return out


def din_letter(
    *,
    return_line: str | None,
    address: list[str],
    right_block: Sequence[str] = (),
    letterhead: Sequence[str] = (),
    body: Sequence[str] = (),
) -> list[Word]:
    """Page 1 of a DIN 5008 letter: letterhead on top, address window 45 mm down, body below."""
    words: list[Word] = []
    for i, line in enumerate(letterhead):
        words += words_at(line, 330, 30 + i * LINE_H)
    y = 45 * MM
    if return_line:
        words += words_at(return_line, 25 * MM, y)
        y += LINE_H * 1.5
    for i, line in enumerate(address):
        words += words_at(line, 25 * MM, y + i * LINE_H)
    for i, line in enumerate(right_block):
        words += words_at(line, 125 * MM, 50 * MM + i * LINE_H)
    for i, line in enumerate(body):
        words += words_at(line, 25 * MM, 105 * MM + i * LINE_H)
    return words
