"""Reading amounts, dates and identifiers the way German post writes them, OCR damage included.

Everything that turns a printed string into a canonical value lives here, so extraction,
e-invoice mapping and validation agree on one spelling: amounts as ``Decimal`` (rendered
``"1234.56"``), dates as ``datetime.date`` (rendered ISO), IBANs compact and checksum-valid.

OCR rarely invents characters; it confuses look-alikes (``O``/``0``, ``l``/``1``, ``S``/``5``).
The repair functions therefore only swap look-alikes inside tokens that are clearly numbers, and
identifiers with a checksum (IBAN, USt-IdNr.) are only "repaired" when the checksum then holds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_iban_spec
from stdnum.de import stnr
from stdnum.eu import vat as eu_vat

# --------------------------------------------------------------------------- text folding

_FOLD_TABLE = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "s", "é": "e", "è": "e"})


def fold(text: str) -> str:
    """Lower-case, umlaut- and accent-free, OCR-tolerant form of ``text`` for keyword search.

    Digits that OCR puts inside words (``Rechnvng``, ``Mahnunq`` are not fixed, but ``0`` for
    ``o``, ``1`` for ``l``, ``rn`` for ``m``) are mapped back so that cue words still match.
    """
    t = unicodedata.normalize("NFC", text).lower().translate(_FOLD_TABLE)
    t = t.replace("ss", "s")
    # look-alike digits inside letter runs: "rechnungsnumrner", "0ffen", "zah1bar"
    t = re.sub(r"(?<=[a-z])0|0(?=[a-z]{2})", "o", t)
    t = re.sub(r"(?<=[a-z])1|1(?=[a-z]{2})", "l", t)
    t = t.replace("rn", "m")
    return t


# --------------------------------------------------------------------------- numbers

_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1", "i": "1", "!": "1"}
)
_NUMBERISH = re.compile(r"(?<![A-Za-z])[\dOolI|]+(?:[.,'’ ][\dOolI|]+)*(?![A-Za-z])")


def fix_digit_lookalikes(text: str) -> str:
    """Replace ``O``/``l``/``I``/``|`` by digits inside tokens that are otherwise numbers.

    A token is repaired only when it already holds at least one real digit and more digits
    than look-alikes, so words like ``Ol`` or ``I`` stay untouched.
    """

    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        digits = sum(c.isdigit() for c in tok)
        alike = sum(c in "OolI|" for c in tok)
        if digits == 0 or alike == 0 or alike >= digits:
            return tok
        return tok.translate(_DIGIT_LOOKALIKES)

    return _NUMBERISH.sub(repl, text)


AMOUNT_RE = re.compile(
    r"""
    (?<![\w.,/-])                      # not inside another number, word or date
    (?P<sign>[-−–]\s?)?
    (?:(?P<cur1>EUR|€|USD|\$|CHF|GBP|£)\s?)?
    (?P<num>
        \d{1,3}(?:[.'’\u202f ]\d{3})+(?:,\d{1,2})?     # 1.234,56  1 234,56  1'234,56
      | \d{1,3}(?:,\d{3})+\.\d{2}                     # 1,234.56 (English)
      | \d+,\d{1,2}                                    # 1234,56
      | \d+\.\d{2}                                     # 1234.56
      | \d+                                            # 1234
    )
    (?P<tsign>-(?!\d))?
    (?:\s?(?P<cur2>EUR|Euro|€|USD|\$|CHF|GBP|£))?
    (?!\d|[\w.,-]\d|\s?%)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class AmountMatch:
    """An amount found in a line: its value, where it was, and whether it looked like money."""

    value: Decimal
    start: int
    end: int
    raw: str
    has_decimals: bool
    currency: str | None


def _num_to_decimal(num: str) -> Decimal | None:
    s = num.replace("\u202f", " ").replace("’", "'")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        if len(tail) == 3 and re.fullmatch(r"\d{1,3}(,\d{3})+", s):
            s = s.replace(",", "")  # 1,234 thousands (rare in German, but English invoices)
        else:
            s = head.replace(".", "").replace(" ", "").replace("'", "") + "." + tail
    elif "." in s:
        head, _, tail = s.rpartition(".")
        if len(tail) == 3:
            s = s.replace(".", "")  # 1.234 = one thousand two hundred thirty-four
    s = s.replace(" ", "").replace("'", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


_CURRENCY_NAMES = {"€": "EUR", "EURO": "EUR", "EUR": "EUR", "$": "USD", "USD": "USD"}
_CURRENCY_NAMES |= {"CHF": "CHF", "GBP": "GBP", "£": "GBP"}


def find_amounts(line: str) -> list[AmountMatch]:
    """All amounts in one line, in reading order, with German and English separators."""
    out: list[AmountMatch] = []
    for m in AMOUNT_RE.finditer(line):
        value = _num_to_decimal(m.group("num"))
        if value is None:
            continue
        if m.group("sign") or m.group("tsign"):
            value = -value
        cur = m.group("cur1") or m.group("cur2")
        has_dec = bool(re.search(r"[.,]\d{1,2}$", m.group("num")))
        out.append(
            AmountMatch(
                value=value,
                start=m.start(),
                end=m.end(),
                raw=m.group(0).strip(),
                has_decimals=has_dec,
                currency=_CURRENCY_NAMES.get(cur.upper()) if cur else None,
            )
        )
    return out


def parse_amount(text: str) -> Decimal | None:
    """The single amount in ``text`` (``"1.234,56 €"``, ``"EUR -12,00"``, ``"1234,56"``)."""
    found = find_amounts(fix_digit_lookalikes(text.strip()))
    if not found:
        return None
    money = [a for a in found if a.has_decimals] or found
    return money[-1].value


def format_amount(value: Decimal) -> str:
    """Canonical amount string: two decimals, dot separator, no thousands separator."""
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def format_rate(rate: Decimal) -> str:
    """VAT rate as used in field names: ``19``, ``7``, ``0``, ``5.5``."""
    r = rate.normalize()
    s = format(r, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


# --------------------------------------------------------------------------- dates

_MONTHS = {
    "januar": 1, "jan": 1, "jänner": 1, "january": 1,
    "februar": 2, "feb": 2, "february": 2,
    "märz": 3, "maerz": 3, "marz": 3, "mär": 3, "mrz": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_ALT = "|".join(sorted((re.escape(k) for k in _MONTHS), key=len, reverse=True))

_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\d.])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d])"), "ymd"),
    (
        re.compile(
            r"(?<![\d.,])(\d{1,2})\s?[./-]\s?(\d{1,2})\s?[./-]\s?(\d{4}|\d{2})(?!\d|[.,]\d)"
        ),
        "dmy",
    ),
    (
        re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s*({_MONTH_ALT})\.?\s*(\d{{4}})(?!\d)", re.IGNORECASE),
        "d_month_y",
    ),
    (
        re.compile(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.I),
        "month_d_y",
    ),
)


