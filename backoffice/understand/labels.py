"""Label vocabularies and OCR-tolerant label regexes.

Printed labels come in many wordings ("Rechnungsnummer", "Rechnungs-Nr.", "Rechnung Nr.",
"Beleg-Nr.", "Invoice No.") and OCR bends them further ("Rechnungsnumrner", "Fä1ligkeit").
:func:`tolerant` turns a plain phrase into a regex that accepts those look-alikes without
changing character offsets, so a match position is still a position in the original line.
"""

from __future__ import annotations

import re

_CHAR_CLASSES = {
    "m": "(?:m|rn)",
    "l": "[l1I|]",
    "i": "[il1|]",
    "o": "[o0ö]",
    "ä": "(?:ä|a|ae)",
    "ö": "(?:ö|o|oe)",
    "ü": "(?:ü|u|ue)",
    "ß": "(?:ß|ss)",
    " ": r"\s*",
    ".": r"[.,]?",  # OCR reads a small dot as a comma ("Rechnung Nr, R2600220")
    "-": r"[-\s]?",
}


def tolerant(phrase: str) -> str:
    """Regex source for ``phrase`` that tolerates OCR look-alikes, optional dots and dashes."""
    out = []
    for ch in phrase.lower():
        out.append(_CHAR_CLASSES.get(ch, re.escape(ch)))
    return "".join(out)


def label_re(*phrases: str, word_start: bool = True, word_end: bool = False) -> re.Pattern[str]:
    """A case-insensitive regex matching any of the phrases, longest first."""
    alts = "|".join(tolerant(p) for p in sorted(phrases, key=len, reverse=True))
    head = r"(?<![A-Za-zÄÖÜäöüß])" if word_start else ""
    tail = r"(?![A-Za-zÄÖÜäöüß])" if word_end else ""
    return re.compile(f"{head}(?:{alts}){tail}", re.IGNORECASE)


INVOICE_NUMBER = label_re(
    "rechnungsnummer",
    "rechnungs-nummer",
    "rechnungs-nr.",
    "rechnungsnr.",
    "rechnung nr.",
    "rechnung-nr.",
    "rechnung #",
    "rechnung no.",
    "handelsrechnung nr.",
    "re.-nr.",
    "rg.-nr.",
    "rg-nr.",
    "beleg-nr.",
    "belegnummer",
    "belegnr.",
    "invoice no.",
    "invoice number",
    "invoice nr.",
    "invoice #",
    "gutschrift nr.",
    "gutschriftsnummer",
    "gutschrift-nr.",
    "gutschrifts-nr.",
    "gutschriftsnr.",
    "gutschriftnummer",
    "korrekturrechnung nr.",
    "stornorechnung nr.",
)
INVOICE_WORD = label_re("rechnung", "invoice", "gutschrift", word_end=True)
INVOICE_WORDS = label_re(
    "rechnung",
    "rechnungen",
    "rechnungsnummern",
    "invoice",
    "invoices",
    "invoice numbers",
    "gutschrift",
    word_end=True,
)
"""Singular or plural: a reminder may list several invoices after "Rechnungen"."""
INVOICE_HEADING = re.compile(
    r"(?i)(?<![a-zäöü])[a-zäöüß-]*(?:rechnung|gutschrift|korrektur|invoice)"
    r"(?:\s*\([^)\n]{0,40}\))?(?:\s+des\s+\w+)?\s+(?:nr|no|nummer)\b\.?"
)
"""Headings like "Baurechnung Nr.", "Gutschrift (Selbst ausgestellte Rechnung) Nr."."""
CUSTOMER_NUMBER = label_re(
    "kundennummer",
    "kunden-nummer",
    "kunden-nr.",
    "kundennr.",
    "kd.-nr.",
    "kd-nr.",
    "kd. nr.",
    "kdnr.",
    "kunden-id",
    "kundenkonto",
    "debitorennummer",
    "debitoren-nr.",
    "mitgliedsnummer",
    "customer no.",
    "customer number",
    "customer id",
    "account no.",
)
ISSUE_DATE = label_re(
    "rechnungsdatum",
    "rechnungs-datum",
    "belegdatum",
    "ausstellungsdatum",
    "gutschriftsdatum",
    "invoice date",
    "date of issue",
    "datum",
    "date",
    word_end=True,
)
SERVICE_DATE = label_re(
    "liefer- und leistungsdatum",
    "leistungsdatum",
    "lieferdatum",
    "leistungszeitraum",
    "lieferzeitraum",
    "leistungszeit",
    "liefertag",
    "ausführungsdatum",
    "datum der leistung",
    "abrechnungszeitraum",
    "delivery date",
    "service date",
    "service period",
)
SERVICE_IS_ISSUE = re.compile(
    r"(?i)(?:leistungs|liefer)\w*datum\s*(?:entspricht|=|ist|gleich)\s*(?:dem\s+)?rechnungsdatum|"
    r"rechnungsdatum\s*(?:entspricht|=|ist|gleich)\s*(?:dem\s+)?(?:leistungs|liefer)\w*datum"
)
DUE_DATE = label_re(
    "fällig am",
    "fällig bis",
    "fällig zum",
    "fälligkeitsdatum",
    "fälligkeit",
    "zahlbar bis",
    "zahlbar am",
    "zahlungsziel",
    "zahlungstermin",
    "zahlung bis",
    "netto bis",
    "spätestens am",
    "spätestens bis",
    "bis spätestens",
    "due date",
    "payable by",
    "due by",
    "payment due",
)
BIC = label_re("bic", "swift", "swift-code", "swift/bic", "bic/swift", word_end=True)
IBAN_LABEL = label_re("iban", word_end=True)
VAT_ID = label_re(
    "ust-idnr.",
    "ust.-id.-nr.",
    "ust-id-nr.",
    "ust-id",
    "ustid",
    "ust-identnr.",
    "umsatzsteuer-identifikationsnummer",
    "umsatzsteuer-id",
    "vat id",
    "vat no.",
    "vat reg. no.",
    "vat number",
    "mwst-nr.",
)
TAX_NUMBER = label_re(
    "steuernummer",
    "steuer-nr.",
    "steuer nr.",
    "st.-nr.",
    "stnr.",
    "st-nr.",
    "tax number",
    "tax no.",
)
SUBJECT = label_re("betreff", "betr.", "betrifft", "subject", "re:", "thema", word_end=True)

