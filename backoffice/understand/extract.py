"""Field extraction from page text: labels, regexes and a little layout.

German business post is label-driven ("Rechnungsnummer: …", "Gesamtbetrag … 1.190,00 €"), so
each field is found by an OCR-tolerant label (:mod:`.labels`) and a value parser
(:mod:`.normalize`) applied to the rest of the line, the cell below the label, or the next line.
Amounts are cross-checked (net + VAT = gross, tax = base x rate) and the consistent reading wins;
values that are only computed (due date from payment terms, a missing total from the other two)
get a lower confidence than printed ones.

Every :class:`~.schema.Field` records the page and, when words with boxes were given, the box
of the words the value was read from, so the review screen can highlight it.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_iban_spec

from . import labels as lb
from .address import (
    RECIPIENT_LABEL_RE,
    SENDER_LABEL_RE,
    is_return_line,
    page_one_zones,
    return_line_sender,
)
from .layout import Line, build_pages
from .normalize import (
    AmountMatch,
    DateMatch,
    IbanMatch,
    find_amounts,
    find_dates,
    find_ibans,
    fix_digit_lookalikes,
    format_amount,
    format_rate,
    repair_vat_id,
    valid_bic,
    valid_tax_number,
)
from .rules import other_subtype
from .schema import Field, WordLike

TOLERANCE = Decimal("0.01")
COMMON_RATES = (Decimal(19), Decimal(7), Decimal(16), Decimal(5), Decimal(0))


# --------------------------------------------------------------------------- document model


@dataclass(frozen=True)
class Hit:
    """A value found on a line, with its character span and a confidence."""

    value: str
    line: Line
    start: int
    end: int
    confidence: float

    def field(
        self, name: str, *, confidence: float | None = None, value: str | None = None
    ) -> Field:
        return Field(
            name=name,
            value=self.value if value is None else value,
            confidence=round(self.confidence if confidence is None else confidence, 3),
            source="text",
            page=self.line.page,
            bbox=self.line.bbox(self.start, self.end),
        )


class Doc:
    """The pages of one document as lines, plus the page-1 zones (recipient, sender)."""

    def __init__(
        self, text_pages: Sequence[str], words: Sequence[Sequence[WordLike]] | None = None
    ) -> None:
        self.pages = build_pages(text_pages, words)
        self.lines = [line for page in self.pages for line in page]
        first_words = words[0] if words else None
        self.zones = page_one_zones(self.pages[0] if self.pages else [], first_words or None)

    def nonempty(self) -> Iterator[Line]:
        return (line for line in self.lines if line.text.strip())

    def following(self, line: Line, n: int = 2) -> list[Line]:
        """The next ``n`` non-empty lines on the same page."""
        page = self.pages[line.page]
        out = []
        for cand in page[line.number + 1 :]:
            if cand.text.strip():
                out.append(cand)
                if len(out) == n:
                    break
        return out


ValueFn = Callable[[str], "tuple[str, int, int] | None"]


def _cells(text: str) -> list[tuple[int, int]]:
    """Column cells of a line: runs separated by two or more spaces or a tab."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+(?: \S+)*", text.replace("\t", "  "))]


def _below(doc: Doc, line: Line, start: int, end: int) -> list[tuple[Line, int, int]]:
    """Where the value under a label may be: same column in the next lines."""
    out: list[tuple[Line, int, int]] = []
    for nxt in doc.following(line, 2):
        if line.words and nxt.words:
            box = line.bbox(start, end)
            if box is None:
                continue
            x0, x1 = box[0] - 15, box[2] + 60
            spans = [
                (off, off + len(w.text))
                for w, off in zip(nxt.words, nxt.offsets, strict=True)
                if w.bbox[2] >= x0 and w.bbox[0] <= x1
            ]
            if spans:
                out.append((nxt, spans[0][0], spans[-1][1]))
            continue
        head, cells = _cells(line.text), _cells(nxt.text)
        idx = next((i for i, (s, e) in enumerate(head) if s <= start < e), None)
        if idx is not None and len(head) > 1 and len(head) == len(cells):
            out.append((nxt, *cells[idx]))
        elif len(cells) == 1 or len(head) <= 1:
            out.append((nxt, 0, len(nxt.text)))
    return out


def find_labelled(
    doc: Doc,
    label: re.Pattern[str],
    value_fn: ValueFn,
    *,
    lines: Sequence[Line] | None = None,
    max_gap: int = 45,
    confidence: float = 0.95,
    below: bool = True,
) -> list[Hit]:
    """Values that follow ``label`` on its line, or sit under it in the next lines."""
    hits: list[Hit] = []
    for line in lines if lines is not None else doc.nonempty():
        for m in label.finditer(line.text):
            rest = line.text[m.end() :]
            if m.group(0)[-1:].isalpha() and rest[:1].islower():
                # the label ends inside a word of running text: "Rechnung no|ch offen" is no
                # "Rechnung No." and the cell under that sentence holds no invoice number
                continue
            found = value_fn(rest)
            if found is not None and found[1] <= max_gap:
                value, s, e = found
                hits.append(Hit(value, line, m.end() + s, m.end() + e, confidence))
                continue
            if not below:
                continue
            # other words after the label: only a table header row, or a short caption line
            if (
                rest.strip()
                and not re.fullmatch(r"[\s:.#]*", rest)
                and len(_cells(line.text)) < 2
                and (re.search(r"\d", rest) or len(rest) > 40)
            ):
                continue
            for nxt, cs, ce in _below(doc, line, m.start(), m.end()):
                found = value_fn(nxt.text[cs:ce])
                if found is not None and found[1] <= 5:
                    value, s, e = found
                    hits.append(Hit(value, nxt, cs + s, cs + e, confidence - 0.05))
                    break
    return hits


# --------------------------------------------------------------------------- value parsers

_ID_RE = re.compile(
    r"^[\s:#.,]*(?:(?:nr|no|nrn|nummer|nummern|number|numbers)\b[.,]?[\s:#.]*)?"
    r"(?P<id>[A-Za-z0-9ÄÖÜ][\w/.\-]*[A-Za-z0-9]|[0-9])",
    re.IGNORECASE,
)
_ID_STOP = {"vom", "from", "dated", "datum", "date", "der", "die", "das", "zur", "über", "und"}


_ID_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})


def _fix_id(token: str) -> str:
    """Repair look-alike letters in the numeric parts of an identifier (``2026-OO42``)."""
    parts = re.split(r"([-/._])", token)
    return "".join(
        part.translate(_ID_LOOKALIKES)
        if re.search(r"\d", part) and re.fullmatch(r"[\dOolI|]+", part)
        else part
        for part in parts
    )


_CURRENCIES = frozenset({"EUR", "USD", "CHF", "GBP", "DM"})


def value_id(text: str) -> tuple[str, int, int] | None:
    """An identifier (invoice or customer number) at the start of ``text``."""
    m = _ID_RE.match(text)
    if not m:
        return None
    token = m.group("id").rstrip(".")
    if re.fullmatch(r"[A-ZÄÖÜ]{1,4}", token) and token not in _CURRENCIES:
        # a series prefix printed apart from the number: "VR 01007", "RE 2026-17"; never a
        # currency ("EUR 8.220,00" is an amount) and never something shaped like an amount
        nxt = re.match(r" ([0-9OolI|][\w/.\-]*[0-9A-Za-z]|[0-9])", text[m.end("id") :])
        if (
            nxt
            and re.search(r"\d", nxt.group(1))
            and not re.fullmatch(r"\d{1,3}(\.\d{3})+|\d+[.,]\d{2}", nxt.group(1))
        ):
            token = f"{token} {nxt.group(1).rstrip('.')}"
            if find_dates(nxt.group(1)):
                return None
    if token.lower() in _ID_STOP or not re.search(r"\d", _fix_id(token)):
        return None
    if find_dates(token) and find_dates(token)[0].end - find_dates(token)[0].start == len(token):
        return None
    return _fix_id(token), m.start("id"), m.start("id") + len(token)


_COMMA_DATE = re.compile(r"(?<![\d,.])(\d{1,2}),(\d{1,2}\.(?:\d{4}|\d{2})(?![\d,]))")
_LOOKALIKE_DAY = re.compile(r"(?<![\w.,])([0-3OolI|][0-9OolI|]?)(?=\.\s?[A-Za-zÄÖÜäöü]{3})")


def _repair_date_ocr(text: str) -> str:
    """OCR slips in a date that :func:`find_dates` does not forgive, repaired in place (same
    length, so spans still fit): a comma read for the first dot ("03,03.2026") and a letter
    read for a digit of the day before a month name ("1O. Februar 2026")."""
    text = _COMMA_DATE.sub(r"\1.\2", text)
    return _LOOKALIKE_DAY.sub(lambda m: m.group(1).translate(_ID_LOOKALIKES), text)


