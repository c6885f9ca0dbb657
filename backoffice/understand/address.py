"""Where on page 1 the recipient is written, and where the sender is.

Routing must go by the *recipient* (the office service's client), yet the sender's name is on
the same page several times: letterhead, the small return line above the address
(Absenderzeile), footer, "Verkäufer:" blocks. This module splits page 1 into the recipient
block and sender zones so that routing and extraction can tell the two apart.

With word boxes the recipient block is the DIN 5008 address field: 40-90 mm from the top, left
half of the page, minus a leading return line. Without boxes we look for the return line, a
labelled block ("Käufer:", "Rechnungsempfänger:"), or the second postal-code block on the page
(the first one near the top is usually the letterhead).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .layout import MM, Line, lines_from_words, page_width
from .schema import WordLike

ZIP_CITY_RE = re.compile(
    r"(?:^|[\s,·•|])(?:D\s?-\s?|DE\s)?([0-9OolI]{5})\s+([A-ZÄÖÜ][\wäöüßÄÖÜ.\- ]{1,40})"
)
_FOREIGN_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b|\b\d{4}\s+[A-ZÄÖÜ]")
_SEPARATORS = re.compile(r"\s[·•|∙▪–-]\s|\s\|\s|,\s")
RECIPIENT_LABEL_RE = re.compile(
    r"^\s*(?:Käufer|Kaeufer|Rechnungsempfänger|Leistungsempfänger|Empfänger|Rechnungsadresse|"
    r"Lieferadresse|Kunde|An|Bill\s+to|Invoice\s+to|Buyer)\b[^:]{0,30}:?\s*$",
    re.IGNORECASE,
)
SENDER_LABEL_RE = re.compile(
    r"^\s*(?:Verkäufer|Verkaeufer|Lieferant|Rechnungssteller|Absender|Von|Seller|Supplier|"
    r"Abs\.)\b[^:]{0,30}:?\s*$",
    re.IGNORECASE,
)
_STOP_RE = re.compile(
    r"^\s*(?:Sehr geehrte|Guten Tag|Hallo|Liebe|Betreff|Betr\.|Rechnung\b|Mahnung|"
    r"Zahlungserinnerung|Datum|Ihr Zeichen|Unser Zeichen|Kundennummer|Rechnungsnummer|Tel|Fax|"
    r"E-Mail|www\.|Seite|Pos\b)",
    re.IGNORECASE,
)


def is_return_line(text: str) -> bool:
    """The small sender line above the address window: name · street · zip city."""
    t = text.strip()
    if not t or len(t) > 140:
        return False
    if re.match(r"^Abs(?:ender)?\.?:", t, re.IGNORECASE):
        return True
    if len(_SEPARATORS.findall(t)) < 2:
        return False
    # a postal code (German or foreign) or a company name marks it as an address line
    return bool(
        ZIP_CITY_RE.search(t)
        or re.search(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b|\b\d{4,5}\b", t)
        or re.search(r"(?<!\w)(?:GmbH|AG|KG|UG|e\.\s?K\.|Ltd\.?|Inc\.?|GbR|OHG)(?!\w)", t)
    )


def return_line_sender(text: str) -> str | None:
    """The first part of a return line, which is the sender's name."""
    t = re.sub(r"^Abs(?:ender)?\.?:\s*", "", text.strip(), flags=re.IGNORECASE)
    part = re.split(r"\s[·•|∙▪–-]\s|\s\|\s|,\s", t)[0].strip()
    return part or None


@dataclass
class PageOneZones:
    """Recipient block and sender zones of page 1 (line numbers refer to ``lines``)."""

    lines: list[Line]
    recipient: list[int] = field(default_factory=list)
    sender: list[int] = field(default_factory=list)
    method: str = "none"
    confidence: float = 0.0

    def recipient_lines(self) -> list[Line]:
        return [self.lines[i] for i in self.recipient]

    def sender_lines(self) -> list[Line]:
        return [self.lines[i] for i in self.sender]


def _block_after(lines: list[Line], start: int, max_lines: int = 7) -> list[int]:
    """Consecutive address-like lines from ``start`` on, stopping at gaps and body text."""
    out: list[int] = []
    i = start
    while i < len(lines) and not lines[i].text.strip():
        i += 1
    while i < len(lines) and len(out) < max_lines:
        t = lines[i].text.strip()
        if not t:
            if out:
                break
            i += 1
            continue
        if _STOP_RE.match(t) or len(t) > 70 or SENDER_LABEL_RE.match(t):
            break
        if RECIPIENT_LABEL_RE.match(t) and out:
            break
        if re.match(
            r"(?i)(?:(?:globale\s+)?(?:nummer|gln|kunden-?n\w*|ust|tel|fax|e-?mail)\b[^:]*:|gln\b|iln\b)",
            t,
        ):
            i += 1
            continue
        out.append(i)
        if ZIP_CITY_RE.search(t) and len(out) >= 2:
            # the country may follow the city line
            nxt = lines[i + 1].text.strip() if i + 1 < len(lines) else ""
            if re.fullmatch(r"(?i)deutschland|germany|österreich|schweiz|DE", nxt):
                out.append(i + 1)
            break
        i += 1
    return out


