"""The first-page detector on hand-made pages: where does a new document start?"""

from __future__ import annotations

from backoffice.config import IntakeSettings
from backoffice.intake.firstpage import (
    MM,
    PageInput,
    read_page,
    score_pages,
    uncertain_flag,
    uncertain_pages,
)
from backoffice.text.model import Word

SPLIT = IntakeSettings().split_threshold
REVIEW = IntakeSettings().split_review_threshold


def page(*lines: tuple[float, float, str]) -> PageInput:
    """An A4 page from ``(mm from top, mm from left, text)`` lines, 10 pt type."""
    words = []
    for top, left, text in lines:
        x = left * MM
        for token in text.split():
            width = 5.0 * len(token)
            words.append(Word(token, 0.95, (x, top * MM, x + width, top * MM + 10)))
            x += width + 3
    text = "\n".join(t for _, _, t in lines)
    return PageInput(text, words)


SCHUSTER_HEAD = [
    (12, 20, "Großhandel Schuster e.K."),
    (18, 20, "Alles für Bäcker und Konditoren"),
    (24, 20, "Im Speckgarten 99, 09111 Chemnitz"),
]
SCHUSTER_FOOT = [
    (272, 20, "Großhandel Schuster e.K. · Sparkasse Chemnitz"),
    (277, 20, "IBAN DE12 8705 0000 0712 3456 78 · USt-IdNr. DE123456789"),
    (282, 20, "www.grosshandel-schuster.de"),
]
WINDOW = [
    (47, 20, "Großhandel Schuster e.K., Im Speckgarten 99, 09111 Chemnitz"),
    (55, 20, "Bäckerei Schneider"),
    (60, 20, "Lindenweg 3"),
    (65, 20, "50667 Köln"),
]


def schuster_invoice_page1(total: int) -> PageInput:
    """Page 1 of an invoice, with "Seite 1 von ``total``" unless ``total`` is 0."""
    return page(
        *SCHUSTER_HEAD,
        *WINDOW,
        (60, 130, "Rechnungsdatum 26.05.26"),
        (65, 130, "Rechnungsnummer RG2026/1104"),
        (100, 20, "RECHNUNG"),
        (110, 20, "Pos. Bezeichnung Menge Einzelpreis Betrag"),
        (116, 20, "1 Weizenmehl Type 550, Sack 25 kg 25 Sack 15,70 392,50"),
        *SCHUSTER_FOOT,
        *([(288, 170, f"Seite 1 von {total}")] if total else []),
    )


def test_second_page_of_an_invoice_continues_it() -> None:
    second = page(
        (12, 20, "Großhandel Schuster e.K. Rechnung RG2026/1104"),
        (30, 20, "Übertrag 392,50"),
        (36, 20, "2 Roggenmehl Type 1150, Sack 25 kg 8 Sack 16,42 131,36"),
        (60, 20, "Endbetrag EUR 1.461,24"),
        *SCHUSTER_FOOT,
        (288, 170, "Seite 2 von 2"),
    )
    [verdict] = score_pages([schuster_invoice_page1(2), second])
    assert verdict.probability < 0.01
    assert "continuation" in verdict.signals


def test_letter_whose_second_page_repeats_the_letterhead_stays_one_document() -> None:
    first = page(
        *SCHUSTER_HEAD,
        *WINDOW,
        (65, 130, "Chemnitz, 05.06.2026"),
        (95, 20, "Betreff: Änderung unserer Lieferbedingungen"),
        (105, 20, "Sehr geehrte Frau Schneider,"),
        (112, 20, "zum 1. Juli 2026 ändern wir unsere Lieferbedingungen."),
        *SCHUSTER_FOOT,
    )
    second = page(
        *SCHUSTER_HEAD,
        (50, 20, "Die neuen Bedingungen finden Sie auf unserer Website."),
        (56, 20, "Für Rückfragen stehen wir Ihnen gerne zur Verfügung."),
        (70, 20, "Mit freundlichen Grüßen"),
        *SCHUSTER_FOOT,
    )
    [verdict] = score_pages([first, second])
    assert verdict.probability < REVIEW, verdict
    assert "same_sender" in verdict.signals


def test_reminder_after_an_invoice_from_the_same_sender_is_a_new_document() -> None:
    reminder = page(
        *SCHUSTER_HEAD,
        *WINDOW,
        (65, 130, "Datum 27.06.26"),
        (95, 20, "1. Mahnung"),
        (105, 20, "Sehr geehrte Damen und Herren,"),
        (112, 20, "unsere Rechnung RG2026/1104 vom 26.05.26 ist noch offen."),
        *SCHUSTER_FOOT,
    )
    [verdict] = score_pages([schuster_invoice_page1(1), reminder])
    assert verdict.probability >= SPLIT, verdict
    assert {"same_sender", "address_block", "heading"} <= set(verdict.signals)


