"""Booking proposals ("vorbereitende Buchhaltung") from filed invoices.

The office service prepares the client's bookkeeping; the Steuerberater checks and completes it
in DATEV. For every filed invoice this module proposes the DATEV bookings: which personal
account (Kreditor for a supplier, Debitor for a customer), which expense or revenue account of
the client's chart (SKR03 or SKR04), which tax key (BU-Schlüssel), for how much. The result is
a list of :class:`~backoffice.exports.datev.Booking` for
:func:`~backoffice.exports.datev.write_buchungsstapel`.

How the expense account is chosen, in this order, so that a person's decision is never
overridden by a guess:

1. the most recent *staff correction* for the same correspondent (someone said so explicitly);
2. the account booked most often for that correspondent (ties: the most recent), i.e. what the
   client's books already say about this supplier;
3. keyword rules over the invoice text and line items (Porto, Miete, Toner …);
4. the correspondent's history at another VAT rate (a 7 % line of a supplier known for 19 %
   goods is more likely something else, so cue words come first);
5. the chart's "sonstige betriebliche Aufwendungen".

Steps 1 and 2 only use history at the line's VAT rate (or history without a rate).

Revenue (the client's own invoices) goes to the revenue account for the VAT rate unless the
history says otherwise. Proposals that cannot be made safely (missing number or date, unknown
VAT rate, reverse charge) raise :class:`ProposalError`: those invoices go to a person.

Account numbers come from the domain brief's table (``/work/shared/domain.md`` §2). Entries
that are not in that table are marked [U] (unverified: for the Steuerberater to confirm).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from backoffice.archive.correspondents import normalise_name
from backoffice.exports.datev import BUCHUNGSTEXT_MAX, Booking, clean_text

if TYPE_CHECKING:
    from backoffice.models import Document

__all__ = [
    "CHARTS",
    "DEFAULT_AUTOMATIC_ACCOUNTS",
    "KEYWORD_RULES",
    "SKR03",
    "SKR04",
    "AccountChoice",
    "InvoiceFacts",
    "PastBooking",
    "ProposalError",
    "TaxLine",
    "choose_account",
    "personal_account",
    "personal_account_range",
    "propose_bookings",
]


class ProposalError(ValueError):
    """The invoice cannot be booked automatically; the message tells a person why."""


# --------------------------------------------------------------------------- charts (data)

SKR03: dict[str, int] = {
    "vorsteuer_7": 1571,
    "vorsteuer_19": 1576,
    "vorsteuer": 1570,
    "verbindlichkeiten": 1600,
    "bank": 1200,
    "kasse": 1000,  # [U] in the brief
    "wareneingang_19": 3400,
    "wareneingang_7": 3300,  # [U] not in the brief's table
    "miete": 4210,
    "energie": 4240,
    "versicherung": 4360,
    "kfz": 4530,
    "werbung": 4600,
    "bewirtung": 4650,
    "reise": 4670,
    "wartung": 4806,
    "porto": 4910,
    "telefon": 4920,
    "internet": 4925,
    "buerobedarf": 4930,
    "fachliteratur": 4940,
    "beratung": 4950,
    "buchfuehrung": 4955,
    "abschluss": 4957,
    "mieten_einrichtungen": 4960,
    "lizenzen": 4964,
    "geldverkehr": 4970,
    "zinsaufwand": 2110,
    "erloese_7": 8300,
    "erloese_19": 8400,
    "sonstige": 4900,  # [U] not in the brief's table: sonstige betriebliche Aufwendungen
}
"""SKR03 accounts by purpose (brief §2)."""

SKR04: dict[str, int] = {
    "vorsteuer_7": 1401,
    "vorsteuer_19": 1406,
    "vorsteuer": 1400,
    "verbindlichkeiten": 3300,
    "bank": 1800,
    "kasse": 1600,
    "wareneingang_19": 5400,  # [U] the older chart names it "16 %"
    "wareneingang_7": 5300,  # [U] not in the brief's table
    "miete": 6310,
    "energie": 6325,
    "versicherung": 6400,
    "kfz": 6530,
    "werbung": 6600,
    "bewirtung": 6640,
    "reise": 6670,
    "wartung": 6495,
    "porto": 6800,
    "telefon": 6805,
    "internet": 6810,
    "buerobedarf": 6815,
    "fachliteratur": 6820,
    "beratung": 6825,
    "buchfuehrung": 6830,
    "abschluss": 6827,
    "mieten_einrichtungen": 6835,
    "lizenzen": 6837,
    "geldverkehr": 6855,
    "zinsaufwand": 7310,
    "erloese_7": 4300,
    "erloese_19": 4400,
    "sonstige": 6300,  # [U] not in the brief's table: sonstige betriebliche Aufwendungen
}
"""SKR04 accounts by purpose (brief §2)."""

CHARTS: dict[str, dict[str, int]] = {"03": SKR03, "04": SKR04}

DEFAULT_AUTOMATIC_ACCOUNTS: dict[str, frozenset[int]] = {
    "03": frozenset({SKR03["wareneingang_19"], SKR03["wareneingang_7"], 8400, 8300}),
    "04": frozenset({SKR04["wareneingang_19"], SKR04["wareneingang_7"], 4400, 4300}),
}
"""Automatikkonten (accounts that compute their own tax, so no BU-Schlüssel) when the client's
configuration does not say otherwise. The status is per client in DATEV's master data, hence
the ``automatic_accounts`` parameter; 3300/5300 are [U] like their table entries."""

_RATE_FAMILIES: dict[str, dict[Decimal, str]] = {
    "wareneingang": {Decimal(19): "wareneingang_19", Decimal(7): "wareneingang_7"},
    "erloese": {Decimal(19): "erloese_19", Decimal(7): "erloese_7"},
}
"""Purposes whose account depends on the VAT rate (an Automatikkonto taxes at one rate)."""

PURCHASE_BU: dict[Decimal, str] = {Decimal(19): "9", Decimal(7): "8"}
"""BU-Schlüssel for input tax (Vorsteuer) by rate (brief §2; 9 = 19 %, 8 = 7 % since 2021)."""
SALES_BU: dict[Decimal, str] = {Decimal(19): "3", Decimal(7): "2"}
"""BU-Schlüssel for output tax (Umsatzsteuer) by rate."""

_KNOWN_RATES = (Decimal(19), Decimal(7), Decimal(0))


def _family_of(chart: Mapping[str, int], account: int) -> str | None:
    for family, members in _RATE_FAMILIES.items():
        if any(chart[key] == account for key in members.values()):
            return family
    return None


# --------------------------------------------------------------------------- keyword rules

KEYWORD_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wareneingang", (r"wareneingang", r"handelsware", r"wiederverkauf", r"wareneinkauf")),
    ("abschluss", (r"jahresabschluss", r"bilanzerstellung", r"abschlusserstellung")),
    ("buchfuehrung", (r"buchfuehrung", r"buchhaltung", r"lohnabrechnung", r"\bfibu\b")),
    (
        "beratung",
        (
            r"rechtsanwalt",
            r"rechtsberatung",
            r"anwaltskanzlei",
            r"\bnotar",
            r"steuerberatung",
            r"unternehmensberatung",
            r"beratungshonorar",
            r"\bberatung",
        ),
    ),
    (
        "lizenzen",
        (r"lizenz", r"\bsaas\b", r"subscription", r"software-?abo", r"(?:microsoft|office) 365"),
    ),
    (
        "wartung",
        (r"wartung", r"softwarepflege", r"software", r"hardware", r"it-service", r"\bsupport\b"),
    ),
    (
        "porto",
        (r"\bporto", r"briefmarke", r"frankier", r"einschreiben", r"postwertzeichen"),
    ),
    (
        "telefon",
        (
            r"telefonrechnung",
            r"telefonanschluss",
            r"telefonie",
            r"mobilfunk",
            r"festnetz",
            r"telekommunikation",
            r"handyvertrag",
        ),
    ),
    (
        "internet",
        (
            r"internetanschluss",
            r"internetzugang",
            r"\bv?dsl\b",
            r"glasfaser",
            r"breitband",
            r"webhosting",
            r"\bhosting",
            r"\bdomain",
        ),
    ),
    ("mieten_einrichtungen", (r"geraetemiete", r"mietgeraet", r"kopierermiete", r"mietkopierer")),
    (
        "miete",
        (r"\bmiete\b", r"kaltmiete", r"\bmietzins", r"bueromiete", r"gewerbemiete", r"\bpacht"),
    ),
    (
        "energie",
        (
            r"\bstrom",
            r"oekostrom",
            r"\bgas\b",
            r"erdgas",
            r"\bwasser\b",
            r"energie",
            r"stadtwerke",
            r"fernwaerme",
            r"heizkosten",
        ),
    ),
    ("versicherung", (r"versicherung", r"haftpflicht", r"\bpolice\b")),
    (
        "kfz",
        (
            r"\bkfz",
            r"tankstelle",
            r"kraftstoff",
            r"\bdiesel\b",
            r"\bbenzin",
            r"superbenzin",
            r"autowerkstatt",
            r"waschanlage",
        ),
    ),
    (
        "werbung",
        (
            r"werbung",
            r"\banzeige",
            r"inserat",
            r"\bflyer",
            r"marketing",
            r"werbemittel",
            r"visitenkarte",
        ),
    ),
    (
        "bewirtung",
        (r"bewirtung", r"restaurant", r"gaststaette", r"gasthaus", r"catering"),
    ),
    (
        "reise",
        (
            r"reisekosten",
            r"\bhotel",
            r"uebernachtung",
            r"fahrkarte",
            r"bahncard",
            r"deutsche bahn",
            r"\bflug",
            r"\btaxi",
        ),
    ),
    (
        "buerobedarf",
        (
            r"bue?robedarf",
            r"bue?romaterial",
            r"kopierpapier",
            r"\bpapier",
            r"\btoner",
            r"druckerpatrone",
            r"\bordner",
            r"schreibwaren",
            r"briefumschlag",
            r"briefumschlaege",
            r"kugelschreiber",
            r"heftklammer",
            r"\betiketten",
        ),
    ),
    (
        "fachliteratur",
        (
            r"fachliteratur",
            r"fachbuch",
            r"fachzeitschrift",
            r"zeitschrift",
            r"\bverlag",
            r"\bbuch\b",
            r"\bbuecher",
        ),
    ),
    (
        "geldverkehr",
        (
            r"kontofuehrung",
            r"kontoentgelt",
            r"bankgebuehr",
            r"kontogebuehr",
            r"kartengebuehr",
            r"transaktionsgebuehr",
        ),
    ),
)
"""(chart purpose, patterns) in priority order; patterns match the folded text (lower case,
``ä`` → ``ae``, ``ß`` → ``ss``). Cue words are specific on purpose: a letterhead's
"Telefon:" or "Internet:" is on every invoice and must not make it a phone bill."""

_COMPILED_RULES = tuple(
    (purpose, re.compile("|".join(f"(?:{p})" for p in patterns)))
    for purpose, patterns in KEYWORD_RULES
)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
LINE_ITEM_WEIGHT = 3
"""A cue word in a line item counts this many times one in the running text."""


def _fold(text: str) -> str:
    return text.lower().translate(_FOLD)


def keyword_purpose(text: str, line_items: Iterable[str] = ()) -> tuple[str, int] | None:
    """The chart purpose whose cue words occur most often, with its score, or None.

    Line items weigh more than the running text (which also holds letterheads and footers);
    ties go to the earlier rule in :data:`KEYWORD_RULES`.
    """
    folded_text = _fold(text)
    folded_items = [_fold(item) for item in line_items]
    best: tuple[str, int] | None = None
    for purpose, pattern in _COMPILED_RULES:
        score = len(pattern.findall(folded_text)) + LINE_ITEM_WEIGHT * sum(
            len(pattern.findall(item)) for item in folded_items
        )
        if score and (best is None or score > best[1]):
            best = (purpose, score)
    return best


# --------------------------------------------------------------------------- personal accounts

Kind = Literal["debitor", "kreditor"]


def personal_account_range(kind: Kind, account_length: int = 4) -> range:
    """DATEV's convention for personal accounts (brief 1.6 [U]), Sachkontenlänge + 1 digits.

    Sachkontenlänge 4: debtors 10000–69999, creditors 70000–99999; length 5: 100000–699999
    and 700000–999999, and so on.
    """
    if not 4 <= account_length <= 8:
        raise ValueError(f"Sachkontenlänge {account_length} not in 4–8")
    unit = 10**account_length
    if kind == "debitor":
        return range(unit, 7 * unit)
    if kind == "kreditor":
        return range(7 * unit, 10 * unit)
    raise ValueError(f"kind {kind!r}: 'debitor' or 'kreditor'")


def personal_account(
    kind: Kind, key: Hashable, existing: Mapping[Hashable, int], *, account_length: int = 4
) -> int:
    """The Debitor/Kreditor number for ``key`` (a correspondent), stable and never reused.

    ``existing`` maps every key that ever got a number to that number (the caller stores it
    and never deletes from it). A known key keeps its number. A new key gets the number after
    the highest one in use in the range (the first is 10001/70001), so a number freed by a
    removed correspondent is not handed to another one while higher numbers are free; only
    when the range is exhausted are gaps filled, still skipping every number in ``existing``.
    A correspondent that is both customer and supplier needs one key per kind.
    """
    numbers = personal_account_range(kind, account_length)
    if key in existing:
        number = existing[key]
        if number not in numbers:
            raise ValueError(
                f"{key!r} already has account {number}, which is not a {kind} number "
                f"({numbers.start}–{numbers.stop - 1}); use one key per kind"
            )
        return number
    used = set(existing.values())
    highest = max((n for n in used if n in numbers), default=numbers.start)
    if highest + 1 in numbers:
        return highest + 1
    for number in range(numbers.start + 1, numbers.stop):
        if number not in used:
            return number
    raise ValueError(f"no free {kind} number left in {numbers.start}–{numbers.stop - 1}")


# --------------------------------------------------------------------------- invoice facts

_CENT = Decimal("0.01")
_PER_RATE = re.compile(r"vat_([0-9]+(?:\.[0-9]+)?)_(net|amount)")


def _decimal(value: str | None, name: str) -> Decimal | None:
    if value is None or not value.strip():
        return None
    try:
        result = Decimal(value.strip())
    except InvalidOperation:
        raise ProposalError(f"{name} {value!r} is not an amount") from None
    if not result.is_finite():
        raise ProposalError(f"{name} {value!r} is not an amount")
    return result


def _date(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ProposalError(f"{name} {value!r} is not an ISO date") from None


@dataclass(frozen=True)
class TaxLine:
    """The part of an invoice taxed at one rate (signed as printed)."""

    rate: Decimal
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class InvoiceFacts:
    """What a booking proposal needs from one invoice (built from the extracted fields).

    ``incoming`` is True for a supplier's invoice to the client (a payable: Kreditor) and
    False for the client's own invoice (a receivable: Debitor). ``correspondent_key``
    identifies the other party for personal accounts and history; without it the normalised
    name of the other party is used.
    """

    incoming: bool
    number: str | None
    issue_date: date | None
    lines: tuple[TaxLine, ...]
    gross_total: Decimal | None = None
    service_date: date | None = None
    due_date: date | None = None
    seller_name: str | None = None
    buyer_name: str | None = None
    text: str = ""
    line_items: tuple[str, ...] = ()
    is_credit_note: bool = False
    reverse_charge: bool = False
    correspondent_key: str | None = None

    @property
    def counterpart(self) -> str | None:
        """The other party: the seller of an incoming invoice, the buyer of an outgoing one."""
        return self.seller_name if self.incoming else self.buyer_name

    @property
    def key(self) -> str | None:
        """Key of the other party for personal accounts and history."""
        if self.correspondent_key:
            return self.correspondent_key
        return normalise_name(self.counterpart) if self.counterpart else None

    @classmethod
    def from_fields(
        cls,
        fields: Mapping[str, str | None],
        *,
        incoming: bool = True,
        text: str = "",
        line_items: Sequence[str] = (),
        correspondent_key: str | None = None,
    ) -> InvoiceFacts:
        """Facts from canonical field values (``backoffice.understand.schema``: amounts
        ``"1234.56"``, ISO dates, ``"true"``/``"false"``).

        Per-rate fields ``vat_<rate>_net``/``vat_<rate>_amount`` give the tax lines; without
        them one line is derived from ``net_total``/``vat_total`` when the rate is clearly
        19, 7 or 0 %, or from ``gross_total`` alone when ``vat_total`` is zero.
        """
        per_rate: dict[Decimal, dict[str, Decimal]] = {}
        for name, value in fields.items():
            match = _PER_RATE.fullmatch(name)
            amount = _decimal(value, name) if match else None
            if match and amount is not None:
                per_rate.setdefault(Decimal(match.group(1)), {})[match.group(2)] = amount
        lines = [_tax_line(rate, parts) for rate, parts in sorted(per_rate.items(), reverse=True)]
        net_total = _decimal(fields.get("net_total"), "net_total")
        vat_total = _decimal(fields.get("vat_total"), "vat_total")
        gross_total = _decimal(fields.get("gross_total"), "gross_total")
        if not lines:
            lines = _derived_lines(net_total, vat_total, gross_total)
        return cls(
            incoming=incoming,
            number=(fields.get("invoice_number") or "").strip() or None,
            issue_date=_date(fields.get("issue_date"), "issue_date"),
            lines=tuple(lines),
            gross_total=gross_total,
            service_date=_date(fields.get("service_date"), "service_date"),
            due_date=_date(fields.get("due_date"), "due_date"),
            seller_name=fields.get("seller_name") or None,
            buyer_name=fields.get("buyer_name") or None,
            text=text,
            line_items=tuple(line_items),
            is_credit_note=(fields.get("is_credit_note") or "").lower() == "true",
            reverse_charge=(fields.get("reverse_charge") or "").lower() == "true",
            correspondent_key=correspondent_key,
        )

    @classmethod
    def from_document(cls, document: Document, *, incoming: bool) -> InvoiceFacts:
        """Facts from a filed catalog document (staff corrections win, as in
        :meth:`Document.field`); the correspondent's id is the key when known."""
        names = {f.name for f in document.fields}
        return cls.from_fields(
            {name: document.field(name) for name in names},
            incoming=incoming,
            text=document.text or "",
            correspondent_key=(
                str(document.correspondent_id) if document.correspondent_id is not None else None
            ),
        )


