"""Reading MT940 (STA) statements: German structured ``:86:``, several statements, encodings,
malformed files, mutated bytes, and an MT940 statement reconciling an open payable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from backoffice.config import Settings
from backoffice.followups.bank import (
    BankStatement,
    BankStatementError,
    parse_mt940,
    parse_statement,
)
from backoffice.followups.reconcile import import_statement
from backoffice.models import FollowUpStatus
from tests.unit.followups.bank_world import (
    ACCOUNT,
    CUSTOMER_IBAN,
    OTHER_SUPPLIER_IBAN,
    SUPPLIER_IBAN,
    build_ledger,
)

D = Decimal

# ACCOUNT is BLZ 12030000, Kontonummer 202051; SUPPLIER_IBAN is BLZ 51210800, Kto 1245126199.
# :86: lines are cut at 65 characters wherever that falls, as banks do.
YEAR_END = "\n".join(
    [
        ":20:STARTUMSE",
        ":25:12030000/0000202051",
        ":28C:00001/001",
        ":60F:C241230EUR1000,00",
        ":61:2412301230CR119,00NTRFNONREF//BANKREF-1",
        "SEPA GUTSCHRIFT",
        ":86:166?00SEPA-UEBERWEISUNG?109310?20EREF+RE-2024-0042?21SVWZ+Rechn",
        "ung Nr RE-2024-00?2242 vom 01.12.2024?30COBADEFFXXX?31DE893704004405",
        "32013000?32Kunde GmbH",
        ":61:2412301230DR59,50NTRFNONREF//BANKREF-2",
        ":86:020?00UEBERWEISUNG?100599?20Kd 77?21RE 55 Buerobedarf?305121080",
        "0?311245126199?32Bürobedarf Müller GmbH",
        ":61:2412311231DR42,00NDDTSTROM-2024-12//BANKREF-3",
        ":86:105?00SEPA-BASISLASTSCHRIFT?109248?20EREF+STROM-2024-12?21MREF+M",
        "-4711?22CRED+DE98ZZZ09999999999?23SVWZ+Abschlag Dezember 2024?30PB",
        "NKDEFFXXX?31DE12500105170648489890?32Stadtwerke Beispielstadt?33Gmb",
        "H",
        ":61:2412310102CR250,00NTRFNONREF//BANKREF-4",
        ":86:166?00SEPA-UEBERWEISUNG?20EREF+NOTPROVIDED?21SVWZ+Miete Januar?22",
        "ABWA+Hausverwaltung Klein?23IBAN+DE89 3704 0044 0532 0130 00",
        ":62F:C241231EUR1267,50",
        "-",
    ]
)

NEW_YEAR = "\r\n".join(
    [
        ":20:STARTUMSE",
        ":25:DE02120300000000202051",
        ":28C:00002/001",
        ":60F:C241231EUR1267,50",
        ":61:2501021231CR10,00NMSCNONREF",
        ":86:166?00GUTSCHRIFT?20Erstattung Porto",
        ":61:250103RC10,00NMSCNONREF//STORNO-1",
        ":86:166?00STORNO?20Erstattung Porto",
        ":61:250103D0,50NCHGNONREF",
        ":86:805?00ENTGELT",
        ":62F:C250103EUR1267,00",
        "-",
        "",
    ]
)


def test_realistic_statement() -> None:
    (statement,) = parse_statement(YEAR_END.encode())
    assert statement.source_format == "mt940"
    assert statement.statement_id == "STARTUMSE 00001/001"
    assert statement.account_iban == ACCOUNT  # computed from BLZ/Kontonummer
    credit, debit, direct_debit, rollover = statement.entries

    # A credit with SEPA tags: remittance is SVWZ (cut mid-number at 27 characters, joined).
    assert (credit.amount, credit.currency) == (D("119.00"), "EUR") and credit.is_credit
    assert (credit.booking_date, credit.value_date) == (date(2024, 12, 30), date(2024, 12, 30))
    assert (credit.counterparty_name, credit.counterparty_iban) == ("Kunde GmbH", CUSTOMER_IBAN)
    assert credit.remittance == "Rechnung Nr RE-2024-0042 vom 01.12.2024"
    assert (credit.end_to_end_id, credit.bank_reference) == ("RE-2024-0042", "BANKREF-1")
    assert not credit.reversal

    # Old-style ?-subfields: purpose lines joined with a space, IBAN from BLZ and Kontonummer.
    assert debit.amount == D("-59.50") and not debit.is_credit
    assert (debit.counterparty_name, debit.counterparty_iban) == (
        "Bürobedarf Müller GmbH",
        SUPPLIER_IBAN,
    )
    assert debit.remittance == "Kd 77 RE 55 Buerobedarf"
    assert debit.end_to_end_id is None

    # A Lastschrift: the creditor's name continues in ?33 after a short ?32.
    assert direct_debit.amount == D("-42.00")
    assert direct_debit.counterparty_name == "Stadtwerke Beispielstadt GmbH"
    assert direct_debit.counterparty_iban == OTHER_SUPPLIER_IBAN
    assert direct_debit.remittance == "Abschlag Dezember 2024"
    assert direct_debit.end_to_end_id == "STROM-2024-12"

    # Valued on 31 December, booked on 2 January: the booking date is in the next year.
    assert (rollover.value_date, rollover.booking_date) == (date(2024, 12, 31), date(2025, 1, 2))
    assert rollover.amount == D("250.00")
    assert (rollover.counterparty_name, rollover.counterparty_iban) == (
        "Hausverwaltung Klein",
        CUSTOMER_IBAN,
    )
    assert rollover.remittance == "Miete Januar"
    assert rollover.end_to_end_id is None  # NOTPROVIDED
    assert statement.entry_keys() == ["BANKREF-1", "BANKREF-2", "BANKREF-3", "BANKREF-4"]


def test_two_statements_in_one_file_with_crlf() -> None:
    data = (YEAR_END.replace("\n", "\r\n") + "\r\n" + NEW_YEAR).encode()
    first, second = parse_statement(data)
    assert len(first.entries) == 4
    assert second.statement_id == "STARTUMSE 00002/001"
    assert second.account_iban == ACCOUNT
    back, reversal, fee = second.entries
    # Valued on 2 January, booked on 31 December: the booking date is in the year before.
    assert (back.value_date, back.booking_date) == (date(2025, 1, 2), date(2024, 12, 31))
    assert back.remittance == "Erstattung Porto"
    # RC reverses a credit: money leaves the account.
    assert (reversal.amount, reversal.reversal, reversal.bank_reference) == (
        D("-10.00"),
        True,
        "STORNO-1",
    )
    assert reversal.booking_date == reversal.value_date == date(2025, 1, 3)
    # No purpose at all: the Buchungstext stands in, and without a bank reference the entry
    # is keyed by its fingerprint like a CSV entry.
    assert (fee.amount, fee.remittance, fee.bank_reference) == (D("-0.50"), "ENTGELT", None)
    assert second.entry_keys()[2] == fee.fingerprint(ACCOUNT)


def test_without_end_of_message_lines_and_with_swift_envelope() -> None:
    plain = YEAR_END.removesuffix("\n-") + "\n" + NEW_YEAR.replace("\r\n-\r\n", "")
    assert [len(s.entries) for s in parse_mt940(plain.encode())] == [4, 3]
    enveloped = "{1:F01COBADEFFAXXX0000000000}{2:O940}{4:\n" + YEAR_END + "}\n"
    (statement,) = parse_statement(enveloped.encode())
    assert len(statement.entries) == 4


def test_latin1_and_utf8_read_the_same() -> None:
    latin1 = parse_statement(YEAR_END.encode("latin-1"))
    utf8 = parse_statement(("\ufeff" + YEAR_END).encode("utf-8"))
    assert latin1 == utf8
    assert latin1[0].entries[1].counterparty_name == "Bürobedarf Müller GmbH"


def test_repeated_bank_reference_is_not_used_as_key() -> None:
    data = YEAR_END.replace("//BANKREF-2", "//BANKREF-1").encode()
    (statement,) = parse_statement(data)
    first, second = statement.entries[:2]
    assert first.bank_reference is None and second.bank_reference is None
    keys = statement.entry_keys()
    assert len(set(keys)) == 4 and keys[0] == first.fingerprint(ACCOUNT)


def test_detection_leaves_csv_and_camt_alone() -> None:
    csv = b"Buchungstag;Betrag\n01.03.2025;1,00\n"
    assert parse_statement(csv)[0].source_format == "csv"
    header = b"ABNANL2A\r\n940\r\nABNANL2A\r\n"
    assert parse_statement(header + YEAR_END.encode())[0].source_format == "mt940"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (":20:STARTUMSE\n", "", "ohne Auftragsreferenz"),
        (":20:STARTUMSE", ":20: ", "leerer Auftragsreferenz"),
        (":25:12030000/0000202051\n", "", "genau eine Kontobezeichnung"),
        (":61:2412301230CR119,00", ":61:2413301230CR119,00", "Ungültiges Datum"),
        (":61:2412301230CR119,00", ":61:2412301230XR119,00", "Ungültige Umsatzzeile"),
        (":61:2412301230CR119,00", ":61:2412301230CR1.119,00", "Ungültiger Betrag"),
        (":61:2412301230CR119,00", ":61:2412301230CR119", "Ungültiger Betrag"),
        (":61:2412301230CR119,00", ":61:2412301230CR119,001", "Ungültiger Betrag"),
        (":61:2412301230CR119,00", ":61:2412301332CR119,00", "Buchungsdatum"),
        ("CR119,00NTRF", "CR119,00XTRF", "Buchungsschlüssel"),
        ("SEPA GUTSCHRIFT", "SEPA GUTSCHRIFT\nnoch eine Zeile", "mehr als zwei Zeilen"),
        (":60F:C241230EUR1000,00", ":60F:C241230EUR1000", "Ungültiger Betrag"),
        (":60F:C241230EUR1000,00", ":60F:241230EUR1000,00", "Ungültiger Saldo"),
        (":62F:C241231EUR1267,50", ":62F:C241231EUR1267,40", "Schlusssaldo"),
        (":62F:C241231EUR1267,50", ":62F:C241231USD1267,50", "Währungen"),
        (":28C:00001/001", ":60M:C241230EUR1000,00", "mehrfach"),
        ("Kunde GmbH", "Kunde\x00GmbH", "Steuerzeichen"),
    ],
)
def test_malformed_files(old: str, new: str, message: str) -> None:
    assert old in YEAR_END
    data = YEAR_END.replace(old, new, 1).encode()
    with pytest.raises(BankStatementError, match=message):
        parse_statement(data)


def test_file_of_tags_without_statement() -> None:
    with pytest.raises(BankStatementError, match="keinen Kontoauszug"):
        parse_mt940(b"STARTUMSE\r\n-\r\n")


_TOKENS = [b":61:", b":86:", b":20:", b"\n", b"\r\n", b"-\n", b"?", b"//", b",", b"C", b"RD", b"9"]


@st.composite
def mutated_statement(draw: st.DrawFn) -> bytes:
    """The realistic file with a few bytes flipped, inserted, deleted or the end cut off."""
    data = bytearray((YEAR_END + "\n" + NEW_YEAR).encode("latin-1"))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            piece = draw(st.sampled_from(_TOKENS) | st.binary(min_size=1, max_size=4))
            data[at:at] = piece
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 12))]
        elif action == "truncate":
            del data[at:]
    return bytes(data)


@hyp_settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(mutated_statement())
def test_mutated_bytes_give_statements_or_a_clear_error(data: bytes) -> None:
    try:
        statements = parse_statement(data)
    except BankStatementError as exc:
        assert str(exc)
        return
    for statement in statements:
        assert isinstance(statement, BankStatement)
        keys = statement.entry_keys()
        assert len(keys) == len(statement.entries)
        for entry in statement.entries:
            assert entry.amount == entry.amount.quantize(D("0.01"))
            assert entry.value_date is not None
            assert abs((entry.booking_date - entry.value_date).days) <= 183


# --------------------------------------------------------------------------- catalog


def test_mt940_statement_settles_open_payable(settings: Settings) -> None:
    ledger = build_ledger(settings)
    fid = ledger.invoice("RE-2025-0042", "59.50")
    data = "\r\n".join(
        [
            ":20:STARTUMSE",
            f":25:{ACCOUNT}",
            ":28C:00010/001",
            ":60F:C250307EUR1000,00",
            ":61:2503100310DR59,50NTRFNONREF//BANKREF-77",
            ":86:116?00SEPA-UEBERWEISUNG?20EREF+RE-2025-0042?21SVWZ+Rechnung RE-2025",
            "-0042?22Kd 77?30BYLADEM1001?31DE75512108001245126199?32Bürobedarf Mülle",
            "r GmbH",
            ":62F:C250310EUR940,50",
            "-",
        ]
    ).encode("latin-1")
    result = import_statement(ledger.ctx, "KLEIN", data, actor="t")
    assert (result.new, result.known, result.warnings) == (1, 0, [])
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.followup_ids) == ("matched", (fid,))
    paid = ledger.followup(fid)
    assert (paid.status, paid.paid_on, paid.paid_amount) == (
        FollowUpStatus.DONE,
        date(2025, 3, 10),
        D("59.50"),
    )
    assert import_statement(ledger.ctx, "KLEIN", data, actor="t").new == 0
