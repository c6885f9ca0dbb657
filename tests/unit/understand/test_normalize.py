"""Amounts, dates and identifiers as German post prints them, OCR damage included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backoffice.understand.normalize import (
    find_dates,
    find_ibans,
    fix_digit_lookalikes,
    fold,
    format_rate,
    parse_amount,
    parse_date,
    repair_iban,
    repair_vat_id,
    valid_bic,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56 €", "1234.56"),
        ("EUR 1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("-12,00", "-12.00"),
        ("12,00-", "-12.00"),
        ("1 234,56 EUR", "1234.56"),
        ("1,234.56", "1234.56"),
        ("Total 99.90 USD", "99.90"),
        ("Gesamt l.234,5O €", "1234.50"),
        ("1.000.000,00", "1000000.00"),
    ],
)
def test_amount_formats(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


def test_percentages_and_dates_are_not_amounts() -> None:
    assert parse_amount("19 % MwSt 190,00") == Decimal("190.00")
    assert parse_amount("Rechnung 2026-0042 vom 15.03.2026 über 1.190,00 €") == Decimal("1190.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15.03.2026", date(2026, 3, 15)),
        ("fällig am 15.3.26", date(2026, 3, 15)),
        ("3. März 2026", date(2026, 3, 3)),
        ("Berlin, den 05. Januar 2026", date(2026, 1, 5)),
        ("March 3, 2026", date(2026, 3, 3)),
        ("3 Mar 2026", date(2026, 3, 3)),
        ("2026-03-15", date(2026, 3, 15)),
        ("1. Okt. 2025", date(2025, 10, 1)),
        ("15.O3.2O26", date(2026, 3, 15)),
        ("netto bis 04.04.2018, 3% Skonto", date(2018, 4, 4)),
    ],
)
def test_date_formats(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_impossible_dates_are_dropped() -> None:
    assert parse_date("31.02.2026") is None
    assert find_dates("Betrag 1.234,56") == []


def test_digit_lookalikes_only_in_numbers() -> None:
    assert fix_digit_lookalikes("Summe 1O0,5l") == "Summe 100,51"
    assert fix_digit_lookalikes("Ol und Illus") == "Ol und Illus"


@pytest.mark.parametrize(
    "printed",
    [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "DE 89 3704 0044 0532 0130 00",
        "DE89 37O4 OO44 O532 O13O OO",  # O for 0
        "DE89 3704 OO44 O532 Ol3O OO",  # l for 1
        "DE89 3704 0044 0532 0I30 00",  # I for 1
    ],
)
def test_iban_variants_repaired(printed: str) -> None:
    found = find_ibans(f"IBAN: {printed} BIC: COBADEFFXXX")
    assert [m.value for m in found] == ["DE89370400440532013000"]


def test_misread_digit_is_not_guessed() -> None:
    # some single-digit change would satisfy the checksum by chance: never pick one
    assert repair_iban("DE89370400440532013008") is None
    assert repair_iban("DE00123456781234567890") is None


def test_foreign_iban_with_letters() -> None:
    assert find_ibans("NL91 ABNA 0417 1643 00")[0].value == "NL91ABNA0417164300"


def test_vat_id_checksum_and_lookalikes() -> None:
    assert repair_vat_id("DE 136 695 976") == ("DE136695976", True)
    assert repair_vat_id("DE l36695976") == ("DE136695976", True)
    assert repair_vat_id("DE123456789") == ("DE123456789", False)


def test_bic_and_rates_and_fold() -> None:
    assert valid_bic("COBADEFFXXX")
    assert not valid_bic("COBAXXFF")
    assert format_rate(Decimal("19.00")) == "19"
    assert format_rate(Decimal("5.50")) == "5.5"
    assert fold("Rechnungsnumrner Zah1bar 0ffener Betrag Straße") == (
        "rechnungsnummer zahlbar offener betrag strase"
    )
