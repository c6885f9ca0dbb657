"""What each sample document says: invoices and reminders, plus the parts all documents share.

A composer turns one planned document (type, sender, client, date, references) into a
:class:`~backoffice.samples.layouts.Draft` to print and the exact ``fields`` ground truth. The
two are produced from the same values in the same place, so the printed text and the truth
cannot drift apart: an amount is computed once as a :class:`~decimal.Decimal`, then formatted
for the page and canonicalised for the JSON.

Wording is drawn from several variants per slot (salutations, payment terms, totals labels,
reminder escalation) so that no single phrase identifies a document type.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import segno.helpers

from backoffice.samples import formatting as fmt
from backoffice.samples.clients import ClientProfile, SampleClient
from backoffice.samples.content import CATEGORY_BY_KEY, Item, Sender, person
from backoffice.samples.layouts import Draft
from backoffice.samples.render import (
    MM,
    Block,
    Carry,
    Column,
    Para,
    QRBlock,
    Signature,
    Spacer,
    Table,
    Title,
    Totals,
)

BASE_RATE = Decimal("1.27")
"""Basiszinssatz (percent) used for Verzugszinsen; B2B interest is 9 points above it (§ 288 BGB)."""

CREDITOR_ID = "DE98ZZZ09999999999"
"""The Bundesbank's published example Gläubiger-ID, printed on direct-debit invoices."""

CREATORS = (
    "FakturaPlus 12.4",
    "Bürostar ERP 2025",
    "MeisterSoft Handwerk 9.1",
    "Rechnungsmanager 3.7",
    "OfficeLine Druckdienst",
    "KanzleiPro 2025",
    "WaWi Classic 5.02",
)


@dataclass
class Composed:
    """A composed document: the draft to print and its ground truth."""

    draft: Draft
    doc_type: str
    subtype: str | None
    fields: dict[str, Any]
    recipient: dict[str, Any]
    features: list[str] = field(default_factory=list)


@dataclass
class InvoiceRef:
    """An invoice a reminder or credit note refers to (from the corpus or made up)."""

    number: str
    date: dt.date
    due: dt.date
    amount: Decimal
    in_corpus: str | None = None


@dataclass
class Ctx:
    """The fixed facts one composer works with."""

    rng: random.Random
    client: SampleClient
    profile: ClientProfile
    sender: Sender
    date: dt.date
    customer_number: str | None

    @property
    def english(self) -> bool:
        return self.sender.language == "en"

    def d(self, value: dt.date) -> str:
        return fmt.date(value, self.sender.style.date_style)

    def money(self, value: Decimal) -> str:
        return fmt.money(value, self.sender.style.amount_style)

    def num(self, value: Decimal, places: int = 2) -> str:
        return fmt.number(value, english=self.english, places=places)

    def pct(self, rate: Decimal) -> str:
        return fmt.percent(rate, tight=self.sender.style.percent_tight)


# --------------------------------------------------------------------------------------------
# Parts every document has
# --------------------------------------------------------------------------------------------


def invoice_number(sender: Sender, day: dt.date, k: int = 0) -> str:
    """The sender's invoice number for a given day: monotonic in the date, as ERP counters are.

    Derived from the sender key and the date only, so a reminder can cite a (possibly not
    generated) earlier invoice with a number that fits the sender's sequence.
    """
    seq_rng = random.Random(f"seq:{sender.key}:{sender.name}")
    base = seq_rng.randint(40, 900)
    per_day = seq_rng.choice((0.4, 0.8, 1.5, 3.0, 6.0))
    day_index = (day - dt.date(day.year, 1, 1)).days
    n = base + int(day_index * per_day) + k
    pattern = sender.style.invoice_number_pattern
    return pattern.format(year=day.year, yy=f"{day.year % 100:02d}", n=n)


def customer_number_for(seed: int, sender: Sender, client: SampleClient) -> str:
    """The client's customer number at ``sender``; stable for the pair within a seed."""
    rng = random.Random(f"kdnr:{seed}:{sender.key}:{client.code}")
    return sender.style.customer_number_pattern.format(
        n4=rng.randint(1000, 9999), n5=rng.randint(10000, 99999), n6=rng.randint(100000, 999999)
    )


def recipient(ctx: Ctx) -> tuple[list[str], dict[str, Any]]:
    """Address window lines; sometimes an alias of the client name and a "z. Hd." line."""
    rng = ctx.rng
    client = ctx.client
    name = client.name
    alias = False
    if client.aliases and rng.random() < 0.3:
        name = rng.choice(client.aliases)
        alias = True
    lines = [name]
    contact = ctx.profile.contact
    if contact is not None and rng.random() < 0.25:
        title, full = contact
        if ctx.english:
            lines.append(f"Attn. {'Ms' if title == 'Frau' else 'Mr'} {full}")
        else:
            lines.append(f"z. Hd. {'Frau' if title == 'Frau' else 'Herrn'} {full}")
    lines += [client.street, f"{client.zip} {client.city}"]
    if ctx.sender.country != "DE":
        lines.append("GERMANY")
    return lines, {"name_printed": name, "alias_used": alias, "lines": lines}


def return_line(sender: Sender) -> str:
    sep = sender.style.return_separator
    parts = [sender.name, sender.street, f"{sender.zip} {sender.city}"]
    if sender.country_line:
        parts.append(sender.country_line)
    return sep.join(parts)


def contact_lines(sender: Sender, english: bool) -> list[str]:
    lines = [sender.street, f"{sender.zip} {sender.city}"]
    if sender.country_line:
        lines[-1] += f", {sender.country_line}"
    lines.append(f"{'Phone' if english else 'Tel.'} {sender.phone}")
    lines.append(f"{'E-mail' if english else 'E-Mail'} {sender.email}")
    if sender.web:
        lines.append(sender.web)
    return lines


