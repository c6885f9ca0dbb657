"""Reading bank statements: CAMT.053 (ISO 20022), SWIFT MT940 and the banks' CSV exports.

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

MT940 (the "STA" files many German banks still deliver) is read by a small parser of its own:
no MT940 library is part of the locked environment, and the subset needed here (the fields of
one statement and the German structured ``:86:`` of the DFÜ-Abkommen) is small enough to read
strictly, refusing anything that does not fit instead of guessing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
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
    """``camt.053.001.02`` … ``camt.053.001.08``, ``mt940`` or ``csv``."""

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
    """Read a bank statement file of any supported format (CAMT.053 XML, MT940 or CSV).

    The format is told from the content, not the file name: uploads and mail attachments come
    with whatever name the bank or the client gave them.
    """
    if len(data) > MAX_STATEMENT_BYTES:
        raise BankStatementError("Datei ist zu groß für einen Kontoauszug.")
    if _looks_like_xml(data):
        return parse_camt053(data)
    if not data.strip():
        raise BankStatementError("Datei ist leer.")
    if _looks_like_mt940(data):
        return parse_mt940(data)
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


# --------------------------------------------------------------------------- MT940

_MT940_TAG = re.compile(r":([0-9]{2}[A-Z]?|NS):")
"""A field starts at the beginning of a line (``:61:``; ``:NS:`` is a bank's own field)."""
_MT940_HEAD = re.compile(r":(?:20|25|28C?|60[FM]|61|86|62[FM]):")
_MT940_AMOUNT = re.compile(r"[0-9]{1,12},[0-9]{0,2}")
_MT940_BALANCE = re.compile(
    r"(?P<mark>[CD])(?P<date>[0-9]{6})(?P<currency>[A-Z]{3})(?P<amount>[0-9][0-9,.]*)"
)
_MT940_LINE = re.compile(
    r"(?P<value>[0-9]{6})(?P<entry>[0-9]{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z]?)"
    r"(?P<amount>[0-9,.]*)(?P<rest>.*)"
)
_MT940_TYPE = re.compile(r"[NFS][A-Z0-9]{3}")
_MT940_STRUCTURED = re.compile(r"([0-9]{3})([^A-Za-z0-9\s])")
_MT940_SUBFIELD = re.compile(r"[0-9]{2}")
_MT940_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SEPA_TAG = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|PURP)\+")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_MT940_PIECE = 27
"""Width of a ``?20``–``?29``/``?32``–``?33`` subfield; a full piece was cut, not ended."""
_PURPOSE_CODES = [f"{n}" for n in range(20, 30)] + [f"{n}" for n in range(60, 64)]


def _looks_like_mt940(data: bytes) -> bool:
    """Whether one of the first lines is an MT940 field (``:20:``, ``:25:`` …).

    A CSV export never starts a line with such a tag, and looking a few lines down (instead
    of at the very first byte) lets bank header lines or a SWIFT ``{1:…}`` block precede it.
    Any MT940 tag counts, not only ``:20:``, so that a file missing its ``:20:`` is refused
    as a broken MT940 file rather than as an unrecognised CSV.
    """
    head = data[:4096].removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    lines = [line.strip() for line in head.replace("\r", "\n").split("\n") if line.strip()]
    return any(_MT940_HEAD.match(line) for line in lines[:5])


def _mt940_text(data: bytes) -> str:
    """The file as text with LF line ends: UTF-8 if it is valid UTF-8, else ISO-8859-1.

    Windows-1252 is tried before ISO-8859-1 because banks labelled "ISO-8859-1" often mean
    it; the two agree on every letter an MT940 file may contain. Control characters have no
    place in a statement (and would end up in the catalog), so a file with any is refused;
    only the DOS end-of-file mark some bank software still appends is dropped.
    """
    data = data.removeprefix(b"\xef\xbb\xbf")
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\x1a\n ")
    bad = _MT940_CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise BankStatementError(
            f"MT940-Datei enthält ein Steuerzeichen (Zeile {line}); keine gültige Datei."
        )
    return text


