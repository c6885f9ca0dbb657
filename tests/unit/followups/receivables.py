"""A catalog with a client firm and its own outgoing invoices (receivables) for dunning tests.

Built with the models directly (no OCR): each invoice is a real little PDF in the client's
archive, with the fields the extractor would have found and the debtor as correspondent.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from backoffice.archive.storage import client_scope, content_key, sha256_hex
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
    Intake,
)


def invoice_pdf(lines: list[str]) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for n, line in enumerate(lines):
        pdf.drawString(60, 800 - 18 * n, line)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def add_client(ctx: Context, code: str = "KLEIN") -> int:
    with ctx.catalog.session() as s:
        client = Client(
            code=code,
            name="Klein Haustechnik GmbH",
            street="Werkstraße 4",
            zip="50667",
            city="Köln",
            email="buchhaltung@klein-haustechnik.example",
            phone="0221 123456",
            iban="DE02120300000000202051",
            bic="BYLADEM1001",
            vat_id="DE123456789",
            aliases=[],
            customer_numbers=[],
        )
        s.add(client)
        s.flush()
        return client.id


@dataclass
class Debtor:
    name: str = "Sommer Bau GmbH"
    street: str | None = "Lindenallee 12"
    zip: str | None = "40210"
    city: str | None = "Düsseldorf"
    email: str | None = "rechnung@sommer-bau.example"
    consumer: bool = False


def add_receivable(
    ctx: Context,
    client_id: int,
    *,
    number: str = "RE-2026-0417",
    amount: Decimal = Decimal("1190.00"),
    issue: date = date(2026, 9, 1),
    due: date = date(2026, 9, 15),
    debtor: Debtor | None = None,
    customer_number: str | None = "K-1042",
) -> int:
    """An open receivable for the client's invoice ``number``; returns the follow-up id."""
    debtor = debtor or Debtor()
    with ctx.catalog.session() as s:
        code = s.get_one(Client, client_id).code
        pdf = invoice_pdf([f"Rechnung {number}", debtor.name, f"Betrag {amount} EUR"])
        key = content_key(client_scope(code), "originals", sha256_hex(pdf), ".pdf")
        ctx.store.put(key, pdf, content_type="application/pdf")
        intake = Intake(
            sha256=sha256_hex(pdf),
            size=len(pdf),
            source="test",
            storage_key=key,
            filename=f"{number}.pdf",
            media_type="application/pdf",
        )
        s.add(intake)
        s.flush()
        corr = s.scalar(
            select(Correspondent).where(
                Correspondent.client_id == client_id, Correspondent.name == debtor.name
            )
        ) or Correspondent(
            client_id=client_id,
            name=debtor.name,
            street=debtor.street,
            zip=debtor.zip,
            city=debtor.city,
            email=debtor.email,
            consumer=debtor.consumer,
        )
        s.add(corr)
        s.flush()
        doc = Document(
            intake_id=intake.id,
            client_id=client_id,
            correspondent_id=corr.id,
            first_page=1,
            page_count=1,
            pages=[1],
            sha256=sha256_hex(pdf),
            status=DocumentStatus.FILED,
            doc_type=DocType.INVOICE,
            title=f"Rechnung {number}",
            doc_date=issue,
            text=f"Rechnung {number}",
            original_key=key,
        )
        s.add(doc)
        s.flush()
        fields = {
            "invoice_number": number,
            "issue_date": issue.isoformat(),
            "due_date": due.isoformat(),
            "gross_total": f"{amount:.2f}",
            "seller_name": "Klein Haustechnik GmbH",
            "buyer_name": debtor.name,
        }
        if customer_number:
            fields["customer_number"] = customer_number
        for name, value in fields.items():
            s.add(
                ExtractedField(
                    document_id=doc.id, name=name, value=value, confidence=0.95, source="text"
                )
            )
        followup = FollowUp(
            client_id=client_id,
            document_id=doc.id,
            kind=FollowUpKind.RECEIVABLE,
            due_date=due,
            amount=amount,
            reference=number,
        )
        s.add(followup)
        s.flush()
        return followup.id
