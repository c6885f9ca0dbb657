"""Sender pool, identifiers and number formats used by the sample post."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from schwifty import IBAN
from stdnum.at import uid as at_uid
from stdnum.de import stnr, vat
from stdnum.nl import btw as nl_btw

from backoffice.samples import ALL_LAYOUTS, DEMO_CLIENTS
from backoffice.samples import formatting as fmt
from backoffice.samples.clients import client_profile
from backoffice.samples.content import (
    Sender,
    build_sender_pool,
    de_vat_id,
    iban_for,
    sender_serves,
    tax_number,
)
from backoffice.samples.render import available_fonts


def _pool(seed: int) -> list[Sender]:
    proportional, mono = available_fonts()
    return build_sender_pool(random.Random(seed), DEMO_CLIENTS, ALL_LAYOUTS, proportional, mono)


def test_demo_clients_are_as_specified() -> None:
    mueller, schneider, klein = DEMO_CLIENTS
    assert (mueller.code, mueller.name, mueller.street, mueller.zip, mueller.city) == (
        "MUELLER",
        "Müller Haustechnik GmbH",
        "Hauptstraße 12",
        "70173",
        "Stuttgart",
    )
    assert (schneider.code, schneider.name, schneider.zip, schneider.city) == (
        "SCHNEIDER",
        "Bäckerei Schneider",
        "50667",
        "Köln",
    )
    assert (klein.code, klein.name, klein.street, klein.zip) == (
        "KLEIN",
        "Klein & Partner Architekten PartG mbB",
        "Schillerplatz 7",
        "04109",
    )
    assert mueller.email == "post@mueller-haustechnik.de"
    for client in DEMO_CLIENTS:
        assert IBAN(client.iban).country_code == "DE"
        assert client.vat_id and vat.is_valid(client.vat_id)
        assert stnr.is_valid(client_profile(client).tax_number)
        assert client.aliases and client.name not in client.aliases


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sender_pool_is_large_valid_and_distinct(seed: int) -> None:
    pool = _pool(seed)
    assert len(pool) >= 30
    assert len({s.name for s in pool}) == len(pool)
    assert {s.layout for s in pool} == set(ALL_LAYOUTS)
    for sender in pool:
        if sender.iban:
            IBAN(sender.iban)
        if sender.vat_id:
            validator = {"DE": vat, "AT": at_uid, "NL": nl_btw}[sender.vat_id[:2]]
            assert validator.is_valid(sender.vat_id), sender.vat_id
        if sender.tax_number:
            assert stnr.is_valid(sender.tax_number), sender.tax_number
        assert "@" in sender.email and " " not in sender.email
        assert not any(word in sender.name for word in ("Müller", "Schneider", "Klein"))
    for client in DEMO_CLIENTS:
        suppliers = [s for s in pool if s.kind == "supplier" and sender_serves(s, client)]
        assert len(suppliers) >= 10
        assert sum(1 for s in pool if s.kind == "tax_office" and sender_serves(s, client)) == 1


def test_pools_differ_between_seeds() -> None:
    assert {s.name for s in _pool(1)} != {s.name for s in _pool(2)}
    assert [s.name for s in _pool(1)] == [s.name for s in _pool(1)]


def test_check_digit_helpers() -> None:
    rng = random.Random(0)
    for _ in range(50):
        assert vat.is_valid(de_vat_id(rng))
    iban = IBAN(iban_for("DE", "37050198", "1902348571"), validate_bban=True)
    assert iban.bank_code == "37050198" and iban.compact.startswith("DE")
    assert IBAN(iban_for("AT", "20111", "12345678901")).country_code == "AT"
    for state in (
        "Bayern",
        "Nordrhein-Westfalen",
        "Sachsen",
        "Hessen",
        "Rheinland-Pfalz",
        "Berlin",
    ):
        assert stnr.is_valid(tax_number(rng, state), state)


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("de_suffix", "1.234,56 €"),
        ("de_eur_prefix", "EUR 1.234,56"),
        ("de_eur_suffix", "1.234,56 EUR"),
        ("de_euro_prefix", "€ 1.234,56"),
        ("en_eur_prefix", "EUR 1,234.56"),
        ("en_euro_prefix", "€1,234.56"),
    ],
)
def test_money_styles(style: str, expected: str) -> None:
    assert fmt.money(Decimal("1234.555"), style) == expected  # rounded half up


def test_numbers_dates_and_rounding() -> None:
    assert fmt.cents(Decimal("0.125")) == Decimal("0.13")
    assert fmt.canonical_amount(Decimal("1234.5")) == "1234.50"
    assert fmt.number(Decimal("-1234567.891")) == "-1.234.567,89"
    assert fmt.number(Decimal("0.3125"), places=4) == "0,3125"
    assert fmt.quantity(Decimal("2.50")) == "2,5"
    assert fmt.quantity(Decimal("1500")) == "1.500"
    assert fmt.percent(Decimal(19)) == "19 %"
    assert fmt.percent(Decimal("1.5"), tight=True) == "1,5%"
    day = dt.date(2026, 3, 5)
    assert fmt.date(day, "de_num") == "05.03.2026"
    assert fmt.date(day, "de_short") == "05.03.26"
    assert fmt.date(day, "de_long") == "5. März 2026"
    assert fmt.date(day, "en_long") == "5 March 2026"
    assert fmt.iban_groups("DE18370501981902348571") == "DE18 3705 0198 1902 3485 71"