def _plain(rate: Decimal) -> Decimal:
    """``19.0`` → ``19``, ``5.50`` → ``5.5`` (never the exponent form ``normalize`` gives 20)."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def _tax_line(rate: Decimal, parts: Mapping[str, Decimal]) -> TaxLine:
    net, vat = parts.get("net"), parts.get("amount")
    if net is None and vat is not None and rate:
        net = (vat * 100 / rate).quantize(_CENT, ROUND_HALF_UP)
    if net is None:
        raise ProposalError(f"VAT {rate} %: no net amount")
    if vat is None:
        vat = (net * rate / 100).quantize(_CENT, ROUND_HALF_UP)
    return TaxLine(rate=_plain(rate), net=net, vat=vat)


def _derived_lines(
    net: Decimal | None, vat: Decimal | None, gross: Decimal | None
) -> list[TaxLine]:
    if net is None and gross is not None and vat is not None:
        net = gross - vat
    if net is None and gross is not None and vat is None:
        raise ProposalError("only a gross total: VAT rate unknown")
    if net is None:
        return []
    if vat is None and gross is not None:
        vat = gross - net
    if vat is None:
        raise ProposalError("net total without VAT amount: VAT rate unknown")
    if vat == 0:
        return [TaxLine(Decimal(0), net, vat)]
    if net == 0:
        raise ProposalError("VAT without net amount")
    for rate in _KNOWN_RATES:
        # the printed VAT is the net at this rate, give or take a cent of rounding
        if abs(vat - (net * rate / 100).quantize(_CENT, ROUND_HALF_UP)) <= _CENT:
            return [TaxLine(rate, net, vat)]
    raise ProposalError(f"VAT {vat} on {net} is {vat / net * 100:.2f} %: mixed or unknown rate")


# --------------------------------------------------------------------------- history, accounts


@dataclass(frozen=True)
class PastBooking:
    """One earlier booking (or staff correction) of an invoice of the same client."""

    correspondent_key: str
    account: int
    """The expense/revenue account it went to (not the personal account)."""
    booked_on: date
    source: Literal["machine", "staff"] = "machine"
    """``staff`` marks a correction a person made; it outranks everything else."""
    incoming: bool = True
    vat_rate: Decimal | None = None
    """Rate of the booked line; None means "any rate"."""


@dataclass(frozen=True)
class AccountChoice:
    """The chosen expense/revenue account and why (for the reviewer's screen)."""

    account: int
    basis: Literal["staff", "history", "keyword", "default"]
    reason: str


def _same_rate(entry: PastBooking, rate: Decimal) -> bool:
    return entry.vat_rate is None or entry.vat_rate == rate


def _from_history(
    entries: Sequence[PastBooking], rate: Decimal, *, any_rate: bool
) -> AccountChoice | None:
    usable = [e for e in entries if any_rate or _same_rate(e, rate)]
    corrections = [e for e in usable if e.source == "staff"]
    if corrections:
        latest = max(corrections, key=lambda e: e.booked_on)
        return AccountChoice(
            latest.account, "staff", f"corrected by staff on {latest.booked_on.isoformat()}"
        )
    if not usable:
        return None
    counts = Counter(e.account for e in usable)
    latest_use = {e.account: e.booked_on for e in sorted(usable, key=lambda e: e.booked_on)}
    account = max(counts, key=lambda a: (counts[a], latest_use[a]))
    return AccountChoice(
        account, "history", f"booked {counts[account]}× of {len(usable)} for this correspondent"
    )


def choose_account(
    invoice: InvoiceFacts, rate: Decimal, *, chart: str, history: Sequence[PastBooking]
) -> AccountChoice:
    """The expense (incoming) or revenue (outgoing) account for the part taxed at ``rate``.

    Order (see the module docstring): staff correction, most frequent past account (history
    at the same rate), keyword rules, history at another rate, the default. For rate-bound
    purposes (Wareneingang, Erlöse) the account of the line's rate is used, so that a
    learned 3400 (19 %) becomes 3300 for a 7 % line.
    """
    accounts = CHARTS.get(chart)
    if accounts is None:
        raise ProposalError(f"chart {chart!r}: '03' (SKR03) or '04' (SKR04)")
    key = invoice.key
    own = [
        e
        for e in history
        if key is not None and e.correspondent_key == key and e.incoming == invoice.incoming
    ]
    choice = _from_history(own, rate, any_rate=False)
    if choice is None:
        if invoice.incoming:
            found = keyword_purpose(invoice.text, invoice.line_items)
            if found is not None:
                purpose, score = found
                if purpose in _RATE_FAMILIES:
                    purpose = _RATE_FAMILIES[purpose].get(rate, f"{purpose}_19")
                choice = AccountChoice(
                    accounts[purpose], "keyword", f"{score} cue word(s) for {purpose}"
                )
            else:
                choice = _from_history(own, rate, any_rate=True)
            if choice is None:
                choice = AccountChoice(accounts["sonstige"], "default", "no cue word, no history")
        else:
            choice = AccountChoice(
                _revenue_account(accounts, rate), "default", f"revenue at {rate} %"
            )
    family = _family_of(accounts, choice.account)
    if family is not None:
        member = _RATE_FAMILIES[family].get(rate)
        if member is None:
            raise ProposalError(f"{family} at {rate} %: no account in the table; book by hand")
        if accounts[member] != choice.account:
            choice = AccountChoice(
                accounts[member], choice.basis, f"{choice.reason}; account for {rate} %"
            )
    return choice


def _revenue_account(accounts: Mapping[str, int], rate: Decimal) -> int:
    member = _RATE_FAMILIES["erloese"].get(rate)
    if member is None:
        raise ProposalError(f"revenue at {rate} %: no revenue account in the table; book by hand")
    return accounts[member]


# --------------------------------------------------------------------------- proposals


def _booking_text(invoice: InvoiceFacts, number: str) -> str:
    """Buchungstext ≤60: other party plus invoice number; the number is never cut off."""
    name = clean_text(invoice.counterpart or "").strip()
    if invoice.is_credit_note:
        name = f"Gutschrift {name}".strip()
    room = BUCHUNGSTEXT_MAX - len(number) - 1
    return f"{name[:room].rstrip()} {number}".strip() if room > 0 else number[:BUCHUNGSTEXT_MAX]


def _balanced_lines(invoice: InvoiceFacts) -> list[TaxLine]:
    """Non-zero lines whose gross adds up to the gross total (the payable amount).

    Per-rate rounding on the invoice can leave the sum a cent off the total; the total is
    what is paid and must clear the open item, so the largest line absorbs up to one cent per
    line. Larger differences mean the extraction is wrong: a person must look.
    """
    lines = [line for line in invoice.lines if line.gross != 0]
    if not lines:
        raise ProposalError("no amounts: neither per-rate amounts nor net/VAT totals")
    if invoice.gross_total is None:
        return lines
    diff = invoice.gross_total - sum((line.gross for line in lines), start=Decimal(0))
    if diff == 0:
        return lines
    if abs(diff) > _CENT * len(lines):
        raise ProposalError(
            f"per-rate amounts add up to {invoice.gross_total - diff}, "
            f"but the gross total is {invoice.gross_total}"
        )
    largest = max(range(len(lines)), key=lambda i: abs(lines[i].gross))
    line = lines[largest]
    lines[largest] = TaxLine(line.rate, line.net, line.vat + diff)
    return lines


def propose_bookings(
    invoice: InvoiceFacts,
    *,
    chart: str,
    history: Sequence[PastBooking] = (),
    automatic_accounts: set[int] | frozenset[int] | None = None,
    personal_accounts: MutableMapping[Hashable, int] | None = None,
    account_length: int = 4,
    personal_account_in_konto: bool = True,
) -> list[Booking]:
    """DATEV bookings for one invoice: one per VAT rate, gross, on the personal account.

    - The personal account is the Kreditor (incoming) or Debitor (outgoing) of
      ``invoice.key``, looked up in and added to ``personal_accounts`` under the key
      ``(kind, invoice.key)`` — pass the client's stored mapping and persist it afterwards;
      without one, numbers are not stable between calls.
    - BU-Schlüssel by rate (:data:`PURCHASE_BU`, :data:`SALES_BU`), none at 0 % and none on
      an Automatikkonto (``automatic_accounts``, default :data:`DEFAULT_AUTOMATIC_ACCOUNTS`).
    - An invoice: Kreditor Haben / Debitor Soll. A credit note (``is_credit_note`` or negative
      totals) reverses the sides; a negative line on an invoice reverses that line.
    - ``personal_account_in_konto``: the examples put the personal account into field 7
      (Konto) and the expense/revenue account into field 8; that is a convention [U]. False
      swaps the two fields and the S/H side with them.

    Raises :class:`ProposalError` when the invoice cannot be booked without a person.
    """
    if invoice.reverse_charge:
        raise ProposalError("reverse charge (§13b): tax keys depend on the case; book by hand")
    if not invoice.number:
        raise ProposalError("no invoice number: Belegfeld 1 is the key for open items")
    if invoice.issue_date is None:
        raise ProposalError("no invoice date: it is the Belegdatum")
    key = invoice.key
    if key is None:
        raise ProposalError("no correspondent: neither key nor name of the other party")
    automatic = (
        DEFAULT_AUTOMATIC_ACCOUNTS.get(chart, frozenset())
        if automatic_accounts is None
        else automatic_accounts
    )
    kind: Kind = "kreditor" if invoice.incoming else "debitor"
    registry: MutableMapping[Hashable, int] = {} if personal_accounts is None else personal_accounts
    person = personal_account(kind, (kind, key), registry, account_length=account_length)
    registry[(kind, key)] = person

    lines = _balanced_lines(invoice)
    total = sum((line.gross for line in lines), start=Decimal(0))
    reversed_document = invoice.is_credit_note or total < 0
    document_sign = -1 if total < 0 else 1
    tax_keys = PURCHASE_BU if invoice.incoming else SALES_BU
    normal_side = "H" if invoice.incoming else "S"
    text = _booking_text(invoice, invoice.number)

    bookings: list[Booking] = []
    for line in lines:
        if line.rate not in _KNOWN_RATES:
            raise ProposalError(f"VAT rate {line.rate} %: no tax key in the table; book by hand")
        account = choose_account(invoice, line.rate, chart=chart, history=history).account
        bu_key = None if account in automatic or line.rate == 0 else tax_keys[line.rate]
        amount = line.gross * document_sign
        side = normal_side
        if reversed_document != (amount < 0):
            side = "S" if side == "H" else "H"
        konto, gegenkonto = person, account
        if not personal_account_in_konto:
            konto, gegenkonto = account, person
            side = "S" if side == "H" else "H"
        bookings.append(
            Booking(
                amount=abs(amount),
                debit_credit=side,
                account=konto,
                contra_account=gegenkonto,
                bu_key=bu_key,
                document_date=invoice.issue_date,
                belegfeld1=invoice.number,
                text=text,
                service_date=invoice.service_date,
                due_date=invoice.due_date,
            )
        )
    return bookings
