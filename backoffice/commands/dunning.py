"""``backoffice dunning …``: the dunning run for the clients' own overdue invoices.

A thin shell over :mod:`backoffice.followups.dunning`: ``run`` proposes the stages due,
``list`` shows notices (``--status print`` is the print queue), ``approve`` is the staff
decision, ``send`` files and mails the approved letters. Every change is audited there; the
audit actor is ``cli:<user>``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backoffice.commands.common import VarOption, cli_actor, parse_day

app = typer.Typer(
    help="Mahnwesen: überfällige eigene Rechnungen mahnen (vorschlagen, freigeben, versenden).",
    no_args_is_help=True,
)
console = Console()

TodayOption = Annotated[
    str | None, typer.Option("--today", help="Stichtag JJJJ-MM-TT (Standard: heute).")
]
STATUS_LABELS = {
    "proposed": "vorgeschlagen",
    "approved": "freigegeben",
    "sent": "versendet",
    "print": "zu drucken",
    "cancelled": "storniert",
}


def _day(value: str | None) -> date:
    return parse_day(value) or date.today()


@app.command("run")
def run(today: TodayOption = None, var: VarOption = None) -> None:
    """Fällige Mahnstufen vorschlagen; Vorschläge zu bezahlten Rechnungen stornieren."""
    from backoffice.cli import _context
    from backoffice.followups.dunning import run_proposals

    result = run_proposals(_context(var), _day(today))
    console.print(
        f"{len(result.proposed)} Mahnung(en) vorgeschlagen, {len(result.cancelled)} storniert."
    )
    if result.proposed:
        console.print("Freigeben mit: backoffice dunning approve --all")


@app.command("list")
def list_(
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="proposed, approved, sent, print (Druckliste), cancelled oder all.",
        ),
    ] = "proposed",
    client: Annotated[str | None, typer.Option("--client", "-c", help="Mandantenkürzel.")] = None,
    var: VarOption = None,
) -> None:
    """Mahnungen anzeigen (Standard: die Vorschläge, die auf Freigabe warten)."""
    from backoffice.cli import _context
    from backoffice.display import money
    from backoffice.followups.dunning import list_notices
    from backoffice.models import DunningStatus

    if status != "all" and status not in STATUS_LABELS:
        raise typer.BadParameter(f"Unbekannter Status „{status}“.")
    wanted = None if status == "all" else [DunningStatus(status)]
    with _context(var).catalog.session() as session:
        views = list_notices(session, wanted, client)
    if not views:
        console.print("Keine Mahnungen.")
        return
    table = Table(title="Mahnungen")
    for column in ("Nr", "Mandant", "Schuldner", "Rechnung", "Stufe", "Status", "Gesamt", "Frist"):
        table.add_column(column)
    for v in views:
        table.add_row(
            str(v.id),
            v.client_code,
            v.debtor,
            v.reference,
            v.subject,
            STATUS_LABELS[v.status.value],
            money(v.total),
            v.deadline.strftime("%d.%m.%Y"),
        )
    console.print(table)


@app.command("approve")
def approve(
    ids: Annotated[list[int] | None, typer.Argument(help="Nummern der Mahnungen.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Alle Vorschläge freigeben.")] = False,
    client: Annotated[
        str | None, typer.Option("--client", "-c", help="Mit --all: nur dieser Mandant.")
    ] = None,
    today: TodayOption = None,
    var: VarOption = None,
) -> None:
    """Vorgeschlagene Mahnungen freigeben (einzeln per Nummer oder alle mit --all)."""
    from backoffice.cli import _context
    from backoffice.followups import dunning

    if bool(ids) == all_:
        raise typer.BadParameter("Entweder Nummern angeben oder --all.")
    with _context(var).catalog.session() as session:
        chosen = list(ids or []) if not all_ else dunning.proposed_ids(session, client)
        result = dunning.approve(session, chosen, cli_actor(), _day(today))
    console.print(f"{len(result.approved)} Mahnung(en) freigegeben.")
    for notice_id, reason in result.refused.items():
        console.print(f"Nr. {notice_id} nicht freigegeben: {reason}")
    if result.refused:
        raise typer.Exit(1)


@app.command("send")
def send(today: TodayOption = None, var: VarOption = None) -> None:
    """Freigegebene Mahnungen ablegen und per E-Mail senden (ohne Adresse: Druckliste)."""
    from backoffice.cli import _context
    from backoffice.followups.dunning import dispatch

    result = dispatch(_context(var), _day(today))
    console.print(
        f"{len(result.sent)} per E-Mail versendet, {len(result.printed)} zum Drucken, "
        f"{len(result.cancelled)} storniert (inzwischen erledigt)."
    )
    if result.printed:
        console.print("Druckliste: backoffice dunning list --status print")
    for notice_id, error in result.failed.items():
        console.print(f"Nr. {notice_id} nicht versendet: {error}")
    if result.failed:
        raise typer.Exit(1)