def value_date(text: str) -> tuple[str, int, int] | None:
    """The first date in ``text`` (after a label, so OCR slips are repaired first)."""
    found = find_dates(text) or find_dates(_repair_date_ocr(text))
    if not found:
        return None
    d = found[0]
    return d.value.isoformat(), d.start, d.end


def _money(amounts: Sequence[AmountMatch]) -> list[AmountMatch]:
    return [a for a in amounts if a.has_decimals or a.currency]


def value_amount(text: str) -> tuple[str, int, int] | None:
    """The last money amount in ``text`` (totals are printed right-aligned, last)."""
    found = _money(find_amounts(fix_digit_lookalikes(text)))
    if not found:
        return None
    a = found[-1]
    return format_amount(a.value), a.start, a.end


def value_first_amount(text: str) -> tuple[str, int, int] | None:
    """The first money amount in ``text``."""
    found = _money(find_amounts(fix_digit_lookalikes(text)))
    if not found:
        return None
    a = found[0]
    return format_amount(a.value), a.start, a.end


# --------------------------------------------------------------------------- shared fields


def _first(hits: Sequence[Hit]) -> Hit | None:
    return hits[0] if hits else None


def _date_hit_to_date(hit: Hit | None) -> date | None:
    return date.fromisoformat(hit.value) if hit else None


def _dated_line(line: Line) -> DateMatch | None:
    """A letter date line: "Berlin, 15.03.2026", "Berlin, den 3. März 2026" or a bare date."""
    t = line.text.strip()
    found = find_dates(t)
    if not found:
        return None
    d = found[0]
    before = t[: d.start].strip()
    if not before and d.end >= len(t) - 1:
        return d
    if re.fullmatch(r"[A-ZÄÖÜ][\w .\-/()äöüß]{1,40},\s*(?:den\s+)?", t[: d.start]):
        return d
    return None


def document_date(doc: Doc, labelled: Sequence[Hit] = ()) -> Hit | None:
    """The date a document was written: labelled, a letter-date line, or the first date."""
    if labelled:
        return labelled[0]
    for line in doc.pages[0] if doc.pages else []:
        d = _dated_line(line)
        if d:
            return Hit(d.value.isoformat(), line, d.start, d.end, 0.85)
    skip = re.compile(r"(?i)leistung|liefer|fällig|bestell|auftrag|zeitraum|geburt|bis\b|vom\b")
    for line in doc.pages[0] if doc.pages else []:
        if skip.search(line.text):
            continue
        found = find_dates(line.text)
        if found:
            d = found[0]
            return Hit(d.value.isoformat(), line, d.start, d.end, 0.6)
    return None


def _company_part(text: str) -> str | None:
    m = lb.LEGAL_FORM.search(text)
    if not m:
        return None
    parts = re.split(r"\s[·•|∙–-]\s|\s\|\s|,\s|\s{3,}", text)
    for part in parts:
        if lb.LEGAL_FORM.search(part):
            return part.strip()
    return text.strip()


def sender_name(doc: Doc) -> Hit | None:
    """Who wrote the document: return line, "Verkäufer:" block, letterhead or footer."""
    zones = doc.zones
    for line in zones.sender_lines():
        if is_return_line(line.text):
            name = return_line_sender(line.text)
            if name:
                start = line.text.find(name)
                return Hit(name, line, max(start, 0), max(start, 0) + len(name), 0.85)
    for line in doc.pages[0] if doc.pages else []:
        if SENDER_LABEL_RE.match(line.text):
            for nxt in doc.following(line, 3):
                t = nxt.text.strip()
                if re.match(r"(?i)(?:globale\s+)?nummer|gln|tel|fax|e-mail", t):
                    continue
                return Hit(t, nxt, nxt.text.find(t), nxt.text.find(t) + len(t), 0.85)
    recipient = {(line.page, line.number) for line in zones.recipient_lines()}
    head = [line for line in (doc.pages[0] if doc.pages else [])[:8] if line.text.strip()]
    for line in head:
        if (line.page, line.number) in recipient:
            continue
        part = _company_part(line.text)
        if part:
            start = line.text.find(part)
            return Hit(part, line, start, start + len(part), 0.75)
    for page in doc.pages:
        tail = [line for line in page if line.text.strip()][-8:]
        for line in tail:
            part = _company_part(line.text)
            if part and (line.page, line.number) not in recipient:
                start = line.text.find(part)
                return Hit(part, line, start, start + len(part), 0.7)
    for line in head[:2]:
        t = line.text.strip()
        if (line.page, line.number) in recipient or find_dates(t) or len(t) > 60:
            continue
        if lb.INVOICE_WORD.match(t) or re.match(r"(?i)mahnung|zahlungserinnerung", t):
            continue
        return Hit(t, line, line.text.find(t), line.text.find(t) + len(t), 0.5)
    return None


def recipient_name(doc: Doc) -> Hit | None:
    """First line of the recipient block that is a name (skips "Firma", "Herrn", "z. Hd.")."""
    for line in doc.zones.recipient_lines():
        t = line.text.strip()
        if re.fullmatch(r"(?i)(firma|herrn?|frau|z\.\s?hd\.?.*|an|to)", t):
            continue
        t = re.sub(r"(?i)^(firma|herrn?|frau)\s+", "", t)
        start = line.text.find(t)
        return Hit(t, line, max(start, 0), max(start, 0) + len(t), 0.8 * doc.zones.confidence + 0.1)
    return None


_IBAN_PART = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z]{2}|D[E3]|0E)\s?[0-9OlIS|]{2}(?:\s?[A-Za-z0-9|]){4,30}?"
    r"(?=\s{2,}|\s*$)"
)


def _continuation(doc: Doc, line: Line, start: int, end: int) -> list[str]:
    """The text that continues a cut-off value: the next line's short groups under it."""
    nxt = doc.following(line, 1)
    box = line.bbox(start, end)
    if not nxt:
        return []
    if box is None or not nxt[0].words:
        return [nxt[0].text[cs:ce].strip() for _, cs, ce in _below(doc, line, start, end)[:1]]
    # the wrapped groups start under the value (or under its label, a few points to the left)
    x0, x1 = box[0] - 30, box[2]
    groups = [
        w.text
        for w in nxt[0].words
        if x0 <= w.bbox[0] <= x1 and re.fullmatch(r"[A-Za-z0-9|]{1,4}", w.text)
    ]
    return [" ".join(groups)] if groups else []


def _ibans_on(
    doc: Doc, line: Line, finder: Callable[[str], list[IbanMatch]] = find_ibans
) -> list[IbanMatch]:
    """IBANs on ``line``, including one whose last digit groups wrapped onto the next line.

    Narrow footer columns break "DE89 3704 0044 0532 0130 00" after any group; the line alone
    then holds no checksum-valid IBAN, so a cut-off start is retried with the text below it in
    the same column appended (the column, not the whole next line: footers sit side by side).
    """
    found = finder(line.text)
    if found:
        return found
    out: list[IbanMatch] = []
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in line.text)
    for m in _IBAN_PART.finditer(upper):
        for cont in _continuation(doc, line, m.start(), m.end()):
            joined = line.text[m.start() : m.end()] + " " + cont
            out.extend(
                IbanMatch(i.value, i.confidence * 0.97, m.start(), m.end(), i.raw)
                for i in finder(joined)
                if i.start == 0
            )
    return out


_OWN_ACCOUNT = re.compile(
    r"(?i)ihr(?:em|e)?\s+konto|ihre\s+iban|abbuch|lastschrift|von\s+ihrem|your\s+account"
)


def _iso_ibans(line: str) -> list[IbanMatch]:
    return find_ibans(line, national=False)


def find_iban(doc: Doc, *, prefer_label: bool = True) -> Hit | None:
    """The payee IBAN: labelled lines first; the reader's own account (direct debit) last.

    Among IBANs of the same standing one that passes the national account check too beats
    one that passes only the ISO check digits (see :func:`.normalize.repair_iban`); a string
    that merely looks like an IBAN is returned last, cut to its country's length, so
    validation can flag it.
    """
    best: Hit | None = None
    best_key = (-1, -1)
    unchecked: Hit | None = None
    for line in doc.nonempty():
        label = lb.IBAN_LABEL.search(line.text)
        if label and unchecked is None:
            unchecked = _unchecked_iban(line, label.end())
        rank = 1
        if prefer_label and label:
            rank = 2
        if _OWN_ACCOUNT.search(line.text):
            rank = 0
        for strict, finder in ((1, find_ibans), (0, _iso_ibans)):
            if (rank, strict) <= best_key:
                continue
            found = _ibans_on(doc, line, finder)
            if found:
                m = found[0]
                conf = m.confidence * (0.95 if rank else 0.6)
                best = Hit(m.value, line, m.start, m.end, conf)
                best_key = (rank, strict)
                break
    return best or unchecked