def test_invoice_from_another_sender_after_a_letter_is_certain() -> None:
    other = page(
        (12, 20, "Kraichgau Berufskleidung GmbH"),
        (47, 20, "Kraichgau Berufskleidung GmbH | Siemensstraße 50 | 12099 Berlin"),
        (55, 20, "Bäckerei Schneider"),
        (60, 20, "Lindenweg 3"),
        (65, 20, "50667 Köln"),
        (60, 130, "Rechnungsdatum 17.04.26"),
        (100, 20, "RECHNUNG"),
        (275, 20, "Commerzbank IBAN DE33 3704 0044 5225 4498 00"),
    )
    [verdict] = score_pages([schuster_invoice_page1(1), other])
    assert verdict.probability > 0.99
    assert {"new_sender", "return_line"} <= set(verdict.signals)
    assert verdict.reasons[0] == "+ Anschriftfeld mit PLZ und Ort"


def test_page_counter_reset_starts_a_document_even_without_an_address() -> None:
    scanned_badly = page(
        (12, 20, "Großhandel Schuster e.K."),
        (120, 20, "Lieferschein zu Auftrag 4711"),
        (288, 170, "Seite 1 von 1"),
    )
    [verdict] = score_pages([schuster_invoice_page1(1), scanned_badly])
    assert verdict.probability >= SPLIT
    assert "page_one" in verdict.signals


def test_page_after_a_last_page_leans_towards_a_new_document() -> None:
    last = page((12, 20, "Vertrag Seite 2"), (60, 20, "§ 7 Schlussbestimmungen"), (288, 170, "2/2"))
    plain = page((120, 20, "Anlage: Leistungsverzeichnis"))
    facts = read_page(last)
    assert facts.counter == (2, 2)
    [verdict] = score_pages([last, plain])
    assert "after_last_page" in verdict.signals


def test_other_sender_without_address_goes_to_review_not_split() -> None:
    enclosure = page(
        (12, 20, "Rheinlandtel Telekommunikation AG"),
        (20, 20, "kundenservice@rheinlandtel.de"),
        (60, 20, "Angebot Tarifwechsel, gültig ab 01.07.2026"),
        (70, 20, "Tarif Business 50 monatlich 39,90 EUR"),
    )
    [verdict] = score_pages([schuster_invoice_page1(0), enclosure])
    assert REVIEW <= verdict.probability < SPLIT, verdict
    assert set(verdict.signals) == {"new_sender", "heading"}


def test_dates_and_statement_numbers_are_not_page_counters() -> None:
    facts = read_page(page((60, 130, "Auszug 4/2026"), (66, 130, "12/05")))
    assert facts.counter is None
    assert read_page(page((288, 100, "- 2 -"))).counter == (2, 0)


def test_plain_text_without_boxes_is_read_by_line_position() -> None:
    lines = [
        "Kfz-Meisterbetrieb Jung",
        "Ringstraße 77",
        "73728 Esslingen am Neckar",
        "",
        "",
        "",
        "Kfz-Meisterbetrieb Jung, Ringstraße 77, 73728 Esslingen am Neckar",
        "Klein & Partner Architekten PartG mbB",
        "Schillerplatz 7",
        "04109 Leipzig",
        "Datum 27.05.26",
        "2. Mahnung",
        "Sehr geehrte Frau Dr. Klein,",
    ]
    text_page = PageInput("\n".join(lines))
    facts = read_page(text_page)
    assert facts.address_block and facts.return_line and facts.heading
    [verdict] = score_pages([PageInput("Rechnung 12\nSumme 10,00 EUR"), text_page])
    assert verdict.probability >= SPLIT


def test_scoring_a_cut_part_again_gives_the_same_verdicts() -> None:
    second = page((12, 20, "Großhandel Schuster e.K."), (50, 20, "Weitere Positionen"))
    other = page(
        (12, 20, "Kraichgau Berufskleidung GmbH"),
        *WINDOW[1:],
        (60, 130, "Datum 17.04.26"),
        (100, 20, "RECHNUNG"),
    )
    pages = [schuster_invoice_page1(2), second, other, second]
    whole = score_pages(pages)
    assert [v.probability >= SPLIT for v in whole] == [False, True, False]
    tail = score_pages(pages[2:])
    assert tail[0].probability == whole[2].probability


def test_uncertain_flag_is_readable_and_names_its_page() -> None:
    enclosure = page((12, 20, "Rheinlandtel Telekom AG"), (60, 20, "Preisliste vom 01.07.2026"))
    [verdict] = score_pages([schuster_invoice_page1(0), enclosure])
    flag = uncertain_flag(verdict)
    assert flag.startswith("Trennung unsicher: Seite 2 beginnt vielleicht ein neues Dokument (")
    assert "anderer Absender" in flag
    assert uncertain_pages(["Dokumentart unsicher (Rechnung 60 %)", flag]) == [2]
