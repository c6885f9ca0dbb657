"""Field extraction from page text: label variants, layouts, OCR damage, computed values."""

from __future__ import annotations

import pytest

from backoffice.understand import Field, extract_fields

from .corpus import (
    INVOICE_CLASSIC,
    INVOICE_CREDIT,
    INVOICE_ENGLISH,
    INVOICE_SMALL,
    INVOICE_TWO_RATES_OCR,
    LETTER_ABOUT_INVOICE,
    LETTER_PLAIN,
    OTHER_AD,
    OTHER_BANK,
    OTHER_CONTRACT,
    OTHER_TAX,
    REMINDER_FIRST,
    REMINDER_LAST,
    REMINDER_SECOND,
)
from .layout_helpers import din_letter, words_at


def values(fields: list[Field]) -> dict[str, str]:
    return {f.name: f.value for f in fields}


def test_classic_invoice_all_fields() -> None:
    v = values(extract_fields([INVOICE_CLASSIC], "invoice"))
    assert v["invoice_number"] == "RE-2026-0117"
    assert v["issue_date"] == "2026-03-03"
    assert v["service_date"] == "2026-02-27"
    assert v["payment_terms_days"] == "14"
    assert v["due_date"] == "2026-03-17"  # computed: issue + 14
    assert v["skonto_percent"] == "2"
    assert v["skonto_date"] == "2026-03-10"  # computed: issue + 7
    assert v["seller_name"] == "Elektro Blitz GmbH"  # from the return line, not the recipient
    assert v["buyer_name"] == "Müller Bau GmbH"
    assert v["customer_number"] == "K-4711"
    assert (v["net_total"], v["vat_total"], v["gross_total"]) == ("1100.00", "209.00", "1309.00")
    assert (v["vat_19_net"], v["vat_19_amount"]) == ("1100.00", "209.00")
    assert v["currency"] == "EUR"
    assert v["iban"] == "DE89370400440532013000"
    assert v["bic"] == "COBADEFFXXX"
    assert v["seller_vat_id"] == "DE136695976"
    assert v["seller_tax_number"] == "231/114/50560"
    assert v["reverse_charge"] == "false"
    assert v["is_credit_note"] == "false"


def test_two_rates_with_ocr_damage() -> None:
    fields = extract_fields([INVOICE_TWO_RATES_OCR], "invoice")
    v = values(fields)
    assert v["invoice_number"] == "2026/0815"  # "2O26/O815"
    assert v["issue_date"] == "2026-03-03"  # "3. März 2026"
    assert (v["vat_7_net"], v["vat_7_amount"]) == ("37.00", "2.59")
    assert (v["vat_19_net"], v["vat_19_amount"]) == ("42.00", "7.98")
    assert (v["net_total"], v["vat_total"], v["gross_total"]) == ("79.00", "10.57", "89.57")
    assert v["iban"] == "DE89370400440532013000"  # "DE89 37O4 OO44 …"
    assert v["seller_vat_id"] == "DE136695976"  # "DE l36695976"
    assert v["payment_terms_days"] == "30"
    assert v["due_date"] == "2026-04-02"
    by_name = {f.name: f for f in fields}
    assert by_name["due_date"].confidence < by_name["issue_date"].confidence  # computed < read


def test_english_reverse_charge_invoice() -> None:
    v = values(extract_fields([INVOICE_ENGLISH], "invoice"))
    assert v["invoice_number"] == "INV-88231"
    assert v["issue_date"] == "2026-03-03"  # "March 3, 2026"
    assert v["due_date"] == "2026-03-17"
    assert v["gross_total"] == "120.00"
    assert v["reverse_charge"] == "true"
    assert v["seller_name"] == "Cloudy Hosting Ltd."
    assert v["buyer_name"] == "Bäckerei Sonnenschein GmbH"


def test_small_receipt_derives_net_from_gross_and_vat() -> None:
    fields = extract_fields([INVOICE_SMALL], "invoice")
    v = values(fields)
    assert v["invoice_number"] == "4471"  # "Beleg-Nr."
    assert v["issue_date"] == "2026-03-15"  # "15.3.26"
    assert v["gross_total"] == "59.75"
    assert v["vat_19_amount"] == "9.54"
    assert v["net_total"] == "50.21"
    assert next(f for f in fields if f.name == "net_total").confidence <= 0.7
    assert "buyer_name" not in v  # a receipt names no recipient; the top block is the sender