def _unchecked_iban(line: Line, pos: int) -> Hit | None:
    """What follows an IBAN label when it looks like an IBAN but fails its check digits.

    The printed groups are cut at the country's IBAN length, so a "BIC …" that follows on
    the same line does not become part of it.
    """
    raw = re.match(r"[\s:.]*([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{1,4}){3,9})", line.text[pos:])
    if not raw:
        return None
    compact = re.sub(r"\s", "", raw.group(1))
    try:
        length = get_iban_spec(compact[:2]).iban_length
    except (SchwiftyException, KeyError):
        length = len(compact)
    value = compact[:length]
    s0 = pos + raw.start(1)
    end, needed = s0, len(value)
    for i, ch in enumerate(line.text[s0:], start=s0):
        if not ch.isspace():
            needed -= 1
        if needed == 0:
            end = i + 1
            break
    return Hit(value, line, s0, end, 0.3)


def find_customer_number(doc: Doc) -> Hit | None:
    """ "Kundennummer: …", or a bare "Nummer:" line in a labelled recipient block."""
    hits = find_labelled(doc, lb.CUSTOMER_NUMBER, value_id, max_gap=25)
    if hits:
        return hits[0]
    for line in doc.nonempty():
        if not RECIPIENT_LABEL_RE.match(line.text):
            continue
        for nxt in doc.following(line, 3):
            m = re.match(r"\s*(?:Nummer|Nr\.?|No\.?)\s*:\s*", nxt.text)
            found = value_id(nxt.text[m.end() :]) if m else None
            if m and found and found[1] == 0:
                return Hit(found[0], nxt, m.end() + found[1], m.end() + found[2], 0.75)
    return None


# --------------------------------------------------------------------------- invoices


def _invoice_number(doc: Doc) -> Hit | None:
    hits = find_labelled(doc, lb.INVOICE_NUMBER, value_id, max_gap=25)
    if hits:
        # a one- or two-character reading beside a longer labelled number elsewhere on the
        # page is OCR noise after the label ("Belegnummer 2 RE-2026 0699", a ":" read as "2");
        # alone it stands, small firms do number "Rechnung Nr. 7"
        if len(hits[0].value) <= 2:
            return next((h for h in hits if len(h.value) >= 3), hits[0])
        return hits[0]
    hits = find_labelled(doc, lb.INVOICE_HEADING, value_id, max_gap=5, below=False)
    if hits:
        return Hit(hits[0].value, hits[0].line, hits[0].start, hits[0].end, 0.9)
    # "Rechnung 2026-0042" as a heading
    for line in doc.nonempty():
        m = lb.INVOICE_WORD.match(line.text.strip())
        if m:
            offset = line.text.find(line.text.strip())
            rest = line.text[offset + m.end() :]
            found = value_id(rest)
            if found and found[1] <= 3:
                value, s, e = found
                start = offset + m.end()
                return Hit(value, line, start + s, start + e, 0.8)
    return None


def _vote(hits: Sequence[Hit], doc: Doc) -> Hit:
    """The reading most often printed, ties to the first: a date label in the info block and
    "Rechnung Nr. … vom …" in the heading usually agree, and when OCR damages one of them
    ("2025" for "2026") the value repeated elsewhere in the document is the right one."""
    plain = [
        h
        for h in hits
        if not re.search(
            r"(?i)due|f(?:ä|a|ae)llig|zahl|liefer|leistung|valuta|bis\b", h.line.text[: h.start]
        )
    ]
    hits = plain or list(hits)
    if len(hits) == 1:
        return hits[0]
    everywhere = Counter(
        d.value.isoformat() for line in doc.nonempty() for d in find_dates(line.text)
    )
    return max(hits, key=lambda h: (everywhere[h.value], -hits.index(h)))


def _issue_date(doc: Doc, number: Hit | None) -> Hit | None:
    hits = find_labelled(doc, lb.ISSUE_DATE, value_date, max_gap=30)
    if hits:
        return _vote(hits, doc)
    if number is not None:
        # "Rechnung Nr. 4711 vom 05.03.2018", the date possibly wrapped onto the next line
        rest = number.line.text[number.end :]
        m = re.match(r"\s*(?:vom|from|dated)\b\s*", rest, re.IGNORECASE)
        if m:
            found = find_dates(rest)
            if found and found[0].start == m.end():
                d = found[0]
                return Hit(
                    d.value.isoformat(), number.line, number.end + d.start, number.end + d.end, 0.9
                )
        nxt = doc.following(number.line, 1)
        if nxt and (m or not rest.strip()):
            m2 = re.match(r"\s*(?:(?:vom|from|dated)\b\s*)?", nxt[0].text, re.IGNORECASE)
            found = find_dates(nxt[0].text)
            if m2 and found and found[0].start == m2.end() and (m or m2.group(0).strip()):
                d = found[0]
                return Hit(d.value.isoformat(), nxt[0], d.start, d.end, 0.85)
    return document_date(doc)


def _service_date(doc: Doc, issue: Hit | None) -> Hit | None:
    hits = find_labelled(doc, lb.SERVICE_DATE, value_date, max_gap=30)
    if hits:
        return hits[0]
    if issue is not None:
        for line in doc.nonempty():
            m = lb.SERVICE_IS_ISSUE.search(line.text)
            if m:
                return Hit(issue.value, line, m.start(), m.end(), 0.85)
    return None


_TERMS = (
    re.compile(
        r"(?i)(?:zahlbar|zahlung|zahlungsziel|zahlungsbedingung\w*|payable|payment|f(?:ä|a|ae)llig)"
        r"[^.;%\n]{0,40}?(?:innerhalb|binnen|within|in)\s+(?:von\s+)?(\d{1,3})\s*(?:kalender)?"
        r"(?:tagen|tage|tg\.?|days)"
    ),
    re.compile(
        r"(?i)(?:begleich\w*|überweis\w*|bezahl\w*|ausgleich\w*|(?:rechnungs)?betrag|settle\w*|pay)"
        r"[^.;%\n]{0,50}?(?:innerhalb|binnen|within)\s+(?:von\s+)?(\d{1,3})\s*(?:kalender)?"
        r"(?:tagen|tage|tg\.?|days)"
    ),
    re.compile(r"(?i)(\d{1,3})\s*(?:tage|tagen|days)\s*(?:rein\s+)?(?:netto|ohne\s+abzug|net)"),
    re.compile(r"(?i)zahlungsziel[:\s]+(\d{1,3})\s*(?:tage|tagen|days)"),
    re.compile(r"(?i)\bnet(?:to)?\s+(\d{1,3})\s*(?:tage|tagen|days)?\b(?![,.]\d)"),
)
_IMMEDIATE = re.compile(
    r"(?i)(?:zahlbar|f(?:ä|a|ae)llig|payable|due)\s+(?:sofort|umgehend|immediately|on\s+receipt)|"
    r"sofort\s+(?:nach\s+(?:erhalt|rechnungs\w+|zugang)\s+)?(?:f(?:ä|a|ae)llig|zahlbar)|"
    r"sofort\s+ohne\s+abzug|ohne\s+abzug\s+sofort|due\s+(?:up)?on\s+receipt"
)
_SKONTO = (
    re.compile(
        r"(?i)(?P<p>\d{1,2}(?:[,.]\d{1,2})?)\s*%\s*skonto\b[^%]{0,60}?(?:innerhalb|binnen|within)\s+"
        r"(?:von\s+)?(?P<d>\d{1,3})\s*(?:tagen|tage|days)"
    ),
    re.compile(
        r"(?i)(?:innerhalb|binnen|within)\s+(?:von\s+)?(?P<d>\d{1,3})\s*(?:tagen|tage|days)[^%.;\d]{0,40}?"
        r"(?P<p>\d{1,2}(?:[,.]\d{1,2})?)\s*%\s*skonto"
    ),
    re.compile(r"(?i)skonto[:\s]+(?P<p>\d{1,2}(?:[,.]\d{1,2})?)\s*%"),
    re.compile(r"(?i)(?P<p>\d{1,2}(?:[,.]\d{1,2})?)\s*%\s*skonto"),
)


@dataclass(frozen=True)
class _Joined:
    """The text of one page joined into one string, with a map back to lines."""

    text: str
    starts: list[tuple[int, Line]]

    def locate(self, pos: int) -> tuple[Line, int]:
        chosen = self.starts[0]
        for start, line in self.starts:
            if start > pos:
                break
            chosen = (start, line)
        return chosen[1], pos - chosen[0]