# ---------------------------------------------------------------- totals
NET_LABEL = label_re(
    "nettobetrag",
    "netto-betrag",
    "nettosumme",
    "netto",
    "zwischensumme",
    "summe netto",
    "gesamt netto",
    "warenwert",
    "net amount",
    "net total",
    "total net",
    "subtotal",
    "sub-total",
    "positionssumme",
)
GROSS_LABEL = label_re(
    "gesamtbetrag",
    "rechnungsbetrag",
    "gutschriftsbetrag",
    "gutschriftbetrag",
    "bruttobetrag",
    "brutto-betrag",
    "bruttosumme",
    "brutto",
    "gesamtsumme",
    "endbetrag",
    "endsumme",
    "rechnungssumme",
    "zahlbetrag",
    "zahlungsbetrag",
    "zu zahlender betrag",
    "zu zahlen",
    "gesamtpreis",
    "total amount",
    "amount due",
    "grand total",
    "total due",
    "total",
    "summe",
    "gesamt",
    "betrag",
)
WEAK_GROSS = {"summe", "gesamt", "total", "betrag", "rechnungssumme"}
PAYABLE_GROSS = {"zahlbetrag", "zahlungsbetrag", "zu zahlen", "zu zahlender betrag", "amount due"}
VAT_LABEL = label_re(
    "mehrwertsteuer",
    "umsatzsteuer",
    "steuerbetrag",
    "mwst",
    "ust",
    "vat",
    "tax",
    "steuer",
    word_end=False,
)
GROSS_MODIFIER = re.compile(
    r"(?i)inkl\w*\.?\s*(?:\d{1,2}(?:[,.]\d{1,2})?\s*%\s*)?(?:der\s+)?(?:gesetzl\w*\.?\s*)?"
    r"(?:mwst|ust|umsatzsteuer|mehrwertsteuer|vat|steuern?)\.?"
)
NET_MODIFIER = re.compile(
    r"(?i)(?:ohne|exkl\w*|excl\w*|vor|zzgl\w*\.?\s*)\.?\s*(?:mwst|ust|umsatzsteuer|"
    r"mehrwertsteuer|vat|steuern?)\.?(?=\s*[-:\d€]|\s*$|\s+(?:EUR|€))"
)
NOT_A_TOTAL = re.compile(
    r"(?i)ust[\s.-]*id|steuer[\s.-]*(?:nummer|nr)|st\.?-?nr|identifikationsnummer|vat\s*(?:id|reg|no)|"
    r"skonto|anzahlung|der\s+zuschl|der\s+abschl|rabatt|tax\s*(?:id|number)|steuer-?id|"
    r"steuerklasse|steuerberater|ust\.?\s*befreit"
)
RATE_RE = re.compile(r"(?<![\d,.])(\d{1,2}(?:[,.]\d{1,2})?)\s?%")