def test_credit_note() -> None:
    v = values(extract_fields([INVOICE_CREDIT], "invoice"))
    assert v["invoice_number"] == "GS-2026-004"
    assert v["is_credit_note"] == "true"
    assert v["gross_total"] == "-59.50"


@pytest.mark.parametrize(
    "label",
    [
        "Rechnungsnummer:",
        "Rechnungs-Nr.",
        "Rechnung Nr.",
        "Rechnungsnr.",
        "Re.-Nr.",
        "Beleg-Nr.",
        "Belegnummer",
        "Invoice No.",
        "Invoice #",
        "Rechnungsnumrner",  # OCR: m → rn
        "RECHNUNGSNUMMER",
    ],
)
def test_invoice_number_label_variants(label: str) -> None:
    text = f"Muster GmbH\n{label} 2026-0042\nDatum: 15.03.2026\nGesamtbetrag 119,00 €\n"
    assert values(extract_fields([text], "invoice"))["invoice_number"] == "2026-0042"


def test_heading_invoice_number_and_vom_date() -> None:
    v = values(extract_fields(["Rechnung 2026-0042 vom 15.02.2026\nSumme 10,00 €"], "invoice"))
    assert v["invoice_number"] == "2026-0042"
    assert v["issue_date"] == "2026-02-15"


@pytest.mark.parametrize(
    ("line", "net", "vat", "gross"),
    [
        ("Netto 100,00 € zzgl. 19 % MwSt 19,00 € Brutto 119,00 €", "100.00", "19.00", "119.00"),
        (
            "Gesamtbetrag inkl. 19 % MwSt: 119,00 EUR\ndarin enthalten 19 % MwSt 19,00",
            None,
            "19.00",
            "119.00",
        ),
        ("Summe 100,00\nMwSt 19 % 19,00\nGesamt 119,00", "100.00", "19.00", "119.00"),
        (
            "Zwischensumme: EUR 1.000,00\nUSt 19% auf 1.000,00 = 190,00\nzu zahlen: EUR 1.190,00",
            "1000.00",
            "190.00",
            "1190.00",
        ),
    ],
)
def test_totals_layouts(line: str, net: str | None, vat: str, gross: str) -> None:
    v = values(extract_fields([f"Muster GmbH\nRechnung Nr. 1\n{line}\n"], "invoice"))
    assert v["gross_total"] == gross
    assert v["vat_total"] == vat
    if net:
        assert v["net_total"] == net


def test_totals_table_header_with_values_below() -> None:
    text = (
        "Muster GmbH\nRechnung Nr. 7\n"
        "Netto      MwSt 19 %      Brutto\n"
        "200,00     38,00          238,00\n"
    )
    v = values(extract_fields([text], "invoice"))
    assert (v["net_total"], v["vat_total"], v["gross_total"]) == ("200.00", "38.00", "238.00")


def test_payment_terms_wordings() -> None:
    base = "Muster GmbH\nRechnung Nr. 1\nRechnungsdatum: 01.03.2026\nGesamtbetrag 119,00 €\n"
    v = values(extract_fields([base + "Zahlbar sofort ohne Abzug."], "invoice"))
    assert v["payment_terms_days"] == "0"
    v = values(
        extract_fields([base + "Zahlbar bis 31.03.2026. 3 % Skonto bis zum 10.03.2026."], "invoice")
    )
    assert v["due_date"] == "2026-03-31"
    assert (v["skonto_percent"], v["skonto_date"]) == ("3", "2026-03-10")
    v = values(
        extract_fields(
            [base + "Bei Zahlung innerhalb 10 Tagen 2,5% Skonto, 30 Tage netto."], "invoice"
        )
    )
    assert (v["skonto_percent"], v["skonto_date"]) == ("2.5", "2026-03-11")
    assert v["payment_terms_days"] == "30"
    assert v["due_date"] == "2026-03-31"


def test_reminder_first() -> None:
    v = values(extract_fields([REMINDER_FIRST], "reminder"))
    assert v["dunning_stage"] == "0"
    assert v["referenced_invoice_numbers"] == "RE-2026-0099"
    assert v["referenced_invoice_dates"] == "2026-03-01"
    assert v["amount_outstanding"] == "1190.00"
    assert v["new_deadline"] == "2026-03-31"
    assert v["issue_date"] == "2026-03-20"
    assert v["court_threat"] == "false"
    assert v["iban"] == "DE89370400440532013000"


