"""Default interest (Verzugszinsen) under §288 BGB, from a dated Basiszins table.

Pure functions, no catalog: the dunning run and the letters use them, and they are easy to check
by hand.

Conventions (each a choice where the statute leaves room; tested in ``test_interest.py``):

* **Rates.** §288 (1)/(2) BGB: Basiszins (§247 BGB) plus 5 percentage points when a consumer is
  involved, plus 9 points otherwise. The Basiszins changes on 1 January and 1 July; the table in
  ``basiszins.toml`` lists each rate from the day it applies. A day after the last entry keeps the
  last known rate (a rate not yet published is not guessed).
* **Start of Verzug** (:func:`verzug_begins`): the earlier of the day the first notice's payment
  deadline runs out (§286 (1): a Mahnung after the due date) and, for businesses, 30 days after
  the due date (§286 (3) sentence 1). Against a consumer the 30-day rule only holds when the
  invoice said so, which we cannot know, so only the notice counts there. Interest accrues from
  the **day after** Verzug begins (§187 (1) BGB analogously) up to and including the end day.
* **Day count** act/365: each day is 1/365 of the yearly rate, leap years included (the common
  German court practice; the statute names none).
* **Periods.** The interval is split at every rate change; each part is rounded to the cent
  (half up) and the parts are added, so the letter's table adds up exactly. §289 BGB: no
  compound interest, so the principal never includes earlier interest.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from pathlib import Path

DEFAULT_TABLE = Path(__file__).with_name("basiszins.toml")
CENT = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)
POINTS_CONSUMER = Decimal(5)
POINTS_BUSINESS = Decimal(9)
VERZUG_AFTER_DUE_DAYS = 30
"""§286 (3) BGB: an Entgeltforderung is in Verzug at the latest 30 days after due date."""


class RateTableError(ValueError):
    """The Basiszins file is missing, malformed or not in date order."""


@dataclass(frozen=True)
class BaseRate:
    """The Basiszins (percent per year) from ``start`` until the next entry."""

    start: date
    percent: Decimal
    verified: bool


@dataclass(frozen=True)
class BaseRateTable:
    """Basiszins changes in date order (the first entry bounds what can be computed)."""

    rates: tuple[BaseRate, ...]

    def __post_init__(self) -> None:
        if not self.rates:
            raise RateTableError("Basiszins-Tabelle ist leer")
        starts = [r.start for r in self.rates]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise RateTableError("Basiszins-Tabelle ist nicht nach Datum sortiert")

    def rate_on(self, day: date) -> BaseRate:
        """The rate in force on ``day`` (the last known one after the table's end)."""
        index = bisect_right([r.start for r in self.rates], day) - 1
        if index < 0:
            raise RateTableError(f"kein Basiszins vor {self.rates[0].start.isoformat()} bekannt")
        return self.rates[index]

    def changes_between(self, start: date, end: date) -> list[date]:
        """Days in ``(start, end]`` on which a new rate begins."""
        return [r.start for r in self.rates if start < r.start <= end]


def load_table(path: Path | None = None) -> BaseRateTable:
    """Read a Basiszins TOML file (``[[rate]]`` with ``from``, ``percent``, ``status``)."""
    source = path or DEFAULT_TABLE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RateTableError(f"{source}: {exc}") from exc
    rates = []
    for entry in data.get("rate", []):
        start = entry.get("from")
        if not isinstance(start, date):
            raise RateTableError(f"{source}: 'from' muss ein Datum sein: {entry!r}")
        rates.append(
            BaseRate(
                start=start,
                percent=Decimal(str(entry["percent"])),
                verified=entry.get("status") == "verified",
            )
        )
    return BaseRateTable(tuple(rates))


@dataclass(frozen=True)
class InterestPeriod:
    """One stretch at one rate: ``start`` and ``end`` inclusive."""

    start: date
    end: date
    days: int
    rate: Decimal
    """The yearly rate charged, percent (Basiszins plus 5 or 9 points)."""
    amount: Decimal


@dataclass(frozen=True)
class Interest:
    principal: Decimal
    periods: tuple[InterestPeriod, ...]

    @property
    def amount(self) -> Decimal:
        return sum((p.amount for p in self.periods), Decimal("0.00"))

    @property
    def start(self) -> date | None:
        return self.periods[0].start if self.periods else None

    @property
    def end(self) -> date | None:
        return self.periods[-1].end if self.periods else None


def surcharge(consumer: bool) -> Decimal:
    """§288 (1) and (2) BGB: +5 points with a consumer, +9 points between businesses."""
    return POINTS_CONSUMER if consumer else POINTS_BUSINESS


def default_interest(
    principal: Decimal, start: date, end: date, consumer: bool, table: BaseRateTable
) -> Interest:
    """Interest on ``principal`` for the days ``start`` … ``end`` (both inclusive).

    ``start`` is the first day that bears interest (the day after Verzug begins). An empty
    interval (``end`` before ``start``) or a principal of zero or less yields no interest.
    """
    if principal <= 0 or end < start:
        return Interest(principal, ())
    bounds = [start, *table.changes_between(start, end), end + timedelta(days=1)]
    periods = []
    for first, following in pairwise(bounds):
        last = following - timedelta(days=1)
        days = (following - first).days
        rate = table.rate_on(first).percent + surcharge(consumer)
        amount = (principal * rate / 100 * days / DAYS_PER_YEAR).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        periods.append(InterestPeriod(first, last, days, rate, amount))
    return Interest(principal, tuple(periods))


def verzug_begins(due: date, first_deadline: date | None, consumer: bool) -> date | None:
    """The day the debtor is in Verzug (see the module docstring); ``None``: not yet known.

    ``first_deadline`` is the payment deadline of the first notice sent for the invoice.
    """
    candidates = [first_deadline] if first_deadline else []
    if not consumer:
        candidates.append(due + timedelta(days=VERZUG_AFTER_DUE_DAYS))
    return min(candidates) if candidates else None


def interest_start(due: date, first_deadline: date | None, consumer: bool) -> date | None:
    """First day that bears interest: the day after Verzug begins."""
    begins = verzug_begins(due, first_deadline, consumer)
    return begins + timedelta(days=1) if begins else None
