"""Finding where a new document starts in a batch scanned without separator sheets.

Staff are asked to put a separator sheet in front of every document, but stacks arrive without
them (a client scans at home, a scanner sends one PDF per stack). Such a batch becomes one
document at intake; after the text stage this module looks at each page from the second on and
estimates the probability that it is the *first page of a new document*, with the reasons a
person can check. Pure: page words and text in, probabilities out; no catalog, no storage.

The signals are the ones a person uses when sorting post by hand:

* a page counter: "Seite 1 von 3", "Page 1 of 2", "1/3" start a document, "Seite 2 von 3",
  "- 2 -" or a carried-over table sum ("Übertrag") continue one, and the page after
  "Seite 3 von 3" starts the next;
* the address block of DIN 5008 (recipient window, upper left, about 45-90 mm from the top) with
  a postcode-and-city line, and the sender's return line above it;
* a date with a heading (Rechnung, Mahnung, Betreff …) and a salutation in the upper half;
* the sender: bank account, VAT ID and web/e-mail domains on the page, or else the words of the
  letterhead, compared with the pages of the document so far.

They are combined by a logistic function with fixed, hand-set weights (:data:`WEIGHTS`), checked
against generated batches (``bench/bench_firstpage.py``). A trained model would need labelled
real batches to beat this; hand-set weights stay explainable: every probability comes with
the signals that produced it, which is what staff see when a page goes to review.

Page geometry is in PDF points on the upright page, origin top-left (see
:mod:`backoffice.text.model`). Without word boxes (plain text only) the zones are approximated by
line positions, which is weaker; the text stage always provides boxes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from backoffice.text.model import Word

MM = 72 / 25.4
"""PDF points per millimetre."""

WEIGHTS: dict[str, float] = {
    "bias": -3.0,
    "page_one": 4.5,
    "continuation": -4.5,
    "after_last_page": 2.0,
    "before_last_page": -2.5,
    "address_block": 4.0,
    "return_line": 1.0,
    "heading": 1.5,
    "salutation": 1.0,
    "new_sender": 2.0,
    "same_sender": -1.0,
}
"""Log-odds contributions. ``bias`` makes a page without any signal a continuation (p ≈ 0.05):
a false split scatters one letter over two archive entries, which is worse than a missed
boundary that review catches. An address block with a heading and a new sender gives p ≈ 0.99;
the same from the same sender (a reminder after its invoice) still ≈ 0.82, more with a return
line or salutation; "Seite 1 von n" alone ≈ 0.82. A sender change with a dated heading but no
address (an enclosure, a page whose address window is covered) gives ≈ 0.62, the middle band
that goes to staff; a sender change alone ≈ 0.27."""

REASONS: dict[str, str] = {
    "page_one": "Seitenzähler „Seite 1“",
    "continuation": "Seitenzähler einer Folgeseite",
    "after_last_page": "vorige Seite war die letzte („Seite n von n“)",
    "before_last_page": "vorige Seite war nicht die letzte",
    "address_block": "Anschriftfeld mit PLZ und Ort",
    "return_line": "Absenderzeile über der Anschrift",
    "heading": "Datum und Betreff/Dokumentart oben",
    "salutation": "Anrede",
    "new_sender": "anderer Absender",
    "same_sender": "gleicher Absender",
}
"""The signals in the words staff read (review flags, audit detail)."""

# --- patterns -----------------------------------------------------------------------------------

_COUNTER = re.compile(
    r"\b(?:Seite|Blatt|Page|Pg\.?)\s+(\d{1,3})\s*(?:von|/|aus|of)\s*(\d{1,3})\b", re.IGNORECASE
)
_BARE_COUNTER = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*$")
_DASH_COUNTER = re.compile(r"^\s*[-–]\s*(\d{1,3})\s*[-–]\s*$")
_CARRY = re.compile(r"\b(?:Übertrag|Fortsetzung|Seitenübertrag|carried forward)\b", re.IGNORECASE)
_POSTCODE_CITY = re.compile(r"(?:^|\s|D-)(\d{5})\s+[A-ZÄÖÜ][\wäöüß.\-]+")
_RETURN_SEPARATORS = re.compile(r"[,|•·]| - | – ")
_DATE = re.compile(
    r"\b\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})\b|\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}\.\s+(?:Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober"
    r"|November|Dezember)\s+\d{4}\b"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\s+\d{1,2},\s+\d{4}\b",
    re.IGNORECASE,
)
_HEADING = re.compile(
    r"\b(?:Rechnung|Rechnungsnummer|Rechnungs-Nr|Gutschrift|Mahnung|Zahlungserinnerung"
    r"|Betreff|Betr\.|Kontoauszug|Bescheid|Vertrag|Angebot|Auftragsbestätigung|Lieferschein"
    r"|Kündigung|Abrechnung|Beitragsrechnung|Invoice|Credit note|Reminder|Subject)\b",
    re.IGNORECASE,
)
_SALUTATION = re.compile(
    r"^(?:Sehr geehrte|Liebe[rs]?\b|Hallo\b|Guten Tag|Dear\b|Ladies and Gentlemen)", re.IGNORECASE
)
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?)\b")
_VAT_ID = re.compile(r"\b([A-Z]{2}\s?\d{9,12}(?:B\d{2})?)\b")
_DOMAIN = re.compile(r"(?:@|www\.)([a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,})", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß\-]{2,}")


# --- input and output ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PageInput:
    """One page as the text stage left it: its text and, if known, word boxes and size."""

    text: str
    words: Sequence[Word] = ()
    width: float = 595.0
    height: float = 842.0
    """A4 portrait in points unless the page says otherwise."""


@dataclass(frozen=True)
class PageVerdict:
    """How likely a page starts a new document, and why."""

    page: int
    """1-based page number within the scored sequence."""
    probability: float
    signals: dict[str, float] = field(default_factory=dict)
    """The non-zero features with their values (0..1)."""

    @property
    def reasons(self) -> list[str]:
        """Readable reasons, strongest contribution first."""
        ranked = sorted(self.signals, key=lambda k: -abs(WEIGHTS[k] * self.signals[k]))
        return [("+ " if WEIGHTS[k] > 0 else "− ") + REASONS[k] for k in ranked]


@dataclass(frozen=True)
class Line:
    """A line of text with its box (``None`` when only plain text is known)."""

    text: str
    box: tuple[float, float, float, float] | None


@dataclass
class PageFacts:
    """What the detector reads off one page before comparing it with its neighbours."""

    counter: tuple[int, int] | None
    """(page, of) from a page counter, ``of`` 0 when unknown ("- 2 -")."""
    carry_over: bool
    address_block: bool
    return_line: bool
    heading: bool
    salutation: bool
    identifiers: frozenset[str]
    letterhead: frozenset[str]


# --- reading one page ---------------------------------------------------------------------------


def page_lines(page: PageInput) -> list[Line]:
    """The page's lines: words grouped by baseline when boxes exist, else the text's lines."""
    if not page.words:
        return [Line(t.strip(), None) for t in page.text.splitlines() if t.strip()]
    words = sorted(page.words, key=lambda w: ((w.bbox[1] + w.bbox[3]) / 2, w.bbox[0]))
    lines: list[list[Word]] = []
    for word in words:
        centre = (word.bbox[1] + word.bbox[3]) / 2
        if lines:
            last = lines[-1]
            last_centre = sum((w.bbox[1] + w.bbox[3]) / 2 for w in last) / len(last)
            height = max(w.bbox[3] - w.bbox[1] for w in last)
            if abs(centre - last_centre) <= max(2.0, 0.5 * height):
                last.append(word)
                continue
        lines.append([word])
    out = []
    for group in lines:
        group.sort(key=lambda w: w.bbox[0])
        # Words far apart on one baseline are separate columns (address left, date right).
        run = [group[0]]
        for word in group[1:]:
            if word.bbox[0] - run[-1].bbox[2] > 25 * MM:
                out.append(_line(run))
                run = []
            run.append(word)
        out.append(_line(run))
    return out


def _line(words: list[Word]) -> Line:
    box = (
        min(w.bbox[0] for w in words),
        min(w.bbox[1] for w in words),
        max(w.bbox[2] for w in words),
        max(w.bbox[3] for w in words),
    )
    return Line(" ".join(w.text for w in words), box)


def _zone(lines: list[Line], page: PageInput, top_mm: float, bottom_mm: float) -> list[Line]:
    """Lines whose top lies between ``top_mm`` and ``bottom_mm`` from the top of the page.

    Without boxes, the page is taken as 60 lines of about 4.5 mm (a typical business letter).
    """
    if not lines or lines[0].box is not None:
        scale = page.height / (297 * MM)  # zones are defined on A4
        return [
            ln
            for ln in lines
            if ln.box is not None and top_mm * MM * scale <= ln.box[1] < bottom_mm * MM * scale
        ]
    return [ln for i, ln in enumerate(lines) if top_mm <= 12 + 4.5 * i < bottom_mm]


def _counter(lines: list[Line], text: str) -> tuple[int, int] | None:
    for match in _COUNTER.finditer(text):
        page, total = int(match.group(1)), int(match.group(2))
        if 1 <= page <= total:
            return page, total
    # Bare "2/3" or "- 2 -" count only as a line of their own (else dates and numbers match).
    for line in lines:
        bare = _BARE_COUNTER.match(line.text)
        if bare and 1 <= int(bare.group(1)) <= int(bare.group(2)) <= 50:
            return int(bare.group(1)), int(bare.group(2))
        dash = _DASH_COUNTER.match(line.text)
        if dash:
            return int(dash.group(1)), 0
    return None


def _address_block(lines: list[Line], page: PageInput) -> tuple[bool, bool]:
    """(an address block in the window, a sender return line just above it).

    The window of DIN 5008 form A/B lies 27-90 mm from the top and 20-105 mm from the left;
    a postcode-and-city line there, below at least one more line of the same block (name,
    street), is an address. Lines starting right of the window's left edge (the sender's
    details in a side column) do not count.
    """
    geometric = bool(lines) and lines[0].box is not None
    # Plain text has no positions; letterheads run from 1 to about 10 lines, so the window is
    # looked for anywhere below the first two lines and above the body.
    window = _zone(lines, page, 35, 100) if geometric else lines[2:25]
    if geometric:
        scale = page.width / (210 * MM)
        window = [ln for ln in window if ln.box is not None and ln.box[0] < 100 * MM * scale]
    for index, line in enumerate(window):
        if not _POSTCODE_CITY.search(line.text) or index == 0 or _is_return_line(line.text):
            continue
        above = window[max(0, index - 4) : index]
        if geometric:
            assert line.box is not None
            top = line.box[1]
            above = [ln for ln in above if ln.box is not None and top - ln.box[1] < 30 * MM]
        if not above:
            continue
        return_line = any(_is_return_line(ln.text) for ln in above)
        # The return line itself carries a postcode: the address proper needs a line between.
        block = [ln for ln in above if not _RETURN_SEPARATORS.search(ln.text)]
        if block:
            return True, return_line
    return False, False


def _is_return_line(text: str) -> bool:
    """The sender's one-line address above the window: "Firma, Straße 1, 12345 Ort"."""
    return bool(_POSTCODE_CITY.search(text)) and len(_RETURN_SEPARATORS.findall(text)) >= 2


