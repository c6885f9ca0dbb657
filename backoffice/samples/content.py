"""German vocabulary for sample post: places, people, banks, goods, and the pool of senders.

Everything a generated document *says* about the world comes from here: fictional companies
with plausible names, real German postcodes and area codes, real bank sort codes (so that an
IBAN resolves to a BIC as in real life) with invented account numbers, check-digit-correct
USt-IdNrn and Steuernummern in each Bundesland's format, and per-trade catalogues of goods and
services with realistic price ranges and VAT rates (food 7 %, everything else 19 %).

:func:`build_sender_pool` turns a seeded :class:`random.Random` into one consistent cast of
senders: the same sender keeps its address, bank, VAT ID, house style and number formats in
every document of a generated set, while another seed yields other companies.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.at import uid as at_uid
from stdnum.iso7064 import mod_11_10
from stdnum.nl import btw as nl_btw

from backoffice.samples.clients import SampleClient, client_profile
from backoffice.samples.formatting import AMOUNT_STYLES, DATE_STYLES, EN_AMOUNT_STYLES

# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """A real postcode/town pair with its Bundesland and telephone area code."""

    zip: str
    name: str
    state: str
    area_code: str


CITIES: tuple[City, ...] = (
    City("70173", "Stuttgart", "Baden-Württemberg", "0711"),
    City("70565", "Stuttgart", "Baden-Württemberg", "0711"),
    City("71063", "Sindelfingen", "Baden-Württemberg", "07031"),
    City("71634", "Ludwigsburg", "Baden-Württemberg", "07141"),
    City("73728", "Esslingen am Neckar", "Baden-Württemberg", "0711"),
    City("72764", "Reutlingen", "Baden-Württemberg", "07121"),
    City("74072", "Heilbronn", "Baden-Württemberg", "07131"),
    City("68159", "Mannheim", "Baden-Württemberg", "0621"),
    City("76133", "Karlsruhe", "Baden-Württemberg", "0721"),
    City("69117", "Heidelberg", "Baden-Württemberg", "06221"),
    City("79098", "Freiburg im Breisgau", "Baden-Württemberg", "0761"),
    City("89073", "Ulm", "Baden-Württemberg", "0731"),
    City("80331", "München", "Bayern", "089"),
    City("81379", "München", "Bayern", "089"),
    City("90402", "Nürnberg", "Bayern", "0911"),
    City("93047", "Regensburg", "Bayern", "0941"),
    City("86150", "Augsburg", "Bayern", "0821"),
    City("10115", "Berlin", "Berlin", "030"),
    City("12099", "Berlin", "Berlin", "030"),
    City("14467", "Potsdam", "Brandenburg", "0331"),
    City("20095", "Hamburg", "Hamburg", "040"),
    City("22525", "Hamburg", "Hamburg", "040"),
    City("28195", "Bremen", "Bremen", "0421"),
    City("30159", "Hannover", "Niedersachsen", "0511"),
    City("60311", "Frankfurt am Main", "Hessen", "069"),
    City("34117", "Kassel", "Hessen", "0561"),
    City("50667", "Köln", "Nordrhein-Westfalen", "0221"),
    City("50858", "Köln", "Nordrhein-Westfalen", "0221"),
    City("51149", "Köln", "Nordrhein-Westfalen", "02203"),
    City("53111", "Bonn", "Nordrhein-Westfalen", "0228"),
    City("53840", "Troisdorf", "Nordrhein-Westfalen", "02241"),
    City("40213", "Düsseldorf", "Nordrhein-Westfalen", "0211"),
    City("44135", "Dortmund", "Nordrhein-Westfalen", "0231"),
    City("45127", "Essen", "Nordrhein-Westfalen", "0201"),
    City("48143", "Münster", "Nordrhein-Westfalen", "0251"),
    City("33602", "Bielefeld", "Nordrhein-Westfalen", "0521"),
    City("04109", "Leipzig", "Sachsen", "0341"),
    City("04319", "Leipzig", "Sachsen", "0341"),
    City("04435", "Schkeuditz", "Sachsen", "034204"),
    City("01067", "Dresden", "Sachsen", "0351"),
    City("09111", "Chemnitz", "Sachsen", "0371"),
    City("06108", "Halle (Saale)", "Sachsen-Anhalt", "0345"),
    City("39104", "Magdeburg", "Sachsen-Anhalt", "0391"),
    City("99084", "Erfurt", "Thüringen", "0361"),
    City("07743", "Jena", "Thüringen", "03641"),
    City("55116", "Mainz", "Rheinland-Pfalz", "06131"),
    City("66111", "Saarbrücken", "Saarland", "0681"),
    City("24103", "Kiel", "Schleswig-Holstein", "0431"),
    City("18055", "Rostock", "Mecklenburg-Vorpommern", "0381"),
)

STREETS: tuple[str, ...] = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Industriestraße",
    "Gewerbestraße",
    "Max-Planck-Straße",
    "Robert-Bosch-Straße",
    "Carl-Zeiss-Ring",
    "Siemensstraße",
    "Mühlweg",
    "Lindenallee",
    "Rosenstraße",
    "Gartenstraße",
    "Schulstraße",
    "Kirchplatz",
    "Marktplatz",
    "Friedrichstraße",
    "Goethestraße",
    "Berliner Straße",
    "Hafenstraße",
    "Kanalstraße",
    "Ringstraße",
    "Uferstraße",
    "Talstraße",
    "Wiesenweg",
    "Heinrich-Hertz-Straße",
    "Daimlerstraße",
    "Feldstraße",
    "Am Gewerbepark",
    "Im Speckgarten",
    "Otto-Hahn-Straße",
    "Kastanienallee",
    "Schlossstraße",
    "Werkstraße",
    "Mittelweg",
    "Sonnenstraße",
    "Neue Straße",
    "Dorfstraße",
    "Birkenweg",
    "Zeppelinstraße",
    "Am Hafen",
)

SURNAMES: tuple[str, ...] = (
    "Schmidt",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
    "Lehmann",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Vogel",
    "Keller",
    "Günther",
    "Berger",
    "Winkler",
    "Roth",
    "Lorenz",
    "Baumann",
    "Albrecht",
    "Schuster",
    "Böhm",
    "Winter",
    "Kraus",
    "Schumacher",
    "Krämer",
    "Vogt",
    "Stein",
    "Jäger",
    "Sommer",
    "Seidel",
    "Brandt",
    "Haas",
    "Engel",
    "Dietrich",
    "Ziegler",
    "Kuhn",
    "Pohl",
    "Thiel",
)

FEMALE_FIRST: tuple[str, ...] = (
    "Anna",
    "Claudia",
    "Sabine",
    "Petra",
    "Julia",
    "Katrin",
    "Stefanie",
    "Monika",
    "Birgit",
    "Sandra",
    "Nicole",
    "Laura",
    "Miriam",
    "Heike",
    "Ursula",
    "Jana",
)
MALE_FIRST: tuple[str, ...] = (
    "Thomas",
    "Michael",
    "Andreas",
    "Stefan",
    "Markus",
    "Jürgen",
    "Frank",
    "Christian",
    "Martin",
    "Peter",
    "Jens",
    "Tobias",
    "Uwe",
    "Klaus",
    "Florian",
    "Matthias",
)

FANTASY: tuple[str, ...] = (
    "Nordstern",
    "Alpina",
    "Rheinland",
    "Elbtal",
    "Neckartal",
    "Isartal",
    "Spreewald",
    "Havelland",
    "Weserland",
    "Maintal",
    "Taunus",
    "Schwarzwald",
    "Bodensee",
    "Harz",
    "Eifel",
    "Allgäu",
    "Ostsee",
    "Lahntal",
    "Mosel",
    "Saale",
    "Vogtland",
    "Donau",
    "Kinzig",
    "Sauerland",
    "Odenwald",
    "Westerwald",
    "Rhön",
    "Lausitz",
    "Kraichgau",
    "Hohenlohe",
    "Wetterau",
    "Breisgau",
)
EN_FANTASY: tuple[str, ...] = (
    "Brightlane",
    "Cloudbridge",
    "Northpeak",
    "Bluefjord",
    "Clearpath",
    "Stonegate",
    "Silverleaf",
    "Tidewater",
)


@dataclass(frozen=True)
class Bank:
    """A real German (or EU) bank sort code with its BIC and the name printed in footers."""

    code: str
    bic: str
    name: str
    state: str
    country: str = "DE"


BANKS: tuple[Bank, ...] = (
    Bank("60050101", "SOLADEST600", "BW-Bank", "Baden-Württemberg"),
    Bank("60090100", "VOBADESSXXX", "Volksbank Stuttgart", "Baden-Württemberg"),
    Bank("66050101", "KARSDE66XXX", "Sparkasse Karlsruhe", "Baden-Württemberg"),
    Bank("67050505", "MANSDE66XXX", "Sparkasse Rhein Neckar Nord", "Baden-Württemberg"),
    Bank("68050101", "FRSPDE66XXX", "Sparkasse Freiburg-Nördlicher Breisgau", "Baden-Württemberg"),
    Bank("63050000", "SOLADES1ULM", "Sparkasse Ulm", "Baden-Württemberg"),
    Bank("70150000", "SSKMDEMMXXX", "Stadtsparkasse München", "Bayern"),
    Bank("76050101", "SSKNDE77XXX", "Sparkasse Nürnberg", "Bayern"),
    Bank("10050000", "BELADEBEXXX", "Berliner Sparkasse", "Berlin"),
    Bank("20050550", "HASPDEHHXXX", "Hamburger Sparkasse", "Hamburg"),
    Bank("37050198", "COLSDE33XXX", "Sparkasse KölnBonn", "Nordrhein-Westfalen"),
    Bank("30050110", "DUSSDEDDXXX", "Stadtsparkasse Düsseldorf", "Nordrhein-Westfalen"),
    Bank("44050199", "DORTDE33XXX", "Sparkasse Dortmund", "Nordrhein-Westfalen"),
    Bank("36050105", "SPESDE3EXXX", "Sparkasse Essen", "Nordrhein-Westfalen"),
    Bank("86055592", "WELADE8LXXX", "Sparkasse Leipzig", "Sachsen"),
    Bank("85050300", "OSDDDE81XXX", "Ostsächsische Sparkasse Dresden", "Sachsen"),
    Bank("50050201", "HELADEF1822", "Frankfurter Sparkasse", "Hessen"),
    Bank("51050015", "NASSDE55XXX", "Nassauische Sparkasse", "Hessen"),
    Bank("25050180", "SPKHDE2HXXX", "Sparkasse Hannover", "Niedersachsen"),
    Bank("29050101", "SBREDE22XXX", "Sparkasse Bremen", "Bremen"),
    Bank("82051000", "HELADEF1WEM", "Sparkasse Mittelthüringen", "Thüringen"),
    Bank("81053272", "NOLADE21MDG", "Sparkasse MagdeBurg", "Sachsen-Anhalt"),
    Bank("60040071", "COBADEFFXXX", "Commerzbank", "*"),
    Bank("37040044", "COBADEFFXXX", "Commerzbank", "*"),
    Bank("86040000", "COBADEFFXXX", "Commerzbank", "*"),
    Bank("10070000", "DEUTDEBBXXX", "Deutsche Bank", "*"),
    Bank("60010070", "PBNKDEFFXXX", "Postbank", "*"),
    Bank("43060967", "GENODEM1GLS", "GLS Bank", "*"),
    Bank("12030000", "BYLADEM1001", "Deutsche Kreditbank", "*"),
    Bank("70020270", "HYVEDEMMXXX", "HypoVereinsbank", "*"),
)
BUNDESBANK: dict[str, Bank] = {
    "Baden-Württemberg": Bank(
        "60000000", "MARKDEF1600", "Deutsche Bundesbank, Filiale Stuttgart", "*"
    ),
    "Nordrhein-Westfalen": Bank(
        "37000000", "MARKDEF1370", "Deutsche Bundesbank, Filiale Köln", "*"
    ),
    "Sachsen": Bank("86000000", "MARKDEF1860", "Deutsche Bundesbank, Filiale Leipzig", "*"),
}
"""Finanzkassen bank with the Bundesbank; other states fall back to the Berlin branch."""
BUNDESBANK_DEFAULT = Bank("10000000", "MARKDEF1100", "Deutsche Bundesbank, Filiale Berlin", "*")
AT_BANK = Bank("20111", "GIBAATWWXXX", "Erste Bank", "Wien", country="AT")
NL_BANK = Bank("ABNA", "ABNANL2A", "ABN AMRO", "Noord-Holland", country="NL")

# --------------------------------------------------------------------------------------------
# Identifiers with check digits
# --------------------------------------------------------------------------------------------


def _mod97_iban(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def iban_for(country: str, bank_code: str, account: str) -> str:
    """An IBAN with correct ISO 13616 check digits (mod 97), compact form.

    German account numbers also carry the bank's own check digit (Prüfziffer); the account is
    stepped deterministically until schwifty's national check accepts it, as a real one would.
    """
    width = {"DE": 10, "AT": 11, "NL": 10}[country]
    base = int(account) if account.isdigit() else 0
    for step in range(10_000):
        candidate = str((base + step) % 10**width).zfill(width) if account.isdigit() else account
        iban = _mod97_iban(country, bank_code + candidate.zfill(width))
        try:
            IBAN(iban, validate_bban=True)
        except SchwiftyException:
            if not account.isdigit():
                return iban
            continue
        return iban
    return _mod97_iban(country, bank_code + account.zfill(width))


def de_vat_id(rng: random.Random) -> str:
    """A German USt-IdNr: ``DE`` + 8 digits + ISO 7064 Mod 11,10 check digit."""
    body = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    return "DE" + body + mod_11_10.calc_check_digit(body)


def at_vat_id(rng: random.Random) -> str:
    """An Austrian UID (``ATU`` + 8 digits) whose last digit satisfies the official check."""
    while True:
        body = "".join(str(rng.randint(0, 9)) for _ in range(7))
        for digit in "0123456789":
            candidate = f"ATU{body}{digit}"
            if at_uid.is_valid(candidate):
                return candidate


def nl_vat_id(rng: random.Random) -> str:
    """A Dutch BTW number (``NL`` + 9 digits + ``B01``) with a valid eleven-test."""
    while True:
        digits = "".join(str(rng.randint(0, 9)) for _ in range(9))
        candidate = f"NL{digits}B01"
        if nl_btw.is_valid(candidate):
            return candidate


# Printed Steuernummer layout per Bundesland; F = Finanzamt, B = Bezirk, U = Unterscheidung,
# P = Prüfziffer. Matches the regional formats python-stdnum accepts.
_STNR_FORMATS: dict[str, str] = {
    "Baden-Württemberg": "FFBBB/UUUUP",
    "Bayern": "FFF/BBB/UUUUP",
    "Berlin": "FF/BBB/UUUUP",
    "Brandenburg": "0FF/BBB/UUUUP",
    "Bremen": "FF BBB UUUUP",
    "Hamburg": "FF/BBB/UUUUP",
    "Hessen": "0FF BBB UUUUP",
    "Mecklenburg-Vorpommern": "0FF/BBB/UUUUP",
    "Niedersachsen": "FF/BBB/UUUUP",
    "Nordrhein-Westfalen": "FFF/BBBB/UUUP",
    "Rheinland-Pfalz": "FF/BBB/UUUU/P",
    "Saarland": "0FF/BBB/UUUUP",
    "Sachsen": "2FF/BBB/UUUUP",
    "Sachsen-Anhalt": "1FF/BBB/UUUUP",
    "Schleswig-Holstein": "FF BBB UUUUP",
    "Thüringen": "1FF/BBB/UUUUP",
}


def tax_number(rng: random.Random, state: str) -> str:
    """A Steuernummer in the printed format of ``state``."""
    pattern = _STNR_FORMATS[state]
    out: list[str] = []
    for ch in pattern:
        if ch in "FBUP":
            out.append(str(rng.randint(1 if ch == "F" and not out else 0, 9)))
        else:
            out.append(ch)
    return "".join(out)


def slug(text: str) -> str:
    """E-mail domain part from a company name ("Sanitär Meyer GmbH" -> "sanitaer-meyer")."""
    text = text.lower()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("&", " ")):
        text = text.replace(src, dst)
    text = re.sub(
        r"\b(gmbh|co|kg|ag|e\.?\s?k|mbb|partg|partgmbb|b\.?v|a\.?\s?g|inh|dipl|ing|e\.?\s?v)\b\.?",
        " ",
        text,
    )
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in {"und", "der", "die"}]
    return "-".join(words[:3]) or "firma"


# --------------------------------------------------------------------------------------------
# Goods and services
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One catalogue line: what is sold, its unit, a price range and its VAT rate.

    ``qty`` says how quantities look: ``int`` (pieces), ``dec`` (hours, square metres, with
    decimals), ``one`` (a flat fee, quantity 1) or ``big`` (metered, e.g. kWh in the
    thousands). ``places`` is the number of decimals of the unit price (energy prices have 4).
    """

    description: str
    unit: str
    low: float
    high: float
    vat: str = "19"
    qty: str = "int"
    places: int = 2


