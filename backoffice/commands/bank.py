"""``backoffice bank …``: import bank statements, list what no open item was found for.

A thin shell over :mod:`backoffice.followups.reconcile`, where every import and payment is
audited. The audit actor is ``cli:<user>`` (the login of whoever runs the command).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backoffice.commands.common import VarOption, cli_actor

app = typer.Typer(
    help="Kontoauszüge einlesen (CAMT.053, CSV) und Zahlungen den offenen Posten zuordnen.",
    no_args_is_help=True,
)
console = Console()


STATUS_LABELS = {
    "matched": "[green]zugeordnet[/]",
    "partial": "[yellow]Teilzahlung[/]",
    "unmatched": "[red]offen[/]",
    "ignored": "[dim]Storno[/]",
}


def _short(text: str | None, width: int = 50) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Kontoauszug (CAMT.053-XML oder CSV).")],
    client: Annotated[str, typer.Option("--client", "-c", help="Mandantenkürzel.")],
    var: VarOption = None,
) -> None:
    """Einen Kontoauszug einlesen und die Zahlungen offenen Rechnungen zuordnen."""
    from backoffice.cli import _context
    from backoffice.display import money
    from backoffice.followups.bank import BankStatementError
    from backoffice.followups.reconcile import PaymentError, import_statement

    if not file.is_file():
        raise typer.BadParameter(f"Datei {file} nicht gefunden.")
    ctx = _context(var)
    try:
        result = import_statement(
            ctx, client, file.read_bytes(), actor=cli_actor(), filename=file.name
        )
    except (BankStatementError, PaymentError) as exc:
        console.print(f"[red]Nicht eingelesen:[/] {exc}")
        raise typer.Exit(1) from exc
    for warning in result.warnings:
        console.print(f"[yellow]Hinweis:[/] {warning}")
    table = Table("Nr", "Datum", "Betrag", "Gegenpartei", "Verwendungszweck", "Ergebnis", "Posten")
    for o in result.outcomes:
        table.add_row(
            str(o.transaction_id),
            o.booking_date.strftime("%d.%m.%Y"),
            money(o.amount),
            _short(o.counterparty, 30),
            _short(o.remittance),
            STATUS_LABELS.get(o.status, o.status),
            ", ".join(str(f) for f in o.followup_ids) or _short(o.detail, 40),
        )
    if result.outcomes:
        console.print(table)
    console.print(
        f"{result.new} neue Buchungen ({result.count('matched')} zugeordnet, "
        f"{result.count('partial')} Teilzahlungen, {result.count('unmatched')} offen), "
        f"{result.known} schon bekannt. Abgelegt unter {result.source_key}."
    )


@app.command("unmatched")
def unmatched(
    client: Annotated[str | None, typer.Option("--client", "-c", help="Mandantenkürzel.")] = None,
    var: VarOption = None,
) -> None:
    """Zahlungen, die keinem offenen Posten zugeordnet werden konnten."""
    from sqlalchemy import select

    from backoffice.cli import _context
    from backoffice.display import money
    from backoffice.followups.reconcile import unmatched_transactions
    from backoffice.models import Client

    ctx = _context(var)
    with ctx.catalog.session() as session:
        codes = {cid: code for cid, code in session.execute(select(Client.id, Client.code))}
        ids = None
        if client is not None:
            ids = [cid for cid, code in codes.items() if code == client]
            if not ids:
                raise typer.BadParameter(f"Mandant {client} gibt es nicht.")
        rows = unmatched_transactions(session, ids)
        if not rows:
            console.print("Keine offenen Zahlungen.")
            return
        table = Table("Nr", "Mandant", "Datum", "Betrag", "Gegenpartei", "IBAN", "Verwendungszweck")
        for tx in rows:
            table.add_row(
                str(tx.id),
                codes.get(tx.client_id, "?"),
                tx.booking_date.strftime("%d.%m.%Y"),
                money(tx.amount),
                _short(tx.counterparty_name, 30),
                tx.counterparty_iban or "",
                _short(tx.remittance),
            )
        console.print(table)
        console.print(f"{len(rows)} Zahlungen ohne Zuordnung.")
