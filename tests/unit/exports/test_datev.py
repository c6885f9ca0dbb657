"""The Buchungsstapel writer and reader, field by field against the domain brief (§1)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from backoffice.exports.datev import (
    BUCHUNGSSTAPEL_COLUMNS,
    RAW_NUMBER_INFO,
    Booking,
    ExportError,
    ExtfFormatError,
    ExtfHeader,
    as_exported,
    clean_text,
    normalise_belegfeld,
    parse_extf,
    raw_invoice_number,
    write_buchungsstapel,
    write_buchungsstapel_files,
)


def from_brief(text: str) -> list[str]:
    """Column names as the brief (1.3) lists them, expanded independently of the code."""
    return text.split(";")


BRIEF_1_20 = from_brief(
    "Umsatz (ohne Soll/Haben-Kz);Soll/Haben-Kennzeichen;WKZ Umsatz;Kurs;Basis-Umsatz;"
    "WKZ Basis-Umsatz;Konto;Gegenkonto (ohne BU-Schlüssel);BU-Schlüssel;Belegdatum;Belegfeld 1;"
    "Belegfeld 2;Skonto;Buchungstext;Postensperre;Diverse Adressnummer;Geschäftspartnerbank;"
    "Sachverhalt;Zinssperre;Beleglink"
)
BRIEF_21_36 = [f"Beleginfo - {p} {n}" for n in range(1, 9) for p in ("Art", "Inhalt")]
BRIEF_37_47 = from_brief(
    "KOST1 - Kostenstelle;KOST2 - Kostenstelle;Kost-Menge;EU-Land u. UStID (Bestimmung);"
    "EU-Steuersatz (Bestimmung);Abw. Versteuerungsart;Sachverhalt L+L;Funktionsergänzung L+L;"
    "BU 49 Hauptfunktionstyp;BU 49 Hauptfunktionsnummer;BU 49 Funktionsergänzung"
)
BRIEF_48_87 = [
    name
    for n in range(1, 21)
    for name in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")
]
BRIEF_88_125 = from_brief(
    "Stück;Gewicht;Zahlweise;Forderungsart;Veranlagungsjahr;Zugeordnete Fälligkeit;Skontotyp;"
    "Auftragsnummer;Buchungstyp;USt-Schlüssel (Anzahlungen);EU-Land (Anzahlungen);"
    "Sachverhalt L+L (Anzahlungen);EU-Steuersatz (Anzahlungen);Erlöskonto (Anzahlungen);"
    "Herkunft-Kz;Buchungs GUID;KOST-Datum;SEPA-Mandatsreferenz;Skontosperre;Gesellschaftername;"
    "Beteiligtennummer;Identifikationsnummer;Zeichnernummer;Postensperre bis;"
    "Bezeichnung SoBil-Sachverhalt;Kennzeichen SoBil-Buchung;Festschreibung;Leistungsdatum;"
    "Datum Zuord. Steuerperiode;Fälligkeit;Generalumkehr (GU);Steuersatz;Land;"
    "Abrechnungsreferenz;BVV-Position;EU-Land u. UStID (Ursprung);EU-Steuersatz (Ursprung);"
    "Abw. Skontokonto"
)
BRIEF_COLUMNS = BRIEF_1_20 + BRIEF_21_36 + BRIEF_37_47 + BRIEF_48_87 + BRIEF_88_125

BRIEF_EXAMPLE_HEADER = (
    '"EXTF";700;21;"Buchungsstapel";13;20250404101500000;;"RE";"";"";1234567;10001;20250101;4;'
    '20250301;20250331;"Eingang 03-2025";"";1;0;0;"EUR";;"";;;"03";;;"";""'
)
DATEV_SAMPLE_HEADER = (
    '"EXTF";700;21;"Buchungsstapel";13;20240130140440439;;"RE";"";"";29098;55003;20240101;4;'
    '20240101;20240831;"Buchungsstapel";"WD";1;0;0;"EUR";;"";;;"03";;;"";""'
)
BRIEF_EXAMPLE_ROWS = [
    '119,00;"H";"EUR";;;;70001;4930;"9";1503;"RE-2025-0042";;;"Bürobedarf Muster GmbH"',
    '53,50;"H";"EUR";;;;70002;4940;"8";1803;"2025/118";;;"Fachbuch Verlag XY"',
    '119,00;"S";"EUR";;;;70001;1200;;2803;"RE-2025-0042";;;"Zahlung RE-2025-0042"',
]


def march_header(**changes: object) -> ExtfHeader:
    values: dict[str, object] = {
        "consultant_number": 1234567,
        "client_number": 10001,
        "fiscal_year_start": date(2025, 1, 1),
        "created_at": datetime(2025, 4, 4, 10, 15, 0),
        "period_from": date(2025, 3, 1),
        "period_to": date(2025, 3, 31),
        "label": "Eingang 03-2025",
    }
    values.update(changes)
    return ExtfHeader(**values)  # type: ignore[arg-type]


def booking(**changes: object) -> Booking:
    values: dict[str, object] = {
        "amount": Decimal("119.00"),
        "debit_credit": "H",
        "account": 70001,
        "contra_account": 4930,
        "bu_key": "9",
        "document_date": date(2025, 3, 15),
        "belegfeld1": "RE-2025-0042",
        "text": "Bürobedarf Muster GmbH",
    }
    values.update(changes)
    return Booking(**values)  # type: ignore[arg-type]


def example_bookings() -> list[Booking]:
    return [
        booking(),
        booking(
            amount=Decimal("53.50"),
            account=70002,
            contra_account=4940,
            bu_key="8",
            document_date=date(2025, 3, 18),
            belegfeld1="2025/118",
            text="Fachbuch Verlag XY",
        ),
        booking(
            debit_credit="S",
            contra_account=1200,
            bu_key=None,
            document_date=date(2025, 3, 28),
            text="Zahlung RE-2025-0042",
        ),
    ]


def lines_of(data: bytes) -> list[str]:
    text = data.decode("cp1252")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


# --------------------------------------------------------------------------- header, columns


def test_header_line_equals_the_briefs_example() -> None:
    data = write_buchungsstapel(march_header(), [])
    assert lines_of(data)[0] == BRIEF_EXAMPLE_HEADER


def test_header_line_equals_datevs_sample() -> None:
    header = ExtfHeader(
        consultant_number=29098,
        client_number=55003,
        fiscal_year_start=date(2024, 1, 1),
        created_at=datetime(2024, 1, 30, 14, 4, 40, 439_999),
        period_from=date(2024, 1, 1),
        period_to=date(2024, 8, 31),
        label="Buchungsstapel",
        dictation_code="WD",
    )
    assert lines_of(write_buchungsstapel(header, []))[0] == DATEV_SAMPLE_HEADER


def test_header_has_31_fields_and_festschreibung_0() -> None:
    fields = BRIEF_EXAMPLE_HEADER.split(";")
    assert len(fields) == 31
    assert fields[20] == "0"


def test_column_line_is_the_125_names_in_v13_spelling() -> None:
    assert len(BRIEF_COLUMNS) == 125
    assert list(BUCHUNGSSTAPEL_COLUMNS) == BRIEF_COLUMNS
    assert lines_of(write_buchungsstapel(march_header(), []))[1] == ";".join(BRIEF_COLUMNS)
    assert BUCHUNGSSTAPEL_COLUMNS[113] == "Festschreibung"
    assert BUCHUNGSSTAPEL_COLUMNS[114] == "Leistungsdatum"
    assert BUCHUNGSSTAPEL_COLUMNS[116] == "Fälligkeit"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consultant_number": 1000}, "Beraternummer"),
        ({"consultant_number": 10_000_000}, "Beraternummer"),
        ({"client_number": 0}, "Mandantennummer"),
        ({"client_number": 100_000}, "Mandantennummer"),
        ({"account_length": 3}, "Sachkontenlänge"),
        ({"label": "x" * 31}, "Bezeichnung"),
        ({"label": "Eingang; März"}, "Bezeichnung"),
        ({"dictation_code": "wd"}, "Diktatkürzel"),
        ({"dictation_code": "W"}, "Diktatkürzel"),
        ({"chart": "05"}, "Sachkontenrahmen"),
        ({"origin": "RES"}, "Herkunft"),
        ({"exported_by": "x" * 26}, "Exportiert von"),
        ({"application_info": "x" * 17}, "Anwendungsinformation"),
    ],
)
def test_header_values_are_checked(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ExportError, match=message):
        march_header(**changes)


# --------------------------------------------------------------------------- rows


def test_the_briefs_three_example_rows() -> None:
    lines = lines_of(write_buchungsstapel(march_header(), example_bookings()))
    assert len(lines) == 5
    for line, expected in zip(lines[2:], BRIEF_EXAMPLE_ROWS, strict=True):
        fields = line.split(";")
        assert len(fields) == 125
        assert ";".join(fields[:14]) == expected
        assert fields[113] == "0"  # Festschreibung
        assert all(f == "" for i, f in enumerate(fields[14:], start=14) if i != 113)


def test_every_row_has_125_fields_even_when_text_holds_semicolons() -> None:
    data = write_buchungsstapel(march_header(), [booking(text="Toner; Papier; Ordner")])
    parsed = parse_extf(data)
    assert parsed.rows[0]["Buchungstext"] == "Toner; Papier; Ordner"
    assert len(parsed.rows[0]) == 125


def test_umlauts_are_cp1252_bytes_without_bom() -> None:
    data = write_buchungsstapel(march_header(), [booking(text="Bürobedarf Größe € 5")])
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b'"B\xfcrobedarf Gr\xf6\xdfe \x80 5"' in data
    assert "Gegenkonto (ohne BU-Schlüssel)".encode("cp1252") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Čapek s.r.o.", "Capek s.r.o."),
        ("Preis −5 → 3", "Preis -5 -> 3"),
        ("Büro 😀", "Büro ?"),
        ("ẞTRASSE", "SSTRASSE"),
        ("Zeile 1\nZeile 2\tTab", "Zeile 1 Zeile 2 Tab"),
        ("a\x00b\x7fc", "abc"),
        ("„Zitat“ – gut…", "„Zitat“ – gut…"),
    ],
)
def test_text_outside_cp1252_is_replaced_never_an_error(text: str, expected: str) -> None:
    assert clean_text(text) == expected
    data = write_buchungsstapel(march_header(), [booking(text=text)])
    assert parse_extf(data).rows[0]["Buchungstext"] == expected


def test_crlf_after_every_line_and_no_bare_lf() -> None:
    data = write_buchungsstapel(
        march_header(), [*example_bookings(), booking(text="mit\nZeilen\r\numbruch")]
    )
    assert data.endswith(b"\r\n")
    assert data.count(b"\r\n") == 6
    rest = data.replace(b"\r\n", b"")
    assert b"\n" not in rest
    assert b"\r" not in rest


def test_inner_quotes_are_doubled() -> None:
    data = write_buchungsstapel(march_header(), [booking(text='Firma "Alt" GmbH')])
    assert b'"Firma ""Alt"" GmbH"' in data
    assert parse_extf(data).rows[0]["Buchungstext"] == 'Firma "Alt" GmbH'


def test_buchungstext_is_cut_to_60_characters() -> None:
    data = write_buchungsstapel(march_header(), [booking(text="x" * 80)])
    assert parse_extf(data).rows[0]["Buchungstext"] == "x" * 60


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RE-2025-0042", "RE-2025-0042"),
        ("2025/118", "2025/118"),
        ("RE 2025/0042.A", "RE-2025/0042-A"),
        ("Nr. 4711", "Nr-4711"),
        ("Müller_12", "Mueller-12"),
        ("Ré:5", "Re-5"),
        ("  12  ", "12"),
        ("A$B%C", "A$B%C"),
        ("X&Y*Z+1", "X-Y-Z-1"),
        ("A" * 40, "A" * 36),
        (";:,.", ""),
    ],
)
def test_belegfeld1_normalisation(raw: str, expected: str) -> None:
    assert normalise_belegfeld(raw) == expected
    assert re.fullmatch(r"[A-Za-z0-9$%/-]{0,36}", normalise_belegfeld(raw))


def test_raw_invoice_number_is_kept_in_beleginfo_when_normalised() -> None:
    data = write_buchungsstapel(
        march_header(), [booking(belegfeld1="RE 2025/0042.A"), booking(belegfeld1="RE-1")]
    )
    rows = parse_extf(data).rows
    assert rows[0]["Belegfeld 1"] == "RE-2025/0042-A"
    assert rows[0]["Beleginfo - Art 1"] == RAW_NUMBER_INFO
    assert rows[0]["Beleginfo - Inhalt 1"] == "RE 2025/0042.A"
    assert rows[1]["Belegfeld 1"] == "RE-1"
    assert rows[1]["Beleginfo - Art 1"] == ""
    first = parse_extf(data).bookings()[0]
    assert raw_invoice_number(first) == "RE 2025/0042.A"


def test_no_room_for_the_raw_number_is_an_error() -> None:
    infos = [(f"Info {n}", "x") for n in range(8)]
    with pytest.raises(ExportError, match="Beleginfo"):
        write_buchungsstapel(march_header(), [booking(belegfeld1="RE 1", document_info=infos)])


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234.56"), "1234,56"),
        (Decimal("1000000"), "1000000,00"),
        (Decimal("0.01"), "0,01"),
        (Decimal("53.5"), "53,50"),
        (Decimal("9999999999.99"), "9999999999,99"),
    ],
)
def test_amounts_decimal_comma_no_thousands_separator(amount: Decimal, expected: str) -> None:
    data = write_buchungsstapel(march_header(), [booking(amount=amount)])
    assert lines_of(data)[2].split(";")[0] == expected


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("0"),
        Decimal("0.00"),
        Decimal("-5"),
        Decimal("1.005"),
        Decimal("1e10"),
        Decimal("1e30"),
    ],
)
def test_amounts_that_datev_cannot_take_are_rejected(amount: Decimal) -> None:
    with pytest.raises(ExportError, match="Umsatz"):
        booking(amount=amount)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"debit_credit": "D"}, "Soll/Haben"),
        ({"account": 0}, "account"),
        ({"contra_account": 1_000_000_000}, "contra_account"),
        ({"bu_key": "09a"}, "BU-Schlüssel"),
        ({"bu_key": "12345"}, "BU-Schlüssel"),
        ({"bu_key": "\u0663"}, "BU-Schlüssel"),  # a non-ASCII digit
        ({"currency": "USD"}, "currency"),
        ({"document_info": [("", "x")]}, "Beleginfo-Art"),
        ({"document_info": [("x" * 21, "x")]}, "Beleginfo-Art"),
        ({"cost_center": "x" * 37}, "KOST1"),
    ],
)
def test_booking_values_are_checked(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ExportError, match=message):
        booking(**changes)


def test_bu_key_quoted_and_dates_ttmm_and_ttmmjjjj() -> None:
    b = booking(
        service_date=date(2025, 2, 28), due_date=date(2025, 4, 14), document_date=date(2025, 3, 5)
    )
    fields = lines_of(write_buchungsstapel(march_header(), [b]))[2].split(";")
    assert fields[8] == '"9"'
    assert fields[9] == "0503"
    assert fields[114] == "28022025"  # Leistungsdatum
    assert fields[115] == "05032025"  # Datum Zuord. Steuerperiode = Belegdatum by default
    assert fields[116] == "14042025"  # Fälligkeit


def test_account_longer_than_sachkontenlaenge_plus_one_is_rejected() -> None:
    with pytest.raises(ExportError, match="Sachkontenlänge"):
        write_buchungsstapel(march_header(), [booking(account=700001)])
    data = write_buchungsstapel(march_header(account_length=5), [booking(account=700001)])
    assert parse_extf(data).rows[0]["Konto"] == "700001"


# --------------------------------------------------------------------------- period checks


def test_booking_outside_the_header_period_is_rejected() -> None:
    with pytest.raises(ExportError, match=r"booking 2 .*outside the header period"):
        write_buchungsstapel(march_header(), [booking(), booking(document_date=date(2025, 4, 1))])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_to": date(2026, 1, 31)}, "not inside the fiscal year"),
        ({"period_from": date(2024, 12, 1)}, "not inside the fiscal year"),
        ({"period_from": date(2025, 4, 1)}, "start after end"),
        ({"period_from": None}, "needs the header period"),
    ],
)
def test_header_period_must_lie_in_one_fiscal_year(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ExportError, match=message):
        write_buchungsstapel(march_header(**changes), [])


def test_fiscal_year_other_than_calendar_year_round_trips() -> None:
    header = march_header(
        fiscal_year_start=date(2024, 7, 1),
        period_from=date(2024, 12, 1),
        period_to=date(2025, 1, 31),
    )
    bookings = [
        booking(document_date=date(2024, 12, 31)),
        booking(document_date=date(2025, 1, 2)),
    ]
    assert parse_extf(write_buchungsstapel(header, bookings)).bookings() == bookings


# --------------------------------------------------------------------------- files and rows


def test_many_bookings_are_split_into_files() -> None:
    bookings = [booking(belegfeld1=f"RE-{n}") for n in range(5)]
    files = write_buchungsstapel_files(march_header(), bookings, max_rows=2)
    assert len(files) == 3
    parsed = [parse_extf(f) for f in files]
    assert [len(p.rows) for p in parsed] == [2, 2, 1]
    assert [b.belegfeld1 for p in parsed for b in p.bookings()] == [f"RE-{n}" for n in range(5)]
    assert all(lines_of(f)[0] == BRIEF_EXAMPLE_HEADER for f in files)
    with pytest.raises(ExportError, match="exceed 2 rows"):
        write_buchungsstapel(march_header(), bookings, max_rows=2)


def test_one_bad_booking_gives_no_files_at_all() -> None:
    bookings = [booking(), booking(document_date=date(2025, 5, 1))]
    with pytest.raises(ExportError):
        write_buchungsstapel_files(march_header(), bookings, max_rows=1)


def test_round_trip_write_parse_gives_the_same_bookings() -> None:
    full = booking(
        amount=Decimal("1234.56"),
        belegfeld2="140425",
        text='Büro "Nord" – Toner',
        service_date=date(2025, 2, 1),
        due_date=date(2025, 4, 14),
        beleglink='BEDI "6f1b0c2e-8a4d-4e57-9b1f-0c2d3e4f5a6b"',
        document_info=[("Seite", "1 von 2"), ("Lieferschein", "LS-77")],
        cost_center="100",
        guid="6f1b0c2e-8a4d-4e57-9b1f-0c2d3e4f5a6b",
        tax_period_date=date(2025, 3, 15),
    )
    bookings = [*example_bookings(), full]
    header = march_header()
    parsed = parse_extf(write_buchungsstapel(header, bookings))
    assert parsed.bookings() == bookings
    assert parsed.extf_header() == header
    assert [as_exported(b) for b in bookings] == bookings


# --------------------------------------------------------------------------- strict reader


def valid_file() -> bytes:
    return write_buchungsstapel(march_header(), example_bookings())


def replace_line(data: bytes, index: int, line: str) -> bytes:
    lines = lines_of(data)
    lines[index] = line
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def test_reader_accepts_what_the_writer_writes() -> None:
    parsed = parse_extf(valid_file())
    assert parsed.category == 21
    assert parsed.header["Beraternummer"] == "1234567"
    assert parsed.header["Bezeichnung"] == "Eingang 03-2025"
    assert parsed.columns == BRIEF_COLUMNS
    assert [r["Belegfeld 1"] for r in parsed.rows] == ["RE-2025-0042", "2025/118", "RE-2025-0042"]


def row_with(index: int, value: str) -> str:
    fields = lines_of(valid_file())[2].split(";")
    fields[index] = value
    return ";".join(fields)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.replace(b"\r\n", b"\n"), "CR/LF"),
        (lambda d: d.replace(b"\r\n", b"\n", 1), "bare LF"),
        (lambda d: d[:-2], "does not end with CR/LF"),
        (lambda d: b"\xef\xbb\xbf" + d, "BOM"),
        (lambda d: d.replace(b"Fachbuch", b"Fach\x81buch"), "not CP1252"),
        (lambda d: d.replace(b";700;", b';"700";', 1), "header field 2"),
        (lambda d: d.replace(b'"RE";', b"RE;", 1), "header field 8"),
        (lambda d: d.replace(b';"";""\r\n', b';""\r\n', 1), "header fields"),
        (lambda d: d.replace(b"WKZ Umsatz", b"WKZ", 1), "column 3"),
        (lambda d: d.replace(b"20250404101500000", b"2025040410150000"), "17 digits"),
        (lambda d: replace_line(d, 2, row_with(0, "0,00")), "Umsatz"),
        (lambda d: replace_line(d, 2, row_with(0, "1.234,56")), "Umsatz"),
        (lambda d: replace_line(d, 2, row_with(0, "119.00")), "Umsatz"),
        (lambda d: replace_line(d, 2, row_with(1, '"X"')), "Soll/Haben"),
        (lambda d: replace_line(d, 2, row_with(1, "H")), "must be quoted"),
        (lambda d: replace_line(d, 2, row_with(6, '"70001"')), "must not be quoted"),
        (lambda d: replace_line(d, 2, row_with(6, "0")), "Konto"),
        (lambda d: replace_line(d, 2, row_with(9, "3213")), "Belegdatum"),
        (lambda d: replace_line(d, 2, row_with(13, '"ab"c"')), "quote"),
        (lambda d: replace_line(d, 2, row_with(13, '"abc')), "quote"),
        (lambda d: replace_line(d, 2, row_with(13, 'a"b')), "stray quote"),
        (lambda d: replace_line(d, 2, row_with(13, '"abc"x')), "quote"),
        (lambda d: replace_line(d, 2, row_with(114, "31022025")), "valid date"),
        (lambda d: replace_line(d, 2, lines_of(d)[2] + ";"), "126 fields"),
        (lambda d: replace_line(d, 2, lines_of(d)[2].rsplit(";", 1)[0]), "124 fields"),
        (lambda d: b"\r\n".join(d.split(b"\r\n")[:1]) + b"\r\n", "header line and a column"),
    ],
)
def test_reader_rejects_broken_files(mutate: object, message: str) -> None:
    broken = mutate(valid_file())  # type: ignore[operator]
    with pytest.raises(ExtfFormatError, match=message):
        parse_extf(broken)


def test_reader_rejects_belegdatum_outside_the_period_when_making_bookings() -> None:
    data = replace_line(valid_file(), 2, row_with(9, "0104"))
    with pytest.raises(ExtfFormatError, match="outside the header period"):
        parse_extf(data).bookings()