def _identifiers(text: str) -> frozenset[str]:
    """Bank accounts, VAT IDs and domains: who wrote the page, independent of layout."""
    ids = {"iban:" + re.sub(r"\s", "", m) for m in _IBAN.findall(text)}
    ids |= {"vat:" + re.sub(r"\s", "", m) for m in _VAT_ID.findall(text) if m[:2].isalpha()}
    ids |= {"dom:" + m.lower() for m in _DOMAIN.findall(text)}
    return frozenset(ids)


def read_page(page: PageInput) -> PageFacts:
    """The facts of one page, independent of its neighbours."""
    lines = page_lines(page)
    text = "\n".join(ln.text for ln in lines)
    address, return_line = _address_block(lines, page)
    upper = _zone(lines, page, 0, 150)
    upper_text = "\n".join(ln.text for ln in upper)
    top = _zone(lines, page, 0, 40)
    return PageFacts(
        counter=_counter(lines, text),
        carry_over=bool(_CARRY.search("\n".join(ln.text for ln in _zone(lines, page, 0, 120)))),
        address_block=address,
        return_line=return_line,
        heading=bool(_DATE.search(upper_text)) and bool(_HEADING.search(upper_text)),
        salutation=any(_SALUTATION.match(ln.text) for ln in _zone(lines, page, 60, 180)),
        identifiers=_identifiers(text),
        letterhead=frozenset(t.lower() for ln in top for t in _TOKEN.findall(ln.text)),
    )


