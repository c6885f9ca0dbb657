"""Field cases met on sample post: due-date wordings, wrapped IBANs, spaced invoice numbers."""

from __future__ import annotations

import pytest

from backoffice.understand import Field, extract_fields

from .layout_helpers import LINE_H, Word, words_at

BASE = (
    "Muster GmbH\nRechnung Nr. 2026-0042\nRechnungsdatum: 01.03.2026\n"
    "Summe netto 100,00 €\nMwSt. 19 % 19,00 €\nGesamtbetrag 119,00 €\n"
)


def values(fields: list[Field]) -> dict[str, str]:
    return {f.name: f.value for f in fields}


def invoice(extra: str) -> dict[str, str]:
    return values(extract_fields([BASE + extra], "invoice"))


@pytest.mark.parametrize(
    ("sentence", "due"),
    [
        (
            "Bitte überweisen Sie den Betrag von 119,00 EUR bis zum 16.03.2026 auf unser Konto.",
            "2026-03-16",
        ),
        ("Bitte überweisen Sie den Betrag von EUR 1.119,00 bis zum 16.03.2026.", "2026-03-16"),
        ("Zahlbar bis 21.04.2026.", "2026-04-21"),
        ("Fällig am 20. März 2026.", "2026-03-20"),
        ("Zahlungsziel: 31.03.2026", "2026-03-31"),
        ("Due date: 15/03/2026", "2026-03-15"),
        ("Payable by 15/03/2026.", "2026-03-15"),
        ("Zahlbar innerhalb 14 Tagen netto.", "2026-03-15"),
        ("30 Tage netto.", "2026-03-31"),
        ("Zahlbar sofort ohne Abzug.", "2026-03-01"),
        ("Der Betrag ist sofort nach Erhalt fällig.", "2026-03-01"),
        (
            "Der Rechnungsbetrag wird am 17.03.2026 per SEPA-Lastschrift"
            " von Ihrem Konto eingezogen.",
            "2026-03-17",
        ),
        ("The amount will be collected by SEPA direct debit on 21/03/2026.", "2026-03-21"),
    ],
)
def test_due_date_wordings(sentence: str, due: str) -> None:
    assert invoice(sentence)["due_date"] == due


def test_due_date_is_the_net_deadline_not_the_skonto_one() -> None:
    v = invoice(
        "Zahlbar innerhalb von 21 Tagen ohne Abzug oder innerhalb von 10 Tagen abzüglich 2 % "
        "Skonto.\nBei Zahlung bis 11. März 2026: Skonto EUR 2,38, Zahlbetrag EUR 116,62."
    )
    assert v["due_date"] == "2026-03-22"
    assert v["payment_terms_days"] == "21"


def test_due_date_before_issue_date_is_ignored() -> None:
    # an OCR-misread year cannot make the invoice due before it was written
    v = invoice("Zahlbar bis 21.04.2025.\nZahlbar innerhalb 14 Tagen netto.")
    assert v["due_date"] == "2026-03-15"


@pytest.mark.parametrize("label", ["Rechnungs-Nr.", "Belegnummer", "Beleg-Nr.", "Rechnung Nr."])
def test_invoice_number_with_series_prefix_and_space(label: str) -> None:
    v = values(extract_fields([f"Muster GmbH\n{label} VR 01007\nDatum 01.03.2026\n"], "invoice"))
    assert v["invoice_number"].replace(" ", "") == "VR01007"


def test_iban_wrapped_onto_next_line_plain_text() -> None:
    v = invoice("Commerzbank\nIBAN DE89 3704 0044 0532\n0130 00\nBIC COBADEFFXXX\n")
    assert v["iban"] == "DE89370400440532013000"