def test_reminder_second_with_table_fees_and_interest() -> None:
    v = values(extract_fields([REMINDER_SECOND], "reminder"))
    assert v["dunning_stage"] == "2"
    assert v["referenced_invoice_numbers"] == "RE-2026-0050,RE-2026-0061"
    assert v["referenced_invoice_dates"] == "2026-02-02,2026-02-16"
    assert v["amount_outstanding"] == "750.00"
    assert (v["fees"], v["interest"]) == ("5.00", "3.12")
    assert v["new_deadline"] == "2026-04-09"  # "innerhalb von 7 Tagen" after 02.04.2026
    assert v["customer_number"] == "55012"


def test_reminder_last_with_court_threat() -> None:
    v = values(extract_fields([REMINDER_LAST], "reminder"))
    assert v["dunning_stage"] == "3"
    assert v["court_threat"] == "true"
    assert v["referenced_invoice_numbers"] == "2026-4411"
    assert v["amount_outstanding"] == "2380.00"
    assert v["fees"] == "10.00"
    assert v["new_deadline"] == "2026-05-15"


def test_letter_fields() -> None:
    v = values(extract_fields([LETTER_PLAIN], "letter"))
    assert v["letter_date"] == "2026-03-12"
    assert v["subject"] == "Wartung der Heizungsanlage im Objekt Gartenweg 2"
    assert v["sender_name"] == "Hausverwaltung Krause"
    assert v["deadline"] == "2026-03-20"
    # what is asked, not the opening ("wir möchten Ihnen mitteilen, dass …")
    assert (
        v["summary"] == "Bitte teilen Sie uns bis zum 20.03.2026 mit, ob der Termin für Sie passt."
    )
    v = values(extract_fields([LETTER_ABOUT_INVOICE], "letter"))
    assert v["subject"] == "Ihre Anfrage vom 10.03.2026"  # unlabelled: line above salutation
    assert v["sender_name"] == "Schreinerei Holzwurm e.K."


@pytest.mark.parametrize(
    ("text", "subtype"),
    [
        (OTHER_TAX, "tax_office"),
        (OTHER_BANK, "bank_statement"),
        (OTHER_AD, "advertising"),
        (OTHER_CONTRACT, "contract"),
    ],
)
def test_other_subtypes(text: str, subtype: str) -> None:
    assert values(extract_fields([text], "other"))["subtype"] == subtype


def test_multi_page_fields_report_their_page() -> None:
    page1 = "Muster GmbH\nRechnung Nr. 55\nDatum 01.03.2026\nPos 1 Beratung 100,00\n"
    page2 = "Nettobetrag 100,00\nMwSt 19 % 19,00\nGesamtbetrag 119,00\n"
    fields = {f.name: f for f in extract_fields([page1, page2], "invoice")}
    assert fields["invoice_number"].page == 0
    assert fields["gross_total"].page == 1


def test_word_boxes_give_bboxes() -> None:
    words = din_letter(
        return_line="Elektro Blitz GmbH · Lindenallee 4 · 04109 Leipzig",
        address=["Müller Bau GmbH", "Invalidenstraße 12", "10115 Berlin"],
        right_block=["Datum: 03.03.2026", "Rechnungsnummer: RE-77"],
        body=["Nettobetrag 100,00 €", "zzgl. 19 % MwSt 19,00 €", "Gesamtbetrag 119,00 €"],
    )
    fields = {f.name: f for f in extract_fields([""], "invoice", words=[words])}
    number = fields["invoice_number"]
    assert number.value == "RE-77"
    target = next(w for w in words if w.text == "RE-77")
    assert number.bbox == target.bbox
    gross = fields["gross_total"]
    assert gross.value == "119.00"
    assert gross.bbox is not None and gross.bbox[1] > number.bbox[1]
    assert fields["buyer_name"].value == "Müller Bau GmbH"
    assert fields["seller_name"].value == "Elektro Blitz GmbH"


def test_value_under_label_in_word_layout() -> None:
    words = words_at("Rechnungsnr.      Datum", 60, 300) + words_at(
        "A-9917         12.03.2026", 60, 312
    )
    v = values(extract_fields([""], "invoice", words=[words]))
    assert v["invoice_number"] == "A-9917"
    assert v["issue_date"] == "2026-03-12"


def test_empty_input() -> None:
    assert extract_fields([], "invoice") == []
    assert values(extract_fields([""], "letter")) == {}