def footer(
    sender: Sender, english: bool, *, bank: bool = True
) -> tuple[list[list[str]], dict[str, str]]:
    """Footer columns and the identifiers they print (for the ground truth)."""
    printed: dict[str, str] = {}
    address = [sender.name, sender.street, f"{sender.zip} {sender.city}"]
    if sender.country_line:
        address.append(sender.country_line)
    contact = [f"{'Phone' if english else 'Telefon'} {sender.phone}", sender.email]
    if sender.web:
        contact.append(sender.web)
    columns = [address, contact]
    if bank and sender.iban:
        assert sender.bic is not None and sender.bank_name is not None
        columns.append(
            [sender.bank_name, f"IBAN {fmt.iban_groups(sender.iban)}", f"BIC {sender.bic}"]
        )
        printed["iban"] = sender.iban
        printed["bic"] = sender.bic
    legal: list[str] = []
    if sender.register:
        legal.append(sender.register)
    if sender.people and sender.kind in {"supplier", "customer", "landlord", "lawyer", "insurance"}:
        legal.append(f"{_legal_role(sender, english)}: {', '.join(sender.people)}")
    if sender.vat_id and sender.style.show_vat_id:
        legal.append(f"{'VAT ID' if english else 'USt-IdNr.'} {sender.vat_id}")
        printed["seller_vat_id"] = sender.vat_id
    institution = sender.kind in {"bank", "tax_office", "chamber"}
    if (
        sender.tax_number
        and not institution
        and (sender.style.show_tax_number or not printed.get("seller_vat_id"))
    ):
        legal.append(f"{'Tax No.' if english else 'Steuernummer'} {sender.tax_number}")
        printed["seller_tax_number"] = sender.tax_number
    if legal:
        columns.append(legal)
    return columns, printed


def _legal_role(sender: Sender, english: bool) -> str:
    """Who signs for the firm, by legal form (Vorstand of an AG, Geschäftsführung of a GmbH...)."""
    name = sender.name
    if re.search(r"\bAG\b|a\. G\.", name):
        return "Board" if english else "Vorstand"
    if "GmbH" in name or "B.V." in name:
        return "Managing Director" if english else "Geschäftsführung"
    if re.search(r"mbB|PartG|GbR|Partner|Rechtsanwälte", name):
        return "Partners" if english else "Partner"
    return "Owner" if english else "Inhaber/in"


def salutation(ctx: Ctx) -> str:
    contact = ctx.profile.contact
    if contact is not None and ctx.rng.random() < 0.5:
        title, full = contact
        parts = full.split()
        surname = parts[-1]
        prefix = "Dr. " if "Dr." in parts else ""
        if ctx.english:
            return f"Dear {'Ms' if title == 'Frau' else 'Mr'} {prefix}{surname},"
        greeting = ctx.rng.choice(("Sehr geehrte", "Sehr geehrte", "Guten Tag", "Liebe"))
        if title == "Herr":
            greeting = {"Sehr geehrte": "Sehr geehrter", "Liebe": "Lieber"}.get(greeting, greeting)
        return f"{greeting} {title} {prefix}{surname},"
    if ctx.english:
        return ctx.rng.choice(("Dear Sir or Madam,", "Dear customer,", "Hello,"))
    return ctx.rng.choice(
        (
            "Sehr geehrte Damen und Herren,",
            "Sehr geehrte Damen und Herren,",
            "Guten Tag,",
            "Sehr geehrte Kundin, sehr geehrter Kunde,",
        )
    )


def closing(ctx: Ctx, *, formal: bool = False) -> str:
    if ctx.english:
        return ctx.rng.choice(("Kind regards,", "Best regards,", "Yours faithfully,"))
    if formal:
        return ctx.rng.choice(("Mit freundlichen Grüßen", "Hochachtungsvoll"))
    return ctx.rng.choice(
        (
            "Mit freundlichen Grüßen",
            "Mit freundlichen Grüßen",
            "Freundliche Grüße",
            "Mit besten Grüßen",
            "Viele Grüße",
        )
    )


def signer(ctx: Ctx) -> tuple[str, str]:
    """A signatory name (the sender's own people, else a clerk) and a role line."""
    rng = ctx.rng
    if ctx.sender.people and rng.random() < 0.5:
        return ctx.sender.people[0], _legal_role(ctx.sender, ctx.english)
    _, first, sur = person(rng)
    roles_en = ("Accounts", "Customer Service", "Billing")
    roles_de = (
        "Buchhaltung",
        "Kundenservice",
        "Sachbearbeitung",
        "Forderungsmanagement",
        "Verwaltung",
    )
    role = rng.choice(roles_en if ctx.english else roles_de)
    prefix = "" if ctx.english or rng.random() < 0.5 else "i. A. "
    return f"{prefix}{first} {sur}", role


def base_draft(
    ctx: Ctx,
    *,
    title: str | None,
    info: list[tuple[str, str]],
    blocks: list[Block],
    running: str,
    pdf_title: str,
    bank_in_footer: bool = True,
    tagline: str | None = None,
) -> tuple[Draft, dict[str, str], dict[str, Any]]:
    lines, recipient_truth = recipient(ctx)
    columns, printed = footer(ctx.sender, ctx.english, bank=bank_in_footer)
    draft = Draft(
        sender=ctx.sender,
        english=ctx.english,
        return_line=return_line(ctx.sender),
        recipient=lines,
        info=info,
        title=title,
        blocks=blocks,
        footer=columns,
        running_header=running,
        pdf_title=pdf_title,
        creator=ctx.rng.choice(CREATORS),
        tagline=tagline,
        contact_lines=contact_lines(ctx.sender, ctx.english),
    )
    return draft, printed, recipient_truth


TAGLINES: dict[str, tuple[str, ...]] = {
    "sanitaer_grosshandel": ("Sanitär · Heizung · Klima", "Ihr Partner für Haustechnik"),
    "elektro_grosshandel": ("Elektrotechnik · Licht · Installation",),
    "bauleistung": ("Meisterbetrieb", "Estrich · Trockenbau · Fliesen"),
    "baeckereibedarf": ("Alles für Bäcker und Konditoren",),
    "muehle": ("Mehle aus der Region seit 1898", "Traditionsmühle"),
    "lebensmittel": ("Frische für Gastronomie und Handwerk",),
    "kaeltetechnik": ("Kälte · Klima · Service", "Kundendienst rund um die Uhr"),
    "reprografie": ("Plotten · Scannen · Binden",),
    "ingenieurbuero": ("Tragwerksplanung · Vermessung", "Beratende Ingenieure"),
    "cad_software": ("Software für Planer",),
    "buerobedarf": ("Bürobedarf · Papier · Möbel",),
    "it_service": ("IT-Service für den Mittelstand", "Netzwerke · Server · Support"),
    "reinigung": ("Gebäudereinigung · Glasreinigung",),
    "kfz": ("Meisterwerkstatt für alle Marken",),
    "druckerei": ("Druck · Werbetechnik · Gestaltung",),
    "steuerberatung": ("Steuerberatung · Buchhaltung · Lohn",),
    "werkzeug": ("Werkzeug und Befestigungstechnik",),
    "berufskleidung": ("Berufskleidung und Arbeitsschutz",),
}


