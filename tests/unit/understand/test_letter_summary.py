"""A letter's one-line summary says what the reader is asked to do, and by when."""

from __future__ import annotations

from backoffice.understand import extract_fields
from backoffice.understand.evaluate import summary_covers

HEAD = """Hausverwaltung Sommer GmbH · Ringstraße 4 · 50667 Köln
Müller Haustechnik GmbH
Hauptstraße 12
70173 Stuttgart

Köln, 02.03.2026
Betreff: Wartung der Heizungsanlage

Sehr geehrte Damen und Herren,
"""
FOOT = """
Mit freundlichen Grüßen
Petra Sommer
"""


def _summary(body: str) -> str:
    fields = {f.name: f.value for f in extract_fields([HEAD + body + FOOT], "letter")}
    return fields["summary"]


def test_the_asking_sentence_wins_over_the_opening_and_gets_its_date() -> None:
    summary = _summary(
        "am 12. März 2026 zwischen 8 und 12 Uhr findet die jährliche Wartung der Heizungsanlage "
        "in Ihren Räumen statt. Bitte ermöglichen Sie dem Techniker den Zugang.\n"
        "Vielen Dank für Ihre Unterstützung."
    )
    assert summary == "Bitte ermöglichen Sie dem Techniker den Zugang. (am 12.03.2026)"


def test_a_day_with_a_dot_does_not_end_the_sentence_and_the_deadline_is_kept() -> None:
    summary = _summary(
        "für den Jahresabschluss fehlen uns noch Unterlagen. Wir bitten Sie, uns die "
        "Kontoauszüge bis zum 17. Juni 2026 zu senden. Bei Fragen rufen wir gern zurück."
    )
    assert summary.startswith("Wir bitten Sie, uns die Kontoauszüge bis zum 17. Juni 2026")


def test_a_letter_that_asks_nothing_is_summed_up_by_its_first_sentence() -> None:
    summary = _summary(
        "die Preise bleiben im Jahr 2026 unverändert. Wir danken für die gute Zusammenarbeit."
    )
    assert summary == "die Preise bleiben im Jahr 2026 unverändert."


def test_summaries_are_judged_by_date_and_matter() -> None:
    label = "Unterlagen für den Jahresabschluss 2025 bis 30.06.2026 einreichen"
    assert summary_covers(label, "Bitte reichen Sie die Unterlagen bis zum 30. Juni 2026 ein.")
    assert not summary_covers(label, "Bitte reichen Sie die Unterlagen bis zum 30. Mai 2026 ein.")
    assert not summary_covers(label, "Wir wünschen Ihnen frohe Ostern (bis 30.06.2026).")