def parse_mt940(data: bytes) -> list[BankStatement]:
    """Parse a SWIFT MT940 file (one or more statements) as German banks deliver it.

    Statements are split at every ``:20:``; the ``-`` end-of-message lines and SWIFT block
    headers are optional (banks differ). Each statement must add up: opening balance plus
    entries must give the closing balance, so a truncated or garbled file is refused instead
    of half-imported.
    """
    if len(data) > MAX_STATEMENT_BYTES:
        raise BankStatementError("Datei ist zu groß für einen Kontoauszug.")
    fields = _mt940_fields(_mt940_text(data))
    groups: list[list[tuple[str, str]]] = []
    for tag, content in fields:
        if tag == "20":
            groups.append([])
        elif not groups:
            raise BankStatementError(
                f"MT940-Datei ohne Auftragsreferenz (:20:) vor dem Feld :{tag}:."
            )
        groups[-1].append((tag, content))
    if not groups:
        raise BankStatementError("MT940-Datei enthält keinen Kontoauszug (Feld :20: fehlt).")
    statements = [_mt940_statement(group) for group in groups]
    return _without_repeated_references(statements)


def _mt940_fields(text: str) -> list[tuple[str, str]]:
    """The file's fields in order as (tag, content); continuation lines joined with LF."""
    fields: list[list[str]] = []
    current: list[str] | None = None
    for raw in text.split("\n"):
        line = raw.lstrip()
        if line.startswith("{"):
            # SWIFT envelope: "{1:…}{2:…}{4:" before the message text, "-}" after it.
            _, found, after = line.rpartition("{4:")
            current = None
            if not found or not after.strip():
                continue
            line = after.lstrip()
        if line.rstrip() == "-" or line.startswith("-}"):
            current = None  # end of message
            continue
        match = _MT940_TAG.match(line)
        if match:
            current = [match.group(1), line[match.end() :]]
            fields.append(current)
        elif current is not None:
            current[1] += "\n" + raw
        # Lines outside any field are bank header lines before a message (ignored).
    return [(tag, content) for tag, content in fields]


@dataclass(frozen=True)
class _Balance:
    amount: Decimal
    currency: str
    on: date


def _mt940_amount(raw: str, where: str) -> Decimal:
    if not _MT940_AMOUNT.fullmatch(raw):
        raise BankStatementError(f"Ungültiger Betrag in {where}: {raw[:40]!r}")
    return Decimal(raw.replace(",", ".")).quantize(Decimal("0.01"))


def _mt940_date(raw: str, where: str) -> date:
    """``YYMMDD``; MT940 has no century, and every statement read here is from this one."""
    try:
        return date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError as exc:
        raise BankStatementError(f"Ungültiges Datum in {where}: {raw!r}") from exc


