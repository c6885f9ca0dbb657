"""Stored booking proposals, approval, correction and the filed DATEV export (real catalog +
folder archive, documents built with :mod:`tests.portal.world`)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.exports.datev import parse_extf, raw_invoice_number
from backoffice.exports.ledger import (
    LedgerError,
    NothingToExportError,
    approve,
    correct,
    export_month,
    export_period,
    month_period,
    pending_ids,
    previous_month,
    propose_client,
    propose_pending,
)
from backoffice.models import (
    AuditEvent,
    BookingEntry,
    BookingExport,
    BookingStatus,
    Client,
    Correspondent,
    DocType,
    Document,
    FollowUpKind,
    FollowUpStatus,
    PersonalAccount,
)
from tests.portal.world import DocSpec, add_document

NOW = datetime(2025, 4, 2, 6, 30, 15, 123000)
MARCH = (date(2025, 3, 1), date(2025, 3, 31))
ACTOR = "user:kanzlei@stb.example"


def invoice(
    key: str,
    sender: str,
    number: str,
    issued: str,
    fields: dict[str, str],
    *,
    text: str,
    kind: FollowUpKind = FollowUpKind.PAYABLE,
) -> DocSpec:
    base = {"invoice_number": number, "issue_date": issued}
    if kind == FollowUpKind.PAYABLE:
        base["seller_name"] = sender
    else:
        base["buyer_name"] = sender
    return DocSpec(
        key,
        "ALPHA",
        DocType.INVOICE,
        f"Rechnung {number}",
        text,
        sender=sender,
        doc_date=date.fromisoformat(issued),
        fields={**base, **fields},
        followup=(kind, FollowUpStatus.OPEN, None, Decimal(fields.get("gross_total", "0"))),
    )


OFFICE = invoice(
    "office",
    "Bürobedarf Muster GmbH",
    "RE 2025/0042.A",
    "2025-03-15",
    {
        "net_total": "100.00",
        "vat_total": "19.00",
        "gross_total": "119.00",
        "service_date": "2025-03-10",
        "due_date": "2025-03-29",
    },
    text="Bürobedarf Muster GmbH\nRechnung\nKopierpapier A4\nToner schwarz",
)
BOOKS = invoice(
    "books",
    "Fachbuch Verlag XY",
    "2025-118",
    "2025-03-18",
    {
        "vat_7_net": "50.00",
        "vat_7_amount": "3.50",
        "vat_19_net": "10.00",
        "vat_19_amount": "1.90",
        "gross_total": "65.40",
    },
    text="Fachbuch Verlag XY\nFachbuch Steuerrecht\nVersandkosten",
)
SALE = invoice(
    "sale",
    "Kunde Schmidt GmbH",
    "A-7",
    "2025-03-20",
    {"net_total": "200.00", "vat_total": "38.00", "gross_total": "238.00"},
    text="Alpha Bäckerei GmbH\nRechnung A-7\nCatering Brötchen",
    kind=FollowUpKind.RECEIVABLE,
)
NO_NUMBER = invoice(
    "no_number",
    "Ohne Nummer KG",
    "",
    "2025-03-21",
    {"net_total": "10.00", "vat_total": "1.90", "gross_total": "11.90"},
    text="Rechnung ohne Nummer",
)
LETTER = DocSpec("letter", "ALPHA", DocType.LETTER, "Brief", "Ein Brief", sender="Amt")


@dataclass
class Books:
    ctx: Context
    client_id: int
    docs: dict[str, int]

    def client(self) -> Client:
        with self.ctx.catalog.session() as s:
            client = s.get_one(Client, self.client_id)
            s.expunge(client)
            return client

    def add(self, spec: DocSpec) -> int:
        self.docs[spec.key] = add_document(
            self.ctx, spec, len(self.docs) + 1, {"ALPHA": self.client_id}
        )
        return self.docs[spec.key]

    def entries(self, *keys: str) -> list[BookingEntry]:
        with self.ctx.catalog.session() as s:
            stmt = select(BookingEntry).order_by(BookingEntry.id)
            if keys:
                stmt = stmt.where(BookingEntry.document_id.in_([self.docs[k] for k in keys]))
            rows = list(s.scalars(stmt))
            s.expunge_all()
            return rows

    def propose(self) -> list[int]:
        return propose_client(self.ctx, "ALPHA").created

    def approve_all(self) -> list[int]:
        with self.ctx.catalog.session() as s:
            return approve(s, pending_ids(s, self.client_id), ACTOR, client_id=self.client_id)


@pytest.fixture
def books(settings: Settings) -> Books:
    ctx = Context.from_settings(settings)
    with ctx.catalog.session() as s:
        client = Client(
            code="ALPHA",
            name="Alpha Bäckerei GmbH",
            chart="03",
            datev_consultant_number=1234567,
            datev_client_number=10001,
            aliases=[],
            customer_numbers=[],
        )
        s.add(client)
        s.flush()
        client_id = client.id
    result = Books(ctx, client_id, {})
    for spec in (OFFICE, BOOKS, SALE, NO_NUMBER, LETTER):
        result.add(spec)
    return result


# --------------------------------------------------------------------------- proposing


def test_proposals_per_invoice_with_stable_personal_accounts(books: Books) -> None:
    run = propose_client(books.ctx, "ALPHA")
    assert sorted(run.documents) == sorted(books.docs[k] for k in ("office", "books", "sale"))
    assert set(run.failed) == {books.docs["no_number"]}
    assert "invoice number" in run.failed[books.docs["no_number"]]

    office = books.entries("office")
    assert [
        (e.amount, e.debit_credit, e.account, e.contra_account, e.bu_key, e.belegfeld1)
        for e in office
    ] == [(Decimal("119.00"), "H", 70001, 4930, "9", "RE-2025/0042-A")]
    assert office[0].text == "Bürobedarf Muster GmbH RE 2025/0042.A"
    assert (office[0].service_date, office[0].due_date) == (date(2025, 3, 10), date(2025, 3, 29))
    assert sorted((e.amount, e.bu_key) for e in books.entries("books")) == [
        (Decimal("11.90"), "9"),
        (Decimal("53.50"), "8"),
    ]
    assert {e.account for e in books.entries("books")} == {70002}
    (sale,) = books.entries("sale")
    assert (sale.debit_credit, sale.account, sale.contra_account, sale.bu_key) == (
        "S",
        10001,
        8400,
        None,
    )
    assert all(e.status == BookingStatus.PROPOSED for e in books.entries())

    # Idempotent: nothing new, the failure is audited once, numbers unchanged.
    assert propose_client(books.ctx, "ALPHA").created == []
    with books.ctx.catalog.session() as s:
        failures = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "booking.proposal_failed")
        ).all()
        assert len(failures) == 1
        accounts = {(p.kind, p.name): p.number for p in s.scalars(select(PersonalAccount))}
    assert accounts == {
        ("kreditor", "Bürobedarf Muster GmbH"): 70001,
        ("kreditor", "Fachbuch Verlag XY"): 70002,
        ("debitor", "Kunde Schmidt GmbH"): 10001,
    }

    # A later invoice of a known supplier keeps its Kreditor; a new supplier gets the next one.
    books.add(
        invoice(
            "office2",
            "Bürobedarf Muster GmbH",
            "RE-2025-0077",
            "2025-03-28",
            {"net_total": "10.00", "vat_total": "1.90", "gross_total": "11.90"},
            text="Ordner",
        )
    )
    books.add(
        invoice(
            "phone",
            "Telefonica Netz AG",
            "T-1",
            "2025-03-28",
            {"net_total": "30.00", "vat_total": "5.70", "gross_total": "35.70"},
            text="Mobilfunk Grundgebühr",
        )
    )
    books.propose()
    assert [e.account for e in books.entries("office2")] == [70001]
    assert [(e.account, e.contra_account) for e in books.entries("phone")] == [(70003, 4920)]


def test_outgoing_or_incoming_must_be_known(books: Books) -> None:
    spec = invoice(
        "unclear",
        "Irgendwer GmbH",
        "X-1",
        "2025-03-05",
        {"net_total": "10.00", "vat_total": "1.90", "gross_total": "11.90"},
        text="Rechnung",
    )
    spec.followup = None
    doc_id = books.add(spec)
    run = propose_client(books.ctx, "ALPHA")
    assert "Eingangs- oder Ausgangsrechnung" in run.failed[doc_id]
    assert books.entries("unclear") == []


def test_an_accountants_correction_teaches_the_next_proposal(books: Books) -> None:
    books.propose()
    (office,) = books.entries("office")
    with books.ctx.catalog.session() as s:
        corrected = correct(s, office.id, ACTOR, contra_account=4940, text="Fachliteratur Muster")
        assert (corrected.id, corrected.source, corrected.status) == (
            office.id,
            "accountant",
            BookingStatus.PROPOSED,
        )
    # Not approved yet: a correction teaches only once it is approved.
    books.add(
        invoice(
            "office2",
            "Bürobedarf Muster GmbH",
            "RE-2025-0099",
            "2025-03-30",
            {"net_total": "20.00", "vat_total": "3.80", "gross_total": "23.80"},
            text="Toner Kopierpapier",
        )
    )
    books.propose()
    assert [e.contra_account for e in books.entries("office2")] == [4930]

    with books.ctx.catalog.session() as s:
        approve(s, [office.id], ACTOR)
    books.add(
        invoice(
            "office3",
            "Bürobedarf Muster GmbH",
            "RE-2025-0100",
            "2025-03-31",
            {"net_total": "20.00", "vat_total": "3.80", "gross_total": "23.80"},
            text="Toner Kopierpapier",
        )
    )
    books.propose()
    assert [e.contra_account for e in books.entries("office3")] == [4940]
    with books.ctx.catalog.session() as s:
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.document_id == books.docs["office"])
            )
        ]
    assert actions.count("booking.corrected") == 1 and actions.count("booking.approved") == 1


# --------------------------------------------------------------------------- approval, export


def test_only_approved_bookings_are_exported_and_never_twice(books: Books) -> None:
    books.propose()
    with pytest.raises(NothingToExportError, match="keine freigegebenen"):
        export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)
    (office,) = books.entries("office")
    with books.ctx.catalog.session() as s:
        assert approve(s, [office.id], ACTOR) == [office.id]
        assert approve(s, [office.id], ACTOR) == []  # idempotent
    first = export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)
    assert first.booking_count == 1
    with pytest.raises(NothingToExportError):
        export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)

    books.approve_all()
    second = export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)
    assert second.booking_count == 3
    assert second.extf_key != first.extf_key
    assert second.extf_key.startswith("clients/ALPHA/exports/2025-03/EXTF_Buchungsstapel_")
    exported = books.entries()
    assert all(e.status == BookingStatus.EXPORTED for e in exported)
    assert {e.export_id for e in exported} == {first.export_id, second.export_id}
    assert export_month(books.ctx, "ALPHA", "2025-03", ACTOR, NOW) is None

    # The first file holds the first booking, the second only the rest.
    one = parse_extf(books.ctx.store.get(first.extf_key)).bookings()
    rest = parse_extf(books.ctx.store.get(second.extf_key)).bookings()
    assert [b.belegfeld1 for b in one] == ["RE-2025/0042-A"]
    assert "RE-2025/0042-A" not in [b.belegfeld1 for b in rest]


def test_the_export_files_read_back_value_by_value(books: Books) -> None:
    books.propose()
    books.approve_all()
    result = export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)

    parsed = parse_extf(books.ctx.store.get(result.extf_key))
    header = parsed.extf_header()
    assert (header.consultant_number, header.client_number, header.chart) == (1234567, 10001, "03")
    assert (header.period_from, header.period_to, header.created_at) == (*MARCH, NOW)
    assert header.fiscal_year_start == date(2025, 1, 1)
    rows = parsed.bookings()
    expected = {e.id: e for e in books.entries()}
    assert len(rows) == len(expected) == 4
    # Written in Belegdatum order, then id.
    ordered = sorted(expected.values(), key=lambda e: (e.document_date, e.id))
    for row, entry in zip(rows, ordered, strict=True):
        assert row.amount == entry.amount
        assert row.debit_credit == entry.debit_credit
        assert (row.account, row.contra_account) == (entry.account, entry.contra_account)
        assert row.bu_key == entry.bu_key
        assert row.document_date == entry.document_date
        assert row.belegfeld1 == entry.belegfeld1
        assert row.text == entry.text
        assert (row.service_date, row.due_date) == (entry.service_date, entry.due_date)
        assert row.beleglink is not None and row.beleglink.startswith('BEDI "')
    office = rows[0]
    assert office.belegfeld1 == "RE-2025/0042-A"
    assert raw_invoice_number(office) == "RE 2025/0042.A"
    assert office.document_info == [("Rechnungsnummer", "RE 2025/0042.A")]
    # The two lines of one invoice link the same document.
    books_rows = [r for r in rows if r.belegfeld1 == "2025-118"]
    assert len(books_rows) == 2 and books_rows[0].beleglink == books_rows[1].beleglink

    # ZIP: one file per document, named <Belegfeld 1>_<GUID>, GUID = the Beleglink's.
    archive = zipfile.ZipFile(io.BytesIO(books.ctx.store.get(result.documents_key)))
    names = sorted(n for n in archive.namelist() if n != "Belege.csv")
    links = {r.beleglink for r in rows}
    assert len(names) == len(links) == 3 == result.document_count
    for row in rows:
        assert row.beleglink is not None
        guid = row.beleglink.removeprefix('BEDI "').removesuffix('"')
        (name,) = [n for n in names if n.endswith(f"_{guid}.pdf")]
        assert name.startswith(row.belegfeld1.replace("/", "_") + "_")
    with books.ctx.catalog.session() as s:
        original_key = s.get_one(Document, books.docs["office"]).original_key
    assert original_key is not None
    office_name = next(n for n in names if n.startswith("RE-2025_0042-A_"))
    assert archive.read(office_name) == books.ctx.store.get(original_key)
    index = archive.read("Belege.csv").decode("cp1252").splitlines()
    assert index[0] == "GUID;Datei;Belegfeld 1;Belegdatum;Buchungstext" and len(index) == 4

    # Debitoren/Kreditoren: exactly the personal accounts used, with their names.
    master = parse_extf(books.ctx.store.get(result.master_data_key))
    assert master.category == 16
    assert [
        (r["Konto"], r["Name (Adressatentyp Unternehmen)"], r["Adressatentyp"]) for r in master.rows
    ] == [
        ("10001", "Kunde Schmidt GmbH", "2"),
        ("70001", "Bürobedarf Muster GmbH", "2"),
        ("70002", "Fachbuch Verlag XY", "2"),
    ]

    with books.ctx.catalog.session() as s:
        row = s.get_one(BookingExport, result.export_id)
        assert (row.booking_count, row.created_by, row.extf_key) == (4, ACTOR, result.extf_key)
        assert row.documents_key == result.documents_key
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "export.created")).all()
        assert len(events) == 1 and events[0].detail["bookings"] == 4


def test_exported_bookings_are_locked_and_a_correction_adds_reversal_and_new(
    books: Books,
) -> None:
    books.propose()
    books.approve_all()
    first = export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)
    (office,) = books.entries("office")
    with books.ctx.catalog.session() as s, pytest.raises(LedgerError, match="exportiert"):
        approve(s, [office.id], ACTOR)

    with books.ctx.catalog.session() as s:
        new = correct(s, office.id, ACTOR, contra_account=4940, bu_key="9")
        new_id = new.id
    with books.ctx.catalog.session() as s, pytest.raises(LedgerError, match="schon korrigiert"):
        correct(s, office.id, ACTOR, contra_account=4960)

    after = books.entries("office")
    original, reversal, corrected = after
    assert (original.id, original.status, original.contra_account) == (
        office.id,
        BookingStatus.EXPORTED,
        4930,
    )
    assert (original.export_id, original.source, original.text) == (
        first.export_id,
        "proposal",
        office.text,
    )
    assert (reversal.source, reversal.supersedes_id, reversal.debit_credit) == (
        "reversal",
        office.id,
        "S",
    )
    assert (reversal.amount, reversal.account, reversal.contra_account, reversal.bu_key) == (
        office.amount,
        office.account,
        office.contra_account,
        office.bu_key,
    )
    assert reversal.text == f"Storno {office.text}"[:60]
    assert (corrected.id, corrected.source, corrected.supersedes_id) == (
        new_id,
        "accountant",
        office.id,
    )
    assert (corrected.debit_credit, corrected.contra_account, corrected.status) == (
        "H",
        4940,
        BookingStatus.PROPOSED,
    )

    # Not approved: not exported. Approved: exported in a second batch of the same month.
    with pytest.raises(NothingToExportError):
        export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)
    assert sorted(books.approve_all()) == [reversal.id, corrected.id]
    second = export_period(books.ctx, "ALPHA", *MARCH, ACTOR, NOW)
    rows = parse_extf(books.ctx.store.get(second.extf_key)).bookings()
    assert [(r.debit_credit, r.contra_account, r.amount) for r in rows] == [
        ("S", 4930, Decimal("119.00")),
        ("H", 4940, Decimal("119.00")),
    ]
    assert books.entries("office")[0].export_id == first.export_id
    # The first file is untouched in the archive.
    assert len(parse_extf(books.ctx.store.get(first.extf_key)).rows) == 4


def test_corrections_are_checked_before_anything_is_stored(books: Books) -> None:
    books.propose()
    (office,) = books.entries("office")
    with books.ctx.catalog.session() as s:
        with pytest.raises(LedgerError, match="Ungültige Buchung"):
            correct(s, office.id, ACTOR, bu_key="ABCDE")
        with pytest.raises(LedgerError, match="Keine Änderung"):
            correct(s, office.id, ACTOR, contra_account=office.contra_account)
        with pytest.raises(LedgerError, match="nicht gefunden"):
            correct(s, office.id, ACTOR, contra_account=4940, client_id=office.client_id + 1)
    assert books.entries("office")[0].contra_account == 4930


def test_periods() -> None:
    assert month_period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_period(date(2025, 12, 24)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert previous_month(date(2025, 1, 5)) == "2024-12"
    with pytest.raises(LedgerError):
        month_period("2025-13")


def test_a_period_across_fiscal_years_is_refused(books: Books) -> None:
    books.propose()
    books.approve_all()
    with pytest.raises(LedgerError, match="Zeitraum"):
        export_period(books.ctx, "ALPHA", date(2024, 12, 1), date(2025, 3, 31), ACTOR, NOW)


def test_propose_pending_takes_the_callers_session(books: Books) -> None:
    with books.ctx.catalog.session() as s:
        client = s.scalars(select(Client)).one()
        run = propose_pending(s, client, books.ctx.settings)
        assert len(run.created) == 4
        names = {c.name for c in s.scalars(select(Correspondent))}
    assert "Bürobedarf Muster GmbH" in names
