"""A small catalog for the portal tests: two clients, their users and a handful of documents.

Built directly with the models (no OCR): each document gets a real little PDF (reportlab) in the
archive, extracted fields, follow-ups where they belong, and a search index entry. The texts are
chosen so that searches can tell the clients apart: words that occur only at one client
(``Zebra`` at BETA) and words with umlauts and inflection (``Müller``, ``Rechnungen``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from backoffice.archive.storage import client_scope, content_key, sha256_hex
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import (
    Client,
    Correspondent,
    DocType,
    Document,
    DocumentStatus,
    ExtractedField,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Intake,
    Role,
)
from backoffice.portal.access import public_ids
from backoffice.portal.search import index_document
from backoffice.portal.users import create_api_token, create_user

PASSWORD = "richtig-geheim-123"


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a real text layer."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for line in lines:
        pdf.drawString(60, y, line)
        y -= 18
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


@dataclass
class DocSpec:
    key: str
    client: str | None
    doc_type: DocType
    title: str
    text: str
    sender: str | None = None
    doc_date: date | None = None
    fields: dict[str, str] = field(default_factory=dict)
    followup: tuple[FollowUpKind, FollowUpStatus, date | None, Decimal | None] | None = None
    status: DocumentStatus = DocumentStatus.FILED
    needs_review: bool = False
    flags: list[str] = field(default_factory=list)
    type_scores: dict[str, float] = field(default_factory=dict)


TODAY = date.today()

SPECS: list[DocSpec] = [
    DocSpec(
        "a_invoice",
        "ALPHA",
        DocType.INVOICE,
        "Rechnung RE-1001 – Müller Bürobedarf GmbH",
        "Müller Bürobedarf GmbH\nRechnung Nr. RE-1001\nBüromaterial Druckerpapier Toner\n"
        "Gesamtbetrag 119,00 EUR\fSeite 2: Zahlbar innerhalb von 14 Tagen",
        sender="Müller Bürobedarf GmbH",
        doc_date=date(2024, 3, 1),
        fields={
            "invoice_number": "RE-1001",
            "gross_total": "119.00",
            "issue_date": "2024-03-01",
            "due_date": (TODAY + timedelta(days=10)).isoformat(),
            "seller_name": "Müller Bürobedarf GmbH",
        },
        followup=(
            FollowUpKind.PAYABLE,
            FollowUpStatus.OPEN,
            TODAY + timedelta(days=10),
            Decimal("119.00"),
        ),
    ),
    DocSpec(
        "a_invoice_paid",
        "ALPHA",
        DocType.INVOICE,
        "Rechnung 77-A – Stadtwerke Nordstadt",
        "Stadtwerke Nordstadt\nRechnungen für Strom und Gas\nAbschlag März\nBetrag 1.250,40 EUR",
        sender="Stadtwerke Nordstadt",
        doc_date=date(2024, 4, 15),
        fields={"invoice_number": "77-A", "gross_total": "1250.40"},
        followup=(FollowUpKind.PAYABLE, FollowUpStatus.DONE, date(2024, 5, 1), Decimal("1250.40")),
    ),
    DocSpec(
        "a_reminder",
        "ALPHA",
        DocType.REMINDER,
        "Mahnung zu RE-0999 – Müller Bürobedarf GmbH",
        "Zahlungserinnerung\nLeider konnten wir keinen Zahlungseingang zu Rechnung RE-0999 "
        "feststellen. Offener Betrag 59,50 EUR.",
        sender="Müller Bürobedarf GmbH",
        doc_date=date(2024, 5, 2),
        fields={"referenced_invoice_numbers": "RE-0999", "amount_outstanding": "59.50"},
        followup=(FollowUpKind.REMINDER, FollowUpStatus.OPEN, TODAY + timedelta(days=5), None),
    ),
    DocSpec(
        "a_letter",
        "ALPHA",
        DocType.LETTER,
        "Brief Mietanpassung – Hausverwaltung Krause",
        "Sehr geehrte Damen und Herren, die Miete für die Gewerbeeinheit wird angepasst. "
        "Bitte bestätigen Sie den Erhalt.",
        sender="Hausverwaltung Krause",
        doc_date=date(2024, 6, 20),
        fields={"subject": "Mietanpassung"},
    ),
    DocSpec(
        "b_invoice",
        "BETA",
        DocType.INVOICE,
        "Rechnung 4711 – Zebra Stahlhandel",
        "Zebra Stahlhandel AG\nRechnung 4711\nGeheimprojekt Zebra Stahlträger\n"
        "Gesamtbetrag 8.400,00 EUR",
        sender="Zebra Stahlhandel AG",
        doc_date=date(2024, 3, 5),
        fields={"invoice_number": "4711", "gross_total": "8400.00", "seller_name": "Zebra"},
        followup=(
            FollowUpKind.PAYABLE,
            FollowUpStatus.OPEN,
            TODAY - timedelta(days=3),
            Decimal("8400.00"),
        ),
    ),
    DocSpec(
        "b_letter",
        "BETA",
        DocType.LETTER,
        "Brief Finanzamt Zebrahausen",
        "Finanzamt Zebrahausen\nBescheid über Umsatzsteuer, Einspruchsfrist einen Monat. "
        "Müller als Sachbearbeiter.",
        sender="Finanzamt Zebrahausen",
        doc_date=date(2024, 7, 1),
        followup=(FollowUpKind.REPLY, FollowUpStatus.OPEN, TODAY + timedelta(days=20), None),
    ),
    DocSpec(
        "unassigned",
        None,
        DocType.LETTER,
        "Brief ohne Empfänger",
        "Werbung für Kaffeemaschinen, Empfänger unleserlich.",
        status=DocumentStatus.UNASSIGNED,
        needs_review=True,
        flags=["Mandant nicht eindeutig: kein Treffer", "Dokumentart unsicher (Brief 55%)"],
        type_scores={"letter": 0.55, "other": 0.40, "invoice": 0.05},
    ),
]


@dataclass
class World:
    settings: Settings
    ctx: Context
    clients: dict[str, int]
    doc_ids: dict[str, int]
    public: dict[str, str]
    tokens: dict[str, str]
    emails: dict[str, str]
    titles: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def docs_of(self, code: str | None) -> list[str]:
        return [s.key for s in SPECS if s.client == code and s.key in self.doc_ids]


USERS = {
    "staff": ("sabine@buero.example", Role.STAFF, []),
    "alice": ("alice@alpha.example", Role.CLIENT, ["ALPHA"]),
    "bob": ("bob@beta.example", Role.CLIENT, ["BETA"]),
    "carla": ("carla@steuer.example", Role.ACCOUNTANT, ["ALPHA"]),
}


def give_vat(world: World, key: str = "a_invoice") -> None:
    """Give a world invoice its net and VAT (the world stores only gross totals), so that
    bookings can be proposed for it."""
    with world.ctx.catalog.session() as s:
        for name, value in (("net_total", "100.00"), ("vat_total", "19.00")):
            s.add(
                ExtractedField(
                    document_id=world.doc_ids[key],
                    name=name,
                    value=value,
                    confidence=0.9,
                    source="text",
                )
            )


def build_world(settings: Settings, *, with_tokens: bool = True) -> World:
    """Clients ALPHA and BETA, four users, the documents of :data:`SPECS`, exports."""
    ctx = Context.from_settings(settings)
    clients: dict[str, int] = {}
    with ctx.catalog.session() as s:
        for code, name in (("ALPHA", "Alpha Bäckerei GmbH"), ("BETA", "Beta Metallbau KG")):
            client = Client(code=code, name=name, city="Nordstadt", aliases=[], customer_numbers=[])
            s.add(client)
            s.flush()
            clients[code] = client.id
    emails = {}
    for key, (email, role, codes) in USERS.items():
        create_user(ctx.catalog, email, key.capitalize(), role, PASSWORD, codes)
        emails[key] = email
    tokens = (
        {key: create_api_token(ctx.catalog, email, "test") for key, email in emails.items()}
        if with_tokens
        else {}
    )
    doc_ids: dict[str, int] = {}
    for n, spec in enumerate(SPECS, start=1):
        doc_ids[spec.key] = add_document(ctx, spec, n, clients)
    with ctx.catalog.session() as s:
        handles = public_ids(s, doc_ids.values())
        for doc_id in doc_ids.values():
            index_document(s, doc_id)
    for code in ("ALPHA", "BETA"):
        body = f"Konto;Betrag\n4400;{code}\n".encode()
        ctx.store.put(f"{client_scope(code)}/exports/2024-03/EXTF_{code}.csv", body)
    return World(
        settings=settings,
        ctx=ctx,
        clients=clients,
        doc_ids=doc_ids,
        public={k: handles[v] for k, v in doc_ids.items()},
        tokens=tokens,
        emails=emails,
        titles={s.key: s.title for s in SPECS},
    )


def add_document(ctx: Context, spec: DocSpec, n: int, clients: dict[str, int]) -> int:
    pdf = make_pdf([spec.title, *spec.text.replace("\f", "\n").splitlines()])
    searchable = make_pdf(["(durchsuchbar)", spec.title, *spec.text.splitlines()])
    scope = client_scope(spec.client) if spec.client else "intake"
    original_key = content_key(scope, "originals", sha256_hex(pdf), ".pdf")
    searchable_key = content_key(scope, "searchable", sha256_hex(searchable), ".pdf")
    ctx.store.put(original_key, pdf, content_type="application/pdf")
    ctx.store.put(searchable_key, searchable, content_type="application/pdf")
    with ctx.catalog.session() as s:
        intake = Intake(
            sha256=sha256_hex(pdf + str(n).encode()),
            size=len(pdf),
            source="test",
            storage_key=original_key,
            filename=f"{spec.key}.pdf",
            media_type="application/pdf",
        )
        s.add(intake)
        s.flush()
        client_id = clients[spec.client] if spec.client else None
        correspondent_id = None
        if spec.sender and client_id is not None:
            corr = s.scalar(
                select(Correspondent).where(
                    Correspondent.client_id == client_id, Correspondent.name == spec.sender
                )
            )
            if corr is None:
                corr = Correspondent(client_id=client_id, name=spec.sender)
                s.add(corr)
                s.flush()
            correspondent_id = corr.id
        doc = Document(
            intake_id=intake.id,
            client_id=client_id,
            correspondent_id=correspondent_id,
            first_page=1,
            page_count=1,
            pages=[1],
            sha256=sha256_hex(pdf),
            status=spec.status,
            doc_type=spec.doc_type,
            type_confidence=max(spec.type_scores.values()) if spec.type_scores else 0.97,
            type_scores=spec.type_scores or {spec.doc_type.value: 0.97},
            title=spec.title,
            doc_date=spec.doc_date,
            text=spec.text,
            text_source="layer",
            original_key=original_key,
            searchable_key=searchable_key,
            needs_review=spec.needs_review,
            flags=spec.flags,
            retain_until=date(2032, 12, 31) if spec.client else None,
        )
        s.add(doc)
        s.flush()
        for name, value in spec.fields.items():
            s.add(
                ExtractedField(
                    document_id=doc.id, name=name, value=value, confidence=0.9, source="text"
                )
            )
        if spec.followup and client_id is not None:
            kind, status, due, amount = spec.followup
            s.add(
                FollowUp(
                    client_id=client_id,
                    document_id=doc.id,
                    kind=kind,
                    status=status,
                    due_date=due,
                    amount=amount,
                    reference=spec.fields.get("invoice_number"),
                    note=f"{kind.value} {spec.key}",
                )
            )
        return doc.id


class FakePipeline:
    """Stands in for ``process_document``: files what is pending, remembers the calls."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, ctx: Context, document_id: int) -> None:
        self.calls.append(document_id)
        with ctx.catalog.session() as s:
            doc = s.get_one(Document, document_id)
            if doc.status in (DocumentStatus.TEXT, DocumentStatus.UNDERSTOOD, DocumentStatus.NEW):
                doc.status = DocumentStatus.FILED if doc.client_id else DocumentStatus.UNASSIGNED
