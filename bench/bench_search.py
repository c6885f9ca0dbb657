"""Benchmark of the archive search on 100,000 documents: SQLite FTS5 and PostgreSQL side by side.

Run with ``.venv/bin/python bench/bench_search.py`` (``--help`` for options). The script makes
its own catalog: synthetic German business post from a small vocabulary (Zipf-distributed, so
common words such as "Rechnung" occur in a large share of the documents, as in real post),
spread over 50 clients, bulk-inserted with SQLAlchemy Core; then the search index is built with
the product's own ``index_documents`` and timed.

PostgreSQL runs in a throw-away cluster started like the tests do (``tests.services``).

Measured per backend: latency of :func:`backoffice.portal.search.search` as a client user calls
it from the archive page (one client's scope, 20 hits with snippets, total count), for

* a word, a word plus filters (type and date or amount), a stemmed/prefix word, two words;
* the archive list without a word (newest first, one filter);
* for comparison a staff search over all clients.

Target: p95 ≤ 100 ms for the client searches.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backoffice.db import Catalog
from backoffice.models import (
    Client,
    Correspondent,
    DocType,
    Document,
    DocumentStatus,
    ExtractedField,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Intake,
    Role,
)
from backoffice.portal.access import Scope
from backoffice.portal.search import PaymentState, SearchFilters, index_documents, search


def _words(text: str) -> list[str]:
    return text.split()


def _names(text: str) -> list[str]:
    return text.split("|")


COMMON = _words(
    "Rechnung Betrag Zahlung Konto Kunde Datum Nummer bitte Ihnen freundlichen Grüßen Tagen "
    "Leistung Auftrag Frist Vertrag Steuer Gesamtbetrag Umsatzsteuer netto brutto fällig"
)
MIDDLE = _words(
    "Rechnungen Mahnung Mahnungen Zahlungserinnerung Lieferung Lieferschein Angebot "
    "Bestellung Versicherung Versicherungen Beitrag Beiträge Miete Nebenkosten Strom Gas "
    "Wasser Heizung Finanzamt Bescheid Einspruch Vorauszahlung Gewerbesteuer Grundsteuer "
    "Kündigung Bestätigung Gutschrift Stornierung Rabatt Skonto Überweisung Lastschrift "
    "Kredit Darlehen Zinsen Gebühr Gebühren Mitgliedschaft Abonnement Wartung Reparatur "
    "Handwerker Fahrzeug Leasing Büromaterial Druckerpapier Toner Software Lizenz Hosting "
    "Telefon Internet Mobilfunk Porto Versand Paket Reinigung Entsorgung Müllabfuhr "
    "Schornsteinfeger Prüfung Gutachten Beratung Honorar Notar Gericht Anwalt Zustellung "
    "Behörde Stadtverwaltung Gewerbeamt Berufsgenossenschaft Krankenkasse "
    "Sozialversicherung Lohnsteuer Kammer Bank Sparkasse Kontoauszug Depot "
    "Quartalsabrechnung Jahresabrechnung Abschlag Zählerstand Verbrauch Tarif "
    "Preisanpassung"
)
RARE = _words(
    "Zahnarztpraxis Gärtnerei Fensterputz Brandschutz Feuerlöscher Aufzugwartung Dachrinne "
    "Parkettboden Kühlschrank Kaffeemaschine Wasserspender Stehtisch Schreibtischlampe "
    "Messestand Werbebanner Visitenkarten Briefpapier Stempel Schlüsseldienst Alarmanlage "
    "Photovoltaik Wärmepumpe Ladesäule Dienstwagen Fahrradleasing Jobticket Betriebsfeier "
    "Weihnachtsfeier Fortbildung Seminar Zertifikat Datenschutz Schulung Arbeitsschutz"
)
FILLER = _words(
    "und der die das mit für von auf im wir Sie Ihr unser den dem zum zur gemäß laut wie "
    "vereinbart erhalten überweisen innerhalb sowie aus bei nach oder ohne vom"
)
SENDERS = _names(
    "Müller Bürobedarf|Schäfer Haustechnik|Köhler Elektro|Günther Gebäudereinigung|"
    "Jäger & Söhne|Krämer Versicherungen|Schröder IT-Service|Stadtwerke Nordstadt|"
    "Finanzamt Mitte|Telekom|Vodafone|Allianz|Sparkasse Rheinland|Volksbank Süd|AOK|"
    "Techniker Krankenkasse|DHL|Hermes Logistik|Weiß Steuerberatung|Hausverwaltung Krause|"
    "Berger Bau|Fischer Catering|Wagner Druck|Becker Reisen|Hoffmann Autohaus|"
    "Schulz Immobilien|Zimmermann Metall|Braun Logistik|Hartmann Sicherheit|"
    "Lange Consulting"
)


@dataclass
class Sizes:
    documents: int
    clients: int
    words_per_doc: int


def _weights(words: list[str], base: float) -> list[float]:
    return [base / (rank + 1) for rank in range(len(words))]


def generate(catalog: Catalog, sizes: Sizes, seed: int) -> list[int]:
    """Fill ``catalog`` with synthetic post; returns the client ids."""
    rng = random.Random(seed)
    vocab = COMMON + MIDDLE + RARE + FILLER
    weights = (
        _weights(COMMON, 40.0) + _weights(MIDDLE, 6.0) + _weights(RARE, 1.0) + [8.0] * len(FILLER)
    )
    with catalog.session() as s:
        s.execute(
            insert(Client),
            [
                {"code": f"C{n:03d}", "name": f"Mandant {n}", "aliases": [], "customer_numbers": []}
                for n in range(sizes.clients)
            ],
        )
        client_ids = list(s.scalars(select(Client.id).order_by(Client.id)))
        s.execute(
            insert(Correspondent),
            [{"client_id": c, "name": name} for c in client_ids for name in SENDERS],
        )
        rows = s.execute(select(Correspondent.id, Correspondent.client_id, Correspondent.name))
        corr = {(c, n): i for i, c, n in rows}
        per_intake = 100
        intakes = (sizes.documents + per_intake - 1) // per_intake
        s.execute(
            insert(Intake),
            [
                {
                    "sha256": f"{n:064x}",
                    "size": 1,
                    "source": "bench",
                    "storage_key": f"intake/originals/{n:064x}.pdf",
                    "status": "split",
                    "redeliveries": 0,
                }
                for n in range(intakes)
            ],
        )
        intake_ids = list(s.scalars(select(Intake.id).order_by(Intake.id)))
    types = [DocType.INVOICE] * 5 + [DocType.REMINDER] + [DocType.LETTER] * 3 + [DocType.OTHER]
    start = date(2018, 1, 1)
    batch = 5000
    for offset in range(0, sizes.documents, batch):
        docs, payload = [], []
        for n in range(offset, min(offset + batch, sizes.documents)):
            client = rng.choice(client_ids)
            doc_type = rng.choice(types)
            sender = rng.choice(SENDERS)
            words = rng.choices(vocab, weights, k=sizes.words_per_doc)
            label = {"invoice": "Rechnung", "reminder": "Mahnung", "letter": "Brief"}.get(
                doc_type.value, "Dokument"
            )
            amount = Decimal(rng.randint(500, 500_000)) / 100
            docs.append(
                {
                    "intake_id": intake_ids[n // per_intake],
                    "client_id": client,
                    "correspondent_id": corr[(client, sender)],
                    "first_page": n % per_intake + 1,
                    "page_count": 1,
                    "pages": [1],
                    "sha256": f"{n:064x}",
                    "status": DocumentStatus.FILED,
                    "doc_type": doc_type,
                    "type_scores": {},
                    "title": f"{label} {rng.randint(1000, 99999)} – {sender}",
                    "doc_date": start + timedelta(days=rng.randint(0, 2900)),
                    "text": f"{sender}\n{label}\n" + " ".join(words),
                    "needs_review": False,
                    "flags": [],
                    "attempts": 1,
                }
            )
            payload.append((doc_type, amount))
        with catalog.session() as s:
            s.execute(insert(Document), docs)
            first = offset + 1  # ids are dense on a fresh catalog
            fields, followups = [], []
            for k, (doc_type, amount) in enumerate(payload):
                doc_id = first + k
                if doc_type == DocType.INVOICE:
                    fields.append(
                        {
                            "document_id": doc_id,
                            "name": "gross_total",
                            "value": str(amount),
                            "confidence": 0.9,
                            "source": "text",
                        }
                    )
                    followups.append(
                        {
                            "client_id": docs[k]["client_id"],
                            "document_id": doc_id,
                            "kind": FollowUpKind.PAYABLE,
                            "status": rng.choice([FollowUpStatus.OPEN, FollowUpStatus.DONE]),
                            "amount": amount,
                            "priority": 0,
                        }
                    )
            if fields:
                s.execute(insert(ExtractedField), fields)
                s.execute(insert(FollowUp), followups)
    return client_ids


def build_index(catalog: Catalog, total: int, chunk: int = 2000) -> float:
    started = time.perf_counter()
    for start in range(1, total + 1, chunk):
        with catalog.session() as s:
            index_documents(s, range(start, min(start + chunk, total + 1)), chunk=chunk)
    return time.perf_counter() - started


Case = Callable[[random.Random], tuple[str, SearchFilters]]

CASES: dict[str, Case] = {
    "word (common: Rechnung)": lambda r: ("Rechnung", SearchFilters()),
    "word (mid-frequency)": lambda r: (r.choice(MIDDLE), SearchFilters()),
    "word (rare)": lambda r: (r.choice(RARE), SearchFilters()),
    "word + type + date range": lambda r: (
        r.choice(MIDDLE),
        SearchFilters(
            doc_type=DocType.INVOICE, date_from=date(2020, 1, 1), date_to=date(2022, 12, 31)
        ),
    ),
    "word + amount + to pay": lambda r: (
        "Rechnung",
        SearchFilters(amount_min=Decimal(1000), status=PaymentState.TO_PAY),
    ),
    "stemmed (Rechnungen/Versicherungen)": lambda r: (
        r.choice(["Rechnungen", "Versicherungen", "Mahnungen", "Gebühren", "Beiträge"]),
        SearchFilters(),
    ),
    "prefix (Versich*, Kontoa*)": lambda r: (
        r.choice(["Versich*", "Kontoa*", "Zahlungs*"]),
        SearchFilters(),
    ),
    "two words": lambda r: (f"{r.choice(MIDDLE)} {r.choice(SENDERS).split()[0]}", SearchFilters()),
    "list, no word (newest first)": lambda r: ("", SearchFilters(doc_type=DocType.INVOICE)),
}


def measure(
    catalog: Catalog, client_ids: list[int], rounds: int, seed: int
) -> dict[str, tuple[float, float, float]]:
    rng = random.Random(seed)
    results: dict[str, tuple[float, float, float]] = {}
    cases = [*CASES.items(), ("staff: word over all clients", CASES["word (mid-frequency)"])]
    for name, make in cases:
        timings: list[float] = []
        totals: list[int] = []
        for i in range(rounds + 5):
            client = rng.choice(client_ids)
            role = Role.STAFF if name.startswith("staff") else Role.CLIENT
            scope = Scope(0, "bench@example.org", "Bench", role, frozenset({client}))
            query, filters = make(rng)
            with catalog.session() as s:
                began = time.perf_counter()
                page = search(s, scope, query, filters, limit=20)
                elapsed = time.perf_counter() - began
            if i >= 5:  # warm-up rounds are not counted
                timings.append(elapsed * 1000)
                totals.append(page.total)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        results[name] = (p50, p95, statistics.mean(totals))
    return results


def run_backend(label: str, url: str, sizes: Sizes, rounds: int, seed: int) -> dict[str, Any]:
    catalog = Catalog(url)
    catalog.migrate()
    began = time.perf_counter()
    client_ids = generate(catalog, sizes, seed)
    generated = time.perf_counter() - began
    indexed = build_index(catalog, sizes.documents)
    if catalog.is_postgres:
        with catalog.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with catalog.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("INSERT INTO documents_fts(documents_fts) VALUES ('optimize')")
    print(
        f"{label}: {sizes.documents:,} documents generated in {generated:.1f} s, "
        f"indexed in {indexed:.1f} s ({sizes.documents / indexed:,.0f} documents/s)",
        flush=True,
    )
    results = measure(catalog, client_ids, rounds, seed)
    catalog.dispose()
    return {"results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--words", type=int, default=80, help="words per document")
    parser.add_argument("--rounds", type=int, default=200, help="searches per case")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    sizes = Sizes(args.documents, args.clients, args.words)

    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'catalog.sqlite'}"
        reports["SQLite FTS5"] = run_backend("SQLite FTS5", url, sizes, args.rounds, args.seed)
    if not args.skip_postgres:
        from tests.services import postgres_server

        with postgres_server() as server:
            reports["PostgreSQL"] = run_backend(
                "PostgreSQL", server.create_database("bench_search"), sizes, args.rounds, args.seed
            )

    names = list(next(iter(reports.values()))["results"])
    width = max(len(n) for n in names)
    print()
    print(
        f"Search latency, {sizes.documents:,} documents, {sizes.clients} clients, "
        f"{args.rounds} searches per case (ms; hits = mean total matches in the scope)"
    )
    header = f"{'case':<{width}}"
    for label in reports:
        header += f" | {label + ' p50':>16} {'p95':>7} {'hits':>7}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name in names:
        line = f"{name:<{width}}"
        for report in reports.values():
            p50, p95, hits = report["results"][name]
            line += f" | {p50:>16.1f} {p95:>7.1f} {hits:>7.0f}"
            if not name.startswith("staff"):
                worst = max(worst, p95)
        print(line)
    verdict = "met" if worst <= 100 else "NOT met"
    print(f"\nWorst client-search p95: {worst:.1f} ms (target ≤ 100 ms: {verdict})")


if __name__ == "__main__":
    main()