def _joined_pages(doc: Doc) -> list[_Joined]:
    out = []
    for page in doc.pages:
        parts, starts, pos = [], [], 0
        for line in page:
            if not line.text.strip():
                continue
            starts.append((pos, line))
            parts.append(line.text)
            pos += len(line.text) + 1
        if starts:
            out.append(_Joined(" ".join(parts), starts))
    return out


def _hit_at(j: _Joined, start: int, end: int, value: str, conf: float) -> Hit:
    line, s = j.locate(start)
    return Hit(value, line, s, min(s + (end - start), len(line.text)), conf)


@dataclass
class Terms:
    """Payment terms found in the text."""

    days: Hit | None = None
    skonto_percent: Hit | None = None
    skonto_days: int | None = None
    skonto_date: Hit | None = None


def payment_terms(doc: Doc) -> Terms:
    """Net payment days and Skonto (percent, days or date) from the payment-terms wording."""
    terms = Terms()
    for j in _joined_pages(doc):
        skonto_spans: list[tuple[int, int]] = []
        for pattern in _SKONTO:
            for m in pattern.finditer(j.text):
                if any(s < m.end() and m.start() < e for s, e in skonto_spans):
                    continue
                skonto_spans.append((m.start(), m.end()))
                if terms.skonto_percent is None:
                    pct = Decimal(m.group("p").replace(",", "."))
                    terms.skonto_percent = _hit_at(
                        j, m.start("p"), m.end("p"), format_rate(pct), 0.9
                    )
                    if "d" in m.groupdict() and m.group("d"):
                        terms.skonto_days = int(m.group("d"))
                    window = j.text[m.start() : m.end() + 45]
                    d = re.search(r"(?i)(?:bis|until|by)\s+(?:zum\s+)?", window)
                    if d:
                        found = find_dates(window[d.end() :])
                        if found and found[0].start <= 2:
                            s0 = m.start() + d.end() + found[0].start
                            terms.skonto_date = _hit_at(
                                j,
                                s0,
                                s0 + found[0].end - found[0].start,
                                found[0].value.isoformat(),
                                0.9,
                            )
        if terms.days is None:
            for pattern in _TERMS:
                for m in pattern.finditer(j.text):
                    if any(s - 5 <= m.start(1) <= e for s, e in skonto_spans):
                        continue
                    clause = j.text[max(0, m.start() - 10) : m.end() + 10].lower()
                    if "skonto" in clause and pattern is not _TERMS[2]:
                        continue
                    terms.days = _hit_at(j, m.start(1), m.end(1), str(int(m.group(1))), 0.85)
                    break
                if terms.days is not None:
                    break
        if terms.days is None:
            now = _IMMEDIATE.search(j.text)
            if now:
                terms.days = _hit_at(j, now.start(), now.end(), "0", 0.8)
    return terms


_PAY_BY = re.compile(
    r"(?i)(?:überweis\w*|zahl\w*|begleich\w*|bezahl\w*|ausgleich\w*|gutschr\w*|transfer\w*|"
    r"pay\w*|remit\w*)(?:[^.;!?]|(?<=\d)\.(?=\d)){0,90}?"
    r"(?:bis\s+(?:spätestens\s+)?(?:zum|am)?|spätestens\s+(?:am|bis(?:\s+zum)?|zum)?|"
    r"no\s+later\s+than|by|until|before)\s*$"
)
_DEBIT = re.compile(
    r"(?i)lastschrift|abgebucht|abbuch\w*|eingezogen|einzug|direct\s+debit|debited|collected"
)


def _skonto_near(j: _Joined, start: int, end: int) -> bool:
    """True when the date at ``start:end`` belongs to a Skonto clause (the early-payment date)."""
    left = j.text.rfind(".", 0, start)
    left = max(left, start - 90)
    right = j.text.find(".", end)
    right = min(right if right >= 0 else len(j.text), end + 60)
    clause = j.text[left:right].lower()
    return "skonto" in clause or "discount" in clause


def _due_date(doc: Doc, issue: date | None) -> Hit | None:
    """The (net) due date as printed: labelled, in a payment sentence, or the debit date.

    Wordings: "Fällig am …", "Zahlungsziel: …", "zahlbar bis …", "Bitte überweisen Sie den
    Betrag … bis zum …", "Due date", "payable by", "wird am … per SEPA-Lastschrift eingezogen".
    A date inside a Skonto clause ("Bei Zahlung bis 8. März: Skonto …") is the early-payment
    deadline, not the due date, and a date before the issue date cannot be one (OCR noise or
    an unrelated date), so both are skipped. Terms in days are handled by the caller.
    """

    def plausible(value: str) -> bool:
        return issue is None or date.fromisoformat(value) >= issue

    joined = _joined_pages(doc)
    for hit in find_labelled(doc, lb.DUE_DATE, value_date, max_gap=40):
        if not plausible(hit.value):
            continue
        if re.search(r"(?i)skonto|discount", hit.line.text):
            continue
        return hit
    for j in joined:
        for d in find_dates(j.text):
            before = j.text[max(0, d.start - 140) : d.start]
            sentence = re.split(r"(?<!\d)[.;!?]\s|[.;!?]\s(?=[A-ZÄÖÜ])", before)[-1]
            if not plausible(d.value.isoformat()) or _skonto_near(j, d.start, d.end):
                continue
            if _PAY_BY.search(sentence) or (
                _DEBIT.search(j.text[max(0, d.start - 140) : d.end + 120])
                and re.search(r"(?i)(?:\bam|\bon|\bzum|\bab)\s*$", sentence)
            ):
                return _hit_at(j, d.start, d.end, d.value.isoformat(), 0.8)
    return None


@dataclass
class _Amount:
    kind: str  # net | gross | vat
    value: Decimal
    hit: Hit
    priority: float
    rate: Decimal | None = None
    base: Decimal | None = None


def _vat(
    tax: AmountMatch,
    line: Line,
    confidence: float,
    priority: float,
    rate: Decimal | None,
    base: Decimal | None,
) -> _Amount:
    """A VAT amount found on ``line`` (with its rate and net base when the line shows them)."""
    hit = Hit(format_amount(tax.value), line, tax.start, tax.end, confidence)
    return _Amount("vat", tax.value, hit, priority, rate=rate, base=base)


def _rate_candidates(text: str) -> list[Decimal]:
    return [Decimal(m.group(1).replace(",", ".")) for m in lb.RATE_RE.finditer(text)]


def _pair(amounts: Sequence[AmountMatch], rate: Decimal) -> tuple[AmountMatch, AmountMatch] | None:
    """The (base, tax) pair among ``amounts`` with tax = base x rate, the last such pair."""
    best = None
    for i, base in enumerate(amounts):
        for tax in amounts[i + 1 :]:
            if abs(base.value * rate / 100 - tax.value) <= TOLERANCE + Decimal("0.005"):
                best = (base, tax)
    return best


def _segments(text: str) -> list[tuple[str, str, int, int]]:
    """Label occurrences in a totals line as (kind, phrase, start, end), modifiers merged in."""
    occ: list[tuple[int, int, str, str]] = []
    for kind, pattern in (
        ("gross_mod", lb.GROSS_MODIFIER),
        ("net_mod", lb.NET_MODIFIER),
        ("net", lb.NET_LABEL),
        ("gross", lb.GROSS_LABEL),
        ("vat", lb.VAT_LABEL),
    ):
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e, _, _ in occ):
                continue
            occ.append((m.start(), m.end(), kind, m.group(0).lower()))
    occ.sort()
    merged: list[tuple[str, str, int, int]] = []
    for s, e, kind, phrase in occ:
        if kind.endswith("_mod"):
            target = "gross" if kind == "gross_mod" else "net"
            between = text[merged[-1][3] : s] if merged else ""
            if merged and not _money(find_amounts(between)):
                k, p, ms, _me = merged[-1]
                if k != "vat" or target == "gross":
                    merged[-1] = (target if k != "net" or target == "net" else k, p, ms, e)
                    continue
            if kind == "net_mod" and re.match(r"(?i)zzgl", phrase):
                merged.append(("vat", phrase, s, e))
                continue
            merged.append((target, phrase, s, e))
            continue
        merged.append((kind, phrase, s, e))
    return merged


_ITEM_HEADER = re.compile(
    r"(?i)(?<![a-zäöü])(?:pos\.?|menge|anzahl|einzelpreis|e-preis|stückpreis|artikel|"
    r"bezeichnung|beschreibung|qty|quantity|unit\s+price|description)(?![a-zäöü])"
)