@dataclass(frozen=True)
class Category:
    """A kind of supplier: which clients buy from it, how it is named, what it sells."""

    key: str
    trades: tuple[str, ...]
    names: tuple[str, ...]
    items: tuple[Item, ...]
    email_local: tuple[str, ...] = ("rechnung", "buchhaltung", "info")
    reverse_charge: bool = False
    country: str = "DE"
    language: str = "de"
    small_business: bool = False
    en_items: tuple[Item, ...] = ()


ALL = ("haustechnik", "baeckerei", "architektur", "allgemein")

CATEGORIES: tuple[Category, ...] = (
    Category(
        "sanitaer_grosshandel",
        ("haustechnik",),
        (
            "{sur} Sanitär- und Heizungsgroßhandel GmbH",
            "{fantasy} Haustechnik-Handel GmbH & Co. KG",
            "SHK-Großhandel {sur} KG",
        ),
        (
            Item("Kupferrohr 15 x 1 mm, Stange 5 m", "Stk.", 14, 22),
            Item("Pressfitting Bogen 90°, 22 mm", "Stk.", 3.2, 6.5),
            Item("Thermostatventil-Unterteil DN 15, Eckform", "Stk.", 9.9, 18),
            Item("Flachheizkörper Typ 22, 600 x 1000 mm", "Stk.", 120, 210),
            Item("Waschtisch-Einhebelmischer, verchromt", "Stk.", 49, 129),
            Item("Unterputz-Spülkasten mit Montageelement", "Stk.", 139, 259),
            Item("Membran-Ausdehnungsgefäß 25 l", "Stk.", 35, 69),
            Item("Hocheffizienz-Umwälzpumpe 25-60", "Stk.", 149, 289),
            Item("Rohrisolierung 22 x 20 mm, Länge 2 m", "Stk.", 2.1, 4.5),
            Item("Mehrschichtverbundrohr 16 x 2 mm, Rolle 50 m", "Rolle", 69, 119),
            Item("Kugelhahn DN 20 mit Flügelgriff", "Stk.", 8.5, 16),
            Item("Sanitärsilikon transparent, 310 ml", "Stk.", 5, 9),
            Item("Siphon für Waschtisch, 1 1/4 Zoll", "Stk.", 9, 24),
            Item("Brennwert-Neutralisationsbox", "Stk.", 79, 139),
        ),
    ),
    Category(
        "elektro_grosshandel",
        ("haustechnik", "architektur"),
        ("Elektro-Großhandel {sur} GmbH", "{fantasy} Elektrotechnik GmbH", "Elektro {sur} e.K."),
        (
            Item("Mantelleitung NYM-J 3 x 1,5 mm², Ring 100 m", "Ring", 55, 95),
            Item("Leitungsschutzschalter B16, 1-polig", "Stk.", 3.5, 8),
            Item("FI-Schutzschalter 40 A / 30 mA, 4-polig", "Stk.", 29, 59),
            Item("Schuko-Steckdose UP, reinweiß", "Stk.", 3, 7),
            Item("LED-Panel 620 x 620 mm, 36 W", "Stk.", 29, 69),
            Item("Abzweigdose AP, IP65", "Stk.", 1.8, 3.9),
            Item("Kabelkanal 40 x 60 mm, Länge 2 m", "Stk.", 6, 12),
            Item("Bewegungsmelder 180°, IP44", "Stk.", 19, 39),
        ),
    ),
    Category(
        "bauleistung",
        ("haustechnik",),
        ("{sur} Estrich & Trockenbau GmbH", "Fliesen {sur} GmbH", "{sur} Bauservice GmbH"),
        (
            Item("Estricharbeiten Zementestrich CT-C25-F4, 45 mm", "m²", 18, 29, qty="dec"),
            Item("Trockenbauwand einfach beplankt, 100 mm", "m²", 35, 55, qty="dec"),
            Item("Fliesenarbeiten Wand, Format 30 x 60 cm", "m²", 42, 68, qty="dec"),
            Item("Kernbohrung Ø 150 mm, Stahlbeton", "Stk.", 65, 120),
            Item("Stundenlohnarbeiten Geselle", "Std.", 48, 62, qty="dec"),
            Item("Entsorgung Bauschutt, Container 5 m³", "psch.", 290, 420, qty="one"),
            Item("Schlitze stemmen und verschließen", "lfm", 14, 26, qty="dec"),
        ),
        reverse_charge=True,
    ),
    Category(
        "baeckereibedarf",
        ("baeckerei",),
        ("{fantasy} Bäckereibedarf GmbH", "{sur} Backzutaten GmbH", "Großhandel {sur} e.K."),
        (
            Item("Weizenmehl Type 550, Sack 25 kg", "Sack", 13, 19, vat="7"),
            Item("Roggenmehl Type 1150, Sack 25 kg", "Sack", 14, 21, vat="7"),
            Item("Backhefe frisch, 1 kg", "Stk.", 2.1, 3.4, vat="7"),
            Item("Süßrahmbutter 82 %, Block 10 kg", "Stk.", 55, 89, vat="7"),
            Item("Zucker fein, Sack 25 kg", "Sack", 22, 34, vat="7"),
            Item("Sonnenblumenkerne geschält, 5 kg", "Btl.", 12, 18, vat="7"),
            Item("Backpapier 40 x 60 cm, 500 Blatt", "Pkt.", 24, 38),
            Item("Bäckertüten Kraftpapier, bedruckt, 1.000 Stk.", "Ktn.", 29, 49),
            Item("Tortenkarton 32 x 32 cm, 50 Stk.", "Pkt.", 19, 32),
            Item("Flächendesinfektion, Kanister 5 l", "Stk.", 19, 35),
        ),
    ),
    Category(
        "muehle",
        ("baeckerei",),
        ("{fantasy}mühle {sur} GmbH", "Kunstmühle {sur} KG", "Mühlenwerke {fantasy} GmbH"),
        (
            Item("Weizenmehl Type 405, Sack 25 kg", "Sack", 12, 18, vat="7"),
            Item("Weizenmehl Type 1050, Sack 25 kg", "Sack", 13, 19, vat="7"),
            Item("Dinkelmehl Type 630, Sack 25 kg", "Sack", 21, 32, vat="7"),
            Item("Roggenvollkornschrot mittel, Sack 25 kg", "Sack", 15, 22, vat="7"),
            Item("Backmischung Vollkornbrot, 10 kg", "Sack", 19, 29, vat="7"),
            Item("Frachtkostenanteil Anlieferung", "psch.", 18, 35, vat="7", qty="one"),
        ),
    ),
    Category(
        "lebensmittel",
        ("baeckerei", "architektur", "allgemein"),
        ("{fantasy} Frischdienst GmbH", "Getränke {sur} GmbH", "{sur} Lebensmittelgroßhandel KG"),
        (
            Item("Vollmilch 3,5 %, 10 x 1 l", "Ktn.", 11, 16, vat="7"),
            Item("Schlagsahne 30 %, 5 l", "Eimer", 19, 29, vat="7"),
            Item("Eier Gr. M Bodenhaltung, 180 Stk.", "Ktn.", 39, 59, vat="7"),
            Item("Speisequark 20 %, 5 kg", "Eimer", 11, 17, vat="7"),
            Item("Kaffeebohnen Espresso, 1 kg", "Btl.", 16, 28, vat="7"),
            Item("Orangensaft, Kiste 6 x 1 l", "Kiste", 9, 15),
            Item("Mineralwasser still, Kasten 12 x 0,75 l", "Kasten", 6.5, 11),
        ),
    ),
    Category(
        "kaeltetechnik",
        ("baeckerei",),
        ("Kältetechnik {sur} GmbH", "{fantasy} Kälte- und Klimatechnik GmbH"),
        (
            Item("Wartung Kühlzelle lt. Wartungsvertrag", "psch.", 180, 290, qty="one"),
            Item("Kältemittel R290", "kg", 38, 65, qty="dec"),
            Item("Arbeitszeit Kältetechniker", "Std.", 68, 89, qty="dec"),
            Item("Anfahrtspauschale", "psch.", 35, 55, qty="one"),
            Item("Türdichtung Tiefkühlschrank, ersetzt", "Stk.", 45, 95),
            Item("Ventilatormotor Verdampfer", "Stk.", 110, 240),
        ),
    ),
    Category(
        "reprografie",
        ("architektur",),
        ("{fantasy} Plot & Print GmbH", "Reprografie {sur}", "Planservice {sur} GmbH"),
        (
            Item("Plot A0 farbig, Papier 90 g/m²", "Stk.", 4.5, 9),
            Item("Plot A1 schwarz/weiß", "Stk.", 1.8, 3.5),
            Item("Planfaltung nach DIN 824", "Stk.", 0.3, 0.6),
            Item("Bindung Projektmappe", "Stk.", 8, 14),
            Item("Plotterpapier 914 mm x 50 m, 90 g/m²", "Rolle", 39, 59),
            Item("Scan Bestandsplan A0", "Stk.", 6, 12),
        ),
    ),
    Category(
        "ingenieurbuero",
        ("architektur",),
        (
            "Ingenieurbüro {sur} + {sur2} PartGmbB",
            "Dipl.-Ing. {first} {sur} Beratender Ingenieur",
            "{sur} Vermessung GmbH",
        ),
        (
            Item("Tragwerksplanung LPH 1-4 gem. HOAI", "psch.", 1800, 6500, qty="one"),
            Item("Vermessung Lageplan zum Bauantrag", "psch.", 650, 1400, qty="one"),
            Item("Ortstermin inkl. Fahrtzeit", "Std.", 85, 120, qty="dec"),
            Item("Brandschutznachweis", "psch.", 900, 2400, qty="one"),
            Item("Nebenkosten pauschal", "psch.", 45, 180, qty="one"),
        ),
    ),
    Category(
        "cad_software",
        ("architektur",),
        ("{fantasy} CAD-Systeme GmbH", "{sur} Software GmbH"),
        (
            Item("CAD-Software Jahreslizenz, 1 Arbeitsplatz", "Stk.", 1200, 2400),
            Item("BIM-Modul Erweiterung, Jahreslizenz", "Stk.", 390, 890),
            Item("Wartung und Support, 12 Monate", "psch.", 290, 690, qty="one"),
            Item("Online-Schulung, 4 Stunden", "psch.", 240, 420, qty="one"),
        ),
    ),
    Category(
        "saas_at",
        ALL,
        ("{en_fantasy} Software GmbH",),
        (),
        email_local=("billing", "accounts"),
        country="AT",
        language="en",
        en_items=(
            Item("Team plan, 5 users, monthly", "month", 49, 149, qty="one"),
            Item("Additional user licence", "user", 9, 19),
            Item("Cloud storage 1 TB, annual", "year", 99, 199, qty="one"),
            Item("Premium support plan", "month", 29, 79, qty="one"),
        ),
    ),
    Category(
        "saas_nl",
        ALL,
        ("{en_fantasy} Cloud B.V.",),
        (),
        email_local=("billing", "invoices"),
        country="NL",
        language="en",
        en_items=(
            Item("Scheduling suite, business tier", "month", 39, 119, qty="one"),
            Item("SMS notifications (bundle of 1,000)", "bundle", 25, 45),
            Item("Onboarding session, remote", "session", 150, 350),
            Item("API access add-on", "month", 19, 49, qty="one"),
        ),
    ),
    Category(
        "buerobedarf",
        ALL,
        ("{fantasy} Bürobedarf GmbH", "Büro {sur} GmbH", "Papier & Büro {sur} e.K."),
        (
            Item("Kopierpapier A4, 80 g/m², 5 x 500 Blatt", "Ktn.", 19, 29),
            Item("Tonerkartusche schwarz, 3.000 Seiten", "Stk.", 59, 119),
            Item("Ordner A4, Rückenbreite 8 cm, blau", "Stk.", 2.5, 4.5),
            Item("Briefumschläge DIN lang mit Fenster, 1.000 Stk.", "Ktn.", 19, 35),
            Item("Haftnotizen 76 x 76 mm, 12er-Pack", "Pkt.", 8, 14),
            Item("Kugelschreiber blau, 50 Stk.", "Pkt.", 12, 24),
            Item("Trennblätter A4 farbig, 100 Stk.", "Pkt.", 3, 6),
            Item("Schreibtischstuhl ergonomisch", "Stk.", 189, 449),
        ),
    ),
    Category(
        "it_service",
        ALL,
        ("{sur} IT-Service GmbH", "{fantasy} Systemhaus GmbH", "{sur} & {sur2} EDV-Beratung GbR"),
        (
            Item("Wartung Server und Datensicherung", "Std.", 85, 120, qty="dec"),
            Item("Fernwartung (Remote-Support)", "Std.", 75, 110, qty="dec"),
            Item("Notebook 15,6 Zoll, 16 GB RAM, 512 GB SSD", "Stk.", 799, 1299),
            Item("Einrichtung Benutzerkonto und E-Mail", "psch.", 60, 120, qty="one"),
            Item("Firewall-Lizenz, 12 Monate", "Stk.", 190, 390),
            Item("Anfahrt Stadtgebiet", "psch.", 25, 45, qty="one"),
            Item("Monitor 27 Zoll, höhenverstellbar", "Stk.", 219, 389),
        ),
        email_local=("rechnung", "buchhaltung", "office"),
    ),
    Category(
        "telekom",
        ALL,
        ("{fantasy}Net Kommunikation GmbH", "{fantasy}tel Telekommunikation AG"),
        (
            Item("Grundgebühr Business-Anschluss Glasfaser 250 Mbit/s", "Monat", 49, 89, qty="one"),
            Item("Mobilfunk Business M, je Karte", "Karte", 19, 39),
            Item("Verbindungen in deutsche Mobilfunknetze", "psch.", 3, 25, qty="one"),
            Item("Miete Router Business", "Monat", 4.99, 9.99, qty="one"),
            Item("Festnetz-Flatrate Zusatzrufnummern", "Monat", 9.9, 19.9, qty="one"),
        ),
        email_local=("rechnungsservice", "kundenservice"),
    ),
    Category(
        "energie",
        ALL,
        ("Energieversorgung {fantasy} AG", "{fantasy} Energie GmbH", "Stadtwerke {fantasy} GmbH"),
        (
            Item("Arbeitspreis Strom", "kWh", 0.2850, 0.3450, qty="big", places=4),
            Item("Grundpreis Strom", "Monat", 12.9, 19.9, qty="int"),
            Item("Arbeitspreis Erdgas", "kWh", 0.0990, 0.1290, qty="big", places=4),
            Item("Messstellenbetrieb", "Monat", 1.8, 4.5, qty="int"),
        ),
        email_local=("kundenservice", "abrechnung"),
    ),
    Category(
        "reinigung",
        ALL,
        (
            "{sur} Gebäudereinigung GmbH",
            "Glas- und Gebäudereinigung {sur}",
            "{fantasy} Facility GmbH",
        ),
        (
            Item("Unterhaltsreinigung Betriebsräume, monatlich", "psch.", 290, 690, qty="one"),
            Item("Glasreinigung innen und außen", "psch.", 120, 260, qty="one"),
            Item("Grundreinigung Bodenbelag", "m²", 2.2, 4.5, qty="dec"),
            Item("Sonderreinigung nach Absprache", "Std.", 28, 36, qty="dec"),
        ),
    ),
    Category(
        "kfz",
        ("haustechnik", "baeckerei", "allgemein"),
        ("Autohaus {sur} GmbH", "Kfz-Meisterbetrieb {sur}", "{fantasy} Nutzfahrzeuge GmbH"),
        (
            Item("Inspektion nach Herstellervorgabe", "psch.", 189, 349, qty="one"),
            Item("Motoröl 5W-30", "l", 11, 17, qty="int"),
            Item("Bremsbeläge vorne erneuert", "Satz", 89, 159),
            Item("Arbeitslohn Kfz-Mechatroniker", "Std.", 89, 119, qty="dec"),
            Item("Reifenwechsel inkl. Wuchten", "Satz", 49, 79),
            Item("Wischerblätter vorne", "Satz", 19, 39),
        ),
        email_local=("service", "buchhaltung"),
    ),
    Category(
        "druckerei",
        ALL,
        ("Druckerei {sur} GmbH", "{fantasy} Druck & Medien GmbH", "Werbetechnik {sur}"),
        (
            Item("Visitenkarten 85 x 55 mm, 4/4-farbig, 500 Stk.", "Stk.", 39, 69),
            Item("Flyer DIN lang, 135 g/m², 2.500 Stk.", "Aufl.", 89, 179),
            Item("Briefbogen DIN A4, 1/0-farbig, 1.000 Stk.", "Aufl.", 79, 139),
            Item("Rollup-Banner 85 x 200 cm", "Stk.", 99, 169),
            Item("Gestaltung und Satz", "Std.", 55, 75, qty="dec"),
            Item("Fahrzeugbeschriftung Transporter", "psch.", 390, 890, qty="one"),
        ),
    ),
    Category(
        "steuerberatung",
        ALL,
        (
            "Steuerberatung {sur} & Partner mbB",
            "{first} {sur} Steuerberaterin",
            "Kanzlei {sur} Steuerberater",
        ),
        (
            Item("Finanzbuchhaltung lt. § 33 StBVV", "psch.", 180, 420, qty="one"),
            Item("Lohnabrechnung je Mitarbeiter", "MA", 18, 28),
            Item("Umsatzsteuer-Voranmeldung", "psch.", 60, 140, qty="one"),
            Item("Auslagenpauschale gem. § 16 StBVV", "psch.", 20, 20, qty="one"),
            Item("Beratung Investitionsplanung", "Std.", 120, 180, qty="dec"),
        ),
        email_local=("kanzlei", "buchhaltung"),
    ),
    Category(
        "hosting",
        ALL,
        ("{fantasy} Hosting GmbH", "{sur} Webdienste"),
        (
            Item("Managed Server M, monatlich", "Monat", 29, 89, qty="one"),
            Item("Domain .de, Jahresgebühr", "Stk.", 9, 19),
            Item("SSL-Zertifikat, 12 Monate", "Stk.", 39, 99),
            Item("Backup-Speicher 500 GB", "Monat", 5, 15, qty="one"),
            Item("Webseiten-Pflege", "Std.", 60, 85, qty="dec"),
        ),
        small_business=True,
    ),
    Category(
        "werkzeug",
        ("haustechnik",),
        ("{fantasy} Werkzeughandel GmbH", "Werkzeug {sur} KG"),
        (
            Item("Akku-Bohrschrauber 18 V inkl. 2 Akkus", "Stk.", 149, 299),
            Item("Pressbacke 15 mm", "Stk.", 119, 199),
            Item("Bohrer-Set SDS-plus, 7-tlg.", "Set", 29, 59),
            Item("Rohrabschneider 3-35 mm", "Stk.", 19, 45),
            Item("Arbeitsschutzhandschuhe, 12 Paar", "Pkt.", 14, 29),
        ),
    ),
    Category(
        "berufskleidung",
        ("haustechnik", "baeckerei"),
        ("{fantasy} Berufskleidung GmbH", "Textilservice {sur}"),
        (
            Item("Bäckerjacke weiß, Gr. M", "Stk.", 24, 39),
            Item("Latzhose Arbeitsschutz, Gr. 52", "Stk.", 39, 69),
            Item("Sicherheitsschuhe S3, Gr. 43", "Paar", 59, 119),
            Item("Logo-Bestickung Brust links", "Stk.", 3.5, 6),
            Item("Mietwäsche Wochenpauschale", "Woche", 18, 35, qty="int"),
        ),
    ),
    Category(
        "hausmeister",
        ALL,
        ("Hausmeisterservice {first} {sur}", "Gartenpflege {sur}"),
        (
            Item("Winterdienst Pauschale", "Monat", 60, 140, qty="int"),
            Item("Grünflächenpflege", "Std.", 28, 38, qty="dec"),
            Item("Kleinreparaturen", "Std.", 30, 42, qty="dec"),
            Item("Grüngutentsorgung", "psch.", 25, 60, qty="one"),
        ),
        email_local=("info", "kontakt"),
        small_business=True,
    ),
)
CATEGORY_BY_KEY = {c.key: c for c in CATEGORIES}

