"""How amounts, dates and quantities look on German (and a few English) business post.

Extraction has to cope with every common spelling of the same value, so the generator prints
each value in one of several house styles ("1.234,56 €", "EUR 1.234,56", "15.03.26",
"15. März 2026", ...) while the ground truth always keeps the canonical form (``"1234.56"``,
``"2026-03-15"``). All money is :class:`~decimal.Decimal`, rounded half-up to cents the way
German invoicing software does it.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

AMOUNT_STYLES = ("de_suffix", "de_eur_prefix", "de_eur_suffix", "de_euro_prefix")
EN_AMOUNT_STYLES = ("en_eur_prefix", "en_euro_prefix")
DATE_STYLES = ("de_num", "de_short", "de_long")
EN_DATE_STYLES = ("en_long", "en_num")

GERMAN_MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def cents(value: Decimal) -> Decimal:
    """Round to cents, half up (what "kaufmännisch runden" means)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def canonical_amount(value: Decimal) -> str:
    """Ground-truth spelling of money: dot decimals, always two places, no grouping."""
    return f"{cents(value):.2f}"


def canonical_number(value: Decimal) -> str:
    """Ground-truth spelling of a quantity or rate: no trailing zeros, no exponent."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _group(integer: str, sep: str) -> str:
    parts: list[str] = []
    while len(integer) > 3:
        parts.insert(0, integer[-3:])
        integer = integer[:-3]
    parts.insert(0, integer)
    return sep.join(parts)


def number(value: Decimal, *, english: bool = False, places: int = 2) -> str:
    """A number with grouping, e.g. ``1.234,56`` (German) or ``1,234.56`` (English)."""
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):.{places}f}"
    integer, _, frac = text.partition(".")
    thousands, decimal = (",", ".") if english else (".", ",")
    grouped = _group(integer, thousands)
    return f"{sign}{grouped}{decimal}{frac}" if places else f"{sign}{grouped}"


def money(value: Decimal, style: str) -> str:
    """Money in one of :data:`AMOUNT_STYLES` or :data:`EN_AMOUNT_STYLES`."""
    if style == "de_suffix":
        return f"{number(value)} €"
    if style == "de_eur_prefix":
        return f"EUR {number(value)}"
    if style == "de_eur_suffix":
        return f"{number(value)} EUR"
    if style == "de_euro_prefix":
        return f"€ {number(value)}"
    if style == "en_eur_prefix":
        return f"EUR {number(value, english=True)}"
    if style == "en_euro_prefix":
        return f"€{number(value, english=True)}"
    raise ValueError(f"unknown amount style {style!r}")


def quantity(value: Decimal, *, english: bool = False) -> str:
    """A quantity without superfluous decimals: ``2``, ``2,5``, ``12,75``."""
    text = canonical_number(value)
    if not english:
        integer, _, frac = text.partition(".")
        text = _group(integer, ".") + ("," + frac if frac else "")
    return text


def percent(rate: Decimal, *, tight: bool = False) -> str:
    """A VAT or Skonto rate, ``19 %`` (DIN 5008 spacing) or ``19%``."""
    text = canonical_number(rate).replace(".", ",")
    return f"{text}%" if tight else f"{text} %"


def date(value: dt.date, style: str) -> str:
    """A date in one of :data:`DATE_STYLES` or :data:`EN_DATE_STYLES`."""
    if style == "de_num":
        return value.strftime("%d.%m.%Y")
    if style == "de_short":
        return value.strftime("%d.%m.%y")
    if style == "de_long":
        return f"{value.day}. {GERMAN_MONTHS[value.month - 1]} {value.year}"
    if style == "en_long":
        return f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year}"
    if style == "en_num":
        return value.strftime("%d/%m/%Y")
    if style == "iso":
        return value.isoformat()
    raise ValueError(f"unknown date style {style!r}")


def long_date(value: dt.date, *, english: bool = False) -> str:
    """The spelled-out date used in running text ("am 15. März 2026")."""
    return date(value, "en_long" if english else "de_long")


def iban_groups(iban: str) -> str:
    """IBAN in the printed four-character groups."""
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
