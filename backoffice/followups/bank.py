"""Reading bank statements: CAMT.053 (ISO 20022) and the banks' semicolon CSV exports.

A statement is turned into plain dataclasses and nothing else; matching payments to open items
is :mod:`backoffice.followups.reconcile`'s job. Keeping the parser free of the catalog makes it
easy to test against odd files and lets every import path (CLI, portal, flows) share it.

CAMT.053 versions ``001.02`` to ``001.08`` are read with one code path: the elements used here
only moved slightly between versions (``Sts`` became ``Sts/Cd``, parties gained a ``Pty``
level, transaction details got their own ``Amt``), and each lookup accepts both spellings.

Statements come from outside (clients upload them, banks send them), so the XML parser is
hardened: no DTDs, no entity expansion, no network access, no huge trees. A document with a
``DOCTYPE`` is refused outright; a bank statement never needs one, and refusing it closes the
door on entity-expansion ("billion laughs") and external-entity attacks whatever the parser
version does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

MAX_STATEMENT_BYTES = 50 * 1024 * 1024
"""Far above any real daily or monthly statement of a small firm; a larger file is refused."""

CAMT053_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(0[2-8])$")


class BankStatementError(ValueError):
    """The file is not a readable bank statement; the message says why (German, for staff)."""


@dataclass(frozen=True)
class BankEntry:
    """One booked payment on the account, signed: credits are positive, debits negative.

    A batch booking (one ``Ntry`` with several ``TxDtls``) becomes one entry per transaction
    when the bank states each transaction's amount, because each may pay a different invoice.
    """

    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str
    """Unstructured remittance lines joined, followed by structured references."""
    end_to_end_id: str | None
    bank_reference: str | None
    """The bank's own reference (``AcctSvcrRef``): stable across re-deliveries of a statement."""
    references: tuple[str, ...] = ()
    """Structured references (creditor reference, referred invoice numbers)."""
    reversal: bool = False

    @property
    def is_credit(self) -> bool:
        return self.amount > 0

    def fingerprint(self, account_iban: str | None) -> str:
        """A hash of what identifies the entry when the bank gives no reference of its own."""
        parts = [
            account_iban or "",
            self.booking_date.isoformat(),
            self.value_date.isoformat() if self.value_date else "",
            f"{self.amount:.2f}",
            self.currency,
            self.counterparty_iban or "",
            self.counterparty_name or "",
            self.remittance,
            self.end_to_end_id or "",
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class BankStatement:
    """One account's statement (a CAMT file may hold several)."""

    statement_id: str | None
    account_iban: str | None
    entries: tuple[BankEntry, ...]
    source_format: str
    """``camt.053.001.02`` … ``camt.053.001.08`` or ``csv``."""

    def entry_keys(self) -> list[str]:
        """Stable identities of the entries, in order, for idempotent imports.

        The bank's reference where there is one; otherwise the entry's fingerprint, numbered
        when the same statement holds identical entries (two equal transfers on one day are two
        payments, but the same entry in two overlapping statements is one).
        """
        seen: Counter[str] = Counter()
        keys = []
        for entry in self.entries:
            if entry.bank_reference:
                key = entry.bank_reference
                if len(key) > 64:
                    key = hashlib.sha256(key.encode()).hexdigest()
            else:
                fingerprint = entry.fingerprint(self.account_iban)
                seen[fingerprint] += 1
                n = seen[fingerprint]
                key = (
                    fingerprint
                    if n == 1
                    else hashlib.sha256(f"{fingerprint}#{n}".encode()).hexdigest()
                )
            keys.append(key)
        return keys


@dataclass
class _Tx:
    """Details of one transaction inside an entry, before they are merged with the entry."""

    amount: Decimal | None = None
    name: str | None = None
    iban: str | None = None
    lines: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    end_to_end_id: str | None = None
    bank_reference: str | None = None


def parse_statement(data: bytes) -> list[BankStatement]:
    """Read a bank statement file of any supported format (CAMT.053 XML or CSV)."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise BankStatementError("Datei ist zu groß für einen Kontoauszug.")
    if _looks_like_xml(data):
        return parse_camt053(data)
    if not data.strip():
        raise BankStatementError("Datei ist leer.")
    return [parse_csv(data)]


# --------------------------------------------------------------------------- CAMT.053


def _looks_like_xml(data: bytes) -> bool:
    """Whether the file starts with markup, in UTF-8 or in UTF-16/32 with a byte-order mark."""
    for bom, encoding in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            head = data[: len(bom) + 64 * 4]
            return head.decode(encoding, errors="ignore").lstrip().startswith("<")
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_camt053(data: bytes) -> list[BankStatement]:
    """Parse a CAMT.053 document (versions 001.02 to 001.08) into statements."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise BankStatementError("Datei ist zu groß für einen Kontoauszug.")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise BankStatementError("XML mit DOCTYPE/ENTITY-Deklaration wird nicht angenommen.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise BankStatementError(f"Kein gültiges XML: {exc}") from exc
    if root is None:
        raise BankStatementError("Kein gültiges XML.")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BankStatementError("XML mit DOCTYPE/ENTITY-Deklaration wird nicht angenommen.")
    qname = etree.QName(root)
    match = CAMT053_NAMESPACE.match(qname.namespace or "")
    if qname.localname != "Document" or match is None:
        raise BankStatementError(
            "Keine CAMT.053-Datei (erwartet: Document im Namensraum "
            f"camt.053.001.02 bis .08, gefunden: {root.tag})."
        )
    version = f"camt.053.001.{match.group(1)}"
    ns = {"c": qname.namespace}
    statements_xml = root.findall("c:BkToCstmrStmt/c:Stmt", ns)
    if not statements_xml:
        raise BankStatementError("CAMT.053-Datei enthält keinen Kontoauszug (Stmt).")
    return [_statement(stmt, ns, version) for stmt in statements_xml]


def _text(node: etree._Element | None, path: str, ns: dict[str, str]) -> str | None:
    if node is None:
        return None
    found = node.find(path, ns)
    if found is None or found.text is None:
        return None
    value = " ".join(found.text.split())
    return value or None


def _first(node: etree._Element, paths: Iterable[str], ns: dict[str, str]) -> str | None:
    for path in paths:
        value = _text(node, path, ns)
        if value:
            return value
    return None


def _date(node: etree._Element, path: str, ns: dict[str, str]) -> date | None:
    value = _first(node, (f"{path}/c:Dt", f"{path}/c:DtTm"), ns)
    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise BankStatementError(f"Ungültiges Datum im Kontoauszug: {value!r}") from exc


def _amount(node: etree._Element, path: str, ns: dict[str, str]) -> tuple[Decimal, str] | None:
    found = node.find(path, ns)
    if found is None:
        return None
    raw = (found.text or "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise BankStatementError(f"Ungültiger Betrag im Kontoauszug: {raw!r}") from exc
    if not value.is_finite() or value < 0:
        raise BankStatementError(f"Ungültiger Betrag im Kontoauszug: {raw!r}")
    return value, (found.get("Ccy") or "EUR").upper()


def _iban(value: str | None) -> str | None:
    return normalise_iban(value) if value else None


def normalise_iban(value: str) -> str:
    """IBANs as compared everywhere: upper case, no spaces."""
    return "".join(value.split()).upper()


def _statement(stmt: etree._Element, ns: dict[str, str], version: str) -> BankStatement:
    account = _iban(_first(stmt, ("c:Acct/c:Id/c:IBAN", "c:Acct/c:Id/c:Othr/c:Id"), ns))
    entries: list[BankEntry] = []
    for ntry in stmt.findall("c:Ntry", ns):
        status = _first(ntry, ("c:Sts/c:Cd", "c:Sts"), ns)
        if status is not None and status.upper() != "BOOK":
            continue  # pending or information-only entries are not (yet) payments
        entries.extend(_entries(ntry, ns))
    return BankStatement(
        statement_id=_text(stmt, "c:Id", ns),
        account_iban=account,
        entries=tuple(entries),
        source_format=version,
    )


def _entries(ntry: etree._Element, ns: dict[str, str]) -> Iterator[BankEntry]:
    amount = _amount(ntry, "c:Amt", ns)
    if amount is None:
        raise BankStatementError("Buchung ohne Betrag (Ntry/Amt) im Kontoauszug.")
    indicator = _text(ntry, "c:CdtDbtInd", ns)
    if indicator not in ("CRDT", "DBIT"):
        raise BankStatementError(f"Buchung ohne gültiges Soll/Haben-Kennzeichen: {indicator!r}")
    credit = indicator == "CRDT"
    booking = _date(ntry, "c:BookgDt", ns) or _date(ntry, "c:ValDt", ns)
    if booking is None:
        raise BankStatementError("Buchung ohne Buchungsdatum im Kontoauszug.")
    value_date = _date(ntry, "c:ValDt", ns)
    reversal = (_text(ntry, "c:RvslInd", ns) or "").lower() == "true"
    entry_ref = _text(ntry, "c:AcctSvcrRef", ns)
    extra = _text(ntry, "c:AddtlNtryInf", ns)
    txs = [_tx(tx, ns, credit) for tx in ntry.findall("c:NtryDtls/c:TxDtls", ns)]
    total, currency = amount
    sign = Decimal(1) if credit else Decimal(-1)

    def build(tx: _Tx, value: Decimal, ref: str | None) -> BankEntry:
        lines = tx.lines or ([extra] if extra else [])
        remittance = " ".join([*lines, *tx.references]).strip()
        return BankEntry(
            booking_date=booking,
            value_date=value_date,
            amount=(sign * value).quantize(Decimal("0.01")),
            currency=currency,
            counterparty_name=tx.name,
            counterparty_iban=tx.iban,
            remittance=remittance,
            end_to_end_id=tx.end_to_end_id,
            bank_reference=ref,
            references=tuple(tx.references),
            reversal=reversal,
        )

    if len(txs) > 1 and all(tx.amount is not None for tx in txs):
        for n, tx in enumerate(txs, start=1):
            ref = tx.bank_reference or (f"{entry_ref}/{n}" if entry_ref else None)
            assert tx.amount is not None
            yield build(tx, tx.amount, ref)
        return
    if len(txs) > 1:
        # A batch without per-transaction amounts can only be booked as a whole.
        merged = _Tx(
            name=None,
            iban=None,
            lines=[line for tx in txs for line in tx.lines],
            references=[ref for tx in txs for ref in tx.references],
        )
        yield build(merged, total, entry_ref)
        return
    tx = txs[0] if txs else _Tx()
    yield build(tx, total, entry_ref or tx.bank_reference)


def _tx(tx: etree._Element, ns: dict[str, str], credit: bool) -> _Tx:
    amount = _amount(tx, "c:AmtDtls/c:TxAmt/c:Amt", ns) or _amount(tx, "c:Amt", ns)
    party, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    name = _first(
        tx,
        (
            f"c:RltdPties/c:{party}/c:Nm",
            f"c:RltdPties/c:{party}/c:Pty/c:Nm",
            f"c:RltdPties/c:Ultmt{party}/c:Nm",
            f"c:RltdPties/c:Ultmt{party}/c:Pty/c:Nm",
        ),
        ns,
    )
    iban = _iban(
        _first(
            tx,
            (f"c:RltdPties/c:{account}/c:Id/c:IBAN", f"c:RltdPties/c:{account}/c:Id/c:Othr/c:Id"),
            ns,
        )
    )
    lines = [
        " ".join(node.text.split())
        for node in tx.findall("c:RmtInf/c:Ustrd", ns)
        if node.text and node.text.strip()
    ]
    references = []
    for strd in tx.findall("c:RmtInf/c:Strd", ns):
        for path in ("c:CdtrRefInf/c:Ref", "c:RfrdDocInf/c:Nb"):
            for node in strd.findall(path, ns):
                if node.text and node.text.strip():
                    references.append(node.text.strip())
    if not lines:
        info = _text(tx, "c:AddtlTxInf", ns)
        if info:
            lines.append(info)
    end_to_end = _text(tx, "c:Refs/c:EndToEndId", ns)
    if end_to_end and end_to_end.upper() == "NOTPROVIDED":
        end_to_end = None
    return _Tx(
        amount=amount[0] if amount else None,
        name=name,
        iban=iban,
        lines=lines,
        references=references,
        end_to_end_id=end_to_end,
        bank_reference=_text(tx, "c:Refs/c:AcctSvcrRef", ns),
    )


# --------------------------------------------------------------------------- CSV

_CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "booking_date": ("buchungstag", "buchungsdatum", "datum"),
    "value_date": ("valutadatum", "valuta", "wertstellung", "wertstellungsdatum"),
    "amount": ("betrag", "umsatz", "betrag (eur)"),
    "currency": ("währung", "waehrung", "wkz"),
    "name": (
        "name zahlungsbeteiligter",
        "beguenstigter/zahlungspflichtiger",
        "begünstigter/zahlungspflichtiger",
        "auftraggeber/empfänger",
        "empfänger/auftraggeber",
        "zahlungsempfänger/zahlungspflichtiger",
        "name",
    ),
    "iban": (
        "iban zahlungsbeteiligter",
        "kontonummer/iban",
        "iban auftraggeber/empfänger",
        "iban",
    ),
    "remittance": ("verwendungszweck", "buchungstext verwendungszweck"),
    "account": ("iban auftragskonto", "auftragskonto", "eigenes konto"),
    "reference": ("bankreferenz",),
}


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BankStatementError("Zeichenkodierung der CSV-Datei nicht erkannt.")  # pragma: no cover


def german_amount(value: str) -> Decimal:
    """``-1.234,56`` → ``Decimal('-1234.56')`` (German thousands dots and decimal comma)."""
    cleaned = value.strip().replace("\xa0", "").replace(" ", "").replace("€", "")
    if cleaned.endswith("-"):  # some banks write the sign last
        cleaned = "-" + cleaned[:-1]
    cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise BankStatementError(f"Ungültiger Betrag in der CSV-Datei: {value!r}") from exc
    if not amount.is_finite():
        raise BankStatementError(f"Ungültiger Betrag in der CSV-Datei: {value!r}")
    return amount.quantize(Decimal("0.01"))


def german_date(value: str) -> date:
    """``31.01.2025`` or ``31.01.25`` (or ISO) → date."""
    value = value.strip()
    for fmt in ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise BankStatementError(f"Ungültiges Datum in der CSV-Datei: {value!r}")


def parse_csv(data: bytes) -> BankStatement:
    """Read a bank's semicolon-separated CSV export (German number and date formats).

    Column names differ from bank to bank; the common spellings are recognised. Preamble
    lines some banks put before the header (account, period) are skipped.
    """
    text = _decode(data)
    lines = text.splitlines()
    header_at = next(
        (
            n
            for n, line in enumerate(lines)
            if ";" in line
            and any(col in line.lower() for col in _CSV_COLUMNS["amount"])
            and any(col in line.lower() for col in _CSV_COLUMNS["booking_date"])
        ),
        None,
    )
    if header_at is None:
        raise BankStatementError(
            "Keine Kontoumsatz-CSV erkannt (Spalten Buchungstag und Betrag fehlen)."
        )
    reader = csv.reader(io.StringIO("\n".join(lines[header_at:])), delimiter=";", quotechar='"')
    header = [h.strip().lower() for h in next(reader)]
    index: dict[str, int] = {}
    for name, spellings in _CSV_COLUMNS.items():
        for spelling in spellings:
            if spelling in header:
                index[name] = header.index(spelling)
                break
    if "booking_date" not in index or "amount" not in index:
        raise BankStatementError("CSV-Datei ohne Spalten Buchungstag und Betrag.")

    def cell(row: list[str], name: str) -> str | None:
        at = index.get(name)
        if at is None or at >= len(row):
            return None
        value = " ".join(row[at].split())
        return value or None

    entries = []
    accounts = set()
    for row in reader:
        if not any(c.strip() for c in row):
            continue
        booked = cell(row, "booking_date")
        amount = cell(row, "amount")
        if booked is None or amount is None:
            raise BankStatementError(f"CSV-Zeile ohne Buchungstag oder Betrag: {';'.join(row)!r}")
        valued = cell(row, "value_date")
        if cell(row, "account"):
            accounts.add(normalise_iban(cell(row, "account") or ""))
        entries.append(
            BankEntry(
                booking_date=german_date(booked),
                value_date=german_date(valued) if valued else None,
                amount=german_amount(amount),
                currency=(cell(row, "currency") or "EUR").upper(),
                counterparty_name=cell(row, "name"),
                counterparty_iban=_iban(cell(row, "iban")),
                remittance=cell(row, "remittance") or "",
                end_to_end_id=None,
                bank_reference=cell(row, "reference"),
            )
        )
    return BankStatement(
        statement_id=None,
        account_iban=accounts.pop() if len(accounts) == 1 else None,
        entries=tuple(entries),
        source_format="csv",
    )
