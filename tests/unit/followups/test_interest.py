"""§288 BGB default interest: hand-checked figures, splits at Basiszins changes, Verzug start."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.followups.interest import (
    BaseRateTable,
    RateTableError,
    default_interest,
    interest_start,
    load_table,
    verzug_begins,
)


@pytest.fixture(scope="module")
def table() -> BaseRateTable:
    return load_table()


def test_shipped_table_has_the_known_rates_and_marks_verified_ones(table: BaseRateTable) -> None:
    assert table.rate_on(date(2023, 1, 1)).percent == Decimal("1.62")
    assert table.rate_on(date(2023, 1, 1)).verified
    assert table.rate_on(date(2024, 6, 30)).percent == Decimal("3.62")
    assert table.rate_on(date(2024, 7, 1)).percent == Decimal("3.37")
    assert not table.rate_on(date(2024, 7, 1)).verified
    assert table.rate_on(date(2026, 1, 1)).percent == Decimal("1.27")
    assert table.rate_on(date(2026, 1, 1)).verified
    # 2026-07 is not published in the table: the last known rate stays in force.
    assert table.rate_on(date(2026, 11, 23)).percent == Decimal("1.27")
    with pytest.raises(RateTableError):
        table.rate_on(date(2022, 12, 31))


def test_b2b_interest_splits_at_2025_07_01(table: BaseRateTable) -> None:
    # June: 30 days at 2.27 + 9 = 11.27 %: 1000 × 0.1127 × 30/365 = 9.2630… → 9.26
    # July: 31 days at 1.27 + 9 = 10.27 %: 1000 × 0.1027 × 31/365 = 8.7225… → 8.72
    result = default_interest(Decimal("1000.00"), date(2025, 6, 1), date(2025, 7, 31), False, table)
    assert [(p.start, p.end, p.days, p.rate, p.amount) for p in result.periods] == [
        (date(2025, 6, 1), date(2025, 6, 30), 30, Decimal("11.27"), Decimal("9.26")),
        (date(2025, 7, 1), date(2025, 7, 31), 31, Decimal("10.27"), Decimal("8.72")),
    ]
    assert result.amount == Decimal("17.98")


def test_consumer_interest_is_base_rate_plus_five(table: BaseRateTable) -> None:
    # 1000 × 0.0727 × 30/365 = 5.9753… → 5.98; 1000 × 0.0627 × 31/365 = 5.3252… → 5.33
    result = default_interest(Decimal("1000.00"), date(2025, 6, 1), date(2025, 7, 31), True, table)
    assert [p.amount for p in result.periods] == [Decimal("5.98"), Decimal("5.33")]
    assert result.amount == Decimal("11.31")


def test_single_period_and_after_the_last_known_rate(table: BaseRateTable) -> None:
    # 5000 × 0.1027 × 90/365 = 126.6164… → 126.62 (1 Jan – 31 Mar 2026, one rate)
    q1 = default_interest(Decimal("5000.00"), date(2026, 1, 1), date(2026, 3, 31), False, table)
    assert len(q1.periods) == 1 and q1.amount == Decimal("126.62")
    # 2026-07 not in the table: 1.27 + 9 keeps running. 1000 × 0.1027 × 10/365 = 2.8137… → 2.81
    late = default_interest(Decimal("1000.00"), date(2026, 8, 1), date(2026, 8, 10), False, table)
    assert late.periods[0].rate == Decimal("10.27") and late.amount == Decimal("2.81")


def test_split_over_several_changes(table: BaseRateTable) -> None:
    # 2024-06-01 … 2025-01-31 at B2B rates: June 30 d @ 12.62, Jul–Dec 184 d @ 12.37,
    # Jan 31 d @ 11.27 on 2000 €: 20.75 + 124.72 + 19.14
    result = default_interest(Decimal("2000.00"), date(2024, 6, 1), date(2025, 1, 31), False, table)
    assert [(p.days, p.rate, p.amount) for p in result.periods] == [
        (30, Decimal("12.62"), Decimal("20.75")),
        (184, Decimal("12.37"), Decimal("124.72")),
        (31, Decimal("11.27"), Decimal("19.14")),
    ]
    assert result.amount == Decimal("164.61")


def test_empty_interval_and_nothing_owed_give_no_interest(table: BaseRateTable) -> None:
    assert (
        default_interest(Decimal("100"), date(2026, 2, 2), date(2026, 2, 1), False, table).amount
        == 0
    )
    assert (
        default_interest(Decimal("0"), date(2026, 1, 1), date(2026, 2, 1), False, table).amount == 0
    )


def test_one_day_counts_once(table: BaseRateTable) -> None:
    # 36 500 × 0.1027 / 365 = 10.27 exactly
    one = default_interest(Decimal("36500.00"), date(2026, 2, 1), date(2026, 2, 1), False, table)
    assert one.periods[0].days == 1 and one.amount == Decimal("10.27")


def test_verzug_begins_at_the_earlier_of_notice_deadline_and_30_days() -> None:
    due = date(2026, 1, 10)
    # Notice deadline 27.01. is earlier than due + 30 days (09.02.): Verzug from 27.01.,
    # interest from the day after.
    assert verzug_begins(due, date(2026, 1, 27), consumer=False) == date(2026, 1, 27)
    assert interest_start(due, date(2026, 1, 27), consumer=False) == date(2026, 1, 28)
    # A late first notice: §286 (3) puts a business in Verzug 30 days after due anyway.
    assert verzug_begins(due, date(2026, 3, 1), consumer=False) == date(2026, 2, 9)
    assert interest_start(due, None, consumer=False) == date(2026, 2, 10)
    # A consumer only by the notice (the invoice's §286 (3) hint is not known to us).
    assert verzug_begins(due, date(2026, 3, 1), consumer=True) == date(2026, 3, 1)
    assert interest_start(due, None, consumer=True) is None


def test_rate_file_override_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "zins.toml"
    path.write_text(
        '[[rate]]\nfrom = 2026-01-01\npercent = "1.27"\nstatus = "verified"\n'
        '[[rate]]\nfrom = 2026-07-01\npercent = "2.00"\nstatus = "verified"\n',
        encoding="utf-8",
    )
    table = load_table(path)
    # 1000 × 0.1027 × 30/365 = 8.44; 1000 × 0.11 × 31/365 = 9.34
    result = default_interest(Decimal("1000"), date(2026, 6, 1), date(2026, 7, 31), False, table)
    assert [p.amount for p in result.periods] == [Decimal("8.44"), Decimal("9.34")]
    path.write_text('[[rate]]\nfrom = "gestern"\npercent = "1"\n', encoding="utf-8")
    with pytest.raises(RateTableError, match="Datum"):
        load_table(path)
    with pytest.raises(RateTableError):
        load_table(tmp_path / "fehlt.toml")
    with pytest.raises(RateTableError, match="leer"):
        BaseRateTable(())