def _block_before(lines: list[Line], zip_index: int, max_back: int = 4) -> list[int]:
    """Address lines ending at the postal-code line: name, addition, street, zip city."""
    out = [zip_index]
    i = zip_index - 1
    while i >= 0 and len(out) <= max_back:
        t = lines[i].text.strip()
        if (
            not t
            or ":" in t
            or _STOP_RE.match(t)
            or is_return_line(t)
            or len(t) > 60
            or ZIP_CITY_RE.search(t)
        ):
            break
        out.insert(0, i)
        i -= 1
    return out


def _zones_from_words(words: Sequence[WordLike]) -> PageOneZones | None:
    width = page_width(words)
    window = [
        w
        for w in words
        if 40 * MM <= (w.bbox[1] + w.bbox[3]) / 2 <= 90 * MM and w.bbox[0] < width / 2
    ]
    if not window:
        return None
    lines = lines_from_words(window, 0)
    # keep only the left column of each line (the information block sits on the right)
    zones = PageOneZones(lines=lines, method="din5008", confidence=0.9)
    for i, line in enumerate(lines):
        if i == 0 and is_return_line(line.text):
            zones.sender.append(i)
            continue
        if line.text.strip():
            zones.recipient.append(i)
    zones.recipient = zones.recipient[:9]
    # only a real address counts: a postal-code line, and no "Label : value" lines
    texts = [lines[i].text for i in zones.recipient]
    if not any(ZIP_CITY_RE.search(t) or _FOREIGN_POSTCODE.search(t) for t in texts):
        return None
    if sum(" : " in t or t.rstrip().endswith(":") for t in texts) > 1:
        return None
    return zones


def _zones_from_lines(lines: list[Line]) -> PageOneZones:
    zones = PageOneZones(lines=lines)
    head = [i for i, line in enumerate(lines[:60]) if line.text.strip()]
    # 1. the return line, then the block right after it
    for i in head[:30]:
        if is_return_line(lines[i].text):
            zones.sender.append(i)
            block = _block_after(lines, i + 1)
            if block:
                zones.recipient = block
                zones.method, zones.confidence = "return_line", 0.85
                zones.sender.extend(j for j in head if j < i)
                return zones
    # 2. a labelled recipient block ("Käufer:", "Rechnungsempfänger:")
    for i in head:
        if RECIPIENT_LABEL_RE.match(lines[i].text):
            block = _block_after(lines, i + 1)
            if block:
                zones.recipient = block
                zones.method, zones.confidence = "label", 0.85
                break
    for i in head:
        if SENDER_LABEL_RE.match(lines[i].text):
            zones.sender.extend(j for j in _block_after(lines, i + 1) if j not in zones.recipient)
    if zones.recipient:
        return zones
    # 3. postal-code blocks: the first near the top is usually the letterhead
    zip_lines = [i for i in head[:40] if ZIP_CITY_RE.search(lines[i].text)]
    blocks = [_block_before(lines, z) for z in zip_lines]
    blocks = [b for b in blocks if len(b) >= 2]
    if len(blocks) >= 2:
        zones.sender.extend(blocks[0])
        zones.sender.extend(j for j in head if j < blocks[0][0])
        zones.recipient = blocks[1]
        zones.method, zones.confidence = "second_address", 0.6
    elif blocks and head and blocks[0][0] == head[0]:
        # a lone address at the very top is the letterhead (receipts name no recipient)
        zones.sender.extend(blocks[0])
    elif blocks:
        zones.recipient = blocks[0]
        zones.method, zones.confidence = "only_address", 0.5
    return zones


def page_one_zones(lines: list[Line], words: Sequence[WordLike] | None = None) -> PageOneZones:
    """Recipient block and sender zones of page 1 (footer lines count as sender)."""
    zones = _zones_from_words(words) if words else None
    if zones is None:
        zones = _zones_from_lines(lines)
    elif lines:
        # sender zones from the full page: letterhead above the window and the footer
        full = _zones_from_lines(lines)
        zones.lines = list(zones.lines)
        base = len(zones.lines)
        zones.lines.extend(full.lines)
        zones.sender.extend(base + j for j in full.sender)
    nonempty = [i for i, line in enumerate(zones.lines) if line.text.strip()]
    if len(nonempty) > 12:
        footer = [i for i in nonempty[-6:] if i not in zones.recipient]
        zones.sender.extend(i for i in footer if i not in zones.sender)
    return zones