@dataclass(frozen=True)
class DateMatch:
    """A date found in a line with its character span."""

    value: date
    start: int
    end: int


def _year(y: str) -> int:
    n = int(y)
    if len(y) == 2:
        n += 2000 if n < 70 else 1900
    return n


def find_dates(line: str) -> list[DateMatch]:
    """All calendar dates in a line, in reading order.

    Understands ``15.03.2026``, ``15.3.26``, ``2026-03-15``, ``3. März 2026``, ``3 Mar 2026``
    and ``March 3, 2026``; impossible dates (``31.02.``) are dropped, not guessed.
    """
    text = fix_digit_lookalikes(line)
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            try:
                if kind == "ymd":
                    d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                elif kind == "dmy":
                    d = date(_year(m.group(3)), int(m.group(2)), int(m.group(1)))
                elif kind == "d_month_y":
                    d = date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
                else:
                    d = date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
            except (ValueError, KeyError):
                continue
            if not 1990 <= d.year <= 2100:
                continue
            found.append(DateMatch(d, m.start(), m.end()))
            taken.append((m.start(), m.end()))
    found.sort(key=lambda dm: dm.start)
    return found


def parse_date(text: str) -> date | None:
    """The first date in ``text``, or ``None``."""
    found = find_dates(text)
    return found[0].value if found else None


# --------------------------------------------------------------------------- IBAN / BIC

_TO_DIGIT = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "Z": "2", "S": "5"}
_TO_DIGIT |= {"G": "6", "B": "8", "T": "7"}
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B", "7": "T"}
_ERASED = "+*?§#"
"""Characters OCR prints for a digit it could not read (noise over the glyph)."""
_IBAN_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9])([A-Z]{2}|D[E3]|0E)\s?([0-9OlIS|]{2})((?:(?:\s|\.(?=\d))?[A-Za-z0-9|]){10,30})"
)
_IBAN_CANDIDATE_DAMAGED = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z]{2}|D[E3]|0E)\s?[0-9OlIS|+*?§#]{2}"
    r"(?:(?:\s|\.(?=\d))?[A-Za-z0-9|+*?§#]){10,34}"
)


def _iban_positions(country: str) -> str | None:
    """``n``/``a``/``c`` per BBAN position from the registry's spec (``8!n10!n``)."""
    try:
        spec = get_iban_spec(country)
    except (SchwiftyException, KeyError):
        return None
    kinds = []
    for count, kind in re.findall(r"(\d+)!([nac])", spec.bban_spec):
        kinds.append(kind * int(count))
    return "".join(kinds)


def _checked_iban(candidate: str, *, national: bool = True) -> str | None:
    try:
        return str(IBAN(candidate, validate_bban=national).compact)
    except (SchwiftyException, ValueError):
        return None


