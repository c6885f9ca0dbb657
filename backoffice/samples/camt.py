"""Sample bank statements: CAMT.053.001.02 documents built from simple entry specs.

Used by tests and demos to feed the bank import with files shaped like the ones German banks
deliver (element order and types as in the ISO 20022 schema ``camt.053.001.02``, the version
the Deutsche Kreditwirtschaft's DFÜ agreement prescribes for daily statements). The output is a
function of the arguments only: references and message ids are derived from the content, so the
same specs always give byte-identical files.

    make_camt053(
        "DE02120300000000202051",
        [EntrySpec(date(2025, 3, 3), Decimal("119.00"), "Kunde GmbH", "DE89…", "RE-1001")],
        statement_id="2025-03-03",
    )
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
_NS = f"{{{NAMESPACE}}}"


@dataclass(frozen=True)
class EntrySpec:
    """One transfer on the account; ``amount`` is signed (+ money in, − money out)."""

    booking_date: date
    amount: Decimal
    counterparty_name: str
    counterparty_iban: str | None = None
    remittance: str | None = None
    """Unstructured remittance text (Verwendungszweck); split into 140-character lines."""
    creditor_reference: str | None = None
    """Structured creditor reference (e.g. an RF reference or the invoice number)."""
    value_date: date | None = None
    end_to_end_id: str | None = None
    bank_reference: str | None = None
    """``AcctSvcrRef``; derived from the content when not given."""


@dataclass(frozen=True)
class BatchSpec:
    """A batch booking: one entry on the statement carrying several transactions (same sign)."""

    booking_date: date
    parts: tuple[EntrySpec, ...]
    bank_reference: str | None = None


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attrib: str
) -> etree._Element:
    node = etree.SubElement(parent, _NS + tag, attrib)
    if text is not None:
        node.text = text
    return node


def _amt(parent: etree._Element, tag: str, amount: Decimal, currency: str) -> None:
    _sub(parent, tag, f"{abs(amount):.2f}", Ccy=currency)


def _ref(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16].upper()


def _bank_code(spec: EntrySpec) -> tuple[str, str, str]:
    """ISO bank transaction code: received or issued credit transfer."""
    return ("PMNT", "RCDT" if spec.amount > 0 else "ICDT", "ESCT")


def _tx_details(
    parent: etree._Element, spec: EntrySpec, currency: str, *, with_amount: bool, ref: str
) -> None:
    tx = _sub(parent, "TxDtls")
    refs = _sub(tx, "Refs")
    _sub(refs, "AcctSvcrRef", ref)
    _sub(refs, "EndToEndId", spec.end_to_end_id or "NOTPROVIDED")
    if with_amount:
        details = _sub(tx, "AmtDtls")
        tx_amt = _sub(details, "TxAmt")
        _amt(tx_amt, "Amt", spec.amount, currency)
    credit = spec.amount > 0
    parties = _sub(tx, "RltdPties")
    party, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    _sub(_sub(parties, party), "Nm", spec.counterparty_name[:140])
    if spec.counterparty_iban:
        _sub(_sub(_sub(parties, account), "Id"), "IBAN", spec.counterparty_iban.replace(" ", ""))
    if spec.remittance or spec.creditor_reference:
        rmt = _sub(tx, "RmtInf")
        text = spec.remittance or ""
        for start in range(0, len(text), 140):
            _sub(rmt, "Ustrd", text[start : start + 140])
        if spec.creditor_reference:
            strd = _sub(rmt, "Strd")
            cdtr = _sub(strd, "CdtrRefInf")
            _sub(_sub(_sub(cdtr, "Tp"), "CdOrPrtry"), "Cd", "SCOR")
            _sub(cdtr, "Ref", spec.creditor_reference[:35])


def _entry(
    stmt: etree._Element,
    booking_date: date,
    value_date: date,
    total: Decimal,
    parts: Sequence[EntrySpec],
    currency: str,
    ref: str,
) -> None:
    ntry = _sub(stmt, "Ntry")
    _amt(ntry, "Amt", total, currency)
    _sub(ntry, "CdtDbtInd", "CRDT" if total > 0 else "DBIT")
    _sub(ntry, "Sts", "BOOK")
    _sub(_sub(ntry, "BookgDt"), "Dt", booking_date.isoformat())
    _sub(_sub(ntry, "ValDt"), "Dt", value_date.isoformat())
    _sub(ntry, "AcctSvcrRef", ref)
    domain, family, sub = _bank_code(parts[0])
    bk = _sub(ntry, "BkTxCd")
    dmn = _sub(bk, "Domn")
    _sub(dmn, "Cd", domain)
    fmly = _sub(dmn, "Fmly")
    _sub(fmly, "Cd", family)
    _sub(fmly, "SubFmlyCd", sub)
    details = _sub(ntry, "NtryDtls")
    batch = len(parts) > 1
    if batch:
        btch = _sub(details, "Btch")
        _sub(btch, "NbOfTxs", str(len(parts)))
        _amt(btch, "TtlAmt", total, currency)
        _sub(btch, "CdtDbtInd", "CRDT" if total > 0 else "DBIT")
    for n, part in enumerate(parts, start=1):
        part_ref = part.bank_reference or (f"{ref}-{n}" if batch else ref)
        _tx_details(details, part, currency, with_amount=batch, ref=part_ref)


def make_camt053(
    account_iban: str,
    entries: Sequence[EntrySpec | BatchSpec],
    *,
    statement_id: str,
    owner_name: str = "Kontoinhaber",
    opening_balance: Decimal = Decimal("0.00"),
    currency: str = "EUR",
    created: datetime | None = None,
) -> bytes:
    """A complete CAMT.053.001.02 document with one statement over ``entries``.

    Opening and closing balances are included (the schema requires at least one balance and
    banks always send both); the closing balance is the opening balance plus all entries.
    """
    iban = account_iban.replace(" ", "").upper()
    dates = [e.booking_date for e in entries] or [date(2000, 1, 1)]
    first, last = min(dates), max(dates)
    created = created or datetime(last.year, last.month, last.day, 22, 0, 0)
    root = etree.Element(_NS + "Document", nsmap={None: NAMESPACE})
    message = _sub(root, "BkToCstmrStmt")
    header = _sub(message, "GrpHdr")
    _sub(header, "MsgId", f"CAMT{_ref(iban, statement_id)}"[:35])
    _sub(header, "CreDtTm", created.strftime("%Y-%m-%dT%H:%M:%S"))
    stmt = _sub(message, "Stmt")
    _sub(stmt, "Id", statement_id[:35])
    _sub(stmt, "CreDtTm", created.strftime("%Y-%m-%dT%H:%M:%S"))
    period = _sub(stmt, "FrToDt")
    _sub(period, "FrDtTm", f"{first.isoformat()}T00:00:00")
    _sub(period, "ToDtTm", f"{last.isoformat()}T23:59:59")
    acct = _sub(stmt, "Acct")
    _sub(_sub(acct, "Id"), "IBAN", iban)
    _sub(acct, "Ccy", currency)
    _sub(_sub(acct, "Ownr"), "Nm", owner_name[:140])
    totals = [
        sum((p.amount for p in e.parts), Decimal(0)) if isinstance(e, BatchSpec) else e.amount
        for e in entries
    ]
    closing = opening_balance + sum(totals, Decimal(0))
    for code, amount, day in (("OPBD", opening_balance, first), ("CLBD", closing, last)):
        bal = _sub(stmt, "Bal")
        _sub(_sub(_sub(bal, "Tp"), "CdOrPrtry"), "Cd", code)
        _amt(bal, "Amt", amount, currency)
        _sub(bal, "CdtDbtInd", "CRDT" if amount >= 0 else "DBIT")
        _sub(_sub(bal, "Dt"), "Dt", day.isoformat())
    for n, (spec, total) in enumerate(zip(entries, totals, strict=True), start=1):
        if isinstance(spec, BatchSpec):
            if not spec.parts or len({p.amount > 0 for p in spec.parts}) != 1:
                raise ValueError("a batch needs parts of one sign")
            ref = spec.bank_reference or _ref(iban, statement_id, n, total)
            _entry(stmt, spec.booking_date, spec.booking_date, total, spec.parts, currency, ref)
        else:
            if spec.amount == 0:
                raise ValueError("an entry needs a non-zero amount")
            ref = spec.bank_reference or _ref(iban, statement_id, n, spec.amount)
            value = spec.value_date or spec.booking_date
            _entry(stmt, spec.booking_date, value, spec.amount, [spec], currency, ref)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
