"""The ``backoffice`` command: what staff and operators type.

Commands are thin: they build a :class:`~backoffice.pipeline.Context` from the settings and call
domain functions, or start the Prefect intake flow. Progress bars follow the catalog (the record
of truth) rather than Prefect's events, so they show the same whether the flow runs in this
process or on workers elsewhere.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from backoffice.commands.common import VarOption
from backoffice.config import Settings
from backoffice.display import money
from backoffice.models import Client, Document, DocumentStatus

app = typer.Typer(
    help="Backoffice: Post, Archiv und Buchhaltung für kleine Firmen.", no_args_is_help=True
)
clients_app = typer.Typer(help="Mandanten verwalten.", no_args_is_help=True)
documents_app = typer.Typer(help="Dokumente ansehen.", no_args_is_help=True)
quarantine_app = typer.Typer(
    help="Nicht verarbeitbare Eingänge ansehen und erneut versuchen.", no_args_is_help=True
)
audit_app = typer.Typer(help="Prüfprotokoll.", no_args_is_help=True)
samples_app = typer.Typer(help="Beispielpost erzeugen.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(documents_app, name="documents")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(audit_app, name="audit")
app.add_typer(samples_app, name="samples")

console = Console()


def _settings(var: Path | None) -> Settings:
    return Settings(var_dir=var) if var else Settings()


def _context(var: Path | None) -> Any:
    from backoffice.context import Context

    return Context.from_settings(_settings(var))


FINISHED = (
    DocumentStatus.FILED,
    DocumentStatus.UNASSIGNED,
    DocumentStatus.QUARANTINED,
)


@contextmanager
def _catalog_progress(ctx: Any, label: str) -> Iterator[None]:
    """A progress bar over the documents of the catalog while the block runs."""
    stop = threading.Event()
    with ctx.catalog.session() as session:
        done_before = (
            session.scalar(
                select(func.count()).select_from(Document).where(Document.status.in_(FINISHED))
            )
            or 0
        )

    def poll(progress: Progress, task_id: Any) -> None:
        while not stop.is_set():
            with ctx.catalog.session() as session:
                total = session.scalar(select(func.count()).select_from(Document)) or 0
                done = (
                    session.scalar(
                        select(func.count())
                        .select_from(Document)
                        .where(Document.status.in_(FINISHED))
                    )
                    or 0
                )
            progress.update(
                task_id, total=max(0, total - done_before), completed=done - done_before
            )
            stop.wait(0.5)

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task_id = progress.add_task(label, total=None)
        thread = threading.Thread(target=poll, args=(progress, task_id), daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            with ctx.catalog.session() as session:
                total = session.scalar(select(func.count()).select_from(Document)) or 0
            progress.update(task_id, total=total - done_before, completed=total - done_before)


def _run_intake(
    ctx: Any,
    path: Path | list[Path] | None,
    *,
    use_prefect: bool,
    client_hint: str | None,
    source: str,
) -> list[dict[str, Any]]:
    if use_prefect:
        from flows.runtime import configure_environment

        configure_environment(ctx.settings.var_dir)
        from flows.intake import run_intake

        with _catalog_progress(ctx, "Dokumente"):
            result: list[dict[str, Any]] = run_intake(
                path, ctx.settings, source=source, client_hint=client_hint
            )
        return result
    from backoffice.pipeline import run_batch

    with _catalog_progress(ctx, "Dokumente"):
        return [o.as_dict() for o in run_batch(ctx, path, source=source, client_hint=client_hint)]


def _de_date(value: str) -> str:
    parts = value.split("-")
    return ".".join(reversed(parts)) if len(parts) == 3 else value


def key_fields_line(doc_type: str | None, fields: dict[str, str]) -> str:
    """The few fields that matter, in the words staff use."""
    f = fields
    parts: list[str] = []
    if doc_type == "invoice":
        parts += [f"Nr. {f['invoice_number']}"] if "invoice_number" in f else []
        parts += [money(f["gross_total"])] if "gross_total" in f else []
        parts += [f"fällig {_de_date(f['due_date'])}"] if "due_date" in f else []
        parts += [f"IBAN …{f['iban'][-4:]}"] if "iban" in f else []
    elif doc_type == "reminder":
        stage = {"0": "Zahlungserinnerung", "3": "letzte Mahnung"}.get(
            f.get("dunning_stage", ""), f"{f.get('dunning_stage', '?')}. Mahnung"
        )
        parts += [stage]
        parts += (
            [f"zu {f['referenced_invoice_numbers']}"] if "referenced_invoice_numbers" in f else []
        )
        parts += [money(f["amount_outstanding"])] if "amount_outstanding" in f else []
    elif doc_type == "letter":
        parts += [f.get("subject", "")]
        parts += [f"Frist {_de_date(f['deadline'])}"] if "deadline" in f else []
    else:
        parts += [v for k, v in f.items() if k in ("subtype", "subject")]
    return " · ".join(p for p in parts if p)


def short_key(key: str | None) -> str:
    """An archive key shortened for a table (scope and the start of the hash)."""
    if not key:
        return "–"
    head, _, name = key.rpartition("/")
    scope = head.rsplit("/", 1)[0]
    return (
        f"{scope}/{name[:10]}…{name[name.rfind('.') :]}" if "." in name else f"{scope}/{name[:10]}…"
    )


def print_summary(outcomes: list[dict[str, Any]]) -> None:
    """The per-document table staff look at after a batch."""
    table = Table(title="Eingangspost", expand=True)
    table.add_column("Nr", justify="right")
    table.add_column("Mandant")
    table.add_column("Art")
    table.add_column("Sicher", justify="right")
    table.add_column("Wichtige Felder", ratio=3)
    table.add_column("Ablage", ratio=2, overflow="fold")
    table.add_column("Wiedervorlage", ratio=2)
    for o in sorted(outcomes, key=lambda o: o["document_id"]):
        conf = f"{o['confidence']:.0%}" if o.get("confidence") is not None else "–"
        state = (
            short_key(o["archive_key"]) if o["status"] == "filed" else f"[yellow]{o['status']}[/]"
        )
        if o.get("error"):
            state += f": {o['error']}"
        follow = ", ".join(o["followups"]) or "–"
        if o.get("needs_review"):
            follow += " [yellow](prüfen)[/]"
        table.add_row(
            str(o["document_id"]),
            o["client"] or "?",
            o["doc_type"] or "?",
            conf,
            key_fields_line(o["doc_type"], o["key_fields"]),
            state,
            follow,
        )
    console.print(table)


def demo_users(ctx: Any) -> list[tuple[str, str, str]]:
    """Portal logins for the demo: staff, one per demo client, one accountant.

    Passwords are random, made once and kept in ``var/demo/zugaenge.json`` (readable only by
    the owner), so every run of the demo prints the same working credentials.
    """
    import json
    import secrets

    from backoffice.portal.users import UserError, create_user, set_password
    from backoffice.samples import DEMO_CLIENTS

    path = ctx.settings.var_dir / "demo" / "zugaenge.json"
    if path.exists():
        return [(row[0], row[1], row[2]) for row in json.loads(path.read_text())]
    users: list[tuple[str, str, str, list[str]]] = [
        ("staff@buero.example", "Büro (Mitarbeiterin)", "staff", [])
    ]
    users += [
        (f"{c.code.lower()}@mandant.example", c.name, "client", [c.code]) for c in DEMO_CLIENTS
    ]
    users.append(
        ("steuerberatung@kanzlei.example", "Kanzlei", "accountant", [c.code for c in DEMO_CLIENTS])
    )
    rows = []
    for email, name, role, codes in users:
        password = secrets.token_urlsafe(12)
        try:
            create_user(ctx.catalog, email, name, role, password, codes)
        except UserError:  # the login exists but its password file was removed
            set_password(ctx.catalog, email, password)
        rows.append((email, role, password))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1))
    path.chmod(0o600)
    return rows


@app.command()
def demo(
    var: VarOption = None,
    documents: Annotated[int, typer.Option(help="Anzahl Beispieldokumente.")] = 12,
    seed: Annotated[int, typer.Option(help="Zufallsstartwert der Beispielpost.")] = 1,
    prefect: Annotated[bool, typer.Option(help="Über den Prefect-Flow verarbeiten.")] = True,
) -> None:
    """Beispielpost für drei Mandanten erzeugen und komplett verarbeiten."""
    from backoffice.pipeline import seed_clients
    from backoffice.samples import DEMO_CLIENTS, generate

    ctx = _context(var)
    started = time.perf_counter()
    seed_clients(ctx, DEMO_CLIENTS)
    out = ctx.settings.var_dir / "demo" / f"post-seed{seed}-n{documents}"
    if not (out / "ground_truth.json").exists():
        with console.status("Erzeuge Beispielpost …"):
            generate(out, seed=seed, n_documents=documents)
    console.print(
        f"Beispielpost: {out}/batches (gescannte Stapel mit Trennblättern) und {out}/email"
    )
    outcomes = _run_intake(
        ctx,
        [out / "batches", out / "email"],
        use_prefect=prefect,
        client_hint=None,
        source="folder",
    )
    print_summary(outcomes)
    elapsed = time.perf_counter() - started
    filed = sum(1 for o in outcomes if o["status"] == "filed")
    console.print(
        f"{len(outcomes)} Dokumente in {elapsed:.1f} s verarbeitet, {filed} abgelegt, "
        f"{sum(1 for o in outcomes if o['needs_review'])} zur Prüfung."
    )
    console.print(
        f"Archiv: {ctx.store.url}  ·  Katalog: {ctx.settings.resolved_catalog_url}\n"
        "Ansehen: [bold]backoffice documents list[/] und [bold]backoffice documents show NR[/]"
    )
    logins = Table("Zugang", "Rolle", "Passwort", title="Portal-Zugänge")
    for email, role, password in demo_users(ctx):
        logins.add_row(email, role, password)
    console.print(logins)
    console.print(
        "Portal starten: [bold].venv/bin/backoffice serve[/] und http://127.0.0.1:8000/ öffnen."
    )


@app.command()
def intake(
    path: Annotated[Path, typer.Argument(exists=True, help="Datei oder Ordner mit Post.")],
    client: Annotated[
        str | None, typer.Option("--client", help="Mandantenkürzel, falls bekannt.")
    ] = None,
    prefect: Annotated[bool, typer.Option(help="Über den Prefect-Flow verarbeiten.")] = True,
    var: VarOption = None,
) -> None:
    """Dateien oder einen Ordner einlesen und verarbeiten."""
    ctx = _context(var)
    outcomes = _run_intake(ctx, path, use_prefect=prefect, client_hint=client, source="cli")
    print_summary(outcomes)


@samples_app.command("generate")
def samples_generate(
    out: Annotated[Path, typer.Argument(help="Zielordner.")],
    seed: int = 1,
    documents: int = 12,
    scanned: bool = True,
) -> None:
    """Beispielpost mit Sollwerten (ground_truth.json) erzeugen."""
    from backoffice.samples import generate

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task_id = progress.add_task("Dokumente", total=documents)
        result = generate(
            out,
            seed=seed,
            n_documents=documents,
            scanned=scanned,
            progress=lambda done, total: progress.update(task_id, completed=done, total=total),
        )
    console.print(
        f"{len(result.documents)} Dokumente, {len(result.batches)} Stapel, "
        f"{len(result.emails)} E-Mails in {out}"
    )


def demo_profiles() -> list[Any]:
    """The demo clients as routing profiles (ids 1…3), for evaluation without a catalog."""
    from backoffice.samples import DEMO_CLIENTS
    from backoffice.understand import ClientProfile

    return [
        ClientProfile(
            id=n,
            code=c.code,
            name=c.name,
            aliases=tuple(c.aliases),
            zip=c.zip,
            city=c.city,
            street=c.street,
        )
        for n, c in enumerate(DEMO_CLIENTS, 1)
    ]


EVALUATION_RECORD = Path(__file__).resolve().parent.parent / "models" / "evaluation.json"
HELD_OUT_SEED = 9001


def run_evaluation(
    var_dir: Path, documents: int, einvoices: Path | None, scanned_einvoices: bool
) -> dict[str, Any]:
    """Held-out sample post (unseen seed, all layouts incl. the two never trained on) and the
    real e-invoices; see :mod:`backoffice.understand.evaluate`."""
    from backoffice.samples import generate
    from backoffice.understand.evaluate import evaluate_einvoices, evaluate_samples

    root = var_dir / "evaluation" / f"seed{HELD_OUT_SEED}-n{documents}"
    if not (root / "ground_truth.json").exists():
        generate(root, seed=HELD_OUT_SEED, n_documents=documents, n_emails=0)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as progress:
        task_id = progress.add_task("Beispielpost", total=documents)
        report: dict[str, Any] = {
            "held-out": evaluate_samples(
                root,
                demo_profiles(),
                progress=lambda done, total: progress.update(task_id, completed=done, total=total),
            )
        }
    if einvoices is not None and einvoices.exists():
        with console.status("E-Rechnungen …"):
            report["einvoices"] = evaluate_einvoices(einvoices, scanned=scanned_einvoices)
    return report


def print_evaluation(report: dict[str, Any]) -> None:
    from backoffice.understand import DOC_TYPES

    for corpus, channels in report.items():
        for channel, data in channels.items():
            console.rule(f"{corpus} · {channel} · {data['documents']} Dokumente")
            routing = data["routing_accuracy"]
            console.print(
                f"Klassifikation {data['classification_accuracy']:.1f} %"
                + (f"  ·  Mandant {routing:.1f} %" if routing is not None else "")
            )
            if corpus == "held-out":
                matrix = Table("Soll \\ Ist", *DOC_TYPES, title="Konfusionsmatrix")
                for expected in DOC_TYPES:
                    row = data["confusion"].get(expected, {})
                    matrix.add_row(expected, *(str(row.get(t, 0)) for t in DOC_TYPES))
                console.print(matrix)
            fields = Table("Feld", "Treffer", "Genauigkeit")
            for name, scores in data["fields"].items():
                fields.add_row(
                    name, f"{scores['hits']}/{scores['total']}", f"{scores['accuracy']:.1f} %"
                )
            console.print(fields)
            if data.get("text"):
                ocr = Table("Scan", "Dokumente", "CER", "WER", title="Texterkennung (OCR)")
                for condition, figures in data["text"].items():
                    ocr.add_row(
                        condition,
                        str(figures["documents"]),
                        f"{figures['cer']:.2%}",
                        f"{figures['wer']:.2%}",
                    )
                console.print(ocr)
            for error in data["errors"][:10]:
                console.print(f"  [dim]{error}[/]")


@app.command()
def evaluate(
    documents: Annotated[int, typer.Option(help="Umfang der zurückgehaltenen Beispielpost.")] = 40,
    einvoices: Annotated[Path | None, typer.Option(help="Ordner mit echten E-Rechnungen.")] = Path(
        "../shared/einvoices"
    ),
    scanned_einvoices: Annotated[
        bool, typer.Option(help="E-Rechnungen auch gerastert (300 dpi) über OCR lesen.")
    ] = False,
    record: Annotated[
        bool, typer.Option(help="Ergebnis als neuen Vergleichswert speichern.")
    ] = False,
    check: Annotated[
        bool, typer.Option(help="Fehlschlagen, wenn mehr als 2 Punkte unter dem Vergleichswert.")
    ] = False,
    var: VarOption = None,
) -> None:
    """Klassifikation und Felderkennung messen (zurückgehaltene Post, echte E-Rechnungen)."""
    import json

    from backoffice.understand.evaluate import regressions_against, report_figures

    settings = _settings(var)
    report = run_evaluation(settings.var_dir, documents, einvoices, scanned_einvoices)
    print_evaluation(report)
    figures = report_figures(report)
    if record:
        EVALUATION_RECORD.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        console.print(f"Vergleichswerte gespeichert: {EVALUATION_RECORD}")
    if check and EVALUATION_RECORD.exists():
        problems = regressions_against(report, json.loads(EVALUATION_RECORD.read_text()))
        for problem in problems:
            console.print(f"[red]Verschlechtert:[/] {problem}")
        if problems:
            raise typer.Exit(1)


@app.command()
def train(
    samples: Annotated[int, typer.Option(help="Beispieldokumente fürs Training.")] = 300,
    seed: int = 0,
    out: Annotated[Path, typer.Option(help="Zielordner des Modells.")] = Path("models/textcat"),
    var: VarOption = None,
) -> None:
    """Den Dokumentart-Klassifikator neu trainieren (Beispielpost mit OCR, Korrekturen)."""
    from backoffice.understand.train import main as train_main

    settings = _settings(var)
    args = [
        "--out", str(out),
        "--samples", str(samples),
        "--samples-dir", str(settings.var_dir / "train-corpus"),
        "--layouts", "classic,band,centered,minimal,erp,international",
        "--seed-corpus", "150",
        "--seed", str(seed),
        "--catalog-url", settings.resolved_catalog_url,
    ]  # fmt: skip
    shared = Path("../shared/einvoices/zugferd-2.0")
    if shared.exists():
        args += ["--einvoice-dir", str(shared)]
    raise typer.Exit(train_main(args))


@app.command()
def watch(
    folder: Annotated[Path, typer.Argument(help="Der Ordner, in den der Scanner schreibt.")],
    interval: Annotated[float, typer.Option(help="Sekunden zwischen zwei Blicken.")] = 5.0,
    stable: Annotated[float, typer.Option(help="So lange muss eine Datei unverändert sein.")] = 2.0,
    once: Annotated[bool, typer.Option(help="Nur einmal nachsehen und verarbeiten.")] = False,
    client: Annotated[str | None, typer.Option("--client", help="Mandant dieses Ordners.")] = None,
    var: VarOption = None,
) -> None:
    """Scanner-Ordner überwachen: fertige Dateien übernehmen und verarbeiten."""
    from backoffice.intake.hotfolder import scan_hotfolder
    from backoffice.pipeline import run_batch

    ctx = _context(var)
    folder.mkdir(parents=True, exist_ok=True)
    console.print(f"Überwache {folder} (alle {interval:g} s; Strg+C beendet).")
    try:
        while True:
            received = scan_hotfolder(ctx, folder, stable_seconds=stable, client_hint=client)
            if received:
                console.print(f"{len(received)} Datei(en) übernommen.")
                print_summary([o.as_dict() for o in run_batch(ctx, None, source="folder")])
            if once:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        console.print("Beendet.")


@app.command("fetch-mail")
def fetch_mail(var: VarOption = None) -> None:
    """Alle eingerichteten Postfächer abrufen (IMAP) und die Anhänge verarbeiten."""
    from backoffice.intake.imap import fetch_all
    from backoffice.pipeline import run_batch

    ctx = _context(var)
    if not ctx.settings.intake.mail.mailboxes:
        console.print("Keine Postfächer eingerichtet (intake.mail.mailboxes in backoffice.toml).")
        raise typer.Exit(1)
    failed = False
    for report in fetch_all(ctx):
        if report.error:
            failed = True
            console.print(f"[red]{report.mailbox}:[/] {report.error}")
        else:
            console.print(
                f"{report.mailbox}: {len(report.received)} neu, "
                f"{len(report.redelivered)} schon bekannt, {report.children} Anhänge"
            )
    print_summary([o.as_dict() for o in run_batch(ctx, None, source="email")])
    if failed:
        raise typer.Exit(1)


@app.command("export-archive")
def export_archive(
    client: Annotated[str, typer.Argument(help="Mandantenkürzel.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="ZIP-Datei.")] = None,
    var: VarOption = None,
) -> None:
    """Das vollständige Archiv eines Mandanten als selbsterklärendes Paket (ZIP) ausgeben."""
    from datetime import date

    from backoffice.archive.package import export_client_archive

    ctx = _context(var)
    target = out or ctx.settings.var_dir / "exports" / f"archiv-{client}-{date.today():%Y%m%d}.zip"
    try:
        summary = export_client_archive(ctx, client, target, actor="cli")
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(
        f"{summary.documents} Dokumente, {summary.files} Dateien, {summary.bytes:,} Byte: "
        f"{summary.path}"
    )


@app.command("separator-sheet")
def separator_sheet(
    out: Annotated[Path, typer.Option("-o", "--out", help="PDF-Datei.")] = Path("trennblatt.pdf"),
    client: Annotated[
        str | None, typer.Option("--client", help="Mandantenkürzel auf dem Blatt.")
    ] = None,
) -> None:
    """Ein Trennblatt (QR-Code) zum Ausdrucken erzeugen."""
    from backoffice.intake.separator import make_separator_sheet

    out.write_bytes(make_separator_sheet(client))
    console.print(f"Trennblatt geschrieben: {out}")


@clients_app.command("list")
def clients_list(var: VarOption = None) -> None:
    """Alle Mandanten."""
    ctx = _context(var)
    table = Table("Kürzel", "Name", "Ort", "E-Mail", "Dokumente")
    with ctx.catalog.session() as session:
        for client in session.scalars(select(Client).order_by(Client.code)):
            count = session.scalar(
                select(func.count()).select_from(Document).where(Document.client_id == client.id)
            )
            table.add_row(
                client.code,
                client.name,
                f"{client.zip or ''} {client.city or ''}",
                client.email or "",
                str(count),
            )
    console.print(table)


@clients_app.command("add")
def clients_add(
    code: str,
    name: str,
    street: Annotated[str | None, typer.Option()] = None,
    zip_code: Annotated[str | None, typer.Option("--zip")] = None,
    city: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    alias: Annotated[
        list[str] | None, typer.Option(help="Weitere Schreibweise (mehrfach).")
    ] = None,
    var: VarOption = None,
) -> None:
    """Einen Mandanten anlegen."""
    from backoffice.archive.audit import record_event

    ctx = _context(var)
    with ctx.catalog.session() as session:
        if session.scalar(select(Client).where(Client.code == code)):
            raise typer.BadParameter(f"Mandant {code} gibt es schon.")
        client = Client(
            code=code,
            name=name,
            street=street,
            zip=zip_code,
            city=city,
            email=email,
            aliases=alias or [],
            customer_numbers=[],
        )
        session.add(client)
        session.flush()
        record_event(
            session,
            actor="cli",
            action="client.created",
            client_id=client.id,
            detail={"code": code},
        )
    console.print(f"Mandant {code} angelegt.")


@clients_app.command("demo")
def clients_demo(var: VarOption = None) -> None:
    """Die drei Beispielmandanten anlegen."""
    from backoffice.pipeline import seed_clients
    from backoffice.samples import DEMO_CLIENTS

    console.print(f"{seed_clients(_context(var), DEMO_CLIENTS)} Mandanten angelegt.")


@documents_app.command("list")
def documents_list(
    client: Annotated[str | None, typer.Option("--client")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
    review: Annotated[bool, typer.Option("--review", help="Nur zu prüfende.")] = False,
    var: VarOption = None,
) -> None:
    """Dokumente im Katalog."""
    ctx = _context(var)
    table = Table("Nr", "Mandant", "Art", "Sicherheit", "Titel", "Datum", "Status")
    with ctx.catalog.session() as session:
        query = select(Document).order_by(Document.id)
        if client:
            query = query.join(Client, Document.client_id == Client.id).where(Client.code == client)
        if status:
            query = query.where(Document.status == DocumentStatus(status))
        if review:
            query = query.where(Document.needs_review.is_(True))
        for doc in session.scalars(query):
            table.add_row(
                str(doc.id),
                doc.client.code if doc.client else "?",
                doc.doc_type.value,
                f"{doc.type_confidence:.0%}" if doc.type_confidence is not None else "–",
                doc.title or "",
                doc.doc_date.isoformat() if doc.doc_date else "",
                doc.status.value + (" · prüfen" if doc.needs_review else ""),
            )
    console.print(table)


@documents_app.command("show")
def documents_show(document_id: int, var: VarOption = None) -> None:
    """Ein Dokument mit Feldern, Ablage und Wiedervorlagen."""
    from backoffice.models import FollowUp

    ctx = _context(var)
    with ctx.catalog.session() as session:
        doc = session.get(Document, document_id)
        if doc is None:
            raise typer.BadParameter(f"Kein Dokument {document_id}.")
        console.print(f"[bold]{doc.title or 'Dokument'}[/] (Nr {doc.id})")
        client = doc.client.name if doc.client else "?"
        sender = doc.correspondent.name if doc.correspondent else "?"
        console.print(f"Mandant: {client}  ·  Absender: {sender}")
        console.print(
            f"Art: {doc.doc_type.value} ({doc.type_confidence or 0:.0%})  ·  "
            f"Status: {doc.status.value}  ·  Seiten: {doc.page_count} ({doc.text_source})"
        )
        console.print(f"Original: {doc.original_key}")
        console.print(f"Durchsuchbar: {doc.searchable_key}")
        console.print(f"Aufbewahren bis: {doc.retain_until}")
        if doc.flags:
            console.print("[yellow]Hinweise:[/] " + "; ".join(doc.flags))
        table = Table("Feld", "Wert", "Sicherheit", "Quelle", "Seite")
        for f in doc.fields:
            table.add_row(f.name, f.value, f"{f.confidence:.0%}", f.source, str(f.page or ""))
        console.print(table)
        for fu in session.scalars(select(FollowUp).where(FollowUp.document_id == doc.id)):
            due = fu.due_date or ""
            console.print(f"Wiedervorlage: {fu.kind.value} {due} {fu.amount or ''} {fu.note or ''}")


@quarantine_app.command("list")
def quarantine_list(var: VarOption = None) -> None:
    """Offene Quarantäne-Einträge mit Grund."""
    from backoffice.intake.quarantine import open_entries

    table = Table("Nr", "Eingang", "Dokument", "Quelle", "Grund")
    for e in open_entries(_context(var).catalog):
        table.add_row(
            str(e.id),
            str(e.intake_id or ""),
            str(e.document_id or ""),
            e.source_ref or "",
            e.reason,
        )
    console.print(table)


@quarantine_app.command("retry")
def quarantine_retry(
    entry_id: int,
    prefect: Annotated[bool, typer.Option(help="Über den Prefect-Flow verarbeiten.")] = False,
    var: VarOption = None,
) -> None:
    """Einen Eintrag freigeben und erneut verarbeiten."""
    from backoffice.intake.quarantine import release

    ctx = _context(var)
    release(ctx.catalog, entry_id)
    print_summary(_run_intake(ctx, None, use_prefect=prefect, client_hint=None, source="retry"))


@audit_app.command("verify")
def audit_verify(var: VarOption = None) -> None:
    """Die Hash-Kette des Prüfprotokolls vollständig prüfen."""
    from backoffice.archive.audit import verify_chain

    ctx = _context(var)
    with ctx.catalog.session() as session:
        report = verify_chain(session)
    if report.ok:
        console.print(f"[green]Prüfprotokoll unversehrt[/] ({report.events} Einträge).")
        return
    console.print(
        f"[red]Prüfprotokoll verletzt[/] bei Eintrag {report.first_bad_id}: {report.problem}"
    )
    raise typer.Exit(1)


users_app = typer.Typer(help="Zugänge zum Archiv-Portal verwalten.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse, an der das Portal lauscht.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    var: VarOption = None,
) -> None:
    """Das Archiv-Portal (Webseiten und /api) starten."""
    import uvicorn

    from backoffice.portal.app import create_app

    console.print(f"Portal: http://{host}:{port}/  ·  API: http://{host}:{port}/api/openapi.json")
    uvicorn.run(create_app(_settings(var)), host=host, port=port, proxy_headers=True)


@users_app.command("add")
def users_add(
    email: str,
    *,
    role: Annotated[str, typer.Option("--role", help="staff, client oder accountant.")],
    client: Annotated[
        list[str] | None, typer.Option("--client", help="Mandantenkürzel (mehrfach).")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Passwort (sonst Abfrage).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Anzeigename.")] = None,
    var: VarOption = None,
) -> None:
    """Einen Zugang zum Portal anlegen."""
    from backoffice.portal.users import UserError, create_user

    if password is None:
        password = typer.prompt("Passwort", hide_input=True, confirmation_prompt=True)
    ctx = _context(var)
    try:
        create_user(ctx.catalog, email, name or email, role, password, client or [])
    except (UserError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"Zugang {email} ({role}) angelegt.")


@users_app.command("token")
def users_token(
    email: str,
    name: Annotated[str, typer.Option("--name", help="Wofür der Schlüssel ist.")] = "API",
    var: VarOption = None,
) -> None:
    """Einen persönlichen API-Schlüssel ausgeben (wird nur dieses eine Mal angezeigt)."""
    from backoffice.portal.users import UserError, create_api_token

    try:
        token = create_api_token(_context(var).catalog, email, name)
    except UserError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print("API-Schlüssel (nur jetzt sichtbar, sicher aufbewahren):")
    print(token)


@app.command()
def schedule() -> None:
    """Die wiederkehrenden Läufe starten (Mahnlauf, Zahlungsübersicht, DATEV-Monatsexport)."""
    from flows.runtime import configure_environment

    configure_environment(_settings(None).var_dir)
    from flows.schedule import JOBS, serve_all

    for _, name, cron, description in JOBS:
        console.print(f"{name:<20} {cron:<14} {description}")
    console.print("Läuft, bis es mit Strg+C beendet wird.")
    serve_all()


# Command groups of the follow-up and bookkeeping work live in their own modules; they import
# the helpers above, so they are attached last.
from backoffice.commands import bank as _bank  # noqa: E402
from backoffice.commands import books as _books  # noqa: E402
from backoffice.commands import dunning as _dunning  # noqa: E402
from backoffice.commands import followups as _followups  # noqa: E402

app.add_typer(_followups.app, name="followups")
app.add_typer(_bank.app, name="bank")
app.add_typer(_dunning.app, name="dunning")
app.add_typer(_books.app, name="books")


def main() -> None:  # pragma: no cover - entry point
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
