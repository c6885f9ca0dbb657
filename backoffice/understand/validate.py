"""Plausibility checks on extracted fields; every problem becomes a short German flag for staff.

Checks, for invoices:

* arithmetic: per rate tax = base x rate, sum of rates = totals, net + VAT = gross (1 cent);
* dates: issue date not in the far future or past, issue ≤ due, Skonto date within the term;
* identifiers: IBAN check digits (ISO 13616 via schwifty), USt-IdNr. (python-stdnum),
  Steuernummer format;
* §14 Abs. 4 UStG mandatory contents, or the reduced set of §33 UStDV for a gross total up to
  250 € (Kleinbetragsrechnung).

Reminders and letters get the checks that make sense for them. An empty list means "fine".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from .normalize import format_amount, valid_iban, valid_tax_number, valid_vat_id
from .schema import Field

SMALL_INVOICE_LIMIT = Decimal("250.00")
"""§33 UStDV: gross total up to this amount needs only the reduced contents."""
CENT = Decimal("0.01")
FUTURE_DAYS = 60
"""An issue date more than this many days ahead of today is implausible."""
OLDEST = date(2000, 1, 1)


def _de(value: Decimal) -> str:
    """An amount the German way for flags: 1.234,56."""
    s = format_amount(value)
    whole, frac = s.split(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{'.'.join(groups)},{frac}"


def _values(fields: Sequence[Field]) -> dict[str, str]:
    """Name → value; for repeated names the most confident value wins."""
    best: dict[str, Field] = {}
    for f in fields:
        if f.name not in best or f.confidence > best[f.name].confidence:
            best[f.name] = f
    return {name: f.value for name, f in best.items()}


def _dec(v: dict[str, str], name: str) -> Decimal | None:
    raw = v.get(name)
    if raw is None:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _date(v: dict[str, str], name: str) -> date | None:
    raw = v.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _rates(v: dict[str, str]) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    out: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for name in v:
        m = re.fullmatch(r"vat_(\d+(?:\.\d+)?)_(net|amount)", name)
        if m:
            rate = m.group(1)
            out[rate] = (_dec(v, f"vat_{rate}_net"), _dec(v, f"vat_{rate}_amount"))
    return out


def _check_arithmetic(v: dict[str, str]) -> list[str]:
    flags: list[str] = []
    net, vat, gross = _dec(v, "net_total"), _dec(v, "vat_total"), _dec(v, "gross_total")
    if net is not None and vat is not None and gross is not None and abs(net + vat - gross) > CENT:
        flags.append(f"Netto + USt ≠ Brutto ({_de(net)} + {_de(vat)} ≠ {_de(gross)})")
    rates = _rates(v)
    for rate, (base, tax) in sorted(rates.items()):
        if base is None or tax is None:
            continue
        expected = base * Decimal(rate) / 100
        # tax computed per line may differ by a few cents from tax on the sum
        if abs(expected - tax) > max(CENT, abs(base) * Decimal("0.0005")):
            flags.append(f"USt {rate} % passt nicht zur Basis ({_de(base)} → {_de(tax)})")
    bases = [b for b, _ in rates.values() if b is not None]
    taxes = [t for _, t in rates.values() if t is not None]
    if net is not None and bases and len(bases) == len(rates) and abs(sum(bases) - net) > CENT:
        flags.append(f"Summe der Steuersätze ≠ Netto ({_de(sum(bases, Decimal(0)))} ≠ {_de(net)})")
    if vat is not None and taxes and len(taxes) == len(rates) and abs(sum(taxes) - vat) > CENT:
        flags.append(f"Summe der Steuerbeträge ≠ USt ({_de(sum(taxes, Decimal(0)))} ≠ {_de(vat)})")
    if v.get("reverse_charge") == "true" and vat is not None and vat != 0:
        flags.append("Reverse-Charge-Hinweis, aber USt ausgewiesen")
    return flags


def _check_dates(v: dict[str, str], today: date) -> list[str]:
    flags: list[str] = []
    issue = _date(v, "issue_date") or _date(v, "letter_date")
    if issue is not None:
        if issue > today + timedelta(days=FUTURE_DAYS):
            flags.append(f"Datum liegt in der Zukunft ({issue:%d.%m.%Y})")
        elif issue < OLDEST:
            flags.append(f"Datum unplausibel ({issue:%d.%m.%Y})")
    due = _date(v, "due_date")
    if issue is not None and due is not None and due < issue:
        flags.append("Fälligkeit vor Rechnungsdatum")
    skonto = _date(v, "skonto_date")
    if skonto is not None:
        if issue is not None and skonto < issue:
            flags.append("Skontofrist vor Rechnungsdatum")
        if due is not None and skonto > due:
            flags.append("Skontofrist nach Fälligkeit")
    deadline = _date(v, "new_deadline")
    if deadline is not None and issue is not None and deadline < issue:
        flags.append("Zahlungsfrist vor Mahndatum")
    return flags


def _check_ids(v: dict[str, str]) -> list[str]:
    flags: list[str] = []
    iban = v.get("iban")
    if iban and not valid_iban(iban, national=False):
        flags.append(f"IBAN ungültig ({iban})")
    vat_id = v.get("seller_vat_id")
    if vat_id and not valid_vat_id(vat_id):
        flags.append(f"USt-IdNr. ungültig ({vat_id})")
    tax_no = v.get("seller_tax_number")
    if tax_no and not vat_id and not valid_tax_number(tax_no):
        flags.append(f"Steuernummer unplausibel ({tax_no})")
    return flags


def _check_mandatory(v: dict[str, str]) -> list[str]:
    """§14 Abs. 4 UStG, or §33 UStDV for small invoices."""
    flags: list[str] = []
    gross = _dec(v, "gross_total")
    has_rate = bool(_rates(v)) or v.get("reverse_charge") == "true"
    small = gross is not None and abs(gross) <= SMALL_INVOICE_LIMIT
    if not v.get("seller_name"):
        flags.append("Rechnungsaussteller fehlt")
    if not v.get("issue_date"):
        flags.append("Rechnungsdatum fehlt")
    if gross is None:
        flags.append("Rechnungsbetrag fehlt")
    if small:
        if not has_rate:
            flags.append("Steuersatz fehlt (§33 UStDV)")
        return flags
    if not v.get("invoice_number"):
        flags.append("Rechnungsnummer fehlt")
    if not v.get("buyer_name"):
        flags.append("Rechnungsempfänger fehlt")
    if not (v.get("seller_vat_id") or v.get("seller_tax_number")):
        flags.append("Steuernummer/USt-IdNr. fehlt")
    if v.get("net_total") is None or (v.get("vat_total") is None and not has_rate):
        flags.append("Nettobetrag/Steuerbetrag fehlt")
    elif not has_rate:
        flags.append("Steuersatz fehlt")
    if not v.get("service_date"):
        flags.append("Leistungsdatum fehlt")
    return flags


def validate(doc_type: str, fields: Sequence[Field], *, today: date | None = None) -> list[str]:
    """Human-readable German flags for everything implausible or missing; empty = fine."""
    today = today or date.today()
    v = _values(fields)
    flags: list[str] = []
    if doc_type == "invoice":
        flags += _check_mandatory(v)
        flags += _check_arithmetic(v)
        flags += _check_dates(v, today)
        flags += _check_ids(v)
    elif doc_type == "reminder":
        if not v.get("referenced_invoice_numbers"):
            flags.append("Keine Rechnungsnummer genannt")
        if v.get("amount_outstanding") is None:
            flags.append("Offener Betrag fehlt")
        flags += _check_dates(v, today)
        flags += _check_ids(v)
    elif doc_type == "letter":
        if not v.get("sender_name"):
            flags.append("Absender nicht erkannt")
        flags += _check_dates(v, today)
    else:
        flags += _check_dates(v, today)
    return flags