def repair_iban(raw: str, *, national: bool = True) -> tuple[str, float] | None:
    """A checksum-valid IBAN from an OCR'd string, with a confidence, or ``None``.

    Look-alike letters are mapped to digits (and back) according to the country's BBAN format.
    A misread *digit* is not guessed: some single-digit change would satisfy the 1-in-97
    checksum by chance, and a wrong but valid IBAN is worse than a flagged one.

    ``national=False`` also accepts an IBAN that holds the ISO 13616 rules (length, structure,
    mod-97 check digits) but fails the bank's own account check digit, at a lower confidence:
    schwifty knows one algorithm per German bank code and has rejected real accounts (a wrong
    threshold in method 08, bank codes whose method changed), while mod-97 alone catches every
    single wrong character and every swap of neighbours. On that path one *unreadable* digit
    (OCR noise printed as one of ``+*?§#``) is filled when exactly one digit fits; a misread
    digit still never is.
    """
    s = re.sub(r"[\s.\-]", "", raw).upper()
    if len(s) < 15:
        return None
    country = s[:2].replace("3", "E").replace("0", "O")
    if country == "OE":
        country = "DE"
    kinds = _iban_positions(country)
    if kinds is None:
        return None
    total = 4 + len(kinds)
    if len(s) < total:
        return None
    s = s[:total]
    chars = [country[0], country[1]]
    chars += [_TO_DIGIT.get(c, c) for c in s[2:4]]
    for kind, c in zip(kinds, s[4:], strict=True):
        if kind == "n":
            chars.append(_TO_DIGIT.get(c, c))
        elif kind == "a":
            chars.append(_TO_LETTER.get(c, c))
        else:
            chars.append(c)
    fixed = "".join(chars)
    exact = _checked_iban(fixed)
    if exact:
        return exact, (1.0 if fixed == s else 0.9)
    if national:
        return None
    erased = [i for i, c in enumerate(fixed) if c in _ERASED]
    if len(erased) > 1:
        return None
    if erased:
        i = erased[0]
        fits = [
            v
            for d in "0123456789"
            if (v := _checked_iban(fixed[:i] + d + fixed[i + 1 :], national=False))
        ]
        return (fits[0], 0.6) if len(fits) == 1 else None
    value = _checked_iban(fixed, national=False)
    if value is None:
        return None
    return value, (0.85 if fixed == s else 0.75)


@dataclass(frozen=True)
class IbanMatch:
    """An IBAN found in a line; ``raw`` is the printed form (for locating its words)."""

    value: str
    confidence: float
    start: int
    end: int
    raw: str


def find_ibans(line: str, *, national: bool = True) -> list[IbanMatch]:
    """Checksum-valid IBANs in a line, including split (``DE89 3704 …``) and OCR-damaged ones
    (look-alike letters, a dot read for the blank between two groups: ``7486.99``).

    ``national=False``: also IBANs that hold only the ISO rules (see :func:`repair_iban`).
    """
    out: list[IbanMatch] = []
    # upper-case character by character: "ß".upper() is "SS" and would shift every offset
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in line)
    pattern = _IBAN_CANDIDATE if national else _IBAN_CANDIDATE_DAMAGED
    for m in pattern.finditer(upper):
        raw = m.group(0)
        # trailing words (BIC:, "bei", …) are cut by trying shorter spans from the right
        compact = re.sub(r"\s", "", raw)
        repaired = repair_iban(compact, national=national)
        if repaired is None:
            continue
        value, conf = repaired
        # span covering only the characters that made it into the IBAN
        needed, end = len(value), m.start()
        for i, ch in enumerate(line[m.start() :], start=m.start()):
            if not ch.isspace() and ch not in ".-":
                needed -= 1
            if needed == 0:
                end = i + 1
                break
        out.append(IbanMatch(value, conf, m.start(), end, line[m.start() : end]))
    return out


def valid_iban(value: str, *, national: bool = True) -> bool:
    """True when ``value`` is a checksum- and format-valid IBAN (``national=False``: without
    the bank's own account check digit, see :func:`repair_iban`)."""
    return _checked_iban(value, national=national) is not None


def valid_bic(value: str) -> bool:
    """True when ``value`` is a syntactically valid BIC with a real country code."""
    try:
        BIC(value)
    except (SchwiftyException, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- tax identifiers


def repair_vat_id(raw: str) -> tuple[str, bool] | None:
    """Compact USt-IdNr. and whether its checksum holds; look-alikes fixed for ``DE`` numbers."""
    s = re.sub(r"[\s.\-/]", "", raw).upper()
    if len(s) < 4 or not s[:2].isalpha():
        return None
    if s[:2] == "DE":
        digits = "".join(_TO_DIGIT.get(c, c) for c in s[2:])
        if not re.fullmatch(r"\d{9}", digits):
            return None
        s = "DE" + digits
    try:
        compact = str(eu_vat.compact(s))
    except Exception:
        return None
    return compact, bool(eu_vat.is_valid(compact))


def valid_vat_id(value: str) -> bool:
    """True when ``value`` is a valid EU VAT identification number (checksum where defined)."""
    try:
        return bool(eu_vat.is_valid(value))
    except Exception:
        return False


def valid_tax_number(value: str) -> bool:
    """True when ``value`` is a plausible German Steuernummer (regional or federal format)."""
    try:
        return bool(stnr.is_valid(value))
    except Exception:
        return False
