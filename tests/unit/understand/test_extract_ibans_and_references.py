"""Payee IBANs beyond schwifty's national check, and reminders that name several invoices."""

from __future__ import annotations

import pytest

from backoffice.understand import Field, extract_fields, validate
from backoffice.understand.normalize import find_ibans

# mod-97 check digits hold, but schwifty's national check for Deutsche Bank (10070000)
# rejects the account: such an IBAN is read as printed, not dropped or glued to the BIC
ISO_ONLY = "DE21100700001868811949"
ISO_ONLY_PRINTED = "DE21 1007 0000 1868 8119 49"
STRICT = "DE89370400440532013000"

INVOICE = (
    "Kuhn Sanitär GmbH\nRechnung Nr. 2026-0042\nRechnungsdatum: 01.03.2026\n"
    "Summe netto 100,00 €\nMwSt. 19 % 19,00 €\nGesamtbetrag 119,00 €\n"
)


def values(fields: list[Field]) -> dict[str, str]:
    return {f.name: f.value for f in fields}


@pytest.mark.parametrize(
    "footer",
    [
        f"Deutsche Bank IBAN {ISO_ONLY_PRINTED} BIC DEUTDEBBXXX",
        f"Bankverbindung: Deutsche Bank · IBAN: {ISO_ONLY_PRINTED} · BIC: DEUTDEBBXXX",
        f"IBAN-Nr. {ISO_ONLY}",
        f"Deutsche Bank\nIBAN {ISO_ONLY_PRINTED}\nBIC DEUTDEBBXXX",
    ],
)
def test_iban_with_valid_check_digits_but_rejected_national_check(footer: str) -> None:
    v = values(extract_fields([INVOICE + footer], "invoice"))
    assert v["iban"] == ISO_ONLY
    flags = validate("invoice", [Field("iban", ISO_ONLY, 0.9, "text")])
    assert not any(f.startswith("IBAN") for f in flags)


def test_fully_valid_iban_wins_over_one_only_iso_valid() -> None:
    text = INVOICE + f"IBAN {ISO_ONLY_PRINTED}\nIBAN DE89 3704 0044 0532 0130 00\n"
    assert values(extract_fields([text], "invoice"))["iban"] == STRICT


def test_readers_own_account_is_not_the_payee_even_if_only_one_is_strictly_valid() -> None:
    text = INVOICE + (
        "Der Betrag wird von Ihrem Konto DE89 3704 0044 0532 0130 00 abgebucht.\n"
        f"Unsere Bankverbindung: IBAN {ISO_ONLY_PRINTED}\n"
    )
    assert values(extract_fields([text], "invoice"))["iban"] == ISO_ONLY


def test_iban_failing_mod97_is_reported_without_the_bic_and_flagged() -> None:
    text = INVOICE + "IBAN DE21 1007 0000 1868 8119 48 BIC DEUTDEBBXXX\n"
    v = values(extract_fields([text], "invoice"))
    assert v["iban"] == "DE21100700001868811948"
    flags = validate("invoice", [Field("iban", v["iban"], 0.3, "text")])
    assert any(f.startswith("IBAN ungültig") for f in flags)


def test_one_unreadable_digit_is_filled_only_when_the_check_digits_allow_one() -> None:
    found = find_ibans(
        "Sparkasse / IBAN DE9+ 8105 3272 7503 5156 48 / BIC NOLADE21MDG", national=False
    )
    assert [m.value for m in found] == ["DE91810532727503515648"]
    assert found[0].confidence < 0.85
    # two garbled digits are too many to fill
    assert find_ibans("IBAN DE9+ 8105 3272 7503 5?56 48", national=False) == []


def test_ocr_lookalikes_in_an_iso_only_iban() -> None:
    assert [m.value for m in find_ibans("IBAN DE21 1OO7 OOOO 1868 8119 49", national=False)] == [
        ISO_ONLY
    ]


# --------------------------------------------------------------------------- reminders

REMINDER_HEAD = (
    "Harz Frischdienst GmbH\nZahlungserinnerung\nDatum: 12.03.2026\nKundennummer: K-4711\n"
    "Sehr geehrte Damen und Herren,\n"
)


def refs(body: str) -> str | None:
    return values(extract_fields([REMINDER_HEAD + body], "reminder")).get(
        "referenced_invoice_numbers"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "die Rechnungen Nr. 2026-101, 2026-107 und 2026-113 sind noch offen.",
            "2026-101,2026-107,2026-113",
        ),
        (
            "die Rechnungen Nr. 2026-101, 2026-107\nund 2026-113 sind noch offen.",
            "2026-101,2026-107,2026-113",
        ),
        (
            "unsere Rechnungen vom 02.02.2026 (Nr. 4711) und vom 09.02.2026 (Nr. 4719) über "
            "zusammen 1.428,00 € sind noch offen.",
            "4711,4719",
        ),
        (
            "für die Rechnungen 2026-101 (über 1.190,00 €), 2026-107 (238,00 €) sowie 2026-113 "
            "haben wir keinen Zahlungseingang.",
            "2026-101,2026-107,2026-113",
        ),
        (
            "Rechnung Nr. 2026-101 vom 02.02.2026 über 1.190,00 € und Rechnung Nr. 2026-107 "
            "vom 09.02.2026 über 238,00 € sind offen.",
            "2026-101,2026-107",
        ),
        ("Rechnungsnummern: 2026-101, 2026-107, 2026-113\n", "2026-101,2026-107,2026-113"),
    ],
)
def test_invoices_listed_in_a_sentence(body: str, expected: str) -> None:
    assert refs(body) == expected