# Who writes letters and other papers but does not (usually) invoice.
NON_INVOICE_KINDS = (
    "chamber",
    "landlord",
    "insurance",
    "lawyer",
    "customer",
    "tax_office",
    "bank",
)

# --------------------------------------------------------------------------------------------
# Senders
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderStyle:
    """How one sender writes: number formats, label wording, what it prints and where.

    These are fixed per sender because real firms print every invoice from the same template.
    """

    amount_style: str
    date_style: str
    invoice_number_pattern: str
    customer_number_pattern: str
    label_variant: int
    table_variant: int
    show_vat_id: bool
    show_tax_number: bool
    girocode: bool
    fold_marks: bool
    accent: tuple[float, float, float]
    return_separator: str
    shows_customer_number: bool
    payment_style: str
    percent_tight: bool


@dataclass(frozen=True)
class Sender:
    """A fictional organisation that sends post to the clients.

    ``kind`` is ``supplier`` (any :data:`CATEGORIES` entry) or one of
    :data:`NON_INVOICE_KINDS`. ``clients`` restricts per-client senders (their Finanzamt, their
    bank, their chamber) to the client codes they belong to; empty means anyone.
    """

    key: str
    kind: str
    category: str
    name: str
    street: str
    zip: str
    city: str
    country: str
    email: str
    phone: str
    web: str | None
    vat_id: str | None
    tax_number: str | None
    iban: str | None
    bic: str | None
    bank_name: str | None
    register: str | None
    people: tuple[str, ...]
    layout: str
    font: str
    language: str
    style: SenderStyle
    clients: tuple[str, ...] = ()
    small_business: bool = False
    trades: tuple[str, ...] = field(default=ALL)

    @property
    def country_line(self) -> str | None:
        """The country line foreign senders add to their own address."""
        return {"AT": "Austria", "NL": "The Netherlands"}.get(self.country)

    def ground_truth(self) -> dict[str, str | None]:
        """The sender record in ``ground_truth.json``."""
        return {
            "name": self.name,
            "street": self.street,
            "zip": self.zip,
            "city": self.city,
            "country": self.country,
            "vat_id": self.vat_id,
            "tax_number": self.tax_number,
            "iban": self.iban,
            "bic": self.bic,
            "email": self.email,
        }


