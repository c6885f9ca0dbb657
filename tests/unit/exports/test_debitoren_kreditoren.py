"""Debitoren/Kreditoren master data (category 16, format version 5), against brief 1.6."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from backoffice.exports.datev import (
    DEBITOREN_KREDITOREN_COLUMNS,
    ExportError,
    ExtfHeader,
    PersonalAccountRecord,
    parse_extf,
    write_debitoren_kreditoren,
)

DATEV_SAMPLE_HEADER = (
    '"EXTF";700;16;"Debitoren/Kreditoren";5;20240130140659583;;"RE";"";"";29098;55003;20240101;4;'
    ';;"";"";;;;"";;"";;;"03";;;"";""'
)
BRIEF_FIRST_COLUMNS = [
    "Konto",
    "Name (Adressatentyp Unternehmen)",
    "Unternehmensgegenstand",
    "Name (Adressatentyp natürl. Person)",
    "Vorname (Adressatentyp natürl. Person)",
    "Name (Adressatentyp keine Angabe)",
    "Adressatentyp",
    "Kurzbezeichnung",
    "EU-Land",
    "EU-UStID",
]

HEADER = ExtfHeader(
    consultant_number=29098,
    client_number=55003,
    fiscal_year_start=date(2024, 1, 1),
    created_at=datetime(2024, 1, 30, 14, 6, 59, 583_000),
)


def test_header_equals_datevs_sample() -> None:
    data = write_debitoren_kreditoren(HEADER, [])
    assert data.decode("cp1252").split("\r\n")[0] == DATEV_SAMPLE_HEADER


def test_period_and_batch_fields_stay_empty_even_when_the_header_has_them() -> None:
    header = ExtfHeader(
        consultant_number=29098,
        client_number=55003,
        fiscal_year_start=date(2024, 1, 1),
        created_at=datetime(2024, 1, 30, 14, 6, 59, 583_000),
        period_from=date(2024, 1, 1),
        period_to=date(2024, 1, 31),
    )
    data = write_debitoren_kreditoren(header, [])
    assert data.decode("cp1252").split("\r\n")[0] == DATEV_SAMPLE_HEADER


def test_columns_start_as_in_the_brief_and_include_the_address() -> None:
    names = [name for name, _, _ in DEBITOREN_KREDITOREN_COLUMNS]
    assert names[:10] == BRIEF_FIRST_COLUMNS
    assert names[15:20] == ["Straße", "Postfach", "Postleitzahl", "Ort", "Land"]
    assert names[44] == "IBAN-Nr. 1"
    assert len(names) == 51


def test_records_are_written_and_read_back() -> None:
    records = [
        PersonalAccountRecord(
            account=70001,
            name="Bürobedarf Muster GmbH",
            short_name="Muster Büro",
            vat_id="DE 123 456 789",
            street="Hauptstraße 5",
            zip="80331",
            city="München",
            country="DE",
            email="rechnung@muster.example",
            iban="DE89 3704 0044 0532 0130 00",
            bic="COBADEFFXXX",
        ),
        PersonalAccountRecord(
            account=10001, name="Schmidt", first_name="Anna", addressee_type=1, po_box="1234"
        ),
    ]
    data = write_debitoren_kreditoren(HEADER, records)
    assert data.endswith(b"\r\n")
    assert b'"B\xfcrobedarf Muster GmbH"' in data
    parsed = parse_extf(data)
    assert parsed.category == 16
    assert parsed.header["Formatname"] == "Debitoren/Kreditoren"
    assert parsed.header["Formatversion"] == "5"
    company, person = parsed.rows
    assert company["Konto"] == "70001"
    assert company["Name (Adressatentyp Unternehmen)"] == "Bürobedarf Muster GmbH"
    assert company["Adressatentyp"] == "2"
    assert company["EU-Land"] == "DE"
    assert company["EU-UStID"] == "123456789"
    assert company["Adressart"] == "STR"
    assert company["Straße"] == "Hauptstraße 5"
    assert company["Ort"] == "München"
    assert company["IBAN-Nr. 1"] == "DE89370400440532013000"
    assert person["Name (Adressatentyp natürl. Person)"] == "Schmidt"
    assert person["Vorname (Adressatentyp natürl. Person)"] == "Anna"
    assert person["Name (Adressatentyp Unternehmen)"] == ""
    assert person["Adressart"] == "PF"
    line = data.decode("cp1252").split("\r\n")[2]
    assert line.startswith('70001;"Bürobedarf Muster GmbH";;;;;"2";"Muster Büro";"DE";"123456789"')


def test_texts_are_cut_to_datevs_lengths() -> None:
    record = PersonalAccountRecord(account=70001, name="N" * 80, short_name="K" * 20)
    row = parse_extf(write_debitoren_kreditoren(HEADER, [record])).rows[0]
    assert row["Name (Adressatentyp Unternehmen)"] == "N" * 50
    assert row["Kurzbezeichnung"] == "K" * 15


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (PersonalAccountRecord(account=1600, name="Sammelkonto"), "5 digits"),
        (PersonalAccountRecord(account=700001, name="Zu lang"), "5 digits"),
        (PersonalAccountRecord(account=70001, name="X", addressee_type=3), "Adressatentyp"),
        (PersonalAccountRecord(account=70001, name="X", vat_id="123"), "USt-IdNr"),
    ],
)
def test_bad_records_are_rejected(record: PersonalAccountRecord, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        write_debitoren_kreditoren(HEADER, [record])


def test_the_same_account_twice_is_rejected() -> None:
    records = [PersonalAccountRecord(70001, "A"), PersonalAccountRecord(70001, "B")]
    with pytest.raises(ExportError, match="twice"):
        write_debitoren_kreditoren(HEADER, records)
