"""Benchmark: writing and strictly re-reading a DATEV Buchungsstapel, against plain ``csv``.

Anchor: the standard library's ``csv.writer``/``csv.reader`` on the very same 125-column rows
(already rendered as strings). The anchor knows nothing about DATEV — no validation, no
per-column quoting, no normalisation — so the ratio shows what those rules cost on top of
writing and splitting CSV lines.

The second part measures the full export path (:func:`backoffice.exports.ledger.export_period`)
on a real catalog (SQLite) and folder archive: the approved bookings of a month (two per
invoice document) are loaded, the Buchungstapel, the Debitoren/Kreditoren file and the ZIP of
the document PDFs are written and filed, and the bookings are marked exported. Proposing is
not measured. Its anchor is the pure writer on the same bookings, so the ratio shows what the
catalog and the archive cost on top.

    .venv/bin/python bench/bench_datev.py [--bookings 10000] [--repeat 5] [--export-repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from backoffice.archive.storage import client_scope, content_key, sha256_hex
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.exports.datev import Booking, ExtfHeader, parse_extf, write_buchungsstapel
from backoffice.exports.ledger import export_period
from backoffice.models import (
    BookingEntry,
    BookingStatus,
    Client,
    DocType,
    Document,
    DocumentStatus,
    Intake,
    PersonalAccount,
)

HEADER = ExtfHeader(
    consultant_number=1234567,
    client_number=10001,
    fiscal_year_start=date(2025, 1, 1),
    created_at=datetime(2025, 4, 4, 10, 15),
    period_from=date(2025, 1, 1),
    period_to=date(2025, 12, 31),
    label="Benchmark 2025",
)
SUPPLIERS = ["Bürobedarf Muster GmbH", 'Café "Zur Post"', "Stadtwerke Nord", "Verlag Ärger & Co"]


def make_bookings(n: int, seed: int = 1) -> list[Booking]:
    """Realistic mix: umlauts, quotes, invoice numbers needing normalisation, dates, BU keys."""
    rng = random.Random(seed)
    bookings = []
    for i in range(n):
        issued = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        number = rng.choice([f"RE-2025-{i:05d}", f"RE {i}/2025.A", f"{i}"])
        bookings.append(
            Booking(
                amount=Decimal(rng.randrange(1, 10_000_000)).scaleb(-2),
                debit_credit=rng.choice("SH"),
                account=70001 + rng.randrange(500),
                contra_account=rng.choice([4930, 4940, 4210, 3400]),
                bu_key=rng.choice(["9", "8", None]),
                document_date=issued,
                belegfeld1=number,
                text=f"{rng.choice(SUPPLIERS)} {number}",
                service_date=issued - timedelta(days=rng.randrange(30)),
                due_date=issued + timedelta(days=14),
            )
        )
    return bookings


def best_seconds(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--export-repeat", type=int, default=3)
    args = parser.parse_args()
    n: int = args.bookings

    bookings = make_bookings(n)
    data = write_buchungsstapel(HEADER, bookings)
    parsed = parse_extf(data)
    rows = [list(row.values()) for row in parsed.rows]  # the same fields, as plain strings
    text = data.decode("cp1252")

    def csv_write() -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerows(rows)
        return buffer.getvalue().encode("cp1252")

    def csv_read() -> list[list[str]]:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))

    timings = {
        "write": (
            best_seconds(lambda: write_buchungsstapel(HEADER, bookings), args.repeat),
            best_seconds(csv_write, args.repeat),
        ),
        "parse": (
            best_seconds(lambda: parse_extf(data), args.repeat),
            best_seconds(csv_read, args.repeat),
        ),
        "parse+bookings": (
            best_seconds(lambda: parse_extf(data).bookings(), args.repeat),
            best_seconds(csv_read, args.repeat),
        ),
    }
    print(f"{n} bookings, {len(data) / 1e6:.1f} MB, best of {args.repeat}")
    print(f"{'step':<16}{'datev bookings/s':>18}{'csv anchor rows/s':>19}{'ratio':>8}")
    for step, (ours, anchor) in timings.items():
        print(f"{step:<16}{n / ours:>18,.0f}{n / anchor:>19,.0f}{anchor / ours:>8.2f}")
    print("ratio = datev rate / csv rate (1.00 = as fast as plain csv)")
    export_figures(n, args.export_repeat)


MINI_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def build_catalog(root: Path, n: int) -> tuple[Context, list[Booking]]:
    """A client with ``n`` approved bookings in March 2025, two per invoice document."""
    ctx = Context.from_settings(Settings(var_dir=root / "var"))
    rng = random.Random(2)
    with ctx.catalog.session() as s:
        client = Client(
            code="BENCH", name="Bench GmbH", chart="03", aliases=[], customer_numbers=[]
        )
        s.add(client)
        s.flush()
        client_id = client.id
        s.execute(
            insert(PersonalAccount),
            [
                {
                    "client_id": client_id,
                    "kind": "kreditor",
                    "key": f"k{i}",
                    "number": 70001 + i,
                    "name": f"{rng.choice(SUPPLIERS)} {i}",
                }
                for i in range(500)
            ],
        )
    documents = (n + 1) // 2
    intakes, docs = [], []
    for i in range(documents):
        body = MINI_PDF + f"% Beleg {i}\n".encode()
        digest = sha256_hex(body)
        key = content_key(client_scope("BENCH"), "originals", digest, ".pdf")
        ctx.store.put(key, body, content_type="application/pdf")
        intakes.append(
            {
                "id": i + 1,
                "sha256": digest,
                "size": len(body),
                "source": "bench",
                "storage_key": key,
            }
        )
        docs.append(
            {
                "id": i + 1,
                "intake_id": i + 1,
                "client_id": client_id,
                "first_page": 1,
                "page_count": 1,
                "pages": [1],
                "sha256": digest,
                "status": DocumentStatus.FILED,
                "doc_type": DocType.INVOICE,
                "original_key": key,
            }
        )
    entries, bookings = [], []
    for i in range(n):
        issued = date(2025, 3, 1) + timedelta(days=rng.randrange(31))
        number = f"RE-2025-{i // 2:05d}"
        row: dict[str, Any] = {
            "client_id": client_id,
            "document_id": i // 2 + 1,
            "status": BookingStatus.APPROVED,
            "amount": Decimal(rng.randrange(1, 10_000_000)).scaleb(-2),
            "debit_credit": "H",
            "account": 70001 + rng.randrange(500),
            "contra_account": rng.choice([4930, 4940, 4210]),
            "bu_key": rng.choice(["9", "8"]),
            "document_date": issued,
            "belegfeld1": number,
            "text": f"{rng.choice(SUPPLIERS)} {number}"[:60],
            "service_date": issued,
            "due_date": issued + timedelta(days=14),
            "source": "proposal",
        }
        entries.append(row)
        bookings.append(
            Booking(
                **{
                    k: v
                    for k, v in row.items()
                    if k not in ("client_id", "document_id", "status", "source")
                }
            )
        )
    with ctx.catalog.session() as s:
        s.execute(insert(Intake), intakes)
        s.execute(insert(Document), docs)
        s.execute(insert(BookingEntry), entries)
    return ctx, bookings


def export_figures(n: int, repeat: int) -> None:
    start, end = date(2025, 3, 1), date(2025, 3, 31)
    header = ExtfHeader(
        consultant_number=1001,
        client_number=1,
        fiscal_year_start=date(2025, 1, 1),
        created_at=datetime(2025, 4, 2),
        period_from=start,
        period_to=end,
    )
    with tempfile.TemporaryDirectory() as tmp:
        ctx, bookings = build_catalog(Path(tmp), n)
        best = float("inf")
        for run in range(repeat):
            with ctx.catalog.session() as s:  # not timed: approve the same bookings again
                s.execute(
                    update(BookingEntry).values(status=BookingStatus.APPROVED, export_id=None)
                )
            began = time.perf_counter()
            result = export_period(ctx, "BENCH", start, end, "bench", datetime(2025, 4, 2, 6, run))
            best = min(best, time.perf_counter() - began)
            assert result.booking_count == n
        writer = best_seconds(lambda: write_buchungsstapel(header, bookings), repeat)
    print()
    print(f"export_period: {n} approved bookings, {(n + 1) // 2} document PDFs, best of {repeat}")
    print(f"{'step':<16}{'bookings/s':>18}{'writer bookings/s':>19}{'ratio':>8}")
    print(f"{'export_period':<16}{n / best:>18,.0f}{n / writer:>19,.0f}{writer / best:>8.2f}")
    print("ratio = export_period rate / pure writer rate (catalog, archive, ZIP on top)")


if __name__ == "__main__":
    main()
