"""A small catalog for the bank import tests: one client, its suppliers and customers, invoices.

Built directly with the models (no OCR): each invoice is a filed document with a correspondent
(whose IBAN matching may use) and a payable or receivable follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import count

from sqlalchemy import select

from backoffice.archive.storage import sha256_hex
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import (
    Client,
    Correspondent,
    DocType,
    Document,
    DocumentStatus,
    FollowUp,
    FollowUpKind,
    Intake,
)

ACCOUNT = "DE02120300000000202051"
SUPPLIER_IBAN = "DE75512108001245126199"
OTHER_SUPPLIER_IBAN = "DE12500105170648489890"
CUSTOMER_IBAN = "DE89370400440532013000"

_n = count(1)


@dataclass
class Ledger:
    ctx: Context
    client_id: int
    code: str = "KLEIN"
    correspondents: dict[str, int] = field(default_factory=dict)

    def correspondent(self, name: str, iban: str | None) -> int:
        if name not in self.correspondents:
            with self.ctx.catalog.session() as s:
                corr = Correspondent(client_id=self.client_id, name=name, iban=iban)
                s.add(corr)
                s.flush()
                self.correspondents[name] = corr.id
        return self.correspondents[name]

    def invoice(
        self,
        reference: str,
        amount: str,
        *,
        sender: str = "Bürobedarf Müller GmbH",
        iban: str | None = SUPPLIER_IBAN,
        kind: FollowUpKind = FollowUpKind.PAYABLE,
        skonto: tuple[str, date] | None = None,
        due: date = date(2025, 3, 31),
    ) -> int:
        """A filed invoice with its open follow-up; returns the follow-up id."""
        corr_id = self.correspondent(sender, iban)
        n = next(_n)
        digest = sha256_hex(f"{reference}-{n}".encode())
        with self.ctx.catalog.session() as s:
            intake = Intake(
                sha256=digest,
                size=1,
                source="test",
                storage_key=f"intake/originals/{digest}.pdf",
            )
            s.add(intake)
            s.flush()
            doc = Document(
                intake_id=intake.id,
                client_id=self.client_id,
                correspondent_id=corr_id,
                first_page=1,
                page_count=1,
                pages=[1],
                sha256=digest,
                status=DocumentStatus.FILED,
                doc_type=DocType.INVOICE,
                title=f"Rechnung {reference}",
            )
            s.add(doc)
            s.flush()
            followup = FollowUp(
                client_id=self.client_id,
                document_id=doc.id,
                kind=kind,
                due_date=due,
                amount=Decimal(amount),
                reference=reference,
                skonto_percent=Decimal(skonto[0]) if skonto else None,
                skonto_until=skonto[1] if skonto else None,
            )
            s.add(followup)
            s.flush()
            return followup.id

    def followup(self, followup_id: int) -> FollowUp:
        with self.ctx.catalog.session() as s:
            return s.get_one(FollowUp, followup_id)

    def other_client(self, code: str) -> int:
        with self.ctx.catalog.session() as s:
            client = Client(code=code, name=f"{code} GmbH", aliases=[], customer_numbers=[])
            s.add(client)
            s.flush()
            return client.id


def build_ledger(settings: Settings, code: str = "KLEIN") -> Ledger:
    ctx = Context.from_settings(settings)
    with ctx.catalog.session() as s:
        client = s.scalar(select(Client).where(Client.code == code))
        if client is None:
            client = Client(
                code=code,
                name="Klein Elektro GmbH",
                iban=ACCOUNT,
                aliases=[],
                customer_numbers=[],
            )
            s.add(client)
            s.flush()
        client_id = client.id
    return Ledger(ctx, client_id, code)