def person(rng: random.Random, *, female: bool | None = None) -> tuple[str, str, str]:
    """``(title, first name, surname)`` of a made-up person; title is "Frau" or "Herr"."""
    if female is None:
        female = rng.random() < 0.5
    first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
    return ("Frau" if female else "Herr", first, rng.choice(SURNAMES))


_INVOICE_PATTERNS = (
    "RE-{year}-{n:04d}",
    "{year}-{n:05d}",
    "R{yy}{n:05d}",
    "{n:06d}",
    "RG{year}/{n:04d}",
    "AR-{yy}-{n:04d}",
    "{year}{n:04d}",
    "VR {n:05d}",
)
_EN_INVOICE_PATTERNS = ("INV-{year}-{n:04d}", "{year}-INV{n:05d}", "INV{n:06d}")
_CUSTOMER_PATTERNS = ("{n4}", "K-{n5}", "KD-{n5}", "{n6}", "10{n4}", "D{n5}")


def _make_style(rng: random.Random, language: str, kind: str) -> SenderStyle:
    english = language == "en"
    accent_choices = (
        (0.10, 0.25, 0.50),
        (0.55, 0.10, 0.10),
        (0.05, 0.40, 0.30),
        (0.20, 0.20, 0.20),
        (0.85, 0.45, 0.05),
        (0.25, 0.35, 0.60),
        (0.40, 0.15, 0.45),
    )
    return SenderStyle(
        amount_style=rng.choice(EN_AMOUNT_STYLES if english else AMOUNT_STYLES),
        date_style=rng.choice(("en_long", "en_num") if english else (*DATE_STYLES, "de_num")),
        invoice_number_pattern=rng.choice(_EN_INVOICE_PATTERNS if english else _INVOICE_PATTERNS),
        customer_number_pattern=rng.choice(_CUSTOMER_PATTERNS),
        label_variant=rng.randrange(4),
        table_variant=rng.randrange(4),
        show_vat_id=True,
        show_tax_number=rng.random() < 0.5,
        girocode=kind == "supplier" and not english and rng.random() < 0.35,
        fold_marks=rng.random() < 0.6,
        accent=rng.choice(accent_choices),
        return_separator=rng.choice((" · ", " - ", ", ", " | ", " • ")),
        shows_customer_number=rng.random() < 0.7,
        payment_style=rng.choice(("terms", "skonto", "due_date", "until", "immediate", "terms")),
        percent_tight=rng.random() < 0.3,
    )


