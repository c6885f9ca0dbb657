"""``backoffice followups …``: what is due, the dispute flag, payments by hand, the digest.

A thin shell over :mod:`backoffice.followups` (queue, digest, reconcile); every change is
audited there. The audit actor is ``cli:<user>`` (the login of whoever runs the command).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backoffice.commands.common import VarOption, cli_actor, parse_amount, parse_day

app = typer.Typer(
    help="Fälligkeiten, strittige Rechnungen und die Zahlungs-Übersicht per E-Mail.",
    no_args_is_help=True,
)
console = Console()

KIND_LABELS = {"payable": "Zahlung", "receivable": "Forderung"}


@app.command("due")
def due(
    client: Annotated[str | None, typer.Option("--client", "-c", help="Mandantenkürzel.")] = None,
    days: Annotated[int, typer.Option("--days", help="So viele Tage voraus.")] = 7,
    receivables: Annotated[
        bool, typer.Option("--receivables", help="Eigene Forderungen statt Zahlungen.")
    ] = False,
    today: Annotated[str | None, typer.Option("--today", help="Stichtag JJJJ-MM-TT.")] = None,
    var: VarOption = None,
) -> None:
    """Offene Posten, fällig in den nächsten Tagen, überfällig, Skonto-Fristen oder gemahnt."""
    from sqlalchemy import select

    from backoffice.cli import _context
    from backoffice.display import money
    from backoffice.followups.digest import due_items
    from backoffice.models import Client, FollowUpKind

    day = parse_day(today) or date.today()
    kind = FollowUpKind.RECEIVABLE if receivables else FollowUpKind.PAYABLE
    ctx = _context(var)
    with ctx.catalog.session() as session:
        codes = dict(session.execute(select(Client.id, Client.code)).tuples().all())
        client_id = None
        if client:
            client_id = next((i for i, c in codes.items() if c == client), None)
            if client_id is None:
                raise typer.BadParameter(f"Mandant {client} gibt es nicht.")
        items = due_items(session, day, days, client_id=client_id, kind=kind)
    until = day + timedelta(days=days)
    partner = "Schuldner" if receivables else "Gläubiger"
    table = Table(
        "Nr",
        "Mandant",
        "Fällig",
        partner,
        "Rechnung",
        "Offen",
        "Hinweis",
        title=f"{'Forderungen' if receivables else 'Zahlungen'} bis {until:%d.%m.%Y}",
    )
    total = Decimal(0)
    for item in items:
        total += item.outstanding or Decimal(0)
        table.add_row(
            str(item.followup_id),
            codes.get(item.client_id, "?"),
            item.due_date.strftime("%d.%m.%Y") if item.due_date else "–",
            item.creditor,
            item.reference or "–",
            money(item.outstanding),
            item.hint(day),
        )
    console.print(table)
    console.print(f"{len(items)} Posten, zusammen {money(total)}.")


@app.command("dispute")
def dispute(
    followup_id: Annotated[int, typer.Argument(help="Nr des Postens (siehe „followups due“).")],
    off: Annotated[bool, typer.Option("--off", help="Markierung wieder aufheben.")] = False,
    var: VarOption = None,
) -> None:
    """Eine Rechnung als strittig markieren: sie wird nicht gemahnt (--off hebt das auf)."""
    from backoffice.cli import _context
    from backoffice.followups.queue import FollowUpError, set_disputed
    from backoffice.models import FollowUp

    ctx = _context(var)
    with ctx.catalog.session() as session:
        followup = session.get(FollowUp, followup_id)
        if followup is None:
            raise typer.BadParameter(f"Posten {followup_id} gibt es nicht.")
        try:
            changed = set_disputed(session, followup, not off, actor=cli_actor())
        except FollowUpError as exc:
            raise typer.BadParameter(str(exc)) from exc
    state = "nicht mehr strittig" if off else "strittig"
    console.print(f"Posten {followup_id} ist {state}." + ("" if changed else " (unverändert)"))


@app.command("paid")
def paid(
    followup_id: Annotated[int, typer.Argument(help="Nr des Postens (siehe „followups due“).")],
    amount: Annotated[
        str | None, typer.Option("--amount", help="Gezahlter Betrag (Standard: alles Offene).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Zahltag JJJJ-MM-TT (Standard: heute).")
    ] = None,
    var: VarOption = None,
) -> None:
    """Eine Zahlung von Hand erfassen (bar, anderes Konto, Verrechnung)."""
    from backoffice.cli import _context
    from backoffice.display import money
    from backoffice.followups.reconcile import PaymentError, mark_paid
    from backoffice.models import FollowUp

    ctx = _context(var)
    with ctx.catalog.session() as session:
        followup = session.get(FollowUp, followup_id)
        if followup is None:
            raise typer.BadParameter(f"Posten {followup_id} gibt es nicht.")
        value = parse_amount(amount) if amount is not None else followup.outstanding
        if value is None:
            raise typer.BadParameter("Betrag unbekannt: bitte --amount angeben.")
        try:
            mark_paid(
                session,
                followup_id,
                amount=value,
                paid_on=parse_day(on) or date.today(),
                actor=cli_actor(),
            )
        except PaymentError as exc:
            raise typer.BadParameter(str(exc)) from exc
        rest = followup.outstanding
    console.print(f"Zahlung über {money(value)} erfasst, offen: {money(rest)}.")


@app.command("digest")
def digest(
    today: Annotated[str | None, typer.Option("--today", help="Stichtag JJJJ-MM-TT.")] = None,
    var: VarOption = None,
) -> None:
    """Die Zahlungs-Übersicht an alle Mandanten mit E-Mail-Adresse senden (einmal pro Tag)."""
    from backoffice.cli import _context
    from backoffice.followups.digest import send_digests

    run = send_digests(_context(var), parse_day(today))
    for d in run.sent:
        console.print(f"{d.client_code}: {d.count} Posten an {d.to} gesendet.")
    for code, error in run.failed.items():
        console.print(f"[red]{code}: nicht gesendet[/] ({error})")
    if not run.sent and not run.failed:
        console.print("Keine Übersicht zu senden (nichts fällig oder heute schon gesendet).")
    if run.failed:
        raise typer.Exit(1)