def _collect_amounts(doc: Doc) -> list[_Amount]:
    out: list[_Amount] = []
    n_lines = max(len(doc.lines), 1)
    for idx, line in enumerate(doc.lines):
        raw = line.text
        if not raw.strip() or lb.NOT_A_TOTAL.search(raw):
            continue
        text = fix_digit_lookalikes(raw)
        position = idx / n_lines  # later = more likely the totals block
        segs = _segments(text)
        labelled_pair_found = False
        for k, (kind, phrase, s, e) in enumerate(segs):
            seg_end = segs[k + 1][2] if k + 1 < len(segs) else len(text)
            every = [
                AmountMatch(a.value, a.start + e, a.end + e, a.raw, a.has_decimals, a.currency)
                for a in find_amounts(text[e:seg_end])
            ]
            amounts = _money(every)
            if not amounts:
                if _ITEM_HEADER.search(text):
                    # "Menge  E-Preis  MwSt.  Betrag" heads the line items, not the totals
                    continue
                # value in the column below a header cell
                for nxt, cs, ce in _below(doc, line, s, e)[:1]:
                    found = value_first_amount(nxt.text[cs:ce])
                    if found and not _segments(nxt.text):
                        v, vs, ve = found
                        hit = Hit(v, nxt, cs + vs, cs + ve, 0.8)
                        prio = 1.0 if kind != "gross" else _gross_priority(phrase)
                        if kind in ("net", "gross", "vat"):
                            out.append(_Amount(kind, Decimal(v), hit, prio - 0.1 + position / 10))
                continue
            if kind == "vat":
                window = text[segs[k - 1][3] if k else 0 : seg_end]
                rates = _rate_candidates(window)
                bare = [a.value for a in every if not a.has_decimals and a.value in COMMON_RATES]
                money = [a for a in amounts if a.has_decimals]
                done = False
                for rate in rates + bare:
                    pair = _pair(money, rate)
                    if pair:
                        base, tax = pair
                        out.append(_vat(tax, line, 0.9, 1.0 + position / 10, rate, base.value))
                        done = labelled_pair_found = True
                        break
                if done or not money:
                    continue
                tax = money[-1]
                only_rate = rates[0] if len(rates) == 1 else None
                out.append(_vat(tax, line, 0.85, 1.0 + position / 10, only_rate, None))
                continue
            a = amounts[-1]
            prio = _gross_priority(phrase) if kind == "gross" else _net_priority(phrase)
            hit = Hit(format_amount(a.value), line, a.start, a.end, 0.9)
            out.append(_Amount(kind, a.value, hit, prio + position / 10))
        if segs or labelled_pair_found:
            continue
        # unlabelled VAT table row: "19 %   100,00   19,00"
        rates = _rate_candidates(text)
        money = _money(find_amounts(text))
        for rate in rates:
            pair = _pair([m for m in money if m.has_decimals], rate)
            if pair and rate > 0:
                base, tax = pair
                out.append(_vat(tax, line, 0.8, 0.8 + position / 10, rate, base.value))
                break
    return out


def _gross_priority(phrase: str) -> float:
    p = re.sub(r"\s+", " ", phrase.lower().replace("\u00a0", " ")).strip(" .:")
    if any(p.startswith(w) for w in lb.PAYABLE_GROSS):
        return 1.5
    if p in lb.WEAK_GROSS or any(p.startswith(w) and len(p) <= len(w) + 2 for w in lb.WEAK_GROSS):
        return 1.0
    return 2.0


def _net_priority(phrase: str) -> float:
    return 1.0 if "positions" in phrase.lower() or "waren" in phrase.lower() else 2.0


def _best(cands: Sequence[_Amount]) -> _Amount | None:
    return max(cands, key=lambda c: c.priority) if cands else None


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= TOLERANCE


_NO_VAT_CLAUSE = re.compile(
    r"(?i)§\s*19\s*(?:abs\.?\s*\d\s*)?ustg|kleinunternehmer|keine\s+umsatzsteuer|"
    r"umsatzsteuer\s+wird\s+nicht\s+(?:berechnet|ausgewiesen)|no\s+vat\s+(?:is\s+)?charged"
)


def _no_vat(doc: Doc) -> bool:
    """True when the document says no VAT is charged (small business, § 19 UStG)."""
    return any(_NO_VAT_CLAUSE.search(line.text) for line in doc.nonempty())


def invoice_totals(doc: Doc) -> list[Field]:
    """Net, VAT (total and per rate) and gross, cross-checked; derived values marked lower."""
    amounts = _collect_amounts(doc)
    nets = [a for a in amounts if a.kind == "net"]
    grosses = [a for a in amounts if a.kind == "gross"]
    vats = [a for a in amounts if a.kind == "vat"]
    rated: dict[Decimal, _Amount] = {}
    for v in sorted((v for v in vats if v.rate is not None), key=lambda v: v.priority):
        rated[v.rate.normalize() if v.rate is not None else Decimal(0)] = v
    unrated = [v for v in vats if v.rate is None]

    fields: list[Field] = []
    vat_total: _Amount | None = _best([v for v in unrated]) or None
    rate_sum = sum((v.value for v in rated.values()), Decimal(0)) if rated else None
    if vat_total is None and len(rated) == 1:
        vat_total = next(iter(rated.values()))
    net = _best(nets)
    gross: _Amount | None = None
    vat_value = vat_total.value if vat_total else rate_sum
    if (
        vat_total is not None
        and rate_sum is not None
        and net is not None
        and not any(_close(net.value + vat_total.value, g.value) for g in grosses)
        and any(_close(net.value + rate_sum, g.value) for g in grosses)
    ):
        # the printed VAT total was misread; the per-rate amounts add up
        vat_total, vat_value = None, rate_sum

    # a gross consistent with net + VAT beats a higher-priority label
    if net and vat_value is not None:
        consistent = [g for g in grosses if _close(g.value, net.value + vat_value)]
        gross = _best(consistent)
    if gross is None and vat_value is not None:
        # "Summe 100,00 / MwSt 19,00 / Gesamt 119,00": find the net among other amounts
        for g in sorted(grosses, key=lambda c: -c.priority):
            others = [
                c for c in nets + grosses if c is not g and _close(c.value + vat_value, g.value)
            ]
            if others:
                gross, net = g, _best(others)
                break
    if gross is None:
        gross = _best([g for g in grosses if g.priority >= 1.9]) or _best(grosses)

    if vat_value is None and (net is None or gross is None) and _no_vat(doc):
        vat_value = Decimal(0)  # Kleinunternehmer (§ 19 UStG): the one total is net and gross
    net_value = net.value if net else None
    gross_value = gross.value if gross else None
    confirmed = (
        net_value is not None
        and vat_value is not None
        and gross_value is not None
        and _close(net_value + vat_value, gross_value)
    )
    boost = 0.07 if confirmed else 0.0

    def emit(name: str, amount: _Amount | None, value: Decimal | None, conf: float) -> None:
        if value is None:
            return
        if amount is not None:
            fields.append(
                amount.hit.field(
                    name, confidence=min(conf + boost, 0.99), value=format_amount(value)
                )
            )
        else:
            fields.append(Field(name, format_amount(value), conf, "text"))

    if net_value is None and gross_value is not None and vat_value is not None:
        net_value = gross_value - vat_value
        emit("net_total", None, net_value, 0.7)
    else:
        emit("net_total", net, net_value, 0.88)
    if vat_value is None and gross_value is not None and net_value is not None:
        vat_value = gross_value - net_value
        emit("vat_total", None, vat_value, 0.7)
    elif vat_total is not None:
        emit("vat_total", vat_total, vat_value, 0.88)
    elif vat_value is not None:
        emit("vat_total", None, vat_value, 0.8)
    if gross_value is None and net_value is not None and vat_value is not None:
        gross_value = net_value + vat_value
        emit("gross_total", None, gross_value, 0.7)
    else:
        emit("gross_total", gross, gross_value, 0.88)

    for rate, v in rated.items():
        key = format_rate(rate)
        base = v.base
        if base is None and len(rated) == 1 and net_value is not None:
            base = net_value
        if base is not None:
            fields.append(
                Field(f"vat_{key}_net", format_amount(base), 0.85 + boost, "text", v.hit.line.page)
            )
        fields.append(
            v.hit.field(f"vat_{key}_amount", confidence=0.85 + boost, value=format_amount(v.value))
        )
    if not rated and net_value is not None and vat_value is not None and net_value:
        # one rate printed nowhere but implied by the totals
        implied = (vat_value / net_value * 100).quantize(Decimal("0.1"))
        for rate in COMMON_RATES:
            if rate and abs(implied - rate) <= Decimal("0.2"):
                key = format_rate(rate)
                fields.append(Field(f"vat_{key}_net", format_amount(net_value), 0.7, "text"))
                fields.append(Field(f"vat_{key}_amount", format_amount(vat_value), 0.7, "text"))
                break
        if vat_value == 0:
            fields.append(Field("vat_0_net", format_amount(net_value), 0.7, "text"))
            fields.append(Field("vat_0_amount", "0.00", 0.7, "text"))
    return fields


