"""Reading bank statements: CAMT.053 in all supported versions, CSV, and hostile input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from backoffice.followups.bank import (
    BankStatementError,
    german_amount,
    parse_camt053,
    parse_csv,
    parse_statement,
)
from backoffice.samples.camt import NAMESPACE, BatchSpec, EntrySpec, make_camt053

ACCOUNT = "DE02120300000000202051"
CUSTOMER = "DE89370400440532013000"
SUPPLIER = "DE75512108001245126199"


def sample() -> bytes:
    return make_camt053(
        ACCOUNT,
        [
            EntrySpec(
                date(2025, 3, 3),
                Decimal("119.00"),
                "Kunde GmbH",
                CUSTOMER,
                "Rechnung RE-1001 vom 01.03.2025",
                end_to_end_id="E2E-1",
                bank_reference="BANKREF-1",
                value_date=date(2025, 3, 4),
            ),
            EntrySpec(
                date(2025, 3, 4),
                Decimal("-59.50"),
                "Bürobedarf Müller",
                SUPPLIER,
                "Kd 77 " + "x" * 150,
                creditor_reference="RF18539007547034",
            ),
            BatchSpec(
                date(2025, 3, 5),
                (
                    EntrySpec(date(2025, 3, 5), Decimal("-10.00"), "Lieferant A", SUPPLIER, "R 1"),
                    EntrySpec(date(2025, 3, 5), Decimal("-20.00"), "Lieferant B", None, "R 2"),
                ),
                bank_reference="BATCH-9",
            ),
        ],
        statement_id="2025-03",
        opening_balance=Decimal("1000.00"),
    )


def test_generated_statement_reads_back() -> None:
    (statement,) = parse_statement(sample())
    assert statement.statement_id == "2025-03"
    assert statement.account_iban == ACCOUNT
    assert statement.source_format == "camt.053.001.02"
    credit, debit, batch_a, batch_b = statement.entries

    assert credit.amount == Decimal("119.00") and credit.is_credit
    assert (credit.booking_date, credit.value_date) == (date(2025, 3, 3), date(2025, 3, 4))
    assert (credit.counterparty_name, credit.counterparty_iban) == ("Kunde GmbH", CUSTOMER)
    assert credit.remittance == "Rechnung RE-1001 vom 01.03.2025"
    assert (credit.end_to_end_id, credit.bank_reference) == ("E2E-1", "BANKREF-1")

    # Debits name the creditor; long remittance comes in 140-character lines joined again.
    assert debit.amount == Decimal("-59.50") and not debit.is_credit
    assert (debit.counterparty_name, debit.counterparty_iban) == ("Bürobedarf Müller", SUPPLIER)
    assert debit.remittance.startswith("Kd 77 xxx") and debit.remittance.endswith(
        "RF18539007547034"
    )
    assert debit.references == ("RF18539007547034",)
    assert debit.end_to_end_id is None  # NOTPROVIDED is no reference

    # A batch with amounts per transaction becomes one entry per transaction.
    assert [e.amount for e in (batch_a, batch_b)] == [Decimal("-10.00"), Decimal("-20.00")]
    assert [e.counterparty_name for e in (batch_a, batch_b)] == ["Lieferant A", "Lieferant B"]
    assert statement.entry_keys()[2:] == ["BATCH-9-1", "BATCH-9-2"]


def test_generator_is_deterministic_and_balances() -> None:
    data = sample()
    assert data == sample()
    root = etree.fromstring(data)
    ns = {"c": NAMESPACE}
    balances = {
        bal.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns): bal.findtext("c:Amt", namespaces=ns)
        for bal in root.iterfind(".//c:Bal", ns)
    }
    assert balances == {"OPBD": "1000.00", "CLBD": "1029.50"}


def _camt(version: str, *, modern: bool) -> bytes:
    """The same credit and debit as a version-specific document (later versions' spellings)."""
    status = "<Sts><Cd>BOOK</Cd></Sts>" if modern else "<Sts>BOOK</Sts>"

    def party(tag: str, name: str) -> str:
        return (
            f"<{tag}><Pty><Nm>{name}</Nm></Pty></{tag}>"
            if modern
            else f"<{tag}><Nm>{name}</Nm></{tag}>"
        )

    def tx_amount(value: str) -> str:
        return f'<Amt Ccy="EUR">{value}</Amt>' if modern else ""

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2025-04-01T06:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>ST-{version}</Id><CreDtTm>2025-04-01T06:00:00</CreDtTm>
   <Acct><Id><IBAN>{ACCOUNT}</IBAN></Id></Acct>
   <Ntry><Amt Ccy="EUR">250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>{status}
    <BookgDt><DtTm>2025-03-31T10:15:00</DtTm></BookgDt><ValDt><Dt>2025-03-31</Dt></ValDt>
    <AcctSvcrRef>R-{version}-1</AcctSvcrRef>
    <NtryDtls><TxDtls>{tx_amount("250.00")}
     <RltdPties>{party("Dbtr", "Kunde AG")}<DbtrAcct><Id><IBAN>{CUSTOMER}</IBAN></Id></DbtrAcct>
      {party("Cdtr", "Wir selbst")}</RltdPties>
     <RmtInf><Ustrd>RE 2025-17</Ustrd><Ustrd>Danke</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="EUR">80.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>{status}
    <BookgDt><Dt>2025-03-31</Dt></BookgDt>
    <NtryDtls><TxDtls>
     <RltdPties>{party("Dbtr", "Wir selbst")}{party("Cdtr", "Stadtwerke")}
      <CdtrAcct><Id><IBAN>{SUPPLIER}</IBAN></Id></CdtrAcct></RltdPties>
     <RmtInf><Strd><RfrdDocInf><Nb>SW-4711</Nb></RfrdDocInf></Strd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    {"<Sts><Cd>PDNG</Cd></Sts>" if modern else "<Sts>PDNG</Sts>"}
    <BookgDt><Dt>2025-04-01</Dt></BookgDt>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()


@pytest.mark.parametrize("version", ["02", "03", "04", "05", "06", "07", "08"])
def test_all_supported_namespaces(version: str) -> None:
    (statement,) = parse_camt053(_camt(version, modern=version >= "07"))
    assert statement.source_format == f"camt.053.001.{version}"
    credit, debit = statement.entries  # the pending entry is not a payment yet
    assert (credit.amount, credit.booking_date) == (Decimal("250.00"), date(2025, 3, 31))
    assert (credit.counterparty_name, credit.counterparty_iban) == ("Kunde AG", CUSTOMER)
    assert credit.remittance == "RE 2025-17 Danke"
    assert (debit.amount, debit.counterparty_name) == (Decimal("-80.00"), "Stadtwerke")
    assert debit.counterparty_iban == SUPPLIER
    assert debit.references == ("SW-4711",)
    assert debit.bank_reference is None
    # No bank reference: the key is a content fingerprint, stable across parses.
    assert (
        statement.entry_keys()
        == parse_camt053(_camt(version, modern=version >= "07"))[0].entry_keys()
    )
    assert statement.entry_keys()[1] != statement.entry_keys()[0]


def test_identical_entries_in_one_statement_stay_two_payments() -> None:
    twice = [EntrySpec(date(2025, 5, 2), Decimal("-9.99"), "Abo GmbH", SUPPLIER, "Abo Mai")] * 2
    data = make_camt053(ACCOUNT, twice, statement_id="S")
    plain = data.replace(b"<AcctSvcrRef>", b"<!--").replace(b"</AcctSvcrRef>", b"-->")
    (statement,) = parse_camt053(plain)
    keys = statement.entry_keys()
    assert len(keys) == 2 and len(set(keys)) == 2


def test_batch_without_transaction_amounts_stays_one_entry() -> None:
    data = make_camt053(
        ACCOUNT,
        [
            BatchSpec(
                date(2025, 5, 2),
                (
                    EntrySpec(date(2025, 5, 2), Decimal("1.00"), "A", None, "RE-1"),
                    EntrySpec(date(2025, 5, 2), Decimal("2.00"), "B", None, "RE-2"),
                ),
                bank_reference="B1",
            )
        ],
        statement_id="S",
    )
    root = etree.fromstring(data)
    for node in root.iterfind(f".//{{{NAMESPACE}}}TxDtls/{{{NAMESPACE}}}AmtDtls"):
        node.getparent().remove(node)
    (statement,) = parse_camt053(etree.tostring(root))
    (entry,) = statement.entries
    assert (entry.amount, entry.remittance, entry.bank_reference) == (
        Decimal("3.00"),
        "RE-1 RE-2",
        "B1",
    )


def test_reversal_is_flagged() -> None:
    data = sample().replace(
        b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>",
        b"<CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd><Sts>",
        1,
    )
    (statement,) = parse_camt053(data)
    assert statement.entries[0].reversal
    assert not statement.entries[1].reversal


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_hostile_xml_is_refused(data: bytes) -> None:
    with pytest.raises(BankStatementError, match="DOCTYPE"):
        parse_statement(data)


def test_hostile_xml_in_utf16_is_refused_too() -> None:
    """The byte check cannot see a UTF-16 DOCTYPE; the parsed document's check still does."""
    data = EXTERNAL_ENTITY.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    encoded = data.encode("utf-16")
    assert b"<!DOCTYPE" not in encoded
    with pytest.raises(BankStatementError, match="DOCTYPE"):
        parse_statement(encoded)


def test_parser_itself_expands_no_entities() -> None:
    """Defence in depth: even past the DOCTYPE check, the parser resolves nothing."""
    from backoffice.followups.bank import _parser

    root = etree.fromstring(EXTERNAL_ENTITY, parser=_parser())
    assert "root:" not in etree.tostring(root).decode()
    try:
        expanded = etree.tostring(etree.fromstring(BILLION_LAUGHS, parser=_parser()))
    except etree.XMLSyntaxError:  # newer libxml2 refuses the amplification outright
        return
    assert b"lollol" not in expanded


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Document><unclosed></Document>", "Kein gültiges XML"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"/>',
            "Keine CAMT.053",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><x/></Document>',
            "Keine CAMT.053",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.09"/>',
            "Keine CAMT.053",
        ),
        (b"<Rechnung/>", "Keine CAMT.053"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/>'
            b"</Document>",
            "keinen Kontoauszug",
        ),
        (b"", "leer"),
        (b"%PDF-1.7 binary", "Keine Kontoumsatz-CSV"),
    ],
)
def test_not_a_statement(data: bytes, message: str) -> None:
    with pytest.raises(BankStatementError, match=message):
        parse_statement(data)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b'Ccy="EUR">119.00<', b'Ccy="EUR">viel<', "Ungültiger Betrag"),
        (b'Ccy="EUR">119.00<', b'Ccy="EUR">-119.00<', "Ungültiger Betrag"),
        (b"CRDT</CdtDbtInd>\n        <Sts>", b"PLUS</CdtDbtInd><Sts>", "Soll/Haben"),
        (b"<Dt>2025-03-03</Dt>\n        </BookgDt>", b"<Dt>3.3.25</Dt></BookgDt>", "Datum"),
    ],
)
def test_malformed_entries(old: bytes, new: bytes, message: str) -> None:
    data = sample()
    assert old in data
    with pytest.raises(BankStatementError, match=message):
        parse_camt053(data.replace(old, new, 1))


