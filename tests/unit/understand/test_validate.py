"""Plausibility flags: arithmetic, dates, identifiers, §14 UStG and §33 UStDV."""

from __future__ import annotations

from datetime import date

from backoffice.understand import Field, extract_fields, validate

from .corpus import INVOICE_CLASSIC, INVOICE_SMALL, REMINDER_FIRST

TODAY = date(2026, 3, 20)


def fields(**values: str) -> list[Field]:
    return [Field(k, v, 0.9, "text") for k, v in values.items()]


FULL = {
    "invoice_number": "RE-1",
    "issue_date": "2026-03-01",
    "service_date": "2026-02-28",
    "due_date": "2026-03-15",
    "seller_name": "Muster GmbH",
    "buyer_name": "Kunde AG",
    "seller_vat_id": "DE136695976",
    "net_total": "1000.00",
    "vat_total": "190.00",
    "gross_total": "1190.00",
    "vat_19_net": "1000.00",
    "vat_19_amount": "190.00",
    "iban": "DE89370400440532013000",
}


def test_complete_invoice_has_no_flags() -> None:
    assert validate("invoice", fields(**FULL), today=TODAY) == []
    assert validate("invoice", extract_fields([INVOICE_CLASSIC], "invoice"), today=TODAY) == []


def test_arithmetic_mismatch() -> None:
    flags = validate("invoice", fields(**{**FULL, "gross_total": "1200.00"}), today=TODAY)
    assert any("Netto + USt ≠ Brutto" in f and "1.200,00" in f for f in flags)


def test_rate_mismatch_and_sum_of_rates() -> None:
    bad = {**FULL, "vat_19_amount": "180.00", "vat_total": "180.00", "gross_total": "1180.00"}
    flags = validate("invoice", fields(**bad), today=TODAY)
    assert any("USt 19 %" in f for f in flags)
    two = {
        **FULL,
        "vat_7_net": "100.00",
        "vat_7_amount": "7.00",
    }
    flags = validate("invoice", fields(**two), today=TODAY)
    assert any("Summe der Steuersätze" in f for f in flags)
    assert any("Summe der Steuerbeträge" in f for f in flags)


def test_one_cent_rounding_is_fine() -> None:
    ok = {**FULL, "vat_total": "190.01", "vat_19_amount": "190.01", "gross_total": "1190.01"}
    assert validate("invoice", fields(**ok), today=TODAY) == []


def test_dates_ordered_and_plausible() -> None:
    flags = validate("invoice", fields(**{**FULL, "due_date": "2026-02-01"}), today=TODAY)
    assert "Fälligkeit vor Rechnungsdatum" in flags
    flags = validate("invoice", fields(**{**FULL, "issue_date": "2027-03-01"}), today=TODAY)
    assert any("Zukunft" in f for f in flags)
    flags = validate("invoice", fields(**{**FULL, "skonto_date": "2026-03-20"}), today=TODAY)
    assert "Skontofrist nach Fälligkeit" in flags


def test_invalid_identifiers() -> None:
    bad = {**FULL, "iban": "DE89370400440532013001", "seller_vat_id": "DE123456789"}
    flags = validate("invoice", fields(**bad), today=TODAY)
    assert any(f.startswith("IBAN ungültig") for f in flags)
    assert any(f.startswith("USt-IdNr. ungültig") for f in flags)


def test_section_14_mandatory_fields() -> None:
    minimal = {"gross_total": "1190.00", "net_total": "1000.00", "vat_total": "190.00"}
    flags = validate("invoice", fields(**minimal), today=TODAY)
    for expected in (
        "Rechnungsaussteller fehlt",
        "Rechnungsdatum fehlt",
        "Rechnungsnummer fehlt",
        "Rechnungsempfänger fehlt",
        "Steuernummer/USt-IdNr. fehlt",
        "Leistungsdatum fehlt",
    ):
        assert expected in flags


def test_section_33_small_invoice_reduced_set() -> None:
    small = {
        "seller_name": "Tankstelle Weber",
        "issue_date": "2026-03-15",
        "gross_total": "59.75",
        "vat_19_amount": "9.54",
    }
    assert validate("invoice", fields(**small), today=TODAY) == []
    flags = validate("invoice", extract_fields([INVOICE_SMALL], "invoice"), today=TODAY)
    assert flags == []
    no_rate = {k: v for k, v in small.items() if k != "vat_19_amount"}
    assert validate("invoice", fields(**no_rate), today=TODAY) == ["Steuersatz fehlt (§33 UStDV)"]


def test_reverse_charge_with_vat() -> None:
    rc = {**FULL, "reverse_charge": "true"}
    assert "Reverse-Charge-Hinweis, aber USt ausgewiesen" in validate(
        "invoice", fields(**rc), today=TODAY
    )


def test_reminder_checks() -> None:
    assert validate("reminder", extract_fields([REMINDER_FIRST], "reminder"), today=TODAY) == []
    flags = validate(
        "reminder", fields(issue_date="2026-03-20", new_deadline="2026-03-01"), today=TODAY
    )
    assert "Keine Rechnungsnummer genannt" in flags
    assert "Offener Betrag fehlt" in flags
    assert "Zahlungsfrist vor Mahndatum" in flags


def test_most_confident_duplicate_wins() -> None:
    dup = [*fields(**FULL), Field("gross_total", "999.00", 0.2, "text")]
    assert validate("invoice", dup, today=TODAY) == []
