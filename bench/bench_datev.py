"""Benchmark: writing and strictly re-reading a DATEV Buchungsstapel, against plain ``csv``.

Anchor: the standard library's ``csv.writer``/``csv.reader`` on the very same 125-column rows
(already rendered as strings). The anchor knows nothing about DATEV — no validation, no
per-column quoting, no normalisation — so the ratio shows what those rules cost on top of
writing and splitting CSV lines.

    .venv/bin/python bench/bench_datev.py [--bookings 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from backoffice.exports.datev import Booking, ExtfHeader, parse_extf, write_buchungsstapel

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


if __name__ == "__main__":
    main()