def _entry_date(mmdd: str, value_date: date) -> date:
    """The booking date (``MMDD``) in the year that puts it closest to the value date.

    A payment valued on 31 December may be booked on 2 January and vice versa; taking the
    value date's year blindly would move it by a whole year.
    """
    month, day = int(mmdd[:2]), int(mmdd[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise BankStatementError(f"Ungültiges Buchungsdatum in Umsatzzeile (:61:): {mmdd!r}")
    return min(candidates, key=lambda d: abs((d - value_date).days))


def _mt940_balance(tag: str, content: str) -> _Balance:
    match = _MT940_BALANCE.fullmatch(content.strip())
    if match is None:
        raise BankStatementError(f"Ungültiger Saldo (:{tag}:): {content.strip()[:40]!r}")
    amount = _mt940_amount(match["amount"], f"Saldo :{tag}:")
    return _Balance(
        amount=amount if match["mark"] == "C" else -amount,
        currency=match["currency"],
        on=_mt940_date(match["date"], f"Saldo :{tag}:"),
    )


def _valid_iban(value: str) -> bool:
    """Shape and ISO 7064 check digits: refuses account numbers and garbled IBANs alike."""
    if not _IBAN_SHAPE.fullmatch(value):
        return False
    digits = "".join(str(int(c, 36)) for c in value[4:] + value[:4])
    return int(digits) % 97 == 1


def _german_iban(blz: str, account: str) -> str | None:
    """The IBAN of a German BLZ/Kontonummer by the standard rule (DE, check digits, BBAN).

    A few banks have their own conversion rules; for them the result does not match the
    client's IBAN and the import says so, which is the right thing to look at anyway.
    """
    if len(blz) != 8 or not blz.isascii() or not blz.isdigit():
        return None
    if not account.isascii() or not account.isdigit() or len(account) > 10 or not int(account):
        return None
    bban = blz + account.zfill(10)
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


def _mt940_account(content: str) -> str | None:
    """``:25:`` as an IBAN: IBAN, BIC/IBAN or BLZ/Kontonummer, optionally with currency."""
    value = "".join(content.split()).upper()
    if not value:
        raise BankStatementError("MT940-Kontoauszug mit leerer Kontobezeichnung (:25:).")
    candidates = [value, value.rpartition("/")[2]]
    candidates += [c[:-3] for c in candidates if len(c) > 3 and c[-3:].isalpha()]
    for candidate in candidates:
        if _valid_iban(candidate):
            return candidate
    blz, slash, account = value.partition("/")
    if slash:
        if len(account) > 3 and account[-3:].isalpha():
            account = account[:-3]
        return _german_iban(blz, account)
    return None


def _mt940_statement(fields: list[tuple[str, str]]) -> BankStatement:
    reference = " ".join(fields[0][1].split())
    if not reference:
        raise BankStatementError("MT940-Kontoauszug mit leerer Auftragsreferenz (:20:).")
    accounts = [content for tag, content in fields if tag == "25"]
    if len(accounts) != 1:
        raise BankStatementError(
            f"MT940-Kontoauszug {reference}: erwartet genau eine Kontobezeichnung (:25:), "
            f"gefunden {len(accounts)}."
        )
    account = _mt940_account(accounts[0])
    balances: dict[str, _Balance] = {}
    lines: list[tuple[str, str | None]] = []
    for tag, content in fields[1:]:
        if tag in ("60F", "60M", "62F", "62M"):
            kind = tag[:2]
            if kind in balances:
                raise BankStatementError(
                    f"MT940-Kontoauszug {reference}: Saldo :{kind}: mehrfach angegeben."
                )
            balances[kind] = _mt940_balance(tag, content)
        elif tag == "61":
            lines.append((content, None))
        elif tag == "86" and lines and lines[-1][1] is None:
            lines[-1] = (lines[-1][0], content)
        # :86: after the closing balance, :64:, :65:, :NS: … carry nothing booked.
    opening, closing = balances.get("60"), balances.get("62")
    stated = opening or closing
    currency = stated.currency if stated else "EUR"
    entries = tuple(_mt940_entry(line, info, currency) for line, info in lines)
    if opening and closing:
        if opening.currency != closing.currency:
            raise BankStatementError(
                f"MT940-Kontoauszug {reference}: Anfangs- und Schlusssaldo in "
                f"verschiedenen Währungen ({opening.currency}/{closing.currency})."
            )
        total = opening.amount + sum((e.amount for e in entries), Decimal(0))
        if total != closing.amount:
            raise BankStatementError(
                f"MT940-Kontoauszug {reference}: Anfangssaldo {opening.amount} und Umsätze "
                f"ergeben {total}, nicht den Schlusssaldo {closing.amount}; Datei unvollständig?"
            )
    number = next((" ".join(c.split()) for t, c in fields if t in ("28C", "28")), None)
    return BankStatement(
        statement_id=f"{reference} {number}" if number else reference,
        account_iban=account,
        entries=entries,
        source_format="mt940",
    )


def _mt940_entry(line: str, info: str | None, currency: str) -> BankEntry:
    """One ``:61:`` statement line with its ``:86:`` details, signed like a CAMT entry."""
    first, _, supplementary = line.partition("\n")
    if "\n" in supplementary:
        raise BankStatementError(
            f"Ungültige Umsatzzeile (:61:) mit mehr als zwei Zeilen: {first.strip()[:40]!r}"
        )
    match = _MT940_LINE.fullmatch(first.strip())
    if match is None:
        raise BankStatementError(f"Ungültige Umsatzzeile (:61:): {first.strip()[:40]!r}")
    value_date = _mt940_date(match["value"], "Umsatzzeile (:61:)")
    booking = _entry_date(match["entry"], value_date) if match["entry"] else value_date
    amount = _mt940_amount(match["amount"], "Umsatzzeile (:61:)")
    rest = match["rest"]
    if not _MT940_TYPE.fullmatch(rest[:4]):
        raise BankStatementError(
            f"Umsatzzeile (:61:) ohne gültigen Buchungsschlüssel (N…): {first.strip()[:40]!r}"
        )
    _, _, bank_ref = rest[4:].partition("//")
    bank_reference = " ".join(bank_ref.split()) or None
    if bank_reference and bank_reference.upper() == "NONREF":
        bank_reference = None
    mark = match["mark"]
    # RC is the reversal of a credit (money leaves), RD the reversal of a debit.
    sign = Decimal(1) if mark in ("C", "RD") else Decimal(-1)
    credit = sign > 0
    tx = _mt940_details(info or "", credit)
    remittance = " ".join(tx.lines) or " ".join(supplementary.split())
    return BankEntry(
        booking_date=booking,
        value_date=value_date,
        amount=sign * amount,
        currency=currency,
        counterparty_name=tx.name,
        counterparty_iban=tx.iban,
        remittance=remittance,
        end_to_end_id=tx.end_to_end_id,
        bank_reference=bank_reference,
        reversal=mark in ("RC", "RD"),
    )


def _joined(pieces: Iterable[str]) -> str:
    """Subfield pieces as one text: a full piece was cut mid-text, a shorter one ended."""
    text = ""
    previous = ""
    for piece in pieces:
        if text and len(previous) < _MT940_PIECE:
            text += " "
        text += piece
        previous = piece
    return " ".join(text.split())


def _sepa_tags(text: str) -> dict[str, str]:
    """``EREF+…``, ``SVWZ+…`` … in a purpose text; the first occurrence of each tag counts."""
    found = list(_SEPA_TAG.finditer(text))
    tags: dict[str, str] = {}
    for n, match in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(text)
        tags.setdefault(match.group(1), " ".join(text[match.end() : end].split()))
    return tags


def _mt940_details(info: str, credit: bool) -> _Tx:
    """The ``:86:`` field: German structured form (``GVC?00…?20…``) or free text."""
    subfields: dict[str, list[str]] = {}
    structured = _MT940_STRUCTURED.match(info)
    if structured:
        # Lines of :86: are cut at 65 characters regardless of subfields: join them directly.
        separator = structured.group(2)
        body = info[structured.end() :].replace("\n", "")
        last: str | None = None
        for piece in body.split(separator):
            code = piece[:2]
            if _MT940_SUBFIELD.fullmatch(code):
                subfields.setdefault(code, []).append(piece[2:])
                last = code
            elif last is not None:
                subfields[last][-1] += separator + piece
        purpose = _joined(p for code in _PURPOSE_CODES for p in subfields.get(code, []))
    else:
        purpose = " ".join(info.split())

    def sub(code: str) -> str | None:
        value = " ".join("".join(subfields.get(code, [])).split())
        return value or None

    tags = _sepa_tags(purpose)
    remittance = tags.get("SVWZ") or purpose or sub("00") or ""
    name = _joined([*subfields.get("32", []), *subfields.get("33", [])]) or tags.get(
        "ABWA" if credit else "ABWE"
    )
    iban = None
    for candidate in (sub("31"), sub("38"), tags.get("IBAN")):
        if candidate and _valid_iban(normalise_iban(candidate)):
            iban = normalise_iban(candidate)
            break
    if iban is None and sub("30") and sub("31"):
        iban = _german_iban(sub("30") or "", sub("31") or "")
    end_to_end = tags.get("EREF")
    if end_to_end and end_to_end.upper() == "NOTPROVIDED":
        end_to_end = None
    return _Tx(
        name=name or None,
        iban=iban,
        lines=[remittance] if remittance else [],
        end_to_end_id=end_to_end or None,
    )


def _without_repeated_references(statements: list[BankStatement]) -> list[BankStatement]:
    """Drop bank references that occur more than once in the file.

    The ``//`` reference of a ``:61:`` line is unique per entry at most banks, but some fill
    in a constant; used as the entry's key it would make the import skip every payment after
    the first as already known. Without it the entry is keyed by its fingerprint instead.
    """
    counts = Counter(e.bank_reference for s in statements for e in s.entries if e.bank_reference)
    if all(n == 1 for n in counts.values()):
        return statements
    return [
        replace(
            s,
            entries=tuple(
                replace(e, bank_reference=None)
                if e.bank_reference and counts[e.bank_reference] > 1
                else e
                for e in s.entries
            ),
        )
        for s in statements
    ]
