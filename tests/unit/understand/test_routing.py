"""Routing by the recipient: OCR-tolerant, sender-aware, never a silent guess."""

from __future__ import annotations

from backoffice.understand import ClientProfile, route_client

from .corpus import INVOICE_CLASSIC, LETTER_ABOUT_INVOICE, REMINDER_SECOND
from .layout_helpers import din_letter

CLIENTS = [
    ClientProfile(
        1,
        "MUEB",
        "Müller Bau GmbH",
        customer_numbers=("K-4711",),
        zip="10115",
        city="Berlin",
        street="Invalidenstraße 12",
        emails=("post-mueller@buero.example",),
    ),
    ClientProfile(2, "MUEL", "Müller GmbH", zip="80331", city="München", street="Marienplatz 1"),
    ClientProfile(
        3,
        "HOLZ",
        "Schreinerei Holzwurm e.K.",
        aliases=("Holzwurm",),
        zip="50667",
        city="Köln",
        street="Domstr. 5",
    ),
    ClientProfile(
        4,
        "SONN",
        "Bäckerei Sonnenschein GmbH",
        zip="20095",
        city="Hamburg",
        street="Mönckebergstraße 7",
    ),
    ClientProfile(
        5, "ELEK", "Elektro Blitz GmbH", zip="04109", city="Leipzig", street="Lindenallee 4"
    ),
]


def test_recipient_after_return_line() -> None:
    r = route_client(INVOICE_CLASSIC, CLIENTS)
    assert r.client_id == 1
    assert r.confidence >= 0.9
    assert r.candidates[0][0] == 1


def test_sender_is_a_client_too() -> None:
    # Elektro Blitz (a client) writes to Schreinerei Holzwurm (another client)
    r = route_client(REMINDER_SECOND, CLIENTS)
    assert r.client_id == 3
    # Holzwurm writes to Müller Bau: the letter goes to Müller Bau, not to its sender
    r = route_client(LETTER_ABOUT_INVOICE, CLIENTS)
    assert r.client_id == 1


def test_ocr_damaged_name_and_street() -> None:
    text = """Lieferant AG · Hauptstr. 1 · 01067 Dresden
Mül1er Bav GmbH
Invaliden5traße 12
1O115 Berlin
"""
    r = route_client(text, CLIENTS)
    assert r.client_id == 1
    assert r.confidence >= 0.85


def test_similar_names_are_told_apart_by_address() -> None:
    text = "Lieferant AG · Hauptstr. 1 · 01067 Dresden\nMüller GmbH\nMarienplatz 1\n80331 München\n"
    r = route_client(text, CLIENTS)
    assert r.client_id == 2


def test_ambiguous_two_clients_no_guess() -> None:
    twins = [
        ClientProfile(10, "A", "Meier Consulting GmbH", zip="10115", city="Berlin"),
        ClientProfile(11, "B", "Meyer Consulting GmbH", zip="10115", city="Berlin"),
    ]
    text = (
        "Lieferant AG · Hauptstr. 1 · 01067 Dresden\n"
        "Meier Consulting GmbH\nTorstr. 1\n10115 Berlin\n"
    )
    r = route_client(text, twins)
    assert r.client_id is None
    assert "mehrdeutig" in r.reason
    assert {c for c, _ in r.candidates} == {10, 11}


def test_unknown_recipient_low_score_no_guess() -> None:
    text = "Lieferant AG · Hauptstr. 1 · 01067 Dresden\nMüller\nMusterweg 3\n99999 Irgendwo\n"
    r = route_client(text, CLIENTS)
    assert r.client_id is None
    assert r.confidence < 0.85
    assert r.candidates  # staff see who came closest


def test_customer_number_supports_routing() -> None:
    text = (
        "Lieferant AG · Hauptstr. 1 · 01067 Dresden\nM. Bau\nPostfach 12 34\n10115 Berlin\n\n"
        "Ihre Kundennummer: K-4711\n"
    )
    r = route_client(text, CLIENTS)
    assert r.client_id == 1
    assert "Kundennummer" in r.reason


def test_hint_code_wins() -> None:
    r = route_client(INVOICE_CLASSIC, CLIENTS, hint_code="holz")
    assert r.client_id == 3
    assert "Trennblatt" in r.reason
    assert r.confidence < 1.0  # the page names someone else: still routed, but noted


def test_hint_address_wins() -> None:
    r = route_client("", CLIENTS, hint_address="Post-Mueller@buero.example")
    assert (r.client_id, r.confidence) == (1, 1.0)
    r = route_client("", CLIENTS, hint_address="eingang+sonn@buero.example")
    assert r.client_id == 4


def test_unknown_hint_code_falls_back_to_text() -> None:
    r = route_client(INVOICE_CLASSIC, CLIENTS, hint_code="NOPE")
    assert r.client_id == 1


def test_din_window_from_word_boxes() -> None:
    words = din_letter(
        letterhead=["Bäckerei Sonnenschein GmbH", "Mönckebergstraße 7", "20095 Hamburg"],
        return_line="Bäckerei Sonnenschein GmbH · Mönckebergstraße 7 · 20095 Hamburg",
        address=["Schreinerei Holzwurm e.K.", "Domstr. 5", "50667 Köln"],
        right_block=["Ihr Ansprechpartner: Müller Bau GmbH", "Datum 01.03.2026"],
        body=["Sehr geehrte Damen und Herren,"],
    )
    r = route_client("", CLIENTS, first_page_words=words)
    assert r.client_id == 3
    assert "din5008" in r.reason


def test_no_clients() -> None:
    r = route_client(INVOICE_CLASSIC, [])
    assert r.client_id is None
    assert r.candidates == []