def tagline_for(ctx: Ctx) -> str | None:
    options = TAGLINES.get(ctx.sender.category)
    if not options or ctx.english or ctx.rng.random() < 0.35:
        return None
    return ctx.rng.choice(options)


# --------------------------------------------------------------------------------------------
# Invoices
# --------------------------------------------------------------------------------------------

_LABELS_DE = {
    "number": ("Rechnungsnummer", "Rechnung Nr.", "Rechnungs-Nr.", "Belegnummer"),
    "credit_number": ("Gutschriftsnummer", "Gutschrift Nr.", "Gutschrifts-Nr.", "Belegnummer"),
    "date": ("Rechnungsdatum", "Datum", "Rechnungsdatum", "Belegdatum"),
    "credit_date": ("Gutschriftsdatum", "Datum", "Datum", "Belegdatum"),
    "customer": ("Kundennummer", "Kunden-Nr.", "Ihre Kundennummer", "Kd.-Nr."),
    "service": ("Leistungsdatum", "Lieferdatum", "Leistungsdatum", "Liefer-/Leistungsdatum"),
}
_LABELS_EN = {
    "number": ("Invoice No.",) * 4,
    "credit_number": ("Credit Note No.",) * 4,
    "date": ("Invoice Date", "Date", "Invoice Date", "Date"),
    "credit_date": ("Date",) * 4,
    "customer": ("Customer No.", "Customer ID", "Customer No.", "Account No."),
    "service": ("Date of Supply", "Service Date", "Delivery Date", "Date of Supply"),
}

EN_GENERIC_ITEMS = (
    Item("Managed server M, monthly", "month", 29, 89, qty="one"),
    Item("Domain .de, annual fee", "pc.", 9, 19),
    Item("SSL certificate, 12 months", "pc.", 39, 99),
    Item("Backup storage 500 GB", "month", 5, 15, qty="one"),
    Item("Website maintenance", "hrs", 60, 85, qty="dec"),
)


def label(ctx: Ctx, key: str) -> str:
    variant = ctx.sender.style.label_variant
    if ctx.sender.layout == "erp" and key in {"number", "credit_number"} and not ctx.english:
        variant = 3
    table = _LABELS_EN if ctx.english else _LABELS_DE
    return table[key][variant]


@dataclass
class Line:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    places: int
    rate: Decimal

    @property
    def total(self) -> Decimal:
        return fmt.cents(self.quantity * self.unit_price)


def _price(rng: random.Random, item: Item) -> Decimal:
    if item.places == 4:
        return Decimal(str(round(rng.uniform(item.low, item.high), 4))).quantize(Decimal("0.0001"))
    if item.low == item.high:
        return Decimal(str(item.low)).quantize(fmt.CENT)
    whole = rng.uniform(item.low, item.high)
    if whole >= 20:
        ending = rng.choice((".00", ".00", ".50", ".90", ".95", ".80"))
        return Decimal(f"{int(whole)}{ending}")
    return Decimal(str(round(whole, 2))).quantize(fmt.CENT)


def _quantity(rng: random.Random, item: Item, price: Decimal) -> Decimal:
    if item.qty == "one":
        return Decimal(1)
    if item.qty == "big":
        return Decimal(rng.randint(800, 4800))
    if item.qty == "dec":
        if item.unit in {"Std.", "hrs"}:
            return Decimal(rng.randint(2, 17)) / 2
        return Decimal(rng.randint(300, 6000)) / 100
    if price >= 100:
        return Decimal(rng.choice((1, 1, 1, 2, 2, 3, 4)))
    if price >= 20:
        return Decimal(rng.choice((1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12)))
    return Decimal(rng.choice((1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 20, 25, 50)))


