"""Booking proposals from invoices: accounts (SKR03/SKR04), tax keys, sides, personal accounts."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date, datetime
from decimal import Decimal

import pytest

from backoffice.exports.bookkeeping import (
    SKR03,
    SKR04,
    InvoiceFacts,
    PastBooking,
    ProposalError,
    choose_account,
    keyword_purpose,
    personal_account,
    personal_account_range,
    propose_bookings,
)
from backoffice.exports.datev import ExtfHeader, as_exported, parse_extf, write_buchungsstapel

OFFICE_TEXT = "Rechnung\nPos. 1 Kopierpapier A4, 5 Pakete\nPos. 2 Toner schwarz\nTelefon: 089 1234"


def office_invoice(**overrides: str | None) -> dict[str, str | None]:
    fields: dict[str, str | None] = {
        "invoice_number": "RE-2025-0042",
        "issue_date": "2025-03-15",
        "due_date": "2025-03-29",
        "service_date": "2025-03-10",
        "net_total": "100.00",
        "vat_total": "19.00",
        "gross_total": "119.00",
        "vat_19_net": "100.00",
        "vat_19_amount": "19.00",
        "seller_name": "Bürobedarf Muster GmbH",
        "buyer_name": "Bäckerei Sonnenschein",
        "is_credit_note": "false",
    }
    fields.update(overrides)
    return fields


def facts(text: str = OFFICE_TEXT, **overrides: str | None) -> InvoiceFacts:
    return InvoiceFacts.from_fields(office_invoice(**overrides), text=text)


# --------------------------------------------------------------------------- the examples


@pytest.mark.parametrize(("chart", "expense"), [("03", 4930), ("04", 6815)])
def test_office_supplies_at_19_percent(chart: str, expense: int) -> None:
    accounts: dict[Hashable, int] = {}
    (b,) = propose_bookings(
        facts(), chart=chart, history=[], automatic_accounts=None, personal_accounts=accounts
    )
    assert (b.amount, b.debit_credit, b.account, b.contra_account, b.bu_key) == (
        Decimal("119.00"),
        "H",
        70001,
        expense,
        "9",
    )
    assert b.document_date == date(2025, 3, 15)
    assert b.belegfeld1 == "RE-2025-0042"
    assert b.text == "Bürobedarf Muster GmbH RE-2025-0042"
    assert b.service_date == date(2025, 3, 10)
    assert b.due_date == date(2025, 3, 29)
    assert accounts == {("kreditor", "bürobedarf muster"): 70001}


def test_the_proposal_matches_the_briefs_example_row_in_the_file() -> None:
    proposal = propose_bookings(facts(), chart="03", history=[], automatic_accounts=None)
    header = ExtfHeader(
        consultant_number=1234567,
        client_number=10001,
        fiscal_year_start=date(2025, 1, 1),
        created_at=datetime(2025, 4, 4, 10, 15),
        period_from=date(2025, 3, 1),
        period_to=date(2025, 3, 31),
        label="Eingang 03-2025",
    )
    line = write_buchungsstapel(header, proposal).decode("cp1252").split("\r\n")[2]
    assert (
        ";".join(line.split(";")[:11]) == '119,00;"H";"EUR";;;;70001;4930;"9";1503;"RE-2025-0042"'
    )
    parsed = parse_extf(write_buchungsstapel(header, proposal)).bookings()
    assert parsed == [as_exported(b) for b in proposal]


@pytest.mark.parametrize(("chart", "expense"), [("03", 4940), ("04", 6820)])
def test_mixed_7_and_19_percent_gives_one_row_per_rate(chart: str, expense: int) -> None:
    invoice = facts(
        "Fachbuch Steuerrecht 2025\nBuchstütze",
        net_total="150.00",
        vat_total="16.50",
        gross_total="166.50",
        vat_19_net="50.00",
        vat_19_amount="9.50",
        vat_7_net="100.00",
        vat_7_amount="7.00",
        seller_name="Fachbuch Verlag XY",
        invoice_number="2025/118",
    )
    rows = propose_bookings(invoice, chart=chart, history=[], automatic_accounts=None)
    assert [(r.amount, r.bu_key, r.contra_account, r.debit_credit) for r in rows] == [
        (Decimal("59.50"), "9", expense, "H"),
        (Decimal("107.00"), "8", expense, "H"),
    ]
    assert sum(r.amount for r in rows) == Decimal("166.50")


def test_a_cent_of_rounding_goes_to_the_largest_line() -> None:
    invoice = facts(
        gross_total="225.00",
        vat_19_net="100.00",
        vat_19_amount="19.00",
        vat_7_net="99.07",
        vat_7_amount="6.94",
    )
    rows = propose_bookings(invoice, chart="03", history=[], automatic_accounts=None)
    assert [r.amount for r in rows] == [Decimal("118.99"), Decimal("106.01")]


def test_totals_that_do_not_add_up_go_to_a_person() -> None:
    with pytest.raises(ProposalError, match="add up"):
        propose_bookings(
            facts(gross_total="129.00"), chart="03", history=[], automatic_accounts=None
        )


@pytest.mark.parametrize(
    "overrides",
    [
        {"is_credit_note": "true"},
        {
            "gross_total": "-119.00",
            "net_total": "-100.00",
            "vat_total": "-19.00",
            "vat_19_net": "-100.00",
            "vat_19_amount": "-19.00",
        },
        {
            "is_credit_note": "true",
            "gross_total": "-119.00",
            "vat_19_net": "-100.00",
            "vat_19_amount": "-19.00",
        },
    ],
)
def test_a_credit_note_reverses_the_sides(overrides: dict[str, str]) -> None:
    (b,) = propose_bookings(facts(**overrides), chart="03", history=[], automatic_accounts=None)
    assert (b.amount, b.debit_credit, b.account, b.contra_account, b.bu_key) == (
        Decimal("119.00"),
        "S",
        70001,
        4930,
        "9",
    )


def test_outgoing_invoice_books_debtor_and_revenue_on_automatic_accounts() -> None:
    invoice = InvoiceFacts.from_fields(
        office_invoice(
            seller_name="Bäckerei Sonnenschein",
            buyer_name="Hotel Krone",
            vat_7_net="200.00",
            vat_7_amount="14.00",
            gross_total="333.00",
        ),
        incoming=False,
    )
    rows = propose_bookings(invoice, chart="03", history=[], automatic_accounts=None)
    assert [(r.amount, r.debit_credit, r.account, r.contra_account, r.bu_key) for r in rows] == [
        (Decimal("119.00"), "S", 10001, 8400, None),
        (Decimal("214.00"), "S", 10001, 8300, None),
    ]
    assert rows[0].text == "Hotel Krone RE-2025-0042"
    skr04 = propose_bookings(invoice, chart="04", history=[], automatic_accounts=set())
    assert [(r.contra_account, r.bu_key) for r in skr04] == [(4400, "3"), (4300, "2")]
    credit = InvoiceFacts.from_fields(
        office_invoice(buyer_name="Hotel Krone", is_credit_note="true"), incoming=False
    )
    (b,) = propose_bookings(credit, chart="03", history=[], automatic_accounts=None)
    assert (b.debit_credit, b.account, b.text) == (
        "H",
        10001,
        "Gutschrift Hotel Krone RE-2025-0042",
    )


# --------------------------------------------------------------------------- accounts


def past(
    account: int, day: int, source: str = "machine", key: str = "bürobedarf muster"
) -> PastBooking:
    return PastBooking(key, account, date(2025, 1, day), source)  # type: ignore[arg-type]


def test_learned_account_beats_keywords() -> None:
    history = [past(4940, 3), past(4940, 4), past(4930, 5), past(4960, 6, key="andere firma")]
    (b,) = propose_bookings(facts(), chart="03", history=history, automatic_accounts=None)
    assert b.contra_account == 4940
    choice = choose_account(facts(), Decimal(19), chart="03", history=history)
    assert (choice.basis, choice.reason) == ("history", "booked 2× of 3 for this correspondent")


def test_staff_correction_beats_frequency_and_the_latest_correction_wins() -> None:
    history = [
        past(4930, 1),
        past(4930, 2),
        past(4930, 3),
        past(4964, 4, "staff"),
        past(4806, 2, "staff"),
    ]
    choice = choose_account(facts(), Decimal(19), chart="03", history=history)
    assert (choice.account, choice.basis) == (4964, "staff")


def test_equal_frequency_goes_to_the_most_recent_account() -> None:
    history = [past(4940, 1), past(4930, 2), past(4930, 3), past(4940, 9)]
    assert choose_account(facts(), Decimal(19), chart="03", history=history).account == 4940


def test_history_of_the_other_direction_or_rate_is_not_used() -> None:
    history = [
        PastBooking("bürobedarf muster", 8400, date(2025, 1, 1), incoming=False),
        PastBooking("bürobedarf muster", 4940, date(2025, 1, 2), vat_rate=Decimal(7)),
    ]
    choice = choose_account(facts(), Decimal(19), chart="03", history=history)
    assert (choice.account, choice.basis) == (4930, "keyword")


@pytest.mark.parametrize(
    ("text", "purpose"),
    [
        ("Portokosten Briefmarken 10 Stück", "porto"),
        ("Ihre Telefonrechnung März, Festnetz und Mobilfunk", "telefon"),
        ("Miete Büroräume April", "miete"),
        ("Abschlag Strom Stadtwerke", "energie"),
        ("Betriebshaftpflicht Versicherungsschein 123", "versicherung"),
        ("Tankstelle Diesel 45 l", "kfz"),
        ("Anzeige im Stadtanzeiger, Flyer-Druck", "werbung"),
        ("Bewirtung Restaurant Zur Post", "bewirtung"),
        ("Hotel Übernachtung Messe", "reise"),
        ("Softwarewartung Jahrespauschale", "wartung"),
        ("Lizenz Microsoft 365 Business", "lizenzen"),
        ("Fachbuch Arbeitsrecht", "fachliteratur"),
        ("Rechtsberatung Mietvertrag", "beratung"),
        ("Finanzbuchhaltung und Lohnabrechnung März", "buchfuehrung"),
        ("Handelsware laut Lieferschein", "wareneingang"),
        ("Kontoführungsgebühren Q1", "geldverkehr"),
        ("Gerätemiete Kopierer", "mieten_einrichtungen"),
    ],
)
def test_keyword_rules(text: str, purpose: str) -> None:
    found = keyword_purpose(text)
    assert found is not None
    assert found[0] == purpose


def test_letterhead_words_are_no_cue_and_nothing_found_means_default() -> None:
    text = "Muster GmbH, Telefon: 089 1234, Internet: www.muster.example\nLeistung laut Angebot"
    assert keyword_purpose(text) is None
    choice = choose_account(facts(text), Decimal(19), chart="04", history=[])
    assert (choice.account, choice.basis) == (SKR04["sonstige"], "default")


def test_line_items_weigh_more_than_the_running_text() -> None:
    found = keyword_purpose("Unser Verlag liefert auch Bücher", ["Toner", "Kopierpapier"])
    assert found == ("buerobedarf", 6)


def test_automatic_account_gets_no_bu_key() -> None:
    text = "Handelsware laut Lieferschein 4711"
    (b,) = propose_bookings(facts(text), chart="03", history=[], automatic_accounts=None)
    assert (b.contra_account, b.bu_key) == (3400, None)
    (b,) = propose_bookings(facts(), chart="03", history=[], automatic_accounts={4930})
    assert (b.contra_account, b.bu_key) == (4930, None)
    (b,) = propose_bookings(facts(text), chart="03", history=[], automatic_accounts=set())
    assert (b.contra_account, b.bu_key) == (3400, "9")


def test_rate_bound_accounts_follow_the_line_rate() -> None:
    invoice = facts(
        "Handelsware",
        gross_total="107.00",
        vat_19_net=None,
        vat_19_amount=None,
        vat_7_net="100.00",
        vat_7_amount="7.00",
    )
    (b,) = propose_bookings(invoice, chart="04", history=[], automatic_accounts=None)
    assert (b.contra_account, b.bu_key) == (5300, None)
    learned = [past(3400, 1)]
    choice = choose_account(invoice, Decimal(7), chart="03", history=learned)
    assert (choice.account, choice.basis) == (3300, "history")


def test_vat_free_lines_have_no_bu_key() -> None:
    invoice = facts(
        "Briefmarken",
        net_total="85.00",
        vat_total="0.00",
        gross_total="85.00",
        vat_19_net=None,
        vat_19_amount=None,
    )
    (b,) = propose_bookings(invoice, chart="03", history=[], automatic_accounts=None)
    assert (b.amount, b.contra_account, b.bu_key) == (Decimal("85.00"), 4910, None)


def test_personal_account_in_gegenkonto_when_asked() -> None:
    (b,) = propose_bookings(
        facts(), chart="03", history=[], automatic_accounts=None, personal_account_in_konto=False
    )
    assert (b.debit_credit, b.account, b.contra_account, b.bu_key) == ("S", 4930, 70001, "9")


# --------------------------------------------------------------------------- personal accounts


def test_personal_accounts_are_stable_and_never_reused() -> None:
    existing: dict[Hashable, int] = {}
    first = personal_account("kreditor", "a", existing)
    existing["a"] = first
    second = personal_account("kreditor", "b", existing)
    existing["b"] = second
    assert (first, second) == (70001, 70002)
    assert personal_account("kreditor", "a", existing) == 70001
    assert personal_account("debitor", "c", existing) == 10001
    # a number freed in the middle is not handed out again while higher ones are free
    assert personal_account("kreditor", "d", {"a": 70001, "gone": 70005, "b": 70002}) == 70006


def test_personal_account_ranges_follow_the_sachkontenlaenge() -> None:
    assert personal_account_range("debitor") == range(10000, 70000)
    assert personal_account_range("kreditor") == range(70000, 100000)
    assert personal_account_range("kreditor", 5) == range(700000, 1000000)
    assert personal_account("debitor", "x", {}, account_length=6) == 1000001


def test_a_full_range_fills_gaps_but_skips_every_known_number() -> None:
    existing: dict[Hashable, int] = {"last": 99999, "old": 70001}
    assert personal_account("kreditor", "new", existing) == 70002


def test_a_key_with_a_number_of_the_other_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="one key per kind"):
        personal_account("debitor", "a", {"a": 70001})


def test_propose_bookings_assigns_and_reuses_personal_accounts() -> None:
    accounts: dict[Hashable, int] = {}
    a = propose_bookings(facts(), chart="03", personal_accounts=accounts)
    b = propose_bookings(
        facts(seller_name="Stadtwerke Nord", invoice_number="S-1"),
        chart="03",
        personal_accounts=accounts,
    )
    again = propose_bookings(facts(invoice_number="RE-2"), chart="03", personal_accounts=accounts)
    assert [a[0].account, b[0].account, again[0].account] == [70001, 70002, 70001]
    keyed = InvoiceFacts.from_fields(office_invoice(), correspondent_key="17")
    assert propose_bookings(keyed, chart="03", personal_accounts=accounts)[0].account == 70003
    assert accounts[("kreditor", "17")] == 70003


# --------------------------------------------------------------------------- facts and refusals


def test_facts_from_totals_only_detect_the_rate() -> None:
    invoice = InvoiceFacts.from_fields(
        {
            "invoice_number": "1",
            "issue_date": "2025-03-01",
            "net_total": "10.00",
            "vat_total": "0.70",
            "gross_total": "10.70",
            "seller_name": "X",
        }
    )
    assert [(line.rate, line.net, line.vat) for line in invoice.lines] == [
        (Decimal(7), Decimal("10.00"), Decimal("0.70"))
    ]


def test_facts_compute_a_missing_vat_amount() -> None:
    invoice = facts(vat_19_amount=None)
    assert invoice.lines[0].vat == Decimal("19.00")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"invoice_number": None}, "invoice number"),
        ({"issue_date": None}, "invoice date"),
        ({"seller_name": None}, "correspondent"),
        ({"reverse_charge": "true"}, "13b"),
        (
            {
                "vat_19_net": None,
                "vat_19_amount": None,
                "vat_5.5_net": "100.00",
                "gross_total": "105.50",
            },
            "5.5",
        ),
        ({"chart": "05"}, "chart"),
    ],
)
def test_invoices_that_need_a_person(overrides: dict[str, str | None], message: str) -> None:
    chart = str(overrides.pop("chart", "03"))
    with pytest.raises(ProposalError, match=message):
        invoice = InvoiceFacts.from_fields(office_invoice(**overrides), text=OFFICE_TEXT)
        propose_bookings(invoice, chart=chart, history=[], automatic_accounts=None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"gross_total": "119.00"}, "only a gross total"),
        ({"net_total": "100.00", "vat_total": "12.00"}, "mixed or unknown rate"),
        ({"net_total": "10.00", "vat_total": "1.00"}, "mixed or unknown rate"),
        ({"net_total": "1OO.00"}, "not an amount"),
        ({"issue_date": "15.03.2025"}, "ISO date"),
    ],
)
def test_unreadable_facts_are_refused(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ProposalError, match=message):
        InvoiceFacts.from_fields(fields)


def test_buchungstext_keeps_the_whole_number() -> None:
    invoice = facts(seller_name="Sehr lange Firmierung " * 5, invoice_number="RE-2025-000001234")
    (b,) = propose_bookings(invoice, chart="03")
    assert len(b.text) <= 60
    assert b.text.endswith(" RE-2025-000001234")


def test_skr_tables_hold_the_briefs_accounts() -> None:
    assert (SKR03["buerobedarf"], SKR04["buerobedarf"]) == (4930, 6815)
    assert (SKR03["verbindlichkeiten"], SKR04["verbindlichkeiten"]) == (1600, 3300)
    assert (SKR03["erloese_19"], SKR04["erloese_19"]) == (8400, 4400)
    assert (SKR03["wartung"], SKR04["wartung"]) == (4806, 6495)
    assert set(SKR03) == set(SKR04)


def test_facts_from_a_catalog_document_prefer_staff_corrections() -> None:
    from backoffice.models import Document, ExtractedField

    def extracted(name: str, value: str, source: str = "text") -> ExtractedField:
        return ExtractedField(name=name, value=value, source=source, confidence=0.9)

    document = Document(
        text="Toner und Kopierpapier",
        correspondent_id=5,
        fields=[
            *(extracted(name, value) for name, value in office_invoice().items() if value),
            extracted("invoice_number", "RE-2025-0043", "staff"),
        ],
    )
    invoice = InvoiceFacts.from_document(document, incoming=True)
    assert (invoice.number, invoice.key, invoice.text) == (
        "RE-2025-0043",
        "5",
        "Toner und Kopierpapier",
    )
    (b,) = propose_bookings(invoice, chart="03")
    assert (b.belegfeld1, b.contra_account) == ("RE-2025-0043", 4930)