def _currency(doc: Doc) -> Field:
    text = "\n".join(line.text for line in doc.lines)
    counts = {
        "EUR": len(re.findall(r"€|\bEUR\b|\bEuro\b", text)),
        "USD": len(re.findall(r"\$|\bUSD\b", text)),
        "CHF": len(re.findall(r"\bCHF\b", text)),
        "GBP": len(re.findall(r"£|\bGBP\b", text)),
    }
    best = max(counts, key=lambda k: counts[k])
    if counts[best] == 0:
        return Field("currency", "EUR", 0.6, "text")
    return Field("currency", best, 0.95, "text")


def _bic(doc: Doc) -> Hit | None:
    def value(text: str) -> tuple[str, int, int] | None:
        m = re.match(
            r"[\s:.\-/]*(?:code)?[\s:]*([A-Z]{4}\s?[A-Z]{2}\s?[A-Z0-9]{2}(?:\s?[A-Z0-9]{3})?)\b",
            text,
        )
        if not m:
            return None
        bic = re.sub(r"\s", "", m.group(1))
        return (bic, m.start(1), m.end(1)) if valid_bic(bic) else None

    return _first(find_labelled(doc, lb.BIC, value, max_gap=8, below=False))


def _vat_id(doc: Doc) -> Hit | None:
    buyer = re.compile(r"(?i)\bihre\b|kunde|käufer|buyer|customer|leistungsempf")
    found: list[Hit] = []
    for line in doc.nonempty():
        if buyer.search(line.text):
            continue
        for m in re.finditer(
            r"(?<![A-Z0-9])([A-Z]{2})\s?((?:[0-9OIlSB]\s?){8,12})(?![0-9])", line.text
        ):
            if m.group(1) not in {"DE", "AT", "NL", "BE", "FR", "IT", "ES", "PL", "CZ", "DK", "LU"}:
                continue
            repaired = repair_vat_id(m.group(0))
            if repaired is None:
                continue
            compact, ok = repaired
            labelled = bool(lb.VAT_ID.search(line.text))
            if not labelled and not ok:
                continue
            conf = (0.95 if ok else 0.5) if labelled else 0.8
            found.append(Hit(compact, line, m.start(), m.end(), conf))
    found.sort(key=lambda h: -h.confidence)
    return _first(found)


def _tax_number(doc: Doc) -> Hit | None:
    def value(text: str) -> tuple[str, int, int] | None:
        m = re.match(
            r"[\s:.]*((?:\d{2,3}\s?/\s?\d{3,4}\s?/\s?\d{4,5})|\d{10,13})\b",
            fix_digit_lookalikes(text),
        )
        if not m:
            return None
        return re.sub(r"\s", "", m.group(1)), m.start(1), m.end(1)

    hits = find_labelled(doc, lb.TAX_NUMBER, value, max_gap=6, below=False)
    hits = [h for h in hits if not re.search(r"(?i)ihre|kunde", h.line.text[: h.start])]
    if not hits:
        return None
    h = hits[0]
    return Hit(h.value, h.line, h.start, h.end, 0.95 if valid_tax_number(h.value) else 0.6)


def _flag_true(pattern: re.Pattern[str], doc: Doc, name: str, conf_false: float = 0.8) -> Field:
    for line in doc.nonempty():
        m = pattern.search(line.text)
        if m:
            return Hit("true", line, m.start(), m.end(), 0.9).field(name)
    return Field(name, "false", conf_false, "text")


_REVERSE_CHARGE = re.compile(
    r"(?i)steuerschuldnerschaft\s+des\s+leistungsempf|reverse[\s-]?charge|§\s?13\s?b\b|"
    r"13b\s+ustg|umkehr\s+der\s+steuerschuld"
)
_CREDIT_TITLE = re.compile(
    r"(?i)^\s*(?:gutschrift|rechnungskorrektur|stornorechnung|storno|korrekturrechnung|credit\s+note)\b"
)


def extract_invoice(doc: Doc) -> list[Field]:
    """All invoice fields found in the text (see :data:`.schema.INVOICE_FIELDS`)."""
    fields: list[Field] = []
    number = _invoice_number(doc)
    if number:
        fields.append(number.field("invoice_number"))
    issue = _issue_date(doc, number)
    if issue:
        fields.append(issue.field("issue_date"))
    service = _service_date(doc, issue)
    if service:
        fields.append(service.field("service_date"))
    issue_d = _date_hit_to_date(issue)

    terms = payment_terms(doc)
    due = _due_date(doc, issue_d)
    if due:
        fields.append(due.field("due_date"))
    if terms.days:
        fields.append(terms.days.field("payment_terms_days"))
        if due is None and issue_d is not None:
            d = issue_d + timedelta(days=int(terms.days.value))
            fields.append(Field("due_date", d.isoformat(), 0.75, "text", terms.days.line.page))
    if terms.skonto_percent:
        fields.append(terms.skonto_percent.field("skonto_percent"))
        if terms.skonto_date:
            fields.append(terms.skonto_date.field("skonto_date"))
        elif terms.skonto_days is not None and issue_d is not None:
            d = issue_d + timedelta(days=terms.skonto_days)
            fields.append(
                Field("skonto_date", d.isoformat(), 0.75, "text", terms.skonto_percent.line.page)
            )

    seller = sender_name(doc)
    if seller:
        fields.append(seller.field("seller_name"))
    buyer = recipient_name(doc)
    if buyer:
        fields.append(buyer.field("buyer_name"))
    customer = find_customer_number(doc)
    if customer:
        fields.append(customer.field("customer_number"))

    totals = invoice_totals(doc)
    fields.extend(totals)
    fields.append(_currency(doc))
    iban = find_iban(doc)
    if iban:
        fields.append(iban.field("iban"))
    bic = _bic(doc)
    if bic:
        fields.append(bic.field("bic"))
    vat_id = _vat_id(doc)
    if vat_id:
        fields.append(vat_id.field("seller_vat_id"))
    tax_no = _tax_number(doc)
    if tax_no:
        fields.append(tax_no.field("seller_tax_number"))
    fields.append(_flag_true(_REVERSE_CHARGE, doc, "reverse_charge"))

    credit = next(
        (line for line in list(doc.nonempty())[:15] if _CREDIT_TITLE.search(line.text)), None
    )
    gross = next((f for f in totals if f.name == "gross_total"), None)
    if credit is not None:
        fields.append(Hit("true", credit, 0, len(credit.text), 0.9).field("is_credit_note"))
    elif gross is not None and gross.value.startswith("-"):
        fields.append(Field("is_credit_note", "true", 0.8, "text", gross.page, gross.bbox))
    else:
        fields.append(Field("is_credit_note", "false", 0.8, "text"))
    return fields


# --------------------------------------------------------------------------- reminders


def _add_period(start: date, n: int, unit: str) -> date:
    unit = unit.lower()
    if unit.startswith("tag"):
        return start + timedelta(days=n)
    if unit.startswith("woche"):
        return start + timedelta(weeks=n)
    month = start.month - 1 + n
    year = start.year + month // 12
    month = month % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


_NUMBER_WORDS = {"einer": 1, "eines": 1, "einem": 1, "zwei": 2, "drei": 3, "vier": 4}
_NUMBER_WORDS |= {"sieben": 7, "zehn": 10, "vierzehn": 14}


def deadline(doc: Doc, written: date | None) -> Hit | None:
    """The date by which the reader must act: "bis zum 31.03.2026", "innerhalb von 7 Tagen"."""
    best: Hit | None = None
    for j in _joined_pages(doc):
        for m in lb.DEADLINE.finditer(j.text):
            found = find_dates(j.text[m.end() : m.end() + 30])
            if not found or found[0].start > 2:
                continue
            d = found[0]
            before = j.text[max(0, m.start() - 12) : m.start()].lower()
            if re.search(r"\bvom\b|\bfrom\b", before):
                continue
            best = _hit_at(j, m.end() + d.start, m.end() + d.end, d.value.isoformat(), 0.85)
        if best is None and written is not None:
            m2 = lb.RELATIVE_DEADLINE.search(j.text)
            if m2:
                raw = m2.group("n").lower()
                n = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, 1)
                d2 = _add_period(written, n, m2.group("unit"))
                best = _hit_at(j, m2.start(), m2.end(), d2.isoformat(), 0.7)
    return best


def _stage(doc: Doc) -> Hit | None:
    best: tuple[int, int, Hit] | None = None
    for idx, line in enumerate(doc.nonempty()):
        for pattern, stage in lb.STAGE_PATTERNS:
            m = pattern.search(line.text)
            if m:
                key = (idx, -stage)
                if best is None or key < (best[0], -best[1]):
                    best = (idx, stage, Hit(str(stage), line, m.start(), m.end(), 0.9))
                break
    return best[2] if best else None


