"""``backoffice bank …``: import bank statements, work what no open item was found for.

``unmatched`` lists those payments, ``assign`` applies one to the open items staff name, and
``ignore`` sets one aside that pays no item (a bank fee, a transfer between own accounts).

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


@app.command("assign")
def assign(
    transaction_id: Annotated[int, typer.Argument(help="Nr der Zahlung (siehe „bank unmatched“).")],
    followup_ids: Annotated[
        list[int],
        typer.Argument(help="Nr der offenen Posten, in dieser Reihenfolge bezahlt."),
    ],
    var: VarOption = None,
) -> None:
    """Eine nicht zugeordnete Zahlung offenen Posten von Hand zuordnen."""
    from backoffice.cli import _context
    from backoffice.display import money
    from backoffice.followups.reconcile import PaymentError, assign_payment

    ctx = _context(var)
    try:
        with ctx.catalog.session() as session:
            decision = assign_payment(
                session,
                transaction_id,
                followup_ids,
                actor=cli_actor(),
                tolerance=ctx.settings.followups.amount_tolerance,
            )
    except PaymentError as exc:
        console.print(f"[red]Nicht zugeordnet:[/] {exc}")
        raise typer.Exit(1) from exc
    for a in decision.allocations:
        state = "bezahlt" if a.settles else "Teilzahlung"
        console.print(f"Posten {a.item_id}: {money(a.amount)} ({state})")
    console.print(
        f"Zahlung {transaction_id} {STATUS_LABELS.get(decision.status, decision.status)}."
    )


@app.command("ignore")
def ignore(
    transaction_id: Annotated[int, typer.Argument(help="Nr der Zahlung (siehe „bank unmatched“).")],
    reason: Annotated[
        str, typer.Option("--reason", help="Warum, z. B. „Bankgebühr“ oder „Umbuchung“.")
    ] = "",
    var: VarOption = None,
) -> None:
    """Eine Zahlung ohne Posten ablegen (Bankgebühr, Umbuchung zwischen eigenen Konten)."""
    from backoffice.cli import _context
    from backoffice.followups.reconcile import PaymentError, ignore_payment

    ctx = _context(var)
    try:
        with ctx.catalog.session() as session:
            ignore_payment(session, transaction_id, actor=cli_actor(), reason=reason)
    except PaymentError as exc:
        console.print(f"[red]Nicht geändert:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"Zahlung {transaction_id} wird nicht mehr als offen geführt.")