def make_lines(ctx: Ctx, n: int, *, zero_vat: bool) -> list[Line]:
    rng = ctx.rng
    category = CATEGORY_BY_KEY.get(ctx.sender.category)
    if ctx.english:
        items = category.en_items if category and category.en_items else EN_GENERIC_ITEMS
    else:
        items = category.items if category else EN_GENERIC_ITEMS
    chosen: list[Item]
    goods = sum(1 for item in items if item.qty == "int") >= 5
    if not goods:
        n = min(n, len(items))
    long_list = n > len(items)
    chosen = [rng.choice(items) for _ in range(n)] if long_list else rng.sample(list(items), n)
    delivery_notes = [str(rng.randint(40000, 89999)) for _ in range(max(2, n // 6))]
    lines = []
    for item in chosen:
        description = item.description
        if long_list:
            description = f"{description} (LS {rng.choice(delivery_notes)})"
        rate = Decimal(0) if zero_vat else Decimal(item.vat)
        price = _price(rng, item)
        lines.append(
            Line(description, _quantity(rng, item, price), item.unit, price, item.places, rate)
        )
    return lines


@dataclass
class InvoiceResult:
    """What a later reminder or credit note needs to know about a generated invoice."""

    number: str
    date: dt.date
    due: dt.date | None
    gross: Decimal
    is_credit_note: bool


def _payment_text(
    ctx: Ctx, gross: Decimal, number: str, style: str
) -> tuple[list[str], dict[str, Any]]:
    """Payment terms sentence(s) and the fields they imply."""
    rng = ctx.rng
    issue = ctx.date
    fields: dict[str, Any] = {}
    texts: list[str] = []
    en = ctx.english
    if style == "debit":
        debit = issue + dt.timedelta(days=rng.choice((5, 7, 10, 14)))
        masked = (
            f"{ctx.client.iban[:4]} **** **** **** **{ctx.client.iban[-4:-2]} "
            f"{ctx.client.iban[-2:]}"
        )
        mandate = f"MR-{rng.randint(100000, 999999)}"
        if en:
            texts.append(
                f"The amount will be collected by SEPA direct debit on {ctx.d(debit)} from your "
                f"account {masked}. Mandate reference {mandate}, creditor ID {CREDITOR_ID}."
            )
        else:
            texts.append(
                f"Der Rechnungsbetrag wird am {ctx.d(debit)} per SEPA-Lastschrift von Ihrem Konto "
                f"{masked} eingezogen. Mandatsreferenz: {mandate}, Gläubiger-ID: {CREDITOR_ID}."
            )
        fields["due_date"] = debit.isoformat()
        fields["direct_debit"] = True
        return texts, fields
    if style == "immediate":
        texts.append(
            "Payment due immediately without deduction."
            if en
            else rng.choice(
                ("Zahlbar sofort ohne Abzug.", "Der Betrag ist sofort nach Erhalt fällig.")
            )
        )
        fields["payment_terms_days"] = 0
        fields["due_date"] = issue.isoformat()
    elif style == "skonto":
        days = rng.choice((14, 21, 30, 30))
        skonto_days = rng.choice((7, 8, 10, 10, 14))
        skonto_days = min(skonto_days, days - 4)
        percent = rng.choice((Decimal(2), Decimal(2), Decimal(3), Decimal("1.5")))
        skonto_date = issue + dt.timedelta(days=skonto_days)
        if en:
            texts.append(
                f"Payment within {days} days net; {fmt.canonical_number(percent)}% early payment "
                f"discount if paid within {skonto_days} days."
            )
        else:
            p = ctx.pct(percent)
            texts.append(
                rng.choice(
                    (
                        f"{p} Skonto bei Zahlung innerhalb von {skonto_days} Tagen, zahlbar "
                        f"innerhalb {days} Tagen netto.",
                        f"Zahlbar innerhalb von {days} Tagen ohne Abzug oder innerhalb von "
                        f"{skonto_days} Tagen abzüglich {p} Skonto.",
                        f"Zahlungsbedingungen: {skonto_days} Tage {p} Skonto, {days} Tage netto.",
                    )
                )
            )
            if rng.random() < 0.5:
                discount = fmt.cents(gross * percent / 100)
                texts.append(
                    f"Bei Zahlung bis {ctx.d(skonto_date)}: Skonto {ctx.money(discount)}, "
                    f"Zahlbetrag {ctx.money(gross - discount)}."
                )
        fields["payment_terms_days"] = days
        fields["skonto_percent"] = fmt.canonical_number(percent)
        fields["skonto_date"] = skonto_date.isoformat()
        fields["due_date"] = (issue + dt.timedelta(days=days)).isoformat()
    elif style == "due_date":
        due = issue + dt.timedelta(days=rng.choice((10, 14, 14, 21, 30)))
        texts.append(
            f"Due date: {ctx.d(due)}"
            if en
            else rng.choice(
                (
                    f"Fällig am {ctx.d(due)}.",
                    f"Fälligkeitsdatum: {ctx.d(due)}",
                    f"Zahlbar ohne Abzug, fällig am {ctx.d(due)}.",
                )
            )
        )
        fields["due_date"] = due.isoformat()
    elif style == "until":
        due = issue + dt.timedelta(days=rng.choice((7, 10, 14, 14, 30)))
        if en:
            texts.append(
                f"Please transfer {ctx.money(gross)} to the account below by {ctx.d(due)}."
            )
        else:
            texts.append(
                rng.choice(
                    (
                        f"Bitte überweisen Sie den Betrag von {ctx.money(gross)} bis zum "
                        f"{ctx.d(due)} auf das unten genannte Konto.",
                        f"Der Rechnungsbetrag ist zahlbar bis {ctx.d(due)}.",
                    )
                )
            )
        fields["due_date"] = due.isoformat()
    else:
        days = rng.choice((7, 10, 14, 14, 30, 30))
        if en:
            texts.append(f"Payment terms: {days} days net.")
        else:
            texts.append(
                rng.choice(
                    (
                        f"Zahlbar innerhalb von {days} Tagen ohne Abzug.",
                        f"Zahlungsziel: {days} Tage netto.",
                        f"Bitte begleichen Sie den Rechnungsbetrag innerhalb von {days} Tagen "
                        "nach Rechnungsdatum.",
                    )
                )
            )
        fields["payment_terms_days"] = days
        fields["due_date"] = (issue + dt.timedelta(days=days)).isoformat()
    if rng.random() < 0.5:
        texts.append(
            f"Please quote invoice number {number} with your payment."
            if en
            else rng.choice(
                (
                    f"Bitte geben Sie bei Zahlung die Rechnungsnummer {number} an.",
                    f"Verwendungszweck: {number}",
                )
            )
        )
    return texts, fields


def lines_from_fields(items: list[dict[str, Any]]) -> list[Line]:
    """Invoice lines back from ground-truth ``line_items`` (for credit notes on them)."""
    return [
        Line(
            item["description"],
            Decimal(item["quantity"]),
            item["unit"],
            Decimal(item["unit_price"]),
            len(item["unit_price"].partition(".")[2]),
            Decimal(item["vat_rate"]),
        )
        for item in items
    ]


def credit_selection(rng: random.Random, original: list[Line]) -> list[Line]:
    """One or two lines of the original invoice, some with a reduced quantity (returns)."""
    chosen = rng.sample(original, min(len(original), rng.choice((1, 1, 2))))
    out = []
    for line in chosen:
        quantity = line.quantity
        if quantity > 1 and quantity == quantity.to_integral_value() and rng.random() < 0.6:
            quantity = Decimal(rng.randint(1, int(quantity)))
        out.append(
            Line(line.description, quantity, line.unit, line.unit_price, line.places, line.rate)
        )
    return out


def compose_invoice(
    ctx: Ctx,
    *,
    number: str,
    credit_note: bool = False,
    reverse_charge: bool = False,
    n_lines: int,
    credit_ref: InvoiceRef | None = None,
    credit_lines: list[Line] | None = None,
) -> tuple[Composed, InvoiceResult]:
    """An invoice (or Gutschrift) with exact per-line rounding and VAT per rate."""
    rng = ctx.rng
    sender = ctx.sender
    en = ctx.english
    small_business = sender.small_business and not reverse_charge
    if credit_lines is not None:
        lines = credit_lines
    else:
        lines = make_lines(ctx, n_lines, zero_vat=reverse_charge or small_business)
    rates = sorted({ln.rate for ln in lines}, reverse=True)
    net = sum((ln.total for ln in lines), Decimal(0))
    breakdown = []
    for rate in rates:
        base = sum((ln.total for ln in lines if ln.rate == rate), Decimal(0))
        breakdown.append((rate, base, fmt.cents(base * rate / 100)))
    vat = sum((b[2] for b in breakdown), Decimal(0))
    gross = net + vat

    service_date: dt.date | None = None
    if rng.random() < 0.6:
        service_date = ctx.date - dt.timedelta(days=rng.choice((0, 1, 2, 3, 5, 7, 12)))

    # --- info block
    info: list[tuple[str, str]] = [
        (label(ctx, "credit_number" if credit_note else "number"), number),
        (label(ctx, "credit_date" if credit_note else "date"), ctx.d(ctx.date)),
    ]
    customer_in_info = ctx.customer_number is not None and rng.random() < 0.75
    if customer_in_info:
        assert ctx.customer_number is not None
        info.append((label(ctx, "customer"), ctx.customer_number))
    if service_date is not None and rng.random() < 0.5:
        info.append((label(ctx, "service"), ctx.d(service_date)))
        service_printed_in_info = True
    else:
        service_printed_in_info = False

    # --- body
    if en:
        title = "Credit Note" if credit_note else "Invoice"
    else:
        title = (
            "Gutschrift"
            if credit_note
            else rng.choice(("Rechnung", "Rechnung", "Rechnung", "RECHNUNG"))
        )
    subtitle = None
    if sender.layout in {"centered", "international"} or rng.random() < 0.25:
        subtitle = f"{label(ctx, 'credit_number' if credit_note else 'number')} {number}"
        if not en:
            subtitle += f" vom {ctx.d(ctx.date)}"
    blocks: list[Block] = [Title(title, subtitle)]
    if ctx.customer_number is not None and not customer_in_info:
        blocks.append(Para(f"{label(ctx, 'customer')}: {ctx.customer_number}", space_after=3))
    if service_date is not None and not service_printed_in_info:
        text = (
            f"Date of supply: {ctx.d(service_date)}"
            if en
            else rng.choice(
                (
                    f"Leistungsdatum: {ctx.d(service_date)}",
                    f"Lieferdatum: {ctx.d(service_date)}",
                    f"Leistungszeitpunkt: {ctx.d(service_date)}",
                )
            )
        )
        blocks.append(Para(text, space_after=3))
    if sender.category == "bauleistung" and rng.random() < 0.7:
        blocks.append(
            Para(
                f"Bauvorhaben: {rng.choice(('Neubau', 'Sanierung', 'Umbau'))} "
                f"{rng.choice(('Mehrfamilienhaus', 'Bürogebäude', 'Einfamilienhaus'))}, "
                f"{rng.choice(('Gartenstraße', 'Talstraße', 'Am Hang', 'Ringstraße'))} "
                f"{rng.randint(2, 60)}, {ctx.client.city}",
                space_after=3,
            )
        )
    intro_text = None
    if credit_note and credit_ref is not None:
        intro_text = (
            f"We credit the following items relating to invoice {credit_ref.number} of "
            f"{ctx.d(credit_ref.date)}:"
            if en
            else rng.choice(
                (
                    f"zu unserer Rechnung Nr. {credit_ref.number} vom {ctx.d(credit_ref.date)} "
                    "schreiben wir Ihnen folgende Positionen gut:",
                    "aufgrund Ihrer Reklamation erhalten Sie eine Gutschrift zur Rechnung "
                    f"{credit_ref.number} vom {ctx.d(credit_ref.date)}:",
                )
            )
        )
    elif rng.random() < 0.6:
        intro_text = (
            "Thank you for your order. We invoice the following:"
            if en
            else rng.choice(
                (
                    "vielen Dank für Ihren Auftrag. Wir berechnen Ihnen folgende Leistungen:",
                    f"für unsere Lieferung vom {ctx.d(service_date or ctx.date)} erlauben wir uns "
                    "zu berechnen:",
                    "wie vereinbart stellen wir Ihnen in Rechnung:",
                    "wir bedanken uns für Ihren Auftrag und berechnen wie folgt:",
                )
            )
        )
    if intro_text is not None:
        blocks.append(Spacer(2 * MM))
        if not en and rng.random() < 0.6:
            blocks.append(Para(salutation(ctx), space_after=4))
        else:
            intro_text = intro_text[0].upper() + intro_text[1:]
        blocks.append(Para(intro_text, space_after=6))
    else:
        blocks.append(Spacer(3 * MM))

    table = _line_table(ctx, lines, mixed=len(rates) > 1)
    blocks.append(table)
    blocks.append(
        _invoice_totals(
            ctx,
            net,
            breakdown,
            gross,
            credit_note=credit_note,
            zero=reverse_charge or small_business,
        )
    )

    fields: dict[str, Any] = {}
    if reverse_charge:
        if en:
            blocks.append(
                Para(
                    "Reverse charge: VAT to be accounted for by the recipient (Article 196 "
                    "Council Directive 2006/112/EC).",
                    bold=True,
                )
            )
        else:
            blocks.append(
                Para(
                    rng.choice(
                        (
                            "Steuerschuldnerschaft des Leistungsempfängers gemäß § 13b Abs. 2 "
                            "Nr. 4 UStG.",
                            "Die Umsatzsteuer schuldet der Leistungsempfänger "
                            "(Reverse-Charge-Verfahren nach § 13b UStG).",
                        )
                    ),
                    bold=True,
                )
            )
        if ctx.client.vat_id:
            blocks.append(Para(f"{'Your VAT ID' if en else 'Ihre USt-IdNr.'}: {ctx.client.vat_id}"))
            fields["buyer_vat_id"] = ctx.client.vat_id
    if small_business:
        blocks.append(
            Para(
                "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet (Kleinunternehmerregelung).",
                size_delta=-0.5,
            )
        )

    payment_fields: dict[str, Any] = {}
    if credit_note:
        blocks.append(
            Para(
                "The amount will be refunded to your account."
                if en
                else rng.choice(
                    (
                        "Den Gutschriftsbetrag überweisen wir in den nächsten Tagen auf Ihr Konto.",
                        "Der Betrag wird mit Ihrer nächsten Rechnung verrechnet.",
                    )
                )
            )
        )
    else:
        style = sender.style.payment_style
        if sender.category in {"energie", "telekom"} or (
            sender.category in {"saas_at", "saas_nl"} and rng.random() < 0.5
        ):
            style = "debit"
        texts, payment_fields = _payment_text(ctx, gross, number, style)
        for text in texts:
            blocks.append(Para(text, space_after=2))
        blocks.append(Spacer(2 * MM))

    features: list[str] = []
    if (
        sender.style.girocode
        and not credit_note
        and sender.iban
        and not payment_fields.get("direct_debit")
    ):
        code = segno.helpers.make_epc_qr(
            name=sender.name[:70], iban=sender.iban, amount=gross, text=number, bic=sender.bic
        )
        blocks.append(
            QRBlock(code, ["GiroCode", "Bequem bezahlen: Code mit der Banking-App scannen."])
        )
        features.append("girocode")
    if rng.random() < 0.45 and not credit_note:
        blocks.append(
            Para(
                "Thank you for your business."
                if en
                else rng.choice(
                    (
                        "Vielen Dank für Ihren Auftrag!",
                        "Wir danken für Ihr Vertrauen und freuen uns auf die weitere "
                        "Zusammenarbeit.",
                        "Bei Fragen zu dieser Rechnung erreichen Sie uns unter der oben "
                        "genannten Rufnummer.",
                    )
                ),
                space_after=2,
            )
        )

    running = f"{title} {number}" if en else f"{title.capitalize()} {number} vom {ctx.d(ctx.date)}"
    draft, printed, recipient_truth = base_draft(
        ctx,
        title=title,
        info=info,
        blocks=blocks,
        running=running,
        pdf_title=f"{title} {number}",
        tagline=tagline_for(ctx),
    )

    fields.update(
        {
            "invoice_number": number,
            "issue_date": ctx.date.isoformat(),
        }
    )
    if service_date is not None:
        fields["service_date"] = service_date.isoformat()
    fields.update({k: v for k, v in payment_fields.items() if k not in {"direct_debit"}})
    if payment_fields.get("direct_debit"):
        fields["direct_debit"] = True
    fields.update(
        {
            "seller_name": sender.name,
            "buyer_name": recipient_truth["name_printed"],
        }
    )
    if ctx.customer_number is not None:
        fields["customer_number"] = ctx.customer_number
    fields.update(
        {
            "net_total": fmt.canonical_amount(net),
            "vat_total": fmt.canonical_amount(vat),
            "gross_total": fmt.canonical_amount(gross),
            "vat_breakdown": [
                {
                    "rate": fmt.canonical_number(rate),
                    "net": fmt.canonical_amount(base),
                    "vat": fmt.canonical_amount(tax),
                }
                for rate, base, tax in breakdown
            ],
            "currency": "EUR",
        }
    )
    for key in ("iban", "bic", "seller_vat_id", "seller_tax_number"):
        if key in printed:
            fields[key] = printed[key]
    fields["reverse_charge"] = reverse_charge
    fields["is_credit_note"] = credit_note
    if small_business:
        fields["small_business"] = True
    if credit_note and credit_ref is not None:
        fields["referenced_invoice_numbers"] = [credit_ref.number]
    fields["line_items"] = [
        {
            "description": ln.description,
            "quantity": fmt.canonical_number(ln.quantity),
            "unit": ln.unit,
            "unit_price": f"{ln.unit_price:.{ln.places}f}",
            "total": fmt.canonical_amount(ln.total),
            "vat_rate": fmt.canonical_number(ln.rate),
        }
        for ln in lines
    ]
    if len(lines) > 15:
        features.append("long_table")
    composed = Composed(
        draft, "invoice", "credit_note" if credit_note else None, fields, recipient_truth, features
    )
    due = (
        dt.date.fromisoformat(payment_fields["due_date"]) if "due_date" in payment_fields else None
    )
    return composed, InvoiceResult(number, ctx.date, due, gross, credit_note)


def _line_table(ctx: Ctx, lines: list[Line], *, mixed: bool) -> Table:
    en = ctx.english
    variant = ctx.sender.style.table_variant
    rng_articles = random.Random(f"art:{ctx.sender.key}")
    article_numbers: dict[str, str] = {}

    def art(desc: str) -> str:
        base = desc.split(" (LS ", 1)[0]
        if base not in article_numbers:
            article_numbers[base] = str(rng_articles.randint(100000, 999999))
        return article_numbers[base]

    def q(ln: Line) -> str:
        return fmt.quantity(ln.quantity, english=en)

    def price(ln: Line) -> str:
        return ctx.num(ln.unit_price, ln.places)

    def rate(ln: Line) -> str:
        return ctx.pct(ln.rate)

    columns: list[Column]
    rows: list[list[str]]
    if en:
        columns = [
            Column("Item", 0.6),
            Column("Description", 3.6),
            Column("Qty", 0.8, "r"),
            Column("Unit price", 1.3, "r"),
            Column("VAT", 0.8, "r"),
            Column("Amount", 1.3, "r"),
        ]
        rows = [
            [
                str(i + 1),
                ln.description,
                f"{q(ln)} {ln.unit}",
                price(ln),
                rate(ln),
                ctx.num(ln.total),
            ]
            for i, ln in enumerate(lines)
        ]
        wrap, amount_col = 1, 5
    elif variant == 0:
        columns = [
            Column("Pos.", 0.6),
            Column("Bezeichnung", 3.6),
            Column("Menge", 0.9, "r"),
            Column("Einheit", 0.9),
            Column("Einzelpreis", 1.3, "r"),
            Column("Gesamt", 1.3, "r"),
        ]
        rows = [
            [str(i + 1), ln.description, q(ln), ln.unit, price(ln), ctx.num(ln.total)]
            for i, ln in enumerate(lines)
        ]
        wrap, amount_col = 1, 5
        if mixed:
            columns.insert(5, Column("USt.", 0.7, "r"))
            for row, ln in zip(rows, lines, strict=True):
                row.insert(5, rate(ln))
            amount_col = 6
    elif variant == 1:
        columns = [
            Column("Pos", 0.5),
            Column("Menge", 0.8, "r"),
            Column("Einh.", 0.7),
            Column("Artikel / Leistung", 3.5),
            Column("E-Preis", 1.2, "r"),
            Column("MwSt.", 0.7, "r"),
            Column("Betrag", 1.3, "r"),
        ]
        rows = [
            [f"{i + 1:02d}", q(ln), ln.unit, ln.description, price(ln), rate(ln), ctx.num(ln.total)]
            for i, ln in enumerate(lines)
        ]
        wrap, amount_col = 3, 6
    elif variant == 2:
        columns = [
            Column("Art.-Nr.", 1.0),
            Column("Bezeichnung", 3.6),
            Column("Menge", 1.1, "r"),
            Column("Preis", 1.2, "r"),
            Column("Summe", 1.3, "r"),
        ]
        rows = [
            [
                art(ln.description),
                ln.description,
                f"{q(ln)} {ln.unit}",
                price(ln),
                ctx.num(ln.total),
            ]
            for ln in lines
        ]
        wrap, amount_col = 1, 4
        if mixed:
            columns.insert(4, Column("USt", 0.7, "r"))
            for row, ln in zip(rows, lines, strict=True):
                row.insert(4, rate(ln))
            amount_col = 5
    else:
        columns = [
            Column("Leistung", 4.2),
            Column("Anzahl", 1.2, "r"),
            Column("Einzelpreis", 1.3, "r"),
            Column("Betrag", 1.3, "r"),
        ]
        rows = [
            [ln.description, f"{q(ln)} {ln.unit}", price(ln), ctx.num(ln.total)] for ln in lines
        ]
        wrap, amount_col = 0, 3
        if mixed:
            columns.insert(3, Column("MwSt.", 0.7, "r"))
            for row, ln in zip(rows, lines, strict=True):
                row.insert(3, rate(ln))
            amount_col = 4
    carry = None
    if len(lines) > 12:
        running = Decimal(0)
        sums: dict[int, str] = {0: ctx.num(Decimal(0))}
        for i, ln in enumerate(lines):
            running += ln.total
            sums[i + 1] = ctx.num(running)
        carry = Carry(
            amount_col, [ln.total for ln in lines], "Carried forward" if en else "Übertrag", sums
        )
    return Table(columns, rows, wrap_column=wrap, carry=carry)


def _invoice_totals(
    ctx: Ctx,
    net: Decimal,
    breakdown: list[tuple[Decimal, Decimal, Decimal]],
    gross: Decimal,
    *,
    credit_note: bool,
    zero: bool,
) -> Totals:
    rng = ctx.rng
    en = ctx.english
    rows: list[tuple[str, str, bool]] = []
    if en:
        rows.append(("Subtotal (net)", ctx.money(net), False))
        for rate, base, tax in breakdown:
            text = f"VAT {ctx.pct(rate)}" + (" (reverse charge)" if zero else "")
            if len(breakdown) > 1:
                text += f" on {ctx.money(base)}"
            rows.append((text, ctx.money(tax), False))
        rows.append(("Total credit" if credit_note else "Total amount due", ctx.money(gross), True))
        return Totals(rows)
    net_label = rng.choice(
        ("Summe netto", "Nettobetrag", "Zwischensumme", "Warenwert netto", "Summe Positionen")
    )
    if zero and ctx.sender.small_business:
        rows.append(
            (rng.choice(("Gesamtbetrag", "Rechnungsbetrag", "Summe")), ctx.money(gross), True)
        )
        return Totals(rows)
    rows.append((net_label, ctx.money(net), False))
    vat_style = rng.randrange(4)
    for rate, base, tax in breakdown:
        p = ctx.pct(rate)
        if zero:
            text = f"USt. {p} (Reverse Charge)" if rng.random() < 0.5 else f"Umsatzsteuer {p}"
        elif vat_style == 0:
            text = f"zzgl. {p} USt."
        elif vat_style == 1:
            text = f"MwSt. {p}"
        elif vat_style == 2:
            text = f"Umsatzsteuer {p} auf {ctx.money(base)}"
        else:
            text = f"{p} MwSt."
        if len(breakdown) > 1 and vat_style != 2:
            text += f" auf {ctx.money(base)}"
        rows.append((text, ctx.money(tax), False))
    if credit_note:
        strong = rng.choice(("Gutschriftsbetrag", "Gesamtbetrag der Gutschrift"))
    else:
        strong = rng.choice(
            ("Gesamtbetrag", "Rechnungsbetrag", "Bruttobetrag", "Zu zahlender Betrag", "Endbetrag")
        )
    rows.append((strong, ctx.money(gross), True))
    return Totals(rows)


# --------------------------------------------------------------------------------------------
# Reminders (Zahlungserinnerung, Mahnungen)
# --------------------------------------------------------------------------------------------

STAGE_SUBTYPES = ("zahlungserinnerung", "mahnung_1", "mahnung_2", "letzte_mahnung")


def compose_reminder(
    ctx: Ctx, *, stage: int, refs: list[InvoiceRef], previous: dt.date | None = None
) -> Composed:
    """A reminder at dunning ``stage`` (0 friendly .. 3 last) for the referenced invoices."""
    rng = ctx.rng
    outstanding = sum((r.amount for r in refs), Decimal(0))
    assert not ctx.english, "reminders are only composed for German-writing senders"
    earliest_due = min(r.due for r in refs)
    fee_rows: list[tuple[str, Decimal]] = []
    if stage >= 1 and rng.random() < (0.4 if stage == 1 else 0.85):
        fee_rows.append(
            ("Mahngebühr", Decimal(rng.choice(("2.50", "5.00", "5.00", "7.50", "10.00", "15.00"))))
        )
    if stage >= 2 and rng.random() < 0.35:
        fee_rows.append(("Verzugspauschale gem. § 288 Abs. 5 BGB", Decimal("40.00")))
    interest = Decimal(0)
    interest_text = None
    if stage >= 1 and rng.random() < (0.2, 0.2, 0.6, 0.9)[stage]:
        days = max((ctx.date - earliest_due).days, 1)
        rate = BASE_RATE + 9
        interest = fmt.cents(outstanding * rate / 100 * days / 365)
        interest_text = f"Verzugszinsen gem. § 288 Abs. 2 BGB ({ctx.pct(rate)} p. a., {days} Tage)"
    fees = sum((f[1] for f in fee_rows), Decimal(0))
    total = outstanding + fees + interest
    deadline = ctx.date + dt.timedelta(
        days=(rng.choice((10, 14)), 10, 7, rng.choice((5, 7)))[stage]
    )
    court = stage == 3 or (stage == 2 and rng.random() < 0.4)

    titles = (
        ("Zahlungserinnerung", "Freundliche Zahlungserinnerung", "Erinnerung: offene Rechnung"),
        ("1. Mahnung", "Mahnung", "1. Mahnung"),
        ("2. Mahnung", "Zweite Mahnung", "2. Mahnung"),
        (
            "Letzte Mahnung",
            "Letzte Mahnung vor gerichtlichem Mahnverfahren",
            "3. und letzte Mahnung",
        ),
    )
    title = rng.choice(titles[stage])
    info: list[tuple[str, str]] = [("Datum", ctx.d(ctx.date))]
    if ctx.customer_number is not None:
        info.insert(0, (label(ctx, "customer"), ctx.customer_number))
    if rng.random() < 0.4:
        info.append(("Unser Zeichen", f"{rng.choice(('FM', 'BH', 'RW'))}-{rng.randint(100, 999)}"))

    ref_numbers = ", ".join(r.number for r in refs)
    plural = len(refs) > 1
    openings = (
        (
            "sicher haben Sie in der Hektik des Alltags übersehen, dass "
            f"{'folgende Rechnungen' if plural else 'die folgende Rechnung'} noch offen "
            f"{'sind' if plural else 'ist'}.",
            "bei der Durchsicht unserer Buchhaltung ist uns aufgefallen, dass zu "
            f"{'den nachstehenden Rechnungen' if plural else 'der nachstehenden Rechnung'} noch "
            "kein Zahlungseingang verzeichnet ist.",
        ),
        (
            f"leider konnten wir zu {'unseren Rechnungen' if plural else 'unserer Rechnung'} "
            f"{ref_numbers} bis heute keinen Zahlungseingang feststellen.",
            "trotz Fälligkeit ist der Betrag aus "
            f"{'unseren Rechnungen' if plural else 'unserer Rechnung'} {ref_numbers} bisher nicht "
            "bei uns eingegangen.",
        ),
        (
            (
                f"trotz unserer Zahlungserinnerung vom {ctx.d(previous)} "
                if previous
                else "trotz unserer Zahlungserinnerung "
            )
            + "ist der folgende Betrag weiterhin offen.",
            "auf unsere bisherigen Schreiben haben Sie leider nicht reagiert. Der folgende "
            "Betrag ist nach wie vor offen.",
        ),
        (
            "trotz mehrfacher Mahnung haben Sie die nachstehende Forderung bis heute nicht "
            "beglichen.",
            "Sie haben auf unsere Mahnungen nicht reagiert. Wir fordern Sie hiermit letztmalig "
            "zur Zahlung auf.",
        ),
    )
    blocks: list[Block] = [
        Title(title),
        Para(salutation(ctx), space_after=4),
        Para(rng.choice(openings[stage])),
    ]
    table = Table(
        [
            Column("Rechnungsnr.", 1.5),
            Column("Rechnungsdatum", 1.3),
            Column("fällig seit", 1.2),
            Column("Betrag", 1.2, "r"),
        ],
        [[r.number, ctx.d(r.date), ctx.d(r.due), ctx.money(r.amount)] for r in refs],
    )
    blocks.append(table)
    totals_rows: list[tuple[str, str, bool]] = []
    if fee_rows or interest:
        totals_rows.append(("Offener Rechnungsbetrag", ctx.money(outstanding), False))
        for name, amount in fee_rows:
            totals_rows.append((name, ctx.money(amount), False))
        if interest_text:
            totals_rows.append(("Verzugszinsen", ctx.money(interest), False))
        totals_rows.append(
            (
                rng.choice(("Gesamtforderung", "Zu zahlen", "Offener Gesamtbetrag")),
                ctx.money(total),
                True,
            )
        )
    else:
        totals_rows.append(("Offener Betrag", ctx.money(outstanding), True))
    blocks.append(Totals(totals_rows))
    if interest_text:
        blocks.append(Para(f"{interest_text}: {ctx.money(interest)}.", size_delta=-1))
    requests = (
        f"Bitte überweisen Sie den Betrag bis zum {ctx.d(deadline)} auf unser Konto.",
        f"Wir bitten Sie, den offenen Betrag bis zum {ctx.d(deadline)} zu überweisen.",
        f"Bitte gleichen Sie den Gesamtbetrag von {ctx.money(total)} spätestens bis zum "
        f"{ctx.d(deadline)} aus.",
        f"Wir setzen Ihnen hiermit eine letzte Frist bis zum {ctx.d(deadline)}.",
    )
    request = requests[min(stage, 3)] if stage >= 2 else rng.choice(requests[:3])
    if ctx.sender.iban and rng.random() < 0.6:
        request += (
            f" Bankverbindung: {ctx.sender.bank_name}, IBAN {fmt.iban_groups(ctx.sender.iban)}."
        )
    blocks.append(Para(request))
    if court:
        blocks.append(
            Para(
                rng.choice(
                    (
                        "Sollten Sie auch diese Frist verstreichen lassen, werden wir ohne "
                        "weitere Ankündigung das gerichtliche Mahnverfahren einleiten und einen "
                        "Mahnbescheid beantragen.",
                        "Geht die Zahlung nicht fristgerecht ein, beantragen wir beim "
                        "zuständigen Mahngericht einen Mahnbescheid. Die dadurch entstehenden "
                        "Kosten gehen zu Ihren Lasten.",
                        "Nach Ablauf der Frist übergeben wir die Forderung unserem Rechtsanwalt "
                        "zur Einleitung des gerichtlichen Mahnverfahrens.",
                    )
                ),
                bold=stage == 3,
            )
        )
    elif stage == 2 and rng.random() < 0.6:
        blocks.append(
            Para(
                "Andernfalls sehen wir uns gezwungen, ein Inkassounternehmen mit dem Einzug der "
                "Forderung zu beauftragen."
            )
        )
    if stage <= 1:
        blocks.append(
            Para(
                rng.choice(
                    (
                        "Sollten Sie die Zahlung inzwischen veranlasst haben, betrachten Sie "
                        "dieses Schreiben bitte als gegenstandslos.",
                        "Falls sich Ihre Zahlung mit diesem Schreiben überschnitten hat, danken "
                        "wir Ihnen und bitten Sie, diese Erinnerung zu ignorieren.",
                    )
                )
            )
        )
    name, role = signer(ctx)
    blocks.append(Signature(closing(ctx), [name, role], seed=rng.randint(1, 10**6)))

    draft, printed, recipient_truth = base_draft(
        ctx,
        title=title,
        info=info,
        blocks=blocks,
        running=f"{title} vom {ctx.d(ctx.date)}",
        pdf_title=f"{title} {ref_numbers}",
        tagline=tagline_for(ctx),
    )
    fields: dict[str, Any] = {
        "referenced_invoice_numbers": [r.number for r in refs],
        "referenced_invoice_dates": [r.date.isoformat() for r in refs],
        "amount_outstanding": fmt.canonical_amount(outstanding),
    }
    if fees:
        fields["fees"] = fmt.canonical_amount(fees)
    if interest:
        fields["interest"] = fmt.canonical_amount(interest)
    fields["total_due"] = fmt.canonical_amount(total)
    fields["new_deadline"] = deadline.isoformat()
    fields["dunning_stage"] = stage
    fields["court_threat"] = court
    fields["issue_date"] = ctx.date.isoformat()
    fields["sender_name"] = ctx.sender.name
    if "iban" in printed:
        fields["iban"] = printed["iban"]
    if ctx.customer_number is not None:
        fields["customer_number"] = ctx.customer_number
    features = ["corpus_reference"] if any(r.in_corpus for r in refs) else []
    return Composed(draft, "reminder", STAGE_SUBTYPES[stage], fields, recipient_truth, features)