# ---------------------------------------------------------------- reminders
STAGE_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (
        re.compile(r"(?i)letzte\w*\s+(?:mahnung|zahlungsaufforderung)|final\s+(?:reminder|notice)"),
        3,
    ),
    (re.compile(r"(?i)(?:3|drit+e)\s*\.?\s*mahnung|third\s+reminder"), 3),
    (re.compile(r"(?i)(?:2|zweite)\s*\.?\s*mahnung|second\s+reminder"), 2),
    (re.compile(r"(?i)(?:1|erste)\s*\.?\s*mahnung|first\s+reminder"), 1),
    (re.compile(r"(?i)zahlungserinnerung|freundliche\s+erinnerung|payment\s+reminder"), 0),
    (re.compile(r"(?i)(?<![a-zäöü])mahnung"), 1),
    (re.compile(r"(?i)(?<![a-zäöü])erinnerung"), 0),
)
COURT_THREAT = re.compile(
    r"(?i)gericht|mahnbescheid|mahnverfahren|inkasso|rechtsanwalt|anwalt|klage|"
    r"rechtliche\s+schritte|juristische|vollstreckung|court|legal\s+action"
)
OUTSTANDING = label_re(
    "betrag von",
    "betrag in höhe von",
    "summe von",
    "offener rechnungsbetrag",
    "offener betrag",
    "offene forderung",
    "offener saldo",
    "offene posten",
    "noch offen",
    "offen",
    "ausstehender betrag",
    "ausstehend",
    "rechnungsbetrag",
    "forderungsbetrag",
    "hauptforderung",
    "amount outstanding",
    "outstanding",
)
FEES = label_re(
    "mahngebühren",
    "mahngebühr",
    "mahnkosten",
    "mahnspesen",
    "bearbeitungsgebühr",
    "verzugspauschale",
    "pauschale",
    "gebühr",
    "gebühren",
    "fees",
    "fee",
)
INTEREST = label_re("verzugszinsen", "zinsen", "zins", "interest")
REMINDER_TOTAL = label_re(
    "gesamtforderung",
    "gesamtbetrag",
    "zu zahlender betrag",
    "zu zahlen",
    "zahlbetrag",
    "gesamtsumme",
    "summe",
    "gesamt",
    "total",
)
DEADLINE = re.compile(
    r"(?i)(?:bis\s+(?:zum|spätestens(?:\s+(?:zum|am))?|einschließlich)?|spätestens\s+(?:am|bis(?:\s+zum)?|zum)?|"
    r"frist\w*(?:\s+\w+){0,4}?\s+(?:bis|zum|am)?|deadline|by|no\s+later\s+than|until)\s*"
)
RELATIVE_DEADLINE = re.compile(
    r"(?i)(?:innerhalb|binnen)\s+(?:von\s+)?(?P<n>\d{1,3}|einer|eines|einem|zwei|drei|vier|sieben|zehn|vierzehn)\s+"
    r"(?P<unit>tag|tage|tagen|woche|wochen|monat|monats|monaten)"
)
SALUTATION = re.compile(r"(?i)^\s*(?:sehr\s+geehrte|guten\s+tag|hallo|liebe[rs]?\s|dear\s)")
CLOSING = re.compile(
    r"(?i)^\s*(?:mit\s+freundlichen|freundliche\s+grüße|viele\s+grüße|beste\s+grüße|"
    r"hochachtungsvoll|kind\s+regards|best\s+regards)"
)
LEGAL_FORM = re.compile(
    r"(?<![\w])(?:GmbH|mbH|AG|KG|KGaA|UG|OHG|GbR|e\.\s?K\.|e\.\s?V\.|SE|PartG|Ltd\.?|Inc\.?|LLC|"
    r"GmbH\s*&\s*Co\.?\s*KG)(?![\w])"
)
