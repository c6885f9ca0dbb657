"""DATEV's "EXTF" import files: our own writer and a strict reader.

The client's Steuerberater imports our bookings into DATEV. DATEV accepts them as CSV files in
its own dialect (the "DATEV-Format", here header version 700): line 1 a 31-field header, line 2
the column names, then one line per record. There is no maintained Python library for it, so
this module writes the two file kinds we need and reads them back:

- the *Buchungsstapel* (booking batch, category 21, format version 13, 125 columns), and
- the *Debitoren/Kreditoren* master data (personal accounts, category 16, format version 5).

German words such as Buchungsstapel, Belegfeld, Belegdatum, Sachkontenlänge, Beleginfo,
Festschreibung, BU-Schlüssel are DATEV's own names for its fields and are used as such.

The rules below follow ``/work/shared/domain.md`` §1 (the project's domain brief, which cites
DATEV's developer portal and code that writes the format). Points the brief marks unverified
are parameters with the brief's value as default:

- ``max_rows`` of :func:`write_buchungsstapel_files` (99,999 rows per file is reported, not
  confirmed);
- the BU-Schlüssel is written unpadded (``"9"``), as implementations do;
- the personal account goes into field 7 (Konto) and the expense/revenue account into field 8
  (Gegenkonto) — a convention of the examples, decided by the caller
  (``backoffice.exports.bookkeeping``), not here;
- field 116 (Datum Zuord. Steuerperiode) is filled with the Belegdatum when a Leistungsdatum is
  written, because the brief says 115 needs 116 (see :func:`as_exported`).

Why a strict reader: an export that DATEV rejects is found by the accountant days later.
:func:`parse_extf` applies the same rules the writer promises (field counts, CR/LF, quoting,
number formats), so tests and anyone checking a file see a problem at once.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "BUCHUNGSSTAPEL_COLUMNS",
    "DEBITOREN_KREDITOREN_COLUMNS",
    "HEADER_FIELDS",
    "MAX_ROWS_PER_FILE",
    "RAW_NUMBER_INFO",
    "Booking",
    "ExportError",
    "ExtfFormatError",
    "ExtfHeader",
    "ParsedExtf",
    "PersonalAccountRecord",
    "as_exported",
    "clean_text",
    "normalise_belegfeld",
    "parse_extf",
    "raw_invoice_number",
    "write_buchungsstapel",
    "write_buchungsstapel_files",
    "write_debitoren_kreditoren",
]


class ExportError(ValueError):
    """Data that cannot be exported as a valid DATEV file (the message says what and where)."""


class ExtfFormatError(ExportError):
    """A file that breaks the EXTF format rules (raised by :func:`parse_extf`)."""


# --------------------------------------------------------------------------- format constants

ENCODING = "cp1252"
"""DATEV reads CP1252/ISO-8859-1; UTF-8 only with BOM and not in every import path (brief 1.1)."""

LINE_END = "\r\n"
MAX_ROWS_PER_FILE = 99_999
"""Rows per Buchungsstapel file: reported by third parties, unverified (brief 1.1 [U])."""

RAW_NUMBER_INFO = "Rechnungsnummer"
"""Beleginfo-Art under which the unchanged invoice number is kept when Belegfeld 1 had to be
normalised: the accountant still sees the number exactly as printed on the invoice."""

BUCHUNGSSTAPEL_CATEGORY = 21
BUCHUNGSSTAPEL_NAME = "Buchungsstapel"
BUCHUNGSSTAPEL_VERSION = 13
DEBKRED_CATEGORY = 16
DEBKRED_NAME = "Debitoren/Kreditoren"
DEBKRED_VERSION = 5

HEADER_FIELDS: tuple[str, ...] = (
    "Kennzeichen",
    "Versionsnummer",
    "Formatkategorie",
    "Formatname",
    "Formatversion",
    "Erzeugt am",
    "Importiert",
    "Herkunft",
    "Exportiert von",
    "Importiert von",
    "Beraternummer",
    "Mandantennummer",
    "WJ-Beginn",
    "Sachkontenlänge",
    "Datum vom",
    "Datum bis",
    "Bezeichnung",
    "Diktatkürzel",
    "Buchungstyp",
    "Rechnungslegungszweck",
    "Festschreibung",
    "WKZ",
    "Reserviert 23",
    "Derivatskennzeichen",
    "Reserviert 25",
    "Reserviert 26",
    "Sachkontenrahmen",
    "Branchenlösungs-ID",
    "Reserviert 29",
    "Reserviert 30",
    "Anwendungsinformation",
)
"""Names of the 31 header fields (keys of :attr:`ParsedExtf.header`); DATEV reserves 23, 25,
26, 29 and 30."""

_HEADER_QUOTED = frozenset({1, 4, 8, 9, 10, 17, 18, 22, 24, 27, 30, 31})
"""1-based header fields that are always quoted, even when empty (brief 1.2, column Q)."""

BUCHUNGSSTAPEL_COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {part} {n}" for n in range(1, 9) for part in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    # DATEV's own spelling: no space before "Inhalt" (brief 1.3, "sic").
    *(
        name
        for n in range(1, 21)
        for name in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")
    ),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)
"""Line 2 of a Buchungsstapel, format version 13 spelling (brief 1.3)."""

_NCOLS = len(BUCHUNGSSTAPEL_COLUMNS)
_C = {name: i for i, name in enumerate(BUCHUNGSSTAPEL_COLUMNS)}
_I_UMSATZ = _C["Umsatz (ohne Soll/Haben-Kz)"]
_I_SH = _C["Soll/Haben-Kennzeichen"]
_I_WKZ = _C["WKZ Umsatz"]
_I_KONTO = _C["Konto"]
_I_GEGENKONTO = _C["Gegenkonto (ohne BU-Schlüssel)"]
_I_BU = _C["BU-Schlüssel"]
_I_BELEGDATUM = _C["Belegdatum"]
_I_BELEGFELD1 = _C["Belegfeld 1"]
_I_BELEGFELD2 = _C["Belegfeld 2"]
_I_TEXT = _C["Buchungstext"]
_I_BELEGLINK = _C["Beleglink"]
_I_INFO = _C["Beleginfo - Art 1"]
_I_KOST1 = _C["KOST1 - Kostenstelle"]
_I_GUID = _C["Buchungs GUID"]
_I_FESTSCHREIBUNG = _C["Festschreibung"]
_I_LEISTUNG = _C["Leistungsdatum"]
_I_STEUERPERIODE = _C["Datum Zuord. Steuerperiode"]
_I_FAELLIG = _C["Fälligkeit"]

_QUOTED_NAMES = (
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "WKZ Basis-Umsatz",
    "BU-Schlüssel",
    "Belegfeld 1",
    "Belegfeld 2",
    "Buchungstext",
    "Diverse Adressnummer",
    "Beleglink",
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "EU-Land u. UStID (Bestimmung)",
    "Abw. Versteuerungsart",
    "Forderungsart",
    "Auftragsnummer",
    "Buchungstyp",
    "EU-Land (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "SEPA-Mandatsreferenz",
    "Gesellschaftername",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Bezeichnung SoBil-Sachverhalt",
    "Generalumkehr (GU)",
    "Land",
    "Abrechnungsreferenz",
    "EU-Land u. UStID (Ursprung)",
)
BUCHUNGSSTAPEL_QUOTED: frozenset[int] = frozenset(
    {_C[n] for n in _QUOTED_NAMES}
    | {i for i, n in enumerate(BUCHUNGSSTAPEL_COLUMNS) if n.startswith(("Beleginfo", "Zusatzinf"))}
)
"""0-based columns DATEV defines as text (regex with ``["]``); all others are written bare."""

# Field lengths (brief 1.4). Beleginfo lengths are DATEV's field table as quoted by third
# parties, not in the brief [U].
BELEGFELD1_MAX = 36
BELEGFELD2_MAX = 12
BUCHUNGSTEXT_MAX = 60
BELEGLINK_MAX = 210
BELEGINFO_ART_MAX = 20
BELEGINFO_INHALT_MAX = 210
KOST_MAX = 36
GUID_MAX = 36
BELEGINFO_PAIRS = 8

DEBITOREN_KREDITOREN_COLUMNS: tuple[tuple[str, int | None, bool], ...] = (
    ("Konto", 9, False),
    ("Name (Adressatentyp Unternehmen)", 50, True),
    ("Unternehmensgegenstand", 50, True),
    ("Name (Adressatentyp natürl. Person)", 30, True),
    ("Vorname (Adressatentyp natürl. Person)", 30, True),
    ("Name (Adressatentyp keine Angabe)", 50, True),
    ("Adressatentyp", 1, True),
    ("Kurzbezeichnung", 15, True),
    ("EU-Land", 2, True),
    ("EU-UStID", 13, True),
    ("Anrede", 30, True),
    ("Titel/Akad. Grad", 25, True),
    ("Adelstitel", 15, True),
    ("Namensvorsatz", 14, True),
    ("Adressart", 3, True),
    ("Straße", 36, True),
    ("Postfach", 10, True),
    ("Postleitzahl", 10, True),
    ("Ort", 30, True),
    ("Land", 2, True),
    ("Versandzusatz", 50, True),
    ("Adresszusatz", 36, True),
    ("Abweichende Anrede", 30, True),
    ("Abw. Zustellbezeichnung 1", 50, True),
    ("Abw. Zustellbezeichnung 2", 36, True),
    ("Kennz. Korrespondenzadresse", 1, False),
    ("Adresse Gültig von", 8, False),
    ("Adresse Gültig bis", 8, False),
    ("Telefon", 60, True),
    ("Bemerkung (Telefon)", 40, True),
    ("Telefon Geschäftsleitung", 60, True),
    ("Bemerkung (Telefon GL)", 40, True),
    ("E-Mail", 60, True),
    ("Bemerkung (E-Mail)", 40, True),
    ("Internet", 60, True),
    ("Bemerkung (Internet)", 40, True),
    ("Fax", 60, True),
    ("Bemerkung (Fax)", 40, True),
    ("Sonstige", 60, True),
    ("Bemerkung (Sonstige)", 40, True),
    ("Bankleitzahl 1", 8, True),
    ("Bankbezeichnung 1", 30, True),
    ("Bankkonto-Nummer 1", 10, True),
    ("Länderkennzeichen 1", 2, True),
    ("IBAN-Nr. 1", 34, True),
    ("Leerfeld 1", 1, True),
    ("SWIFT-Code 1", 11, True),
    ("Abw. Kontoinhaber 1", 70, True),
    ("Kennz. Hauptbankverb. 1", 1, True),
    ("Bankverb 1 Gültig von", 8, False),
    ("Bankverb 1 Gültig bis", 8, False),
)
"""The first 51 columns of a Debitoren/Kreditoren file: (name, max length, quoted).

What is checked and what is not (see :func:`write_debitoren_kreditoren`):

- Positions 1–51 agree in four independent implementations (``ledermann/datev``, which cites
  DATEV document 1036228; ``frappe/erpnext``; ``OCA/l10n-germany``; Schuppelius'
  ``php-financial-formats``) and in a vendor's copy of DATEV's field table [S].
- Names 1–10 are spelled as in the domain brief. The sources disagree on spellings, e.g.
  "Adressatentyp" (ledermann, ERPNext, vendor table) vs. "Adressattyp" (OCA, Schuppelius),
  "EU-UStID" vs. "EU-USt-IdNr.", "IBAN-Nr. 1" vs. "IBAN 1", "Bankkonto-Nummer 1" vs.
  "Bank-Kontonummer 1". DATEV is assumed to import by position [U].
- Lengths are those of ledermann/the vendor table [S].
- The full record has about 240–254 columns (sources disagree after column ~120). We stop
  after the first bank connection; that DATEV accepts rows with fewer columns is unverified [U].
"""


# --------------------------------------------------------------------------- text handling

_CONTROL_TABLE: dict[int, str | None] = {c: None for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
for _c in (0x09, 0x0A, 0x0B, 0x0C, 0x0D):
    _CONTROL_TABLE[_c] = " "

_SUBSTITUTES = {
    "\u2212": "-",  # minus sign
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2015": "-",
    "\u2043": "-",
    "\u2044": "/",
    "\u2215": "/",
    "\u2032": "'",
    "\u2033": '"',
    "\u201b": "'",
    "\u201f": '"',
    "\u2190": "<-",
    "\u2192": "->",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u1e9e": "SS",  # capital sharp s
    "\u2116": "Nr.",
}


def _substitute(char: str) -> str:
    """A CP1252 stand-in for one character that CP1252 cannot encode."""
    if char in _SUBSTITUTES:
        return _SUBSTITUTES[char]
    category = unicodedata.category(char)
    if category.startswith("Z"):
        return " "
    if category.startswith("C") or category == "Mn":
        return ""
    decomposed = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    )
    if decomposed and decomposed != char:
        try:
            decomposed.encode(ENCODING)
        except UnicodeEncodeError:
            pass
        else:
            return decomposed
    return "?"


def _encode_error_handler(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_substitute(c) for c in bad), error.end


_ERRORS = "backoffice-datev-cp1252"
codecs.register_error(_ERRORS, _encode_error_handler)


def clean_text(value: str, max_length: int | None = None) -> str:
    """``value`` as DATEV text: CP1252 only, no control characters, at most ``max_length``.

    Line breaks and tabs become spaces (OCR text is full of them), other control characters
    are dropped, characters CP1252 lacks are replaced by a readable stand-in (``č`` → ``c``,
    ``−`` → ``-``) or ``?`` — never an exception, because a single odd character in a
    supplier's name must not stop a month's export. Leading/trailing spaces are kept so that
    cleaning an already clean text never changes it.
    """
    if value.isprintable():  # the common case: nothing to clean, checked at C speed
        if value.isascii():
            return value if max_length is None else value[:max_length]
        try:
            value.encode(ENCODING)
        except UnicodeEncodeError:
            pass
        else:
            return value if max_length is None else value[:max_length]
    text = value.translate(_CONTROL_TABLE)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        text = text.encode(ENCODING, errors=_ERRORS).decode(ENCODING)
        text = text.translate(_CONTROL_TABLE)
    if max_length is not None:
        text = text[:max_length]
    return text


_BELEGFELD_OK = re.compile(r"[A-Za-z0-9$%/-]*")
_BELEGFELD_BAD = re.compile(r"[^A-Za-z0-9$%/-]+")
_GERMAN_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"}
)


def normalise_belegfeld(raw: str, max_length: int = BELEGFELD1_MAX) -> str:
    """An invoice number as DATEV's Belegfeld 1 (the OPOS key): ``[A-Za-z0-9$%/-]``, ≤36.

    DATEV's prose and its regex disagree on the allowed characters; the intersection is used
    (brief 1.4). Umlauts are spelled out (``ü`` → ``ue``), accents dropped, and each run of
    other characters (spaces, dots, commas …) becomes one ``-``, so ``"RE 2025/0042.A"``
    becomes ``"RE-2025/0042-A"``: token boundaries survive, which keeps different numbers
    different. Invoice and payment go through the same function, so they still match.
    """
    if _BELEGFELD_OK.fullmatch(raw):
        return raw[:max_length]
    folded = unicodedata.normalize("NFKD", raw.translate(_GERMAN_FOLD))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    tokens = [t for t in _BELEGFELD_BAD.split(folded) if t]
    return "-".join(tokens)[:max_length]


# --------------------------------------------------------------------------- value formats


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _quote_or_empty(value: str | None) -> str:
    return '"' + value.replace('"', '""') + '"' if value else ""


def _ymd(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _ddmmyyyy(d: date | None) -> str:
    return "" if d is None else f"{d.day:02d}{d.month:02d}{d.year:04d}"


_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("9999999999.99")


def _amount(value: Decimal) -> str:
    """Decimal comma, two decimals, no thousands separator (``1234,56``)."""
    return f"{value:.2f}".replace(".", ",")


def _stamp(moment: datetime) -> str:
    """Header field 6: ``YYYYMMDDHHMMSSfff`` (17 digits, milliseconds)."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ExtfHeader:
    """The header line's variable parts (brief 1.2); the rest is fixed by the file kind.

    ``period_from``/``period_to`` (Datum vom/bis) are required for a Buchungsstapel and ignored
    for master data. ``created_at`` is explicit, never "now", so that the same export is
    reproducible byte for byte.
    """

    consultant_number: int
    """Beraternummer of the client's Steuerberater, 1001–9999999."""
    client_number: int
    """Mandantennummer of the client at the Steuerberater, 1–99999."""
    fiscal_year_start: date
    """WJ-Beginn: first day of the fiscal year the bookings belong to."""
    created_at: datetime
    period_from: date | None = None
    period_to: date | None = None
    account_length: int = 4
    """Sachkontenlänge (4–8); personal accounts have one digit more."""
    label: str = ""
    """Bezeichnung of the batch, ≤30 characters of ``[\\w.\\-/ ]``."""
    dictation_code: str = ""
    """Diktatkürzel: two capitals or empty."""
    chart: str = "03"
    """Sachkontenrahmen: ``03`` (SKR03) or ``04`` (SKR04)."""
    origin: str = "RE"
    """Herkunft, ≤2 characters."""
    exported_by: str = ""
    application_info: str = ""
    booking_type: int = 1
    """Buchungstyp: 1 = Finanzbuchführung, 2 = Jahresabschluss."""
    accounting_purpose: int | None = 0
    """Rechnungslegungszweck; 0 or empty (``None``) for ordinary bookings."""
    currency: str = "EUR"

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 1001 <= self.consultant_number <= 9_999_999:
            problems.append(f"Beraternummer {self.consultant_number} not in 1001–9999999")
        if not 1 <= self.client_number <= 99_999:
            problems.append(f"Mandantennummer {self.client_number} not in 1–99999")
        if not 4 <= self.account_length <= 8:
            problems.append(f"Sachkontenlänge {self.account_length} not in 4–8")
        if len(self.label) > 30 or not re.fullmatch(r"[\w.\-/ ]*", self.label):
            problems.append(f"Bezeichnung {self.label!r}: ≤30 characters of letters, digits, .-/ ")
        if not re.fullmatch(r"(?:[A-Z]{2})?", self.dictation_code):
            problems.append(f"Diktatkürzel {self.dictation_code!r}: two capitals or empty")
        if self.chart not in ("03", "04"):
            problems.append(f"Sachkontenrahmen {self.chart!r}: '03' or '04'")
        if len(self.origin) > 2:
            problems.append(f"Herkunft {self.origin!r}: at most 2 characters")
        if len(self.exported_by) > 25:
            problems.append(f"Exportiert von {self.exported_by!r}: at most 25 characters")
        if len(self.application_info) > 16:
            problems.append(f"Anwendungsinformation {self.application_info!r}: ≤16 characters")
        if self.booking_type not in (1, 2):
            problems.append(f"Buchungstyp {self.booking_type}: 1 or 2")
        if self.currency != "EUR":
            problems.append(f"WKZ {self.currency!r}: only EUR is supported")
        for name in ("label", "origin", "exported_by", "application_info"):
            value = getattr(self, name)
            if clean_text(value) != value:
                problems.append(f"{name} {value!r}: characters outside CP1252 or control chars")
        if problems:
            raise ExportError("invalid EXTF header: " + "; ".join(problems))

    @property
    def fiscal_year_end(self) -> date:
        """Last day of the fiscal year that starts at :attr:`fiscal_year_start`."""
        return date.fromordinal(_add_years(self.fiscal_year_start, 1).toordinal() - 1)

    def check_period(self) -> tuple[date, date]:
        """The batch period, checked: set, ordered, and inside one fiscal year.

        A Buchungsstapel never spans fiscal years: the Belegdatum is only ``TTMM`` and DATEV
        takes the year from the header (brief 1.1).
        """
        start, end = self.period_from, self.period_to
        if start is None or end is None:
            raise ExportError("a Buchungsstapel needs the header period (period_from/period_to)")
        if start > end:
            raise ExportError(f"header period {start}–{end}: start after end")
        if start < self.fiscal_year_start or end > self.fiscal_year_end:
            raise ExportError(
                f"header period {start}–{end} is not inside the fiscal year "
                f"{self.fiscal_year_start}–{self.fiscal_year_end}"
            )
        return start, end


@dataclass(frozen=True, slots=True)
class Booking:
    """One line of a Buchungsstapel, as the writer takes it and the reader returns it.

    ``debit_credit`` (Soll/Haben) refers to ``account`` (field 7, Konto); DATEV books the
    opposite side on ``contra_account``. ``amount`` is the gross amount; with a BU-Schlüssel
    (or an Automatikkonto) DATEV splits off the tax itself. ``belegfeld1`` is kept raw here;
    :func:`as_exported` shows what the file will contain. Frozen: the checks below run once,
    and the writer relies on them.
    """

    amount: Decimal
    debit_credit: str
    account: int
    contra_account: int
    bu_key: str | None
    document_date: date
    belegfeld1: str
    belegfeld2: str | None = None
    text: str = ""
    service_date: date | None = None
    due_date: date | None = None
    currency: str = "EUR"
    beleglink: str | None = None
    document_info: list[tuple[str, str]] = field(default_factory=list)
    cost_center: str | None = None
    guid: str | None = None
    tax_period_date: date | None = None
    """Datum Zuord. Steuerperiode (field 116); see :func:`as_exported` for its default."""

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            problems.append(f"amount {self.amount!r} must be a finite Decimal")
        elif self.amount <= 0:
            problems.append(f"Umsatz {self.amount} must be positive (direction goes into S/H)")
        elif self.amount > _MAX_AMOUNT:
            problems.append(f"Umsatz {self.amount} exceeds 10 digits before the comma")
        elif self.amount != self.amount.quantize(_CENT):
            # rounding money silently in an export would hide an upstream splitting error
            problems.append(f"Umsatz {self.amount} has fractions of a cent")
        if self.debit_credit not in ("S", "H"):
            problems.append(f"Soll/Haben-Kennzeichen {self.debit_credit!r}: 'S' or 'H'")
        for name in ("account", "contra_account"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 < value < 1_000_000_000:
                problems.append(f"{name} {value!r}: 1–9 digits, not 0")
        if self.bu_key is not None and not re.fullmatch(r"[0-9]{1,4}", self.bu_key):
            problems.append(f"BU-Schlüssel {self.bu_key!r}: 1–4 digits or None")
        if self.currency != "EUR":
            problems.append(
                f"currency {self.currency!r}: only EUR (foreign currency needs Kurs/Basis-Umsatz)"
            )
        if len(self.document_info) > BELEGINFO_PAIRS:
            problems.append(f"{len(self.document_info)} Beleginfo pairs, at most 8")
        for art, _ in self.document_info:
            if not art or len(clean_text(art)) > BELEGINFO_ART_MAX:
                problems.append(f"Beleginfo-Art {art!r}: 1–20 characters")
        if self.beleglink is not None and len(self.beleglink) > BELEGLINK_MAX:
            problems.append(f"Beleglink longer than {BELEGLINK_MAX} characters")
        if self.cost_center is not None and len(self.cost_center) > KOST_MAX:
            problems.append(f"KOST1 {self.cost_center!r}: at most {KOST_MAX} characters")
        if self.guid is not None and len(self.guid) > GUID_MAX:
            problems.append(f"Buchungs GUID {self.guid!r}: at most {GUID_MAX} characters")
        if problems:
            raise ExportError(f"booking {self.belegfeld1!r}: " + "; ".join(problems))


class _Exported(NamedTuple):
    """The values :func:`as_exported` changes, computed once for the writer and for it."""

    belegfeld1: str
    belegfeld2: str | None
    text: str
    beleglink: str | None
    document_info: list[tuple[str, str]]
    cost_center: str | None
    guid: str | None
    tax_period_date: date | None


def _optional_text(value: str | None) -> str | None:
    return (clean_text(value) or None) if value else None


def _exported(booking: Booking) -> _Exported:
    number = normalise_belegfeld(booking.belegfeld1)
    infos = [
        (clean_text(art), clean_text(content, BELEGINFO_INHALT_MAX))
        for art, content in booking.document_info
    ]
    if number != booking.belegfeld1:
        raw = (RAW_NUMBER_INFO, clean_text(booking.belegfeld1, BELEGINFO_INHALT_MAX))
        if raw not in infos:
            if len(infos) >= BELEGINFO_PAIRS:
                raise ExportError(
                    f"booking {booking.belegfeld1!r}: Belegfeld 1 had to be normalised but all "
                    "8 Beleginfo pairs are taken, so the raw number cannot be kept"
                )
            infos.append(raw)
    belegfeld2 = (
        normalise_belegfeld(booking.belegfeld2, BELEGFELD2_MAX) if booking.belegfeld2 else None
    )
    tax_period = booking.tax_period_date
    if tax_period is None and booking.service_date is not None:
        tax_period = booking.document_date
    return _Exported(
        belegfeld1=number,
        belegfeld2=belegfeld2 or None,
        text=clean_text(booking.text, BUCHUNGSTEXT_MAX),
        beleglink=_optional_text(booking.beleglink),
        document_info=infos,
        cost_center=_optional_text(booking.cost_center),
        guid=_optional_text(booking.guid),
        tax_period_date=tax_period,
    )


def as_exported(booking: Booking) -> Booking:
    """The booking exactly as the writer puts it into the file (and the reader returns it).

    - Belegfeld 1 normalised (:func:`normalise_belegfeld`); if that changed it, the raw
      number is appended as Beleginfo ``("Rechnungsnummer", raw)``;
    - Belegfeld 2 normalised the same way (≤12);
    - texts cleaned (:func:`clean_text`), Buchungstext cut to 60 characters;
    - Datum Zuord. Steuerperiode set to the Belegdatum when a Leistungsdatum is given and no
      tax period date is: the brief says field 115 needs 116 [U]; the Belegdatum is the date
      DATEV would use for the tax period anyway.

    The writer applies exactly these changes (same helper), so tests can state "what goes in
    is what comes out" as ``parse(write(b)) == as_exported(b)``.
    """
    return replace(booking, **_exported(booking)._asdict())


# --------------------------------------------------------------------------- writing


def _header_line(h: ExtfHeader, category: int, name: str, version: int) -> str:
    batch = category == BUCHUNGSSTAPEL_CATEGORY
    values: list[str] = [
        "EXTF",
        "700",
        str(category),
        name,
        str(version),
        _stamp(h.created_at),
        "",
        h.origin,
        h.exported_by,
        "",
        str(h.consultant_number),
        str(h.client_number),
        _ymd(h.fiscal_year_start),
        str(h.account_length),
        _ymd(h.period_from) if batch and h.period_from else "",
        _ymd(h.period_to) if batch and h.period_to else "",
        h.label,
        h.dictation_code,
        str(h.booking_type) if batch else "",
        "" if not batch or h.accounting_purpose is None else str(h.accounting_purpose),
        "0" if batch else "",  # Festschreibung 0: the accountant can still edit the batch
        h.currency if batch else "",
        "",
        "",
        "",
        "",
        h.chart,
        "",
        "",
        "",
        h.application_info,
    ]
    return ";".join(_quote(v) if i in _HEADER_QUOTED else v for i, v in enumerate(values, start=1))


def _booking_line(b: Booking, start: date, end: date, max_account: int, position: int) -> str:
    if not start <= b.document_date <= end:
        raise ExportError(
            f"booking {position} ({b.belegfeld1!r}): Belegdatum {b.document_date} is outside "
            f"the header period {start}–{end}"
        )
    if b.account > max_account or b.contra_account > max_account:
        raise ExportError(
            f"booking {position} ({b.belegfeld1!r}): account {b.account}/{b.contra_account} "
            f"longer than Sachkontenlänge + 1 = {len(str(max_account))} digits"
        )
    e = _exported(b)
    f = [""] * _NCOLS
    f[_I_UMSATZ] = _amount(b.amount)
    f[_I_SH] = '"S"' if b.debit_credit == "S" else '"H"'
    f[_I_WKZ] = '"EUR"'
    f[_I_KONTO] = str(b.account)
    f[_I_GEGENKONTO] = str(b.contra_account)
    if b.bu_key:
        f[_I_BU] = '"' + b.bu_key + '"'
    d = b.document_date
    f[_I_BELEGDATUM] = f"{d.day:02d}{d.month:02d}"
    f[_I_BELEGFELD1] = _quote_or_empty(e.belegfeld1)
    f[_I_BELEGFELD2] = _quote_or_empty(e.belegfeld2)
    f[_I_TEXT] = _quote_or_empty(e.text)
    f[_I_BELEGLINK] = _quote_or_empty(e.beleglink)
    for k, (art, content) in enumerate(e.document_info):
        f[_I_INFO + 2 * k] = _quote_or_empty(art)
        f[_I_INFO + 2 * k + 1] = _quote_or_empty(content)
    f[_I_KOST1] = _quote_or_empty(e.cost_center)
    f[_I_GUID] = _quote_or_empty(e.guid)
    f[_I_FESTSCHREIBUNG] = "0"  # empty would mean "locked"; 0 keeps the batch editable
    f[_I_LEISTUNG] = _ddmmyyyy(b.service_date)
    f[_I_STEUERPERIODE] = _ddmmyyyy(e.tax_period_date)
    f[_I_FAELLIG] = _ddmmyyyy(b.due_date)
    return ";".join(f)


def _encode(lines: Iterable[str]) -> bytes:
    return (LINE_END.join(lines) + LINE_END).encode(ENCODING, errors=_ERRORS)


def _batch_lines(header: ExtfHeader, bookings: Iterable[Booking]) -> tuple[str, list[str]]:
    start, end = header.check_period()
    max_account = 10 ** (header.account_length + 1) - 1
    head = (
        _header_line(header, BUCHUNGSSTAPEL_CATEGORY, BUCHUNGSSTAPEL_NAME, BUCHUNGSSTAPEL_VERSION)
        + LINE_END
        + ";".join(BUCHUNGSSTAPEL_COLUMNS)
    )
    rows = [_booking_line(b, start, end, max_account, n) for n, b in enumerate(bookings, start=1)]
    return head, rows


def write_buchungsstapel(
    header: ExtfHeader, bookings: Iterable[Booking], *, max_rows: int = MAX_ROWS_PER_FILE
) -> bytes:
    """One Buchungsstapel file (bytes, CP1252, CR/LF) for ``bookings``.

    Raises :class:`ExportError` for a header period outside one fiscal year, a booking outside
    the period, account numbers longer than the Sachkontenlänge allows, or more than
    ``max_rows`` bookings (use :func:`write_buchungsstapel_files` for those).
    """
    head, rows = _batch_lines(header, bookings)
    if len(rows) > max_rows:
        raise ExportError(
            f"{len(rows)} bookings exceed {max_rows} rows per file; "
            "use write_buchungsstapel_files to split them"
        )
    return _encode([head, *rows])


def write_buchungsstapel_files(
    header: ExtfHeader, bookings: Iterable[Booking], *, max_rows: int = MAX_ROWS_PER_FILE
) -> list[bytes]:
    """The bookings as one or more Buchungsstapel files of at most ``max_rows`` rows each.

    Every file carries the same header. All bookings are checked before any file is made, so
    either all files are valid or none is returned. No bookings give one file with no rows.
    """
    if max_rows < 1:
        raise ExportError("max_rows must be at least 1")
    head, rows = _batch_lines(header, bookings)
    chunks = [rows[i : i + max_rows] for i in range(0, len(rows), max_rows)] or [[]]
    return [_encode([head, *chunk]) for chunk in chunks]


@dataclass(frozen=True)
class PersonalAccountRecord:
    """Master data of one Debitor or Kreditor (a personal account) for DATEV.

    ``addressee_type`` is DATEV's Adressatentyp: 0 keine Angabe, 1 natürliche Person,
    2 Unternehmen (the default here: the office service's correspondents are mostly firms).
    For a natural person, ``name`` is the surname and ``first_name`` the given name.
    """

    account: int
    name: str
    addressee_type: int = 2
    first_name: str | None = None
    short_name: str | None = None
    vat_id: str | None = None
    street: str | None = None
    po_box: str | None = None
    zip: str | None = None
    city: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    bank_name: str | None = None
    iban: str | None = None
    bic: str | None = None


_DK_INDEX = {name: i for i, (name, _, _) in enumerate(DEBITOREN_KREDITOREN_COLUMNS)}


def _debkred_values(rec: PersonalAccountRecord, account_length: int) -> dict[str, str]:
    if len(str(rec.account)) != account_length + 1 or rec.account <= 0:
        raise ExportError(
            f"personal account {rec.account}: needs Sachkontenlänge + 1 = "
            f"{account_length + 1} digits"
        )
    if rec.addressee_type not in (0, 1, 2):
        raise ExportError(f"account {rec.account}: Adressatentyp {rec.addressee_type} not 0/1/2")
    values: dict[str, str] = {"Konto": str(rec.account), "Adressatentyp": str(rec.addressee_type)}
    name_column = {
        0: "Name (Adressatentyp keine Angabe)",
        1: "Name (Adressatentyp natürl. Person)",
        2: "Name (Adressatentyp Unternehmen)",
    }[rec.addressee_type]
    values[name_column] = rec.name
    if rec.addressee_type == 1 and rec.first_name:
        values["Vorname (Adressatentyp natürl. Person)"] = rec.first_name
    if rec.vat_id:
        vat = re.sub(r"[\s.-]", "", rec.vat_id).upper()
        if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", vat):
            raise ExportError(f"account {rec.account}: USt-IdNr. {rec.vat_id!r} not recognised")
        values["EU-Land"], values["EU-UStID"] = vat[:2], vat[2:]
    if rec.street:
        values["Adressart"] = "STR"
    elif rec.po_box:
        values["Adressart"] = "PF"
    optional = {
        "Kurzbezeichnung": rec.short_name,
        "Straße": rec.street,
        "Postfach": rec.po_box,
        "Postleitzahl": rec.zip,
        "Ort": rec.city,
        "Land": rec.country,
        "Telefon": rec.phone,
        "E-Mail": rec.email,
        "Internet": rec.website,
        "Bankbezeichnung 1": rec.bank_name,
        "IBAN-Nr. 1": rec.iban.replace(" ", "").upper() if rec.iban else None,
        "SWIFT-Code 1": rec.bic.replace(" ", "").upper() if rec.bic else None,
    }
    values.update({k: v for k, v in optional.items() if v})
    return values


def write_debitoren_kreditoren(
    header: ExtfHeader, accounts: Iterable[PersonalAccountRecord]
) -> bytes:
    """A Debitoren/Kreditoren master-data file (category 16, format version 5).

    The header follows DATEV's sample in the brief (no period, no Buchungstyp, no
    Festschreibung, empty WKZ). The rows carry the first 51 columns of
    :data:`DEBITOREN_KREDITOREN_COLUMNS` — names, address, communication, first bank
    connection; see there for which parts are verified. Texts are cleaned and cut to DATEV's
    field lengths; a personal account must have Sachkontenlänge + 1 digits.
    """
    lines = [
        _header_line(header, DEBKRED_CATEGORY, DEBKRED_NAME, DEBKRED_VERSION),
        ";".join(name for name, _, _ in DEBITOREN_KREDITOREN_COLUMNS),
    ]
    seen: set[int] = set()
    for rec in accounts:
        if rec.account in seen:
            raise ExportError(f"personal account {rec.account} appears twice")
        seen.add(rec.account)
        values = _debkred_values(rec, header.account_length)
        row = [""] * len(DEBITOREN_KREDITOREN_COLUMNS)
        for column, value in values.items():
            _, max_length, quoted = DEBITOREN_KREDITOREN_COLUMNS[_DK_INDEX[column]]
            text = clean_text(value, max_length)
            row[_DK_INDEX[column]] = _quote_or_empty(text) if quoted else text
        lines.append(";".join(row))
    return _encode(lines)


# --------------------------------------------------------------------------- reading


_QUOTED_TOKEN = r'"(?:[^"]|"")*"'
_LINE_RE = re.compile(rf'(?:{_QUOTED_TOKEN}|[^";]*)(?:;(?:{_QUOTED_TOKEN}|[^";]*))*')
_QUOTED_FIELD_RE = re.compile(rf"(?:^|(?<=;)){_QUOTED_TOKEN}(?=;|$)")


def _split_fields(line: str, where: str) -> tuple[list[str], set[int]]:
    """Split one line at ``;`` honouring quotes: the unquoted values and which were quoted.

    A quoted field is ``"…"`` with inner quotes doubled; an unquoted field contains no ``"``.
    Anything else (a stray quote, text after the closing quote, an unterminated quote) is a
    quoting error. The line's structure is checked by one regular expression first, so a
    valid line is split at C speed; only a broken one is walked field by field to say where.
    """
    if not _LINE_RE.fullmatch(line):
        _explain_quoting_error(line, where)
    values: list[str] = []
    quoted: set[int] = set()
    pos = 0
    for match in _QUOTED_FIELD_RE.finditer(line):
        if match.start() > pos:  # unquoted fields before this one, each followed by ";"
            values.extend(line[pos : match.start() - 1].split(";"))
        quoted.add(len(values))
        values.append(match.group()[1:-1].replace('""', '"'))
        pos = match.end() + 1
    if pos <= len(line):
        values.extend(line[pos:].split(";"))
    return values, quoted


def _explain_quoting_error(line: str, where: str) -> None:
    """Raise :class:`ExtfFormatError` naming the first badly quoted field of ``line``."""
    parts = line.split(";")
    i, n, field_number = 0, len(parts), 1
    while i < n:
        part = parts[i]
        if not part.startswith('"'):
            if '"' in part:
                raise ExtfFormatError(f"{where}, field {field_number}: stray quote in {part!r}")
        else:
            buf = part
            while len(buf) < 2 or not buf.endswith('"') or buf.count('"') % 2:
                i += 1
                if i >= n:
                    raise ExtfFormatError(
                        f"{where}, field {field_number}: unterminated quote in {buf!r}"
                    )
                buf += ";" + parts[i]
            if '"' in buf[1:-1].replace('""', ""):
                raise ExtfFormatError(
                    f"{where}, field {field_number}: quote not doubled in {buf!r}"
                )
        i += 1
        field_number += 1
    raise ExtfFormatError(f"{where}: quoting error")  # pragma: no cover - caught above


_AMOUNT_RE = re.compile(r"(?!0{1,10},00$)[0-9]{1,10},[0-9]{2}")
_ACCOUNT_RE = re.compile(r"[1-9][0-9]{0,8}")
_TTMM_RE = re.compile(r"(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])")
_DATE8_RE = re.compile(r"[0-9]{8}")


def _date8(value: str, where: str, order: str) -> date | None:
    """``TTMMJJJJ`` (order "dmy") or ``YYYYMMDD`` (order "ymd"), empty → None."""
    if not value:
        return None
    if not _DATE8_RE.fullmatch(value):
        raise ExtfFormatError(f"{where}: {value!r} is not an 8-digit date")
    try:
        if order == "dmy":
            return date(int(value[4:]), int(value[2:4]), int(value[:2]))
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise ExtfFormatError(f"{where}: {value!r} is not a valid date") from exc


@dataclass
class ParsedExtf:
    """A checked EXTF file: header fields by name, column names, rows by column name."""

    header: dict[str, str]
    columns: list[str]
    rows: list[dict[str, str]]

    @property
    def category(self) -> int:
        return int(self.header["Formatkategorie"])

    def extf_header(self) -> ExtfHeader:
        """The header as :class:`ExtfHeader` (the inverse of the writer's header line)."""
        h = self.header
        stamp = h["Erzeugt am"]
        created = datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").replace(
            microsecond=int(stamp[14:]) * 1000
        )
        fiscal = _date8(h["WJ-Beginn"], "header WJ-Beginn", "ymd")
        if fiscal is None:
            raise ExtfFormatError("header: WJ-Beginn is empty")
        purpose = h["Rechnungslegungszweck"]
        return ExtfHeader(
            consultant_number=int(h["Beraternummer"]),
            client_number=int(h["Mandantennummer"]),
            fiscal_year_start=fiscal,
            created_at=created,
            period_from=_date8(h["Datum vom"], "header Datum vom", "ymd"),
            period_to=_date8(h["Datum bis"], "header Datum bis", "ymd"),
            account_length=int(h["Sachkontenlänge"]),
            label=h["Bezeichnung"],
            dictation_code=h["Diktatkürzel"],
            chart=h["Sachkontenrahmen"],
            origin=h["Herkunft"],
            exported_by=h["Exportiert von"],
            application_info=h["Anwendungsinformation"],
            booking_type=int(h["Buchungstyp"] or 1),
            accounting_purpose=int(purpose) if purpose else None,
            currency=h["WKZ"] or "EUR",
        )

    def bookings(self) -> list[Booking]:
        """The rows of a Buchungsstapel as :class:`Booking` objects.

        The Belegdatum (``TTMM``) gets its year from the header period, which lies inside one
        fiscal year, so the year is unambiguous even for a fiscal year that is not the
        calendar year.
        """
        if self.category != BUCHUNGSSTAPEL_CATEGORY:
            raise ExtfFormatError(f"category {self.category} is not a Buchungsstapel")
        header = self.extf_header()
        start, end = header.check_period()
        return [self._booking(row, n, start, end) for n, row in enumerate(self.rows, start=3)]

    @staticmethod
    def _booking(row: dict[str, str], line: int, start: date, end: date) -> Booking:
        where = f"line {line}"
        ttmm = row["Belegdatum"]
        day, month = int(ttmm[:2]), int(ttmm[2:])
        document_date = None
        for year in range(start.year, end.year + 1):
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if start <= candidate <= end:
                document_date = candidate
        if document_date is None:
            raise ExtfFormatError(f"{where}: Belegdatum {ttmm} is outside the header period")
        infos = []
        for k in range(1, BELEGINFO_PAIRS + 1):
            art, content = row[f"Beleginfo - Art {k}"], row[f"Beleginfo - Inhalt {k}"]
            if art or content:
                infos.append((art, content))
        return Booking(
            amount=Decimal(row["Umsatz (ohne Soll/Haben-Kz)"].replace(",", ".")),
            debit_credit=row["Soll/Haben-Kennzeichen"],
            account=int(row["Konto"]),
            contra_account=int(row["Gegenkonto (ohne BU-Schlüssel)"]),
            bu_key=row["BU-Schlüssel"] or None,
            document_date=document_date,
            belegfeld1=row["Belegfeld 1"],
            belegfeld2=row["Belegfeld 2"] or None,
            text=row["Buchungstext"],
            service_date=_date8(row["Leistungsdatum"], where, "dmy"),
            due_date=_date8(row["Fälligkeit"], where, "dmy"),
            currency=row["WKZ Umsatz"] or "EUR",
            beleglink=row["Beleglink"] or None,
            document_info=infos,
            cost_center=row["KOST1 - Kostenstelle"] or None,
            guid=row["Buchungs GUID"] or None,
            tax_period_date=_date8(row["Datum Zuord. Steuerperiode"], where, "dmy"),
        )


def _lines(data: bytes) -> Iterator[tuple[int, str]]:
    if data.startswith(codecs.BOM_UTF8):
        raise ExtfFormatError("file starts with a UTF-8 BOM; DATEV files here are CP1252")
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise ExtfFormatError(f"not CP1252: byte {data[exc.start]:#04x} at {exc.start}") from exc
    if not text.endswith(LINE_END):
        raise ExtfFormatError("the last line does not end with CR/LF")
    for number, line in enumerate(text[: -len(LINE_END)].split(LINE_END), start=1):
        if "\n" in line or "\r" in line:
            raise ExtfFormatError(f"line {number}: bare LF or CR; every line must end with CR/LF")
        yield number, line


def _check_header(values: list[str], quoted: set[int]) -> dict[str, str]:
    if len(values) != len(HEADER_FIELDS):
        raise ExtfFormatError(f"line 1: {len(values)} header fields, expected 31")
    for i in range(1, len(values) + 1):
        is_quoted = i - 1 in quoted
        if is_quoted != (i in _HEADER_QUOTED):
            state = "quoted" if is_quoted else "unquoted"
            raise ExtfFormatError(f"line 1: header field {i} ({HEADER_FIELDS[i - 1]}) is {state}")
    header = dict(zip(HEADER_FIELDS, values, strict=True))
    if header["Kennzeichen"] not in ("EXTF", "DTVF"):
        raise ExtfFormatError(f"line 1: Kennzeichen {header['Kennzeichen']!r}, not EXTF")
    if header["Versionsnummer"] != "700":
        raise ExtfFormatError(f"line 1: header version {header['Versionsnummer']!r}, not 700")
    for name in ("Formatkategorie", "Formatversion", "Beraternummer", "Mandantennummer"):
        if not re.fullmatch(r"[0-9]+", header[name]):
            raise ExtfFormatError(f"line 1: {name} {header[name]!r} is not a number")
    if not re.fullmatch(r"[0-9]{17}", header["Erzeugt am"]):
        raise ExtfFormatError(f"line 1: Erzeugt am {header['Erzeugt am']!r}, not 17 digits")
    for name in ("WJ-Beginn", "Datum vom", "Datum bis"):
        _date8(header[name], f"line 1: {name}", "ymd")
    if header["Sachkontenrahmen"] and not re.fullmatch(r"[0-9]{2}", header["Sachkontenrahmen"]):
        raise ExtfFormatError(f"line 1: Sachkontenrahmen {header['Sachkontenrahmen']!r}")
    return header


_QUOTED_ORDER = tuple(sorted(BUCHUNGSSTAPEL_QUOTED))


def _check_booking_row(values: list[str], quoted: set[int], line: int) -> None:
    where = f"line {line}"
    for i in sorted(quoted - BUCHUNGSSTAPEL_QUOTED):
        raise ExtfFormatError(f"{where}: {BUCHUNGSSTAPEL_COLUMNS[i]} must not be quoted")
    for i in _QUOTED_ORDER:
        if values[i] and i not in quoted:
            raise ExtfFormatError(f"{where}: {BUCHUNGSSTAPEL_COLUMNS[i]} must be quoted")
    if not _AMOUNT_RE.fullmatch(values[_I_UMSATZ]):
        raise ExtfFormatError(f"{where}: Umsatz {values[_I_UMSATZ]!r} (need e.g. 1234,56, not 0)")
    if values[_I_SH] not in ("S", "H"):
        raise ExtfFormatError(f"{where}: Soll/Haben-Kennzeichen {values[_I_SH]!r}")
    for i in (_I_KONTO, _I_GEGENKONTO):
        if not _ACCOUNT_RE.fullmatch(values[i]):
            raise ExtfFormatError(f"{where}: {BUCHUNGSSTAPEL_COLUMNS[i]} {values[i]!r}")
    if values[_I_BU] and not re.fullmatch(r"[0-9]{1,4}", values[_I_BU]):
        raise ExtfFormatError(f"{where}: BU-Schlüssel {values[_I_BU]!r}")
    if not _TTMM_RE.fullmatch(values[_I_BELEGDATUM]):
        raise ExtfFormatError(f"{where}: Belegdatum {values[_I_BELEGDATUM]!r} is not TTMM")
    if len(values[_I_BELEGFELD1]) > BELEGFELD1_MAX:
        raise ExtfFormatError(f"{where}: Belegfeld 1 longer than {BELEGFELD1_MAX}")
    if len(values[_I_TEXT]) > BUCHUNGSTEXT_MAX:
        raise ExtfFormatError(f"{where}: Buchungstext longer than {BUCHUNGSTEXT_MAX}")
    if values[_I_FESTSCHREIBUNG] not in ("", "0", "1"):
        raise ExtfFormatError(f"{where}: Festschreibung {values[_I_FESTSCHREIBUNG]!r}")
    for i in (_I_LEISTUNG, _I_STEUERPERIODE, _I_FAELLIG):
        _date8(values[i], f"{where}: {BUCHUNGSSTAPEL_COLUMNS[i]}", "dmy")


def parse_extf(data: bytes) -> ParsedExtf:
    """Read and check an EXTF file; raise :class:`ExtfFormatError` at the first violation.

    Checked for every file: CP1252 without BOM, CR/LF after every line (a bare LF is an
    error), 31 header fields quoted exactly where DATEV quotes them, version 700, the same
    field count on every line as on line 2, correct quoting. For a Buchungsstapel (category 21,
    version 13) also: the 125 column names in v13 spelling, which columns are quoted, and the
    formats of Umsatz, S/H, Konto, Gegenkonto, BU-Schlüssel, Belegdatum, dates and lengths.
    """
    lines = _lines(data)
    try:
        _, first = next(lines)
        _, second = next(lines)
    except StopIteration:
        raise ExtfFormatError("an EXTF file needs a header line and a column line") from None
    header = _check_header(*_split_fields(first, "line 1"))
    columns, columns_quoted = _split_fields(second, "line 2")
    if columns_quoted:
        raise ExtfFormatError("line 2: column names are written without quotes")
    batch = header["Formatkategorie"] == str(BUCHUNGSSTAPEL_CATEGORY)
    if batch:
        if not header["Datum vom"] or not header["Datum bis"]:
            raise ExtfFormatError("line 1: a Buchungsstapel needs Datum vom and Datum bis")
        if header["Formatversion"] != str(BUCHUNGSSTAPEL_VERSION):
            raise ExtfFormatError(
                f"line 1: Buchungsstapel format version {header['Formatversion']}, expected 13"
            )
        if tuple(columns) != BUCHUNGSSTAPEL_COLUMNS:
            wrong = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(columns, BUCHUNGSSTAPEL_COLUMNS, strict=False))
                    if a != b
                ),
                min(len(columns), _NCOLS),
            )
            raise ExtfFormatError(
                f"line 2: {len(columns)} column names; first difference at column {wrong + 1}"
            )
    rows: list[dict[str, str]] = []
    width = len(columns)
    for number, line in lines:
        values, quoted = _split_fields(line, f"line {number}")
        if len(values) != width:
            raise ExtfFormatError(f"line {number}: {len(values)} fields, expected {width}")
        if batch:
            _check_booking_row(values, quoted, number)
        rows.append(dict(zip(columns, values, strict=True)))
    return ParsedExtf(header=header, columns=columns, rows=rows)


def raw_invoice_number(booking: Booking) -> str:
    """The invoice number as printed: the kept raw number if Belegfeld 1 was normalised."""
    for art, content in reversed(booking.document_info):
        if art == RAW_NUMBER_INFO and normalise_belegfeld(content) == booking.belegfeld1:
            return content
    return booking.belegfeld1