def test_iban_wrapped_in_a_footer_column_beside_other_columns() -> None:
    # footer columns side by side, a long URL reaching under the IBAN: only the groups that
    # start in the IBAN column continue it
    y = 700.0
    rows = [
        ("Muster GmbH", "Commerzbank", "Amtsgericht Köln HRB 1"),
        ("www.muster-gmbh-beispiel.de", "IBAN DE89 3704 0044 0532", "Geschäftsführer"),
        ("www.muster-gmbh-beispiel-sehr-lang.de", "0130 00", "Max Muster"),
    ]
    words: list[Word] = []
    lines = []
    for i, (a, b, c) in enumerate(rows):
        words += words_at(a, 50, y + i * LINE_H)
        words += words_at(b, 200, y + i * LINE_H)
        words += words_at(c, 400, y + i * LINE_H)
        lines.append(f"{a}   {b}   {c}")
    text = "\n".join(lines)
    v = values(extract_fields([text], "invoice", words=[words]))
    assert v["iban"] == "DE89370400440532013000"


def test_iban_offsets_survive_sharp_s() -> None:
    v = invoice("Straße 1   IBAN DE89 3704 0044 0532 0130 00\n")
    assert v["iban"] == "DE89370400440532013000"


@pytest.mark.parametrize(
    "sentence",
    [
        "unsere Rechnungen R2600821, R2600828 und R2600835 sind noch offen.",
        "für die Rechnungen Nr. R2600821, R2600828 und R2600835 vom 01.02.2026 fehlt die Zahlung.",
        "Rechnungsnummern: R2600821, R2600828, R2600835",
    ],
)
def test_reminder_lists_every_referenced_invoice_in_order(sentence: str) -> None:
    text = (
        f"Muster GmbH\n1. Mahnung\nDatum: 01.03.2026\nSehr geehrte Damen und Herren,\n{sentence}\n"
    )
    v = values(extract_fields([text], "reminder"))
    assert v["referenced_invoice_numbers"] == "R2600821,R2600828,R2600835"


def test_reminder_list_stops_at_words() -> None:
    text = (
        "Muster GmbH\n1. Mahnung\nDatum: 01.03.2026\nunsere Rechnung 2026-11 und 12 Tage Verzug\n"
    )
    v = values(extract_fields([text], "reminder"))
    assert v["referenced_invoice_numbers"] == "2026-11"


def test_label_with_ocr_comma_for_dot() -> None:
    v = values(
        extract_fields(["Muster GmbH\nRechnung Nr, R2600220\nDatum 01.03.2026\n"], "invoice")
    )
    assert v["invoice_number"] == "R2600220"


def test_issue_date_prefers_the_reading_printed_twice() -> None:
    text = (
        "Muster GmbH\nRechnungsdatum: 14.05.2025\nRECHNUNG\n"
        "Rechnungsnummer 000459 vom 14.05.2026\nDatum: 14.05.2026\nGesamtbetrag 119,00 €\n"
    )
    assert values(extract_fields([text], "invoice"))["issue_date"] == "2026-05-14"


def test_skewed_scan_keeps_label_and_value_on_one_line() -> None:
    # a page fed in at ~1.5°: the right-hand value sits a few points higher than its label
    slope = -0.026
    words: list[Word] = []
    rows = [
        ("Muster GmbH", ""),
        ("Rechnungsnummer", "000427"),
        ("Rechnungsdatum", "24.02.2026"),
        ("Gesamtbetrag", "119,00 €"),
    ]
    for i, (label, value) in enumerate(rows):
        y = 100 + i * LINE_H * 1.2
        words += words_at(label, 350, y + slope * 350)
        if value:
            words += words_at(value, 500, y + slope * 500)
    # body text gives the skew away: long lines of neighbouring words
    for i in range(6):
        y = 200 + i * LINE_H * 1.4
        for k, token in enumerate(
            ["und", "so", "weiter", "der", "Text", "läuft", "quer", "über", "die", "Seite"]
        ):
            x = 60 + k * 50
            words += words_at(token, x, y + slope * x)
    text = "\n".join(f"{a} {b}" for a, b in rows)
    v = values(extract_fields([text], "invoice", words=[words]))
    assert v["invoice_number"] == "000427"
    assert v["issue_date"] == "2026-02-24"