@pytest.mark.parametrize(
    "header",
    [
        "Rechnungsnr.   Datum        Fällig       Betrag",
        "Rechnung       vom          Fällig       Betrag",
        "Beleg-Nr.      Belegdatum   Fällig       Betrag",
    ],
)
def test_table_of_open_items(header: str) -> None:
    body = (
        "folgende Posten sind offen:\n"
        f"{header}\n"
        "RE-2026-0101   02.02.2026   16.02.2026   1.190,00 €\n"
        "RE-2026-0107   09.02.2026   23.02.2026     238,00 €\n"
        "RE-2026-0113   16.02.2026   02.03.2026   3.570,00 €\n"
        "Summe                                    4.998,00 €\n"
        "Bitte zahlen Sie bis zum 26.03.2026.\n"
    )
    assert refs(body) == "RE-2026-0101,RE-2026-0107,RE-2026-0113"


def test_numbers_named_in_text_and_table_keep_the_printed_order() -> None:
    body = (
        "zu unseren Rechnungen R2600633, R2600696 fehlt der Zahlungseingang.\n"
        "Rechnungsnr.   Rechnungsdatum   fällig seit   Betrag\n"
        "R2600633   9. Januar 2026   23. Januar 2026   330,37 EUR\n"
        "R2600696   30. Januar 2026   30. Januar 2026   656,17 EUR\n"
    )
    assert refs(body) == "R2600633,R2600696"


def test_a_row_whose_number_a_scan_lost_does_not_end_the_table() -> None:
    body = (
        "Rechnungsnr.   Rechnungsdatum   fällig seit   Betrag\n"
        "Pe 09.04.26 | i9.04.26. ~~ ~~ EUR 9.888,36\n"
        "000307   24.04.26   08.05.26   EUR 200,42\n"
        "Offener Rechnungsbetrag EUR 10.088,78\n"
    )
    assert refs(body) == "000307"


@pytest.mark.parametrize(
    "body",
    [
        # "Rechnung no|ch offen": the label ends inside a word, the table's date is no number
        "sicher haben Sie übersehen, dass die folgende Rechnung noch offen ist.\n"
        "Rechnungsnr.   Rechnungsdatum   fällig seit   Betrag\n"
        "AR-26-0455   13. April 2026   13. April 2026   1.481,44 EUR\n",
        "sicher haben Sie übersehen, dass die folgende Rechnung noch offen ist.\n"
        "Rechnungsnr.   Rechnungsdatum   fällig seit   Betrag\n"
        "AR-26-0455   17. Juni 2026   8. Juli 2026   9.324,01 €\n",
    ],
)
def test_dates_and_amounts_in_the_row_are_no_invoice_numbers(body: str) -> None:
    assert refs(body) == "AR-26-0455"


@pytest.mark.parametrize(
    "body",
    [
        "unsere Rechnung vom 02.02.2026, 14 Tage nach Fälligkeit, ist offen. Nr. 2026-101.",
        "unsere Rechnung vom 02.02.2026 über 1.190,00 € ist noch offen.",
        "Ihre Rechnung (Kundennummer K-4711) vom 02.02.2026 ist noch offen.",
    ],
)
def test_no_number_is_invented_from_dates_amounts_or_customer_numbers(body: str) -> None:
    assert refs(body) is None


# --------------------------------------------------------------------------- scanned dates

INVOICE_NO_DATE = (
    "Kuhn Sanitär GmbH\nRechnung Nr. 2026-0042\n{label}\n"
    "Summe netto 100,00 €\nMwSt. 19 % 19,00 €\nGesamtbetrag 119,00 €\n"
)


@pytest.mark.parametrize(
    ("label", "issue"),
    [
        ("Rechnungsdatum: 03,03.2026", "2026-03-03"),  # comma read for the first dot
        ("Rechnungsdatum: 1O. Februar 2026", "2026-02-10"),  # letter O for the digit 0
        ("Datum: 0l.03.2026", "2026-03-01"),
        ("Datum: 3. Marz 2026", "2026-03-03"),  # umlaut lost
        ("Rechnungsdatum: 03.03. 2026", "2026-03-03"),  # blank inside the date
    ],
)
def test_issue_date_ocr_slips(label: str, issue: str) -> None:
    text = INVOICE_NO_DATE.format(label=label)
    assert values(extract_fields([text], "invoice"))["issue_date"] == issue


def test_an_amount_with_a_comma_is_never_repaired_into_a_date() -> None:
    text = INVOICE_NO_DATE.format(label="Rechnungsdatum: 12,50 EUR\nDatum 05.03.2026")
    assert values(extract_fields([text], "invoice"))["issue_date"] == "2026-03-05"


def test_ocr_noise_after_the_number_label_yields_to_the_number_printed_again() -> None:
    text = (
        "Textilservice Winter\nBelegnummer 2 RE-2026 0699\nRechnungsdatum: 26.01.2026\n"
        "Gesamtbetrag 119,00 €\n"
        "Bitte geben Sie bei Zahlung die Rechnungsnummer RE-2026-0699 an.\n"
    )
    assert values(extract_fields([text], "invoice"))["invoice_number"] == "RE-2026-0699"


def test_a_short_invoice_number_printed_alone_is_kept() -> None:
    text = "Malerbetrieb Kraus\nRechnung Nr. 7\nDatum: 26.01.2026\nGesamtbetrag 119,00 €\n"
    assert values(extract_fields([text], "invoice"))["invoice_number"] == "7"