def _fill(pattern: str, rng: random.Random, city: City) -> str:
    _, first, sur = person(rng)
    sur2 = rng.choice([s for s in SURNAMES if s != sur])
    return pattern.format(
        sur=sur,
        sur2=sur2,
        first=first,
        fantasy=rng.choice(FANTASY),
        en_fantasy=rng.choice(EN_FANTASY),
        city=city.name,
    )


def _street(rng: random.Random) -> str:
    number = str(rng.randint(1, 140))
    if rng.random() < 0.12:
        number += rng.choice("abc")
    return f"{rng.choice(STREETS)} {number}"


def _phone(rng: random.Random, city: City, country: str = "DE") -> str:
    subscriber = str(rng.randint(200000, 9899999))
    if country != "DE":
        prefix = {"AT": "+43", "NL": "+31"}[country]
        return f"{prefix} {city.area_code[1:]} {subscriber}"
    if rng.random() < 0.5:
        return f"{city.area_code} {subscriber}-0"
    return f"+49 {city.area_code[1:]} {subscriber}"


def _legal_register(rng: random.Random, name: str, city: City) -> str | None:
    court = city.name.split(" (")[0]
    if "GmbH & Co. KG" in name:
        return f"Amtsgericht {court} HRA {rng.randint(1000, 99999)}"
    if "GmbH" in name or name.endswith(" AG"):
        return f"Amtsgericht {court} HRB {rng.randint(1000, 799999)}"
    if name.endswith(" KG") or name.endswith(" e.K."):
        return f"Amtsgericht {court} HRA {rng.randint(1000, 99999)}"
    if "PartG" in name or "mbB" in name:
        return f"Amtsgericht {court} PR {rng.randint(100, 2999)}"
    return None