def test_terms_in_a_begleichen_sentence() -> None:
    v = invoice(
        "Bitte begleichen Sie den Rechnungsbetrag innerhalb von 14 Tagen nach Rechnungsdatum."
    )
    assert v["payment_terms_days"] == "14"
    assert v["due_date"] == "2026-03-15"


def test_credit_note_number_and_amount_labels() -> None:
    text = (
        "Muster GmbH\nGutschrifts-Nr. GS-2026-00868 Datum 05.06.2026\nGutschrift\n"
        "Zu unserer Rechnung Nr. 000858 vom 12.05.2026 schreiben wir Ihnen gut:\n"
        "Summe netto EUR 331,00\nzzgl. 19 % USt. EUR 62,89\nGutschriftsbetrag EUR 393,89\n"
    )
    v = values(extract_fields([text], "invoice"))
    assert v["invoice_number"] == "GS-2026-00868"
    assert v["gross_total"] == "393.89"


def test_small_business_invoice_vat_column_is_not_a_total() -> None:
    text = (
        "Muster GmbH\nRechnung Nr. 000858\nDatum 12.05.2026\n"
        "Pos Menge Einh. Artikel / Leistung E-Preis MwSt. Betrag\n"
        "01 1 psch. Grüngutentsorgung 42,95 0 % 42,95\n"
        "02 7 Std. Grünflächenpflege 37,95 0 % 265,65\n"
        "Summe 308,60 €\n"
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet (Kleinunternehmerregelung).\n"
    )
    v = values(extract_fields([text], "invoice"))
    assert (v["net_total"], v["vat_total"], v["gross_total"]) == ("308.60", "0.00", "308.60")


@pytest.mark.parametrize(
    ("printed", "subject"),
    [
        (
            "Betreff: Beitragsanpassung zum 01.08.2026 - Vertrag BH-2531839",
            "Beitragsanpassung zum 01.08.2026 – Vertrag BH-2531839",
        ),
        (
            "Betreff:  Beitragsanpassung zum 01.08.2026 — Vertrag BH-2531839",
            "Beitragsanpassung zum 01.08.2026 – Vertrag BH-2531839",
        ),
        (
            "Betreff: Einladung: Veranstaltung ,,E-Rechnung“ am 22.07.2026",
            "Einladung: Veranstaltung „E-Rechnung“ am 22.07.2026",
        ),
        ("Betreff: Anfrage : Angebot", "Anfrage: Angebot"),
    ],
)
def test_letter_subject_ocr_variants(printed: str, subject: str) -> None:
    text = f"Muster GmbH\nKöln, 01.03.2026\n{printed}\nSehr geehrte Damen und Herren,\nText.\n"
    assert values(extract_fields([text], "letter"))["subject"] == subject


def test_letter_subject_bold_line_before_salutation() -> None:
    text = (
        "Muster GmbH\nKöln, 01.03.2026\nMietanpassung gemäß Indexvereinbarung\n"
        "Sehr geehrte Frau Muster,\nText.\n"
    )
    assert (
        values(extract_fields([text], "letter"))["subject"]
        == "Mietanpassung gemäß Indexvereinbarung"
    )


def test_immediate_terms_with_ocr_lost_umlaut() -> None:
    assert invoice("Der Betrag ist sofort nach Erhalt fallig.")["due_date"] == "2026-03-01"


def test_iban_with_a_dot_read_between_groups() -> None:
    assert invoice("IBAN DE89 3704 0044 0532 0130.00\n")["iban"] == "DE89370400440532013000"


def test_a_currency_before_an_amount_is_not_an_invoice_number() -> None:
    from backoffice.understand.extract import value_id

    assert value_id("EUR 8.220,00 offen") is None
    assert value_id("VR 01007") == ("VR 01007", 0, 8)
