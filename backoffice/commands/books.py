"""``backoffice books …``: booking proposals, approval, correction and the DATEV export.

A thin shell over :mod:`backoffice.exports.ledger`; every decision is audited there. The
actor of the audit log is ``cli:<user>`` (the login of whoever runs the command).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from backoffice.commands.common import VarOption, cli_actor

if TYPE_CHECKING:
    from backoffice.context import Context
    from backoffice.models import Client

app = typer.Typer(help="Buchungsvorschläge, Freigabe und DATEV-Export.", no_args_is_help=True)
console = Console()

STATUS_LABELS = {
    "proposed": "Vorschlag",
    "approved": "freigegeben",
    "exported": "exportiert",
    "rejected": "verworfen",
}
ClientOption = Annotated[str, typer.Option("--client", "-c", help="Mandantenkürzel.")]


def _ctx(var: Path | None) -> Context:
    from backoffice.cli import _context

    ctx: Context = _context(var)
    return ctx


def _client(ctx: Context, code: str) -> Client:
    from sqlalchemy import select

    from backoffice.models import Client

    with ctx.catalog.session() as s:
        client = s.scalar(select(Client).where(Client.code == code))
        if client is None:
            raise typer.BadParameter(f"Mandant {code!r} unbekannt.", param_hint="--client")
        s.expunge(client)
        return client


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


@app.command("propose")
def propose(
    client: Annotated[
        str | None, typer.Option("--client", "-c", help="Nur dieser Mandant.")
    ] = None,
    var: VarOption = None,
) -> None:
    """Buchungsvorschläge für alle abgelegten Rechnungen ohne Buchung anlegen."""
    from backoffice.exports.ledger import client_codes, propose_client

    ctx = _ctx(var)
    codes = [_client(ctx, client).code] if client else client_codes(ctx)
    for code in codes:
        run = propose_client(ctx, code)
        console.print(
            f"{code}: {len(run.created)} Buchungen zu {len(run.documents)} Rechnungen vorgeschlagen"
        )
        for doc_id, reason in sorted(run.failed.items()):
            console.print(f"  Dokument {doc_id} nicht buchbar: {reason}")


@app.command("list")
def list_bookings(
    client: ClientOption,
    status: Annotated[
        str | None,
        typer.Option(help="proposed, approved, exported oder rejected."),
    ] = None,
    var: VarOption = None,
) -> None:
    """Die Buchungen eines Mandanten anzeigen."""
    from sqlalchemy import select

    from backoffice.models import BookingEntry, BookingStatus

    ctx = _ctx(var)
    target = _client(ctx, client)
    stmt = select(BookingEntry).where(BookingEntry.client_id == target.id)
    if status:
        if status not in STATUS_LABELS:
            raise typer.BadParameter(
                f"{status!r}: {', '.join(STATUS_LABELS)}", param_hint="--status"
            )
        stmt = stmt.where(BookingEntry.status == BookingStatus(status))
    table = Table(title=f"Buchungen {target.code}")
    for column in ("ID", "Beleg", "Datum", "Belegfeld 1", "Betrag", "S/H", "Konto", "Gegenkonto"):
        table.add_column(column)
    for column in ("BU", "Buchungstext", "Status", "Quelle", "Export"):
        table.add_column(column)
    with ctx.catalog.session() as s:
        for e in s.scalars(stmt.order_by(BookingEntry.document_date, BookingEntry.id)):
            table.add_row(
                str(e.id),
                str(e.document_id or ""),
                e.document_date.strftime("%d.%m.%Y"),
                e.belegfeld1,
                f"{e.amount:.2f}".replace(".", ","),
                e.debit_credit,
                str(e.account),
                str(e.contra_account),
                e.bu_key or "",
                e.text,
                STATUS_LABELS[e.status.value],
                e.source,
                str(e.export_id or ""),
            )
    console.print(table)


@app.command("approve")
def approve_cmd(
    ids: Annotated[list[int] | None, typer.Argument(help="Buchungs-IDs.")] = None,
    client: ClientOption = "",
    all_: Annotated[bool, typer.Option("--all", help="Alle Vorschläge des Mandanten.")] = False,
    var: VarOption = None,
) -> None:
    """Buchungen für den Export freigeben (einzeln oder --all für einen Mandanten)."""
    from backoffice.exports.ledger import LedgerError, approve, pending_ids

    if not client:
        raise typer.BadParameter("Bitte --client angeben.", param_hint="--client")
    if all_ == bool(ids):
        raise typer.BadParameter("Entweder IDs oder --all angeben.")
    ctx = _ctx(var)
    target = _client(ctx, client)
    try:
        with ctx.catalog.session() as s:
            wanted = pending_ids(s, target.id) if all_ else list(ids or [])
            changed = approve(s, wanted, cli_actor(), client_id=target.id)
    except LedgerError as exc:
        raise _fail(exc) from exc
    console.print(f"{len(changed)} Buchung(en) freigegeben.")


@app.command("correct")
def correct_cmd(
    booking_id: Annotated[int, typer.Argument(help="Buchungs-ID.")],
    account: Annotated[int | None, typer.Option(help="Konto (Feld 7).")] = None,
    contra_account: Annotated[
        int | None, typer.Option("--contra-account", help="Gegenkonto (Feld 8).")
    ] = None,
    bu_key: Annotated[str | None, typer.Option("--bu", help="BU-Schlüssel; leer = keiner.")] = None,
    text: Annotated[str | None, typer.Option(help="Buchungstext (≤60 Zeichen).")] = None,
    note: Annotated[str | None, typer.Option(help="Begründung.")] = None,
    var: VarOption = None,
) -> None:
    """Eine Buchung korrigieren; nach dem Export entstehen Storno und neue Buchung."""
    from backoffice.exports.ledger import LedgerError, correct

    ctx = _ctx(var)
    changes: dict[str, Any] = {}
    if bu_key is not None:
        changes["bu_key"] = bu_key
    try:
        with ctx.catalog.session() as s:
            result = correct(
                s,
                booking_id,
                cli_actor(),
                account=account,
                contra_account=contra_account,
                text=text,
                note=note,
                **changes,
            )
            new_id, same = result.id, result.id == booking_id
    except LedgerError as exc:
        raise _fail(exc) from exc
    if same:
        console.print(f"Buchung {booking_id} korrigiert; bitte erneut freigeben.")
    else:
        console.print(
            f"Buchung {booking_id} war exportiert: Storno und neue Buchung {new_id} angelegt; "
            "beide bitte freigeben."
        )


@app.command("export")
def export_cmd(
    client: ClientOption,
    month: Annotated[str, typer.Option("--month", "-m", help="Monat als JJJJ-MM.")],
    var: VarOption = None,
) -> None:
    """Freigegebene Buchungen eines Monats als DATEV-Export im Archiv ablegen."""
    from backoffice.exports.ledger import LedgerError, export_period, month_period
    from backoffice.models import utcnow

    ctx = _ctx(var)
    target = _client(ctx, client)
    try:
        start, end = month_period(month)
        now: datetime = utcnow()
        result = export_period(ctx, target, start, end, cli_actor(), now)
    except LedgerError as exc:
        raise _fail(exc) from exc
    console.print(
        f"{result.booking_count} Buchungen mit {result.document_count} Belegen exportiert:"
    )
    for key in (result.extf_key, result.master_data_key, result.documents_key):
        console.print(f"  {key}")