def _bank_for(rng: random.Random, state: str) -> Bank:
    regional = [b for b in BANKS if b.state == state]
    national = [b for b in BANKS if b.state == "*"]
    if regional and rng.random() < 0.6:
        return rng.choice(regional)
    return rng.choice(national)


def _account(rng: random.Random, digits: int = 10) -> str:
    return str(rng.randint(10 ** (digits - 2), 10**digits - 1)).zfill(digits)


class _Assigner:
    """Hands out layouts and fonts round-robin so a small set still shows all of them."""

    def __init__(
        self,
        rng: random.Random,
        layouts: Sequence[str],
        fonts: Sequence[str],
        mono_fonts: Sequence[str],
    ) -> None:
        self._rng = rng
        self._layouts = list(layouts)
        rng.shuffle(self._layouts)
        self._fonts = list(fonts)
        rng.shuffle(self._fonts)
        self._mono = list(mono_fonts)
        self._i = 0
        self._j = 0

    def next(self) -> tuple[str, str]:
        layout = self._layouts[self._i % len(self._layouts)]
        self._i += 1
        if layout == "erp":
            return layout, self._rng.choice(self._mono)
        font = self._fonts[self._j % len(self._fonts)]
        self._j += 1
        return layout, font


def _city_for(rng: random.Random, states: Sequence[str]) -> City:
    if states and rng.random() < 0.6:
        near = [c for c in CITIES if c.state in states]
        if near:
            return rng.choice(near)
    return rng.choice(CITIES)


