"""What every command group shares: the ``--var`` option, the audit actor, dates and amounts.

``backoffice.cli`` imports the command groups, so they cannot import it at module level; the
pieces they share live here and ``backoffice.cli`` uses the same ones.
"""

from __future__ import annotations

import getpass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

VarOption = Annotated[Path | None, typer.Option("--var", help="Datenordner (Standard: ./var).")]


def cli_actor() -> str:
    """Who acts, for the audit log: ``cli:<login>`` of whoever runs the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def parse_day(value: str | None) -> date | None:
    """``JJJJ-MM-TT`` → date (``None`` stays ``None``); a clear error otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"Datum bitte als JJJJ-MM-TT, nicht „{value}“.") from exc


def parse_amount(value: str) -> Decimal:
    """``1.234,56``, ``1234,56`` or ``1234.56`` (with or without €) → Decimal."""
    text = value.replace("€", "").replace(" ", "").strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise typer.BadParameter(f"Betrag „{value}“ nicht verstanden.") from exc
    if not amount.is_finite():
        raise typer.BadParameter(f"Betrag „{value}“ nicht verstanden.")
    return amount