_OPEN_ITEMS_HEADER = re.compile(
    r"(?i)(?:rechnungs?|beleg|invoice|dokument)(?:[-\s]?(?:nr|no|nummer|number)\b\.?)?"
    r"|re\.?[-\s]?nr\.?"
)
"""The first column header of an open-items table: "Rechnung", "Beleg-Nr.", "Re.-Nr."."""
_OPEN_ITEMS_COLUMNS = re.compile(r"(?i)datum|\bvom\b|date|betrag|amount|f(?:ä|a|ae)llig|offen|due")


def _open_items_header(text: str) -> bool:
    """True for a short header row without digits whose first column names the invoice and
    another its date or amount ("Rechnung  vom  Betrag"); a scan may have single-spaced it."""
    t = text.strip()
    m = _OPEN_ITEMS_HEADER.match(t)
    if not m or re.search(r"\d", t) or len(t) > 90 or not t[m.end() :].startswith((" ", ":")):
        return False
    rest = t[m.end() :].strip(" :")
    return len(rest.split()) <= 6 and bool(_OPEN_ITEMS_COLUMNS.search(rest))


def _item_rows(doc: Doc, header: Line) -> list[Hit]:
    """The invoice numbers of the rows under an open-items table header.

    Each row starts with the number and holds its date or amount ("RE-2026-0101  02.02.2026
    1.190,00 €"); the first line that does not (a "Summe" row, the next sentence) ends the
    table, unless it still has a date and an amount (a row whose number a scan garbled).
    """
    rows: list[Hit] = []
    for nxt in doc.following(header, 12):
        if not re.search(r"[A-Za-z0-9]", nxt.text):
            continue  # a rule or scan specks ("|  ~~  ~~") between header and rows
        found = value_id(nxt.text)
        if found and found[1] <= 3 and (find_dates(nxt.text[found[2] :]) or value_amount(nxt.text)):
            rows.append(Hit(found[0], nxt, found[1], found[2], 0.8))
        elif not (find_dates(nxt.text) and value_amount(nxt.text)):
            break  # a row whose number OCR lost still has its date and amount: read on
    return rows


def _referenced_invoices(doc: Doc) -> list[tuple[Hit, Hit | None, Hit | None]]:
    """(number, date, amount) for each invoice a reminder lists, in printed order.

    Three ways reminders name them: a labelled number ("Rechnungs-Nr.: 2026-101", possibly
    followed by more), a table of open items under a header row, and a sentence ("unsere
    Rechnungen Nr. 2026-101, 2026-107 und 2026-113", "vom 02.02.2026 (Nr. 4711) und vom
    09.02.2026 (Nr. 4719)"). Sentences are read across line breaks, since a list wraps.
    """
    found: dict[str, Hit] = {}

    def where(hit: Hit) -> tuple[int, int, int]:
        return hit.line.page, hit.line.number, hit.start

    def add(hit: Hit) -> None:
        # a number named in the text and again in the table counts once, where it comes first
        if hit.value not in found or where(hit) < where(found[hit.value]):
            found[hit.value] = hit

    for hit in find_labelled(doc, lb.INVOICE_NUMBER, value_id, max_gap=25):
        for value, s, e in _id_list(hit.line.text, hit.start, first_at=0):
            add(Hit(value, hit.line, s, e, hit.confidence))
        for row in _item_rows(doc, hit.line):
            add(row)
    for line in doc.nonempty():
        if _open_items_header(line.text):
            for row in _item_rows(doc, line):
                add(row)
    for j in _joined_pages(doc):
        for m in lb.INVOICE_WORDS.finditer(j.text):
            for value, s, e in _id_list(j.text, m.end()):
                add(_hit_at(j, s, e, value, 0.75))
    hits = sorted(found.values(), key=where)
    out: list[tuple[Hit, Hit | None, Hit | None]] = []
    for hit in hits:
        rest = hit.line.text[hit.end :]
        dates = find_dates(rest)
        dhit = (
            Hit(
                dates[0].value.isoformat(),
                hit.line,
                hit.end + dates[0].start,
                hit.end + dates[0].end,
                0.85,
            )
            if dates
            else None
        )
        amt = value_amount(rest)
        ahit = Hit(amt[0], hit.line, hit.end + amt[1], hit.end + amt[2], 0.8) if amt else None
        out.append((hit, dhit, ahit))
    return out


_LIST_FILLER = re.compile(
    r"(?:\s+|[,;:/&+()]|#+|€|\b(?:eur|und|sowie|and|vom|from|dated|über|ueber|in\s+höhe\s+von|"
    r"nr|no|nummer|nummern|number|rechnung|rechnungen|invoice|invoices)\b\.?)*",
    re.IGNORECASE,
)
"""What may stand between two listed numbers: separators, their dates and amounts (masked),
"vom", "über", "Nr.", "Rechnung" and parentheses."""
_LIST_SEP = re.compile(r"[,;/&+]|\b(?:und|sowie|and)\b", re.IGNORECASE)
_NUMBER_WORD = re.compile(r"(?i)\b(?:nr|no|nummer|nummern|number)\.?\s*$")


def _same_shape(a: str, b: str) -> bool:
    """Numbers of one series look alike ("R2600821", "R2600828"); "12 Tage" is no member."""

    def shape(v: str) -> str:
        return re.sub(r"\d+", "9", re.sub(r"[A-Za-zÄÖÜäöü]+", "A", v))

    return shape(a) == shape(b) and abs(len(a) - len(b)) <= 2


def _skip_filler(text: str, pos: int) -> int:
    """Where the next listed number may start after ``pos`` (see :data:`_LIST_FILLER`)."""
    m = _LIST_FILLER.match(text, pos)
    return m.end() if m else pos


def _mask_values(text: str) -> str:
    """``text`` with its dates and money amounts blanked out by ``#`` (same length).

    A date ("02.02.2026", "2. März 2026") or an amount ("1.190,00 €") is never an invoice
    number, yet both are digit runs that sit right next to one in a list.
    """
    chars = list(text)
    spans = [(d.start, d.end) for d in find_dates(text)]
    spans += [(a.start, a.end) for a in _money(find_amounts(fix_digit_lookalikes(text)))]
    for s, e in spans:
        chars[s:e] = "#" * (e - s)
    return "".join(chars)


def _id_list(text: str, pos: int, *, first_at: int | None = None) -> list[tuple[str, int, int]]:
    """Identifiers listed from ``pos`` on: "R2600821, R2600828 und R2600835" (all, in order).

    The first one must follow at once (only blanks, ":" or "Nr." before it, or exactly at
    ``first_at`` when given) or be introduced by "Nr."/"Nummer" after the invoice's date and
    amount ("Rechnungen vom 02.02.2026 (Nr. 4711) …"). Each further one must be of the same
    shape and separated from the previous by a list separator (",", "und", "sowie", …), with
    at most dates, amounts, "vom", "über", "Nr." or parentheses in between: so "14 Tage",
    a customer number or a date never join the list.
    """
    out: list[tuple[str, int, int]] = []
    masked = _mask_values(text)
    if first_at is not None:
        found = value_id(masked[pos:])
        if not found or found[1] != first_at:
            return out
        start = pos
    else:
        found = value_id(masked[pos:])
        if not found or found[1] > 12:
            start = _skip_filler(masked, pos)
            found = value_id(masked[start:])
            if (
                not found
                or found[1] != 0
                or start - pos > 60
                or not _NUMBER_WORD.search(masked[pos:start].rstrip(" ("))
            ):
                return out
        else:
            start = pos
    while found:
        value, s, e = found
        out.append((value, start + s, start + e))
        pos = start + e
        start = _skip_filler(masked, pos)
        if start - pos > 60 or not _LIST_SEP.search(masked[pos:start]):
            break
        found = value_id(masked[start:])
        if not found or found[1] != 0 or not _same_shape(out[0][0], found[0]):
            break
    return out