def build_sender_pool(
    rng: random.Random,
    clients: Sequence[SampleClient],
    layouts: Sequence[str],
    fonts: Sequence[str],
    mono_fonts: Sequence[str],
) -> list[Sender]:
    """One seeded cast of 30+ senders for ``clients``.

    Suppliers are drawn for every category some client's trade buys from (plus the general
    ones), with one or two firms per category; then come the senders of letters and other
    papers: landlords, insurers, lawyers, customers, each client's chamber, Finanzamt and bank.
    Surnames of the clients are avoided so that a sender name never looks like a recipient.
    """
    legal_forms = {"GmbH", "AG", "KG", "PartG", "mbB", "Co", "Inh", "e", "K"}
    client_words = {
        w for c in clients for w in re.split(r"\W+", c.name) if len(w) > 2
    } - legal_forms
    surnames = [s for s in SURNAMES if s not in client_words]
    assigner = _Assigner(rng, layouts, fonts, mono_fonts)
    trades = {client_profile(c).trade for c in clients} | {"allgemein"}
    states = sorted({client_profile(c).state for c in clients})
    used_names: set[str] = set()
    senders: list[Sender] = []

    def unique_name(patterns: Sequence[str], city: City) -> str:
        for _ in range(50):
            candidate = _fill(rng.choice(patterns), rng, city)
            if candidate not in used_names and not any(w in candidate for w in client_words):
                used_names.add(candidate)
                return candidate
        candidate = f"{rng.choice(surnames)} {rng.choice(FANTASY)} GmbH"
        used_names.add(candidate)
        return candidate

    def add(
        kind: str,
        category: str,
        name: str,
        city: City,
        *,
        language: str = "de",
        country: str = "DE",
        street: str | None = None,
        email_local: Sequence[str] = ("info",),
        vat: bool = True,
        bank: Bank | None = None,
        people: tuple[str, ...] = (),
        clients_: tuple[str, ...] = (),
        small_business: bool = False,
        trades_: tuple[str, ...] = ALL,
        domain: str | None = None,
    ) -> Sender:
        layout, font = assigner.next()
        style = _make_style(rng, language, "supplier" if kind == "supplier" else kind)
        if small_business:
            style = replace(style, show_vat_id=False, show_tax_number=True)
        if bank is None:
            bank = _bank_for(rng, city.state)
        if country == "AT":
            iban = iban_for("AT", bank.code, _account(rng, 11))
            vat_id: str | None = at_vat_id(rng)
            stnr = None
            tld = "at"
        elif country == "NL":
            iban = iban_for("NL", bank.code, _account(rng, 10))
            vat_id = nl_vat_id(rng)
            stnr = None
            tld = "nl"
        else:
            iban = iban_for("DE", bank.code, _account(rng))
            vat_id = de_vat_id(rng) if vat and not small_business else None
            stnr = tax_number(rng, city.state)
            tld = "de"
        base = domain or slug(name)
        if not people:
            people = tuple(" ".join(person(rng)[1:]) for _ in range(rng.choice((1, 1, 2))))
        sender = Sender(
            key=f"S{len(senders) + 1:03d}",
            kind=kind,
            category=category,
            name=name,
            street=street or _street(rng),
            zip=city.zip,
            city=city.name,
            country=country,
            email=f"{rng.choice(tuple(email_local))}@{base}.{tld}",
            phone=_phone(rng, city, country),
            web=f"www.{base}.{tld}" if rng.random() < 0.7 else None,
            vat_id=vat_id,
            tax_number=stnr,
            iban=iban,
            bic=bank.bic,
            bank_name=bank.name,
            register=_legal_register(rng, name, city),
            people=people,
            layout=layout,
            font=font,
            language=language,
            style=style,
            clients=clients_,
            small_business=small_business,
            trades=trades_,
        )
        senders.append(sender)
        return sender

    # Suppliers: every relevant category once, popular ones twice.
    for category in CATEGORIES:
        if not set(category.trades) & trades:
            continue
        copies = (
            2
            if category.key
            in {"buerobedarf", "it_service", "sanitaer_grosshandel", "baeckereibedarf"}
            else 1
        )
        for _ in range(copies):
            if category.country == "AT":
                city = City("1060", "Wien", "Wien", "01")
                add(
                    "supplier",
                    category.key,
                    unique_name(category.names, city),
                    city,
                    language="en",
                    country="AT",
                    street=f"Mariahilfer Straße {rng.randint(2, 180)}",
                    email_local=category.email_local,
                    bank=AT_BANK,
                    trades_=category.trades,
                )
            elif category.country == "NL":
                city = City("1016 DV", "Amsterdam", "Noord-Holland", "020")
                add(
                    "supplier",
                    category.key,
                    unique_name(category.names, city),
                    city,
                    language="en",
                    country="NL",
                    street=f"Keizersgracht {rng.randint(100, 700)}",
                    email_local=category.email_local,
                    bank=NL_BANK,
                    trades_=category.trades,
                )
            else:
                city = _city_for(rng, states)
                name = unique_name(category.names, city)
                small = (
                    category.small_business
                    and rng.random() < 0.7
                    and not re.search(r"GmbH|AG\b|KG\b", name)
                )
                language = "en" if category.key == "hosting" and rng.random() < 0.4 else "de"
                add(
                    "supplier",
                    category.key,
                    name,
                    city,
                    email_local=category.email_local,
                    small_business=small,
                    language=language,
                    trades_=category.trades,
                )

    # Letter writers.
    for _ in range(2):
        city = _city_for(rng, states)
        if rng.random() < 0.5:
            name = unique_name(("Hausverwaltung {sur} GmbH", "{fantasy} Immobilien GmbH"), city)
            add("landlord", "landlord", name, city, email_local=("verwaltung", "info"))
        else:
            _, first, sur = person(rng)
            name = f"{first} {sur}"
            add(
                "landlord",
                "landlord",
                name,
                city,
                vat=False,
                people=(name,),
                email_local=(f"{first.lower()}.{slug(sur)}",),
                domain="mail-privat",
            )
    for pattern in ("{fantasy} Versicherung AG", "{fantasy}sche Versicherung a. G."):
        city = rng.choice(CITIES)
        add(
            "insurance",
            "insurance",
            unique_name((pattern,), city),
            city,
            email_local=("service", "kundenservice"),
        )
    for pattern in ("Rechtsanwälte {sur} & {sur2}", "Kanzlei {sur} Rechtsanwälte PartG mbB"):
        city = _city_for(rng, states)
        add(
            "lawyer",
            "lawyer",
            unique_name((pattern,), city),
            city,
            email_local=("kanzlei", "sekretariat"),
        )
    customer_names = {
        "haustechnik": ("{fantasy} Wohnbau GmbH", "Hausverwaltung {sur} & Söhne KG"),
        "baeckerei": ("Café {sur}", "Hotel {fantasy} GmbH"),
        "architektur": ("{fantasy} Projektentwicklung GmbH", "Bauherrengemeinschaft {sur} GbR"),
        "allgemein": ("{fantasy} Handels GmbH", "{sur} Consulting GmbH"),
    }
    for client in clients:
        profile = client_profile(client)
        city = _city_for(rng, [profile.state])
        add(
            "customer",
            "customer",
            unique_name(customer_names.get(profile.trade, customer_names["allgemein"]), city),
            city,
            email_local=("info", "einkauf"),
            clients_=(client.code,),
        )

    # Per-client institutions: chamber, Finanzamt, bank.
    for client in clients:
        profile = client_profile(client)
        home = next((c for c in CITIES if c.zip == client.zip), None) or City(
            client.zip, client.city, profile.state, "0" + client.zip[:3]
        )
        chamber_name = f"{profile.chamber} {home.name.split(' (')[0]}"
        existing = next((s for s in senders if s.name == chamber_name), None)
        if existing is not None:
            senders[senders.index(existing)] = _with_clients(existing, client.code)
        else:
            add(
                "chamber",
                "chamber",
                chamber_name,
                home,
                vat=False,
                email_local=("info", "service"),
                clients_=(client.code,),
            )
        roman = rng.choice(("", " I", " II", "-Mitte", "-Nord", "-Süd"))
        office = f"Finanzamt {home.name.split(' (')[0]}{roman}"
        add(
            "tax_office",
            "tax_office",
            office,
            home,
            vat=False,
            email_local=("poststelle",),
            bank=BUNDESBANK.get(profile.state, BUNDESBANK_DEFAULT),
            clients_=(client.code,),
            people=(" ".join(person(rng)[1:]),),
            domain=f"fa-{slug(home.name)}.finanzverwaltung",
        )
        add(
            "bank",
            "bank",
            _bank_display_name(client),
            home,
            vat=False,
            email_local=("firmenkunden", "service"),
            clients_=(client.code,),
            domain=slug(_bank_display_name(client)),
        )
    return senders


def _bank_display_name(client: SampleClient) -> str:
    profile = client_profile(client)
    return profile.bank_name


def _with_clients(sender: Sender, code: str) -> Sender:
    return replace(sender, clients=(*sender.clients, code))


def sender_serves(sender: Sender, client: SampleClient) -> bool:
    """Whether ``sender`` may write to ``client`` at all (per-client senders only to theirs)."""
    if sender.clients and client.code not in sender.clients:
        return False
    return client_profile(client).trade in sender.trades or "allgemein" in sender.trades
