"""Property: whatever bookings go in, the strict reader gets back exactly what was exported."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.exports.datev import (
    Booking,
    ExtfHeader,
    as_exported,
    parse_extf,
    write_buchungsstapel,
)

CP1252_PRINTABLE = "".join(
    ch for ch in bytes([*range(0x20, 0x7F), *range(0x80, 0x100)]).decode("cp1252", errors="ignore")
)
"""Every character CP1252 can write except control characters (those are cleaned away)."""

text = st.text(alphabet=CP1252_PRINTABLE, max_size=80)
HEADER = ExtfHeader(
    consultant_number=29098,
    client_number=55003,
    fiscal_year_start=date(2025, 1, 1),
    created_at=datetime(2025, 4, 4, 10, 15, 0, 123_000),
    period_from=date(2025, 1, 1),
    period_to=date(2025, 12, 31),
    label="Property",
)


def optional(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


bookings = st.builds(
    Booking,
    amount=st.integers(1, 10**12 - 1).map(lambda cents: Decimal(cents).scaleb(-2)),
    debit_credit=st.sampled_from(["S", "H"]),
    account=st.integers(1, 99_999),
    contra_account=st.integers(1, 99_999),
    bu_key=optional(st.from_regex(r"[0-9]{1,4}", fullmatch=True)),
    document_date=st.dates(date(2025, 1, 1), date(2025, 12, 31)),
    belegfeld1=st.text(alphabet=CP1252_PRINTABLE, max_size=40),
    belegfeld2=optional(st.text(alphabet=CP1252_PRINTABLE, max_size=14)),
    text=text,
    service_date=optional(st.dates(date(2000, 1, 1), date(2099, 12, 31))),
    due_date=optional(st.dates(date(2000, 1, 1), date(2099, 12, 31))),
    beleglink=optional(st.text(alphabet=CP1252_PRINTABLE, max_size=210)),
    document_info=st.lists(
        st.tuples(
            st.text(alphabet=CP1252_PRINTABLE, min_size=1, max_size=20),
            st.text(alphabet=CP1252_PRINTABLE, max_size=60),
        ),
        max_size=7,
    ),
    cost_center=optional(st.text(alphabet=CP1252_PRINTABLE, max_size=36)),
    guid=optional(st.uuids().map(str)),
    tax_period_date=optional(st.dates(date(2000, 1, 1), date(2099, 12, 31))),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(bookings, max_size=6))
def test_random_bookings_round_trip(batch: list[Booking]) -> None:
    data = write_buchungsstapel(HEADER, batch)
    parsed = parse_extf(data)
    expected = [as_exported(b) for b in batch]
    assert parsed.bookings() == expected
    assert [as_exported(b) for b in expected] == expected  # exporting twice changes nothing
    assert parsed.extf_header() == HEADER
    assert all(len(row) == 125 and row["Festschreibung"] == "0" for row in parsed.rows)