# --- comparing with the document so far ---------------------------------------------------------


def _sender_signal(facts: PageFacts, document: list[PageFacts]) -> str | None:
    """``new_sender``, ``same_sender`` or ``None`` (cannot tell) against the pages so far."""
    known = frozenset().union(*(p.identifiers for p in document))
    if facts.identifiers and known:
        return "same_sender" if facts.identifiers & known else "new_sender"
    head = document[0].letterhead
    if len(facts.letterhead) >= 2 and len(head) >= 2:
        overlap = len(facts.letterhead & head) / len(facts.letterhead | head)
        if overlap >= 0.4:
            return "same_sender"
        if overlap <= 0.1:
            return "new_sender"
    return None


def features(facts: PageFacts, previous: PageFacts, document: list[PageFacts]) -> dict[str, float]:
    """The signals of one page given the previous page and the document it would continue."""
    found: dict[str, float] = {}
    if facts.counter is not None:
        number, total = facts.counter
        found["page_one" if number == 1 else "continuation"] = 1.0
    elif facts.carry_over:
        found["continuation"] = 1.0
    if previous.counter is not None and previous.counter[1] > 0:
        number, total = previous.counter
        if number == total and (facts.counter is None or facts.counter[0] == 1):
            found["after_last_page"] = 1.0
        elif number < total and facts.counter is None:
            found["before_last_page"] = 1.0
    if facts.address_block:
        found["address_block"] = 1.0
    if facts.return_line:
        found["return_line"] = 1.0
    if facts.heading:
        found["heading"] = 1.0
    if facts.salutation:
        found["salutation"] = 1.0
    sender = _sender_signal(facts, document)
    if sender:
        found[sender] = 1.0
    return found