def extract_reminder(doc: Doc) -> list[Field]:
    """Fields of a Zahlungserinnerung/Mahnung (see :data:`.schema.REMINDER_FIELDS`)."""
    fields: list[Field] = []
    issue = document_date(doc, find_labelled(doc, lb.ISSUE_DATE, value_date, max_gap=30))
    refs = _referenced_invoices(doc)
    # an unlabelled date on a line that names a referenced invoice is that invoice's date
    # (the number may have been kept from the sentence above the table, not from this row)
    if (
        issue is not None
        and issue.confidence < 0.9
        and any(h.value in _fix_id(issue.line.text) for h, _, _ in refs)
    ):
        issue = None
    if issue:
        fields.append(issue.field("issue_date"))
    if refs:
        first = refs[0][0]
        conf = min(h.confidence for h, _, _ in refs)
        fields.append(
            first.field(
                "referenced_invoice_numbers",
                value=",".join(h.value for h, _, _ in refs),
                confidence=conf,
            )
        )
        dates = [d.value for _, d, _ in refs if d is not None]
        if dates:
            d0 = next(d for _, d, _ in refs if d is not None)
            if d0 is not None:
                fields.append(d0.field("referenced_invoice_dates", value=",".join(dates)))

    def labelled_amount(label: re.Pattern[str]) -> Hit | None:
        # the first amount after the label: "Betrag von 2.380,00 € zuzüglich Mahnkosten …"
        hits = [h for h in find_labelled(doc, label, value_first_amount, max_gap=40) if h.value]
        return hits[-1] if hits else None

    fees = labelled_amount(lb.FEES)
    interest = labelled_amount(lb.INTEREST)
    principal = labelled_amount(lb.OUTSTANDING)
    total = labelled_amount(lb.REMINDER_TOTAL)
    if fees:
        fields.append(fees.field("fees"))
    if interest:
        fields.append(interest.field("interest"))
    if principal and total and principal.value == total.value and (fees or interest):
        principal = None  # the "offen" line was the grand total
    if principal:
        fields.append(principal.field("amount_outstanding"))
    elif total:
        extra = sum(Decimal(h.value) for h in (fees, interest) if h is not None)
        fields.append(
            total.field(
                "amount_outstanding",
                value=format_amount(Decimal(total.value) - extra),
                confidence=0.7,
            )
        )
    else:
        amounts = [a for _, _, a in refs if a is not None]
        if amounts:
            s = sum((Decimal(a.value) for a in amounts), Decimal(0))
            fields.append(
                amounts[0].field("amount_outstanding", value=format_amount(s), confidence=0.7)
            )

    dl = deadline(doc, _date_hit_to_date(issue))
    if dl:
        fields.append(dl.field("new_deadline"))
    stage = _stage(doc)
    fields.append(
        stage.field("dunning_stage") if stage else Field("dunning_stage", "1", 0.4, "text")
    )
    fields.append(_flag_true(lb.COURT_THREAT, doc, "court_threat", conf_false=0.75))
    iban = find_iban(doc)
    if iban:
        fields.append(iban.field("iban"))
    customer = find_customer_number(doc)
    if customer:
        fields.append(customer.field("customer_number"))
    return fields


# --------------------------------------------------------------------------- letters, other


def clean_subject(text: str) -> str:
    """A subject line in its printed typography, whatever OCR made of dashes and quotes.

    A spaced hyphen or an em dash between words is a Gedankenstrich ("–") in German
    typesetting; ",," is a low opening quote („); runs of blanks become one space.
    """
    t = re.sub(r"\s+", " ", text).strip()
    t = re.sub(r"\s[-—‒―~]{1,2}\s", " – ", t)
    t = re.sub(r",,\s?", "„", t)
    t = re.sub(r"\s+([:,.;])", r"\1", t)
    return t


def _subject(doc: Doc) -> Hit | None:
    """ "Betreff: …" at the start of a line, else the line just above the salutation."""
    for line in list(doc.nonempty())[:40]:
        m = lb.SUBJECT.match(line.text.lstrip())
        if not m:
            continue
        offset = len(line.text) - len(line.text.lstrip()) + m.end()
        rest = line.text[offset:]
        t = rest.lstrip(" :.-")
        if len(t.strip()) >= 3:
            start = offset + len(rest) - len(t)
            return Hit(t.strip(), line, start, start + len(t.strip()), 0.95)
    page = doc.pages[0] if doc.pages else []
    recipient = {(line.page, line.number) for line in doc.zones.recipient_lines()}
    for i, line in enumerate(page):
        if lb.SALUTATION.match(line.text):
            for prev in reversed(page[:i]):
                t = prev.text.strip()
                if not t:
                    continue
                if (prev.page, prev.number) in recipient or _dated_line(prev) or len(t) > 120:
                    break
                return Hit(t, prev, prev.text.find(t), prev.text.find(t) + len(t), 0.7)
            break
    return None


_ASK = re.compile(
    r"\b(?:bitte|bitten|ersuchen|fordern|auffordern|benötigen\s+wir|brauchen\s+wir|"
    r"(?:senden|schicken|reichen|teilen|melden|rufen|zahlen|überweisen|ermöglichen|geben|"
    r"bestätigen|kontaktieren|unterschreiben)\s+Sie|please|kindly|we\s+ask)\b",
    re.IGNORECASE,
)
"""Words with which a letter asks its reader to do something."""
SUMMARY_MAX = 240


def _body_sentences(doc: Doc) -> tuple[list[str], int | None]:
    """The sentences between salutation and closing, and the page the body starts on."""
    lines = list(doc.nonempty())
    start = next((i + 1 for i, line in enumerate(lines) if lb.SALUTATION.match(line.text)), None)
    if start is None:
        return [], None
    body: list[str] = []
    for line in lines[start:]:
        if lb.CLOSING.match(line.text):
            break
        body.append(line.text.strip())
        if sum(len(b) for b in body) > 1500:
            break
    text = re.sub(r"\s+", " ", " ".join(body)).strip()
    page = lines[start].page if start < len(lines) else None
    sentences: list[str] = []
    for piece in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ])", text):
        # a date's day ("bis zum 17. Juni") ends in a dot but does not end the sentence
        if sentences and re.search(r"\b\d{1,2}\.$", sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        elif piece:
            sentences.append(piece)
    return sentences, page


def _summary(doc: Doc, due: date | None) -> Field | None:
    """One line of what the letter asks the reader to do, with the deadline if there is one.

    The sentence that asks ("Bitte senden Sie uns …", "wir bitten um Ihre Stellungnahme …") is
    what the reader needs, not the letter's opening, which mostly gives the context; a sentence
    that also names a date wins among several. A letter that asks nothing is summed up by its
    first sentence. The deadline is added when the chosen sentence does not carry it.
    """
    sentences, page = _body_sentences(doc)
    if not sentences:
        return None

    def weight(sentence: str) -> float:
        return 2.0 * bool(_ASK.search(sentence)) + 1.0 * bool(find_dates(sentence))

    best = max(sentences, key=lambda s: (weight(s), -sentences.index(s)))
    asked = bool(_ASK.search(best))
    summary = best if asked else sentences[0]
    position = sentences.index(summary)
    if not find_dates(summary) and position > 0:
        # "Bitte ermöglichen Sie dem Techniker den Zugang." refers to the date just before it
        context = find_dates(sentences[position - 1])
        if context:
            summary = f"{summary} (am {context[0].value:%d.%m.%Y})"
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 3].rsplit(" ", 1)[0] + " …"
    if due is not None and due not in {d.value for d in find_dates(summary)}:
        summary = f"{summary} (bis {due:%d.%m.%Y})"
    return Field("summary", summary, 0.7 if asked else 0.5, "text", page)


def extract_letter(doc: Doc) -> list[Field]:
    """Fields of a business letter (see :data:`.schema.LETTER_FIELDS`)."""
    fields: list[Field] = []
    written = document_date(doc, find_labelled(doc, lb.ISSUE_DATE, value_date, max_gap=30))
    if written:
        fields.append(written.field("letter_date"))
    subject = _subject(doc)
    if subject:
        fields.append(subject.field("subject", value=clean_subject(subject.value)))
    sender = sender_name(doc)
    if sender:
        fields.append(sender.field("sender_name"))
    dl = deadline(doc, _date_hit_to_date(written))
    if dl:
        fields.append(dl.field("deadline"))
    summary = _summary(doc, _date_hit_to_date(dl) if dl else None)
    if summary:
        fields.append(summary)
    return fields


def extract_other(doc: Doc, subtype: str | None) -> list[Field]:
    """Fields of other post: its subtype, date and subject."""
    fields: list[Field] = []
    sub = subtype or other_subtype("\n".join(line.text for line in doc.lines))
    if sub:
        fields.append(Field("subtype", sub, 0.7, "text"))
    written = document_date(doc, find_labelled(doc, lb.ISSUE_DATE, value_date, max_gap=30))
    if written:
        fields.append(written.field("issue_date"))
    subject = _subject(doc)
    if subject:
        fields.append(subject.field("subject"))
    return fields


def extract_fields(
    text_pages: Sequence[str],
    doc_type: str,
    *,
    words: Sequence[Sequence[WordLike]] | None = None,
    subtype: str | None = None,
) -> list[Field]:
    """Extract the canonical fields of ``doc_type`` from the page texts (and word boxes)."""
    if not text_pages and not words:
        return []
    pages = list(text_pages) if text_pages else ["" for _ in words or []]
    doc = Doc(pages, words)
    if doc_type == "invoice":
        return extract_invoice(doc)
    if doc_type == "reminder":
        return extract_reminder(doc)
    if doc_type == "letter":
        return extract_letter(doc)
    return extract_other(doc, subtype)
