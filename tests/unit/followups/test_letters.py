"""Dunning letters: DIN 5008 positions (read back with pdfplumber), amounts, German formats."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pdfplumber
import pytest

from backoffice.display import money
from backoffice.followups.interest import Interest, default_interest, load_table
from backoffice.followups.letters import (
    DunningLetter,
    Letterhead,
    Recipient,
    letter_text,
    render,
)

MM = 72 / 25.4

SENDER = Letterhead(
    name="Klein Haustechnik GmbH",
    street="Werkstraße 4",
    zip="50667",
    city="Köln",
    email="buchhaltung@klein-haustechnik.example",
    phone="0221 123456",
    iban="DE02 1203 0000 0000 2020 51",
    bic="BYLADEM1001",
    vat_id="DE123456789",
)


def _letter(stage: int, *, paid: Decimal = Decimal("0.00")) -> DunningLetter:
    principal = Decimal("1234.56") - paid
    interest = (
        default_interest(principal, date(2025, 6, 1), date(2025, 7, 31), False, load_table())
        if stage >= 2
        else Interest(principal, ())
    )
    return DunningLetter(
        stage=stage,
        sender=SENDER,
        recipient=Recipient("Sommer Bau GmbH", "Lindenallee 12", "40210", "Düsseldorf"),
        letter_date=date(2025, 7, 31),
        invoice_number="RE-2025-0815",
        invoice_date=date(2025, 4, 20),
        due_date=date(2025, 5, 4),
        invoice_amount=Decimal("1234.56"),
        paid=paid,
        interest=interest,
        flat_fee=Decimal("40.00") if stage >= 2 else Decimal("0.00"),
        letter_fees=Decimal("2.50") * (stage - 1),
        deadline=date(2025, 8, 10),
        customer_number="K-1042",
    )


def _words(pdf: bytes) -> tuple[list[dict[str, float | str]], str, int]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        words = page.extract_words()
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
        return words, text, len(doc.pages)


def _in_box(
    words: list[dict[str, float | str]], x0: float, top: float, x1: float, bottom: float
) -> str:
    inside = [
        w
        for w in words
        if float(w["x0"]) >= x0
        and float(w["x1"]) <= x1
        and float(w["top"]) >= top
        and float(w["bottom"]) <= bottom
    ]
    return " ".join(str(w["text"]) for w in inside)


def test_german_money_format() -> None:
    assert money(Decimal("1234.5")) == "1.234,50 €"
    assert money(Decimal("0.824")) == "0,82 €"
    assert money(Decimal("1234567.891")) == "1.234.567,89 €"


def test_recipient_sits_in_the_din_5008_window() -> None:
    words, _text, _pages = _words(render(_letter(2)).pdf)
    # Anschriftzone of Form B: 62.7 mm … 90 mm from the top, 20 … 105 mm from the left.
    window = _in_box(words, 20 * MM, 62.7 * MM, 105 * MM, 90 * MM)
    assert window == "Sommer Bau GmbH Lindenallee 12 40210 Düsseldorf"
    # The return address line is in the Vermerkzone just above (45 … 62.7 mm).
    above = _in_box(words, 20 * MM, 45 * MM, 105 * MM, 62.7 * MM)
    assert "Klein Haustechnik GmbH · Werkstraße 4 · 50667 Köln" in above
    # Informationsblock from 125 mm: date, invoice number, customer number.
    info = _in_box(words, 125 * MM, 45 * MM, 200 * MM, 95 * MM)
    assert "31.07.2025" in info and "RE-2025-0815" in info and "K-1042" in info
    # Nothing of the letter's body strays into the window.
    assert "Rechnungsbetrag" not in window


def test_amounts_interest_periods_fees_total_and_deadline() -> None:
    letter = _letter(2, paid=Decimal("234.56"))
    _, text, pages = _words(render(letter).pdf)
    assert pages == 1
    assert "1. Mahnung" in text
    assert "Rechnungsbetrag 1.234,56 €" in text
    assert "bereits gezahlt – 234,56 €" in text
    assert "Offener Rechnungsbetrag 1.000,00 €" in text
    # 1000 € B2B across the 01.07.2025 Basiszins change: 9,26 € + 8,72 €.
    assert "01.06.2025–30.06.2025 (30 Tage, 11,27 % p. a.) 9,26 €" in text
    assert "01.07.2025–31.07.2025 (31 Tage, 10,27 % p. a.) 8,72 €" in text
    assert "Verzugspauschale (§ 288 Abs. 5 BGB) 40,00 €" in text
    assert "Mahnkosten 2,50 €" in text
    assert letter.total == Decimal("1060.48")
    assert "Gesamtbetrag 1.060,48 €" in text
    assert "10.08.2025" in text
    assert "IBAN DE02 1203 0000 0000 2020 51" in text and "BYLADEM1001" in text
    assert "USt-IdNr. DE123456789" in text  # footer with the client's data


@pytest.mark.parametrize(
    ("stage", "subject", "phrase"),
    [
        (1, "Zahlungserinnerung", "gegenstandslos"),
        (2, "1. Mahnung", "Zahlungsverzug"),
        (3, "2. Mahnung", "nachdrücklich"),
        (4, "Letzte Mahnung vor gerichtlichem Mahnverfahren", "gerichtlichen Mahnverfahren"),
    ],
)
def test_subject_and_tone_per_stage(stage: int, subject: str, phrase: str) -> None:
    letter = _letter(stage)
    _w, text, _p = _words(render(letter).pdf)
    flat = " ".join(text.split())
    assert subject in flat and phrase in flat
    # The archive text is the same letter (search finds what the debtor got).
    searchable = " ".join(letter_text(letter).split())
    assert subject in searchable and phrase in searchable and "1.234,56 €" in searchable


def test_rendering_is_deterministic() -> None:
    assert render(_letter(3)).pdf == render(_letter(3)).pdf