def probability(signals: dict[str, float]) -> float:
    """The logistic combination of :data:`WEIGHTS`."""
    z = WEIGHTS["bias"] + sum(WEIGHTS[name] * value for name, value in signals.items())
    return 1.0 / (1.0 + math.exp(-z))


def score_pages(pages: Sequence[PageInput], split_threshold: float = 0.8) -> list[PageVerdict]:
    """A verdict for every page from the second on.

    The document a page is compared with starts at the last page scored at or above
    ``split_threshold``, so a page's verdict depends only on the pages before it up to that
    start. Scoring a part again after cutting it at those pages therefore gives the same
    verdicts, which keeps the split stage idempotent.
    """
    facts = [read_page(p) for p in pages]
    verdicts = []
    start = 0
    for index in range(1, len(facts)):
        signals = features(facts[index], facts[index - 1], facts[start:index])
        p = probability(signals)
        verdicts.append(PageVerdict(index + 1, round(p, 4), signals))
        if p >= split_threshold:
            start = index
    return verdicts


UNCERTAIN_PREFIX = "Trennung unsicher: "
_UNCERTAIN = re.compile(re.escape(UNCERTAIN_PREFIX) + r"Seite (\d+) ")


def uncertain_flag(verdict: PageVerdict) -> str:
    """The review flag for a page that may or may not start a new document.

    Readable for staff, and parseable (:func:`uncertain_pages`) so that the review queue can
    offer to split the document at that page.
    """
    reasons = ", ".join(verdict.reasons[:4])
    return (
        f"{UNCERTAIN_PREFIX}Seite {verdict.page} beginnt vielleicht ein neues Dokument "
        f"({round(verdict.probability * 100)} %: {reasons})"
    )


def uncertain_pages(flags: Sequence[str]) -> list[int]:
    """The pages named by :func:`uncertain_flag` flags, in order."""
    return [int(m.group(1)) for f in flags if (m := _UNCERTAIN.match(f))]
