"""Amounts and dates as German readers expect them, wherever people read them.

One place for the CLI, the portal, e-mails and letters: ``1.234,50 €`` and ``23.11.2026``.
(The sample generator prints many house styles on purpose and has its own formatting.)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def money(value: Decimal | float | str | None, currency: str = "€") -> str:
    """``1234.5`` → ``1.234,50 €`` (German grouping and decimal comma); ``None`` → ``–``.

    Text that is no number is shown as it is rather than hidden.
    """
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    text = f"{amount:,.2f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return f"{text} {currency}"


def date_de(value: date | None) -> str:
    """``2026-11-23`` → ``23.11.2026``; ``None`` → ``–``."""
    return value.strftime("%d.%m.%Y") if value else "–"