CSV = "\n".join(
    [
        '"Umsätze Girokonto";"Zeitraum: 01.03.2025 - 31.03.2025"',
        "",
        "Bezeichnung Auftragskonto;IBAN Auftragskonto;Buchungstag;Valutadatum;"
        "Name Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;Verwendungszweck;Betrag;Währung",
        "Girokonto;DE02 1203 0000 0000 2020 51;03.03.2025;04.03.2025;Kunde GmbH;"
        'DE89 3704 0044 0532 0130 00;"Rechnung RE-1001; danke";1.190,00;EUR',
        "Girokonto;DE02 1203 0000 0000 2020 51;05.03.25;05.03.25;Bürobedarf Müller;"
        "DE75512108001245126199;Kd 77 RE 55;-59,50;EUR",
        "",
    ]
)


def test_csv_with_german_numbers_and_preamble() -> None:
    for encoding in ("utf-8", "cp1252"):
        (statement,) = parse_statement(CSV.encode(encoding))
        assert statement.source_format == "csv"
        assert statement.account_iban == ACCOUNT
        first, second = statement.entries
        assert (first.amount, first.booking_date, first.value_date) == (
            Decimal("1190.00"),
            date(2025, 3, 3),
            date(2025, 3, 4),
        )
        assert (first.counterparty_name, first.counterparty_iban) == ("Kunde GmbH", CUSTOMER)
        assert first.remittance == "Rechnung RE-1001; danke"
        assert (second.amount, second.booking_date) == (Decimal("-59.50"), date(2025, 3, 5))
        assert second.counterparty_name == "Bürobedarf Müller"


def test_csv_errors() -> None:
    with pytest.raises(BankStatementError, match="Ungültiger Betrag"):
        parse_csv(b"Buchungstag;Betrag\n01.01.2025;zwei Euro\n")
    with pytest.raises(BankStatementError, match="Datum"):
        parse_csv(b"Buchungstag;Betrag\n2025/13/01;1,00\n")
    assert german_amount("12,50-") == Decimal("-12.50")
