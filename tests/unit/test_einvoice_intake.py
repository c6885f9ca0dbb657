"""XML e-invoices arrive like any post: the XML is the filed original, its fields authoritative."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import Client, Document, DocumentStatus, FollowUp, QuarantineEntry
from backoffice.pipeline import run_batch

SHARED = Path(__file__).resolve().parents[3] / "shared" / "einvoices" / "xrechnung"


@pytest.mark.skipif(not SHARED.exists(), reason="shared e-invoices not present")
def test_xrechnung_xml_is_filed_with_its_fields(settings: Settings, tmp_path: Path) -> None:
    ctx = Context.from_settings(settings)
    with ctx.catalog.session() as s:
        s.add(
            Client(
                code="KUNDE",
                name="Beispielkunde",
                street="Dorfplatz 3",
                zip="54321",
                city="Musterort",
                aliases=[],
                customer_numbers=[],
            )
        )
    inbox = tmp_path / "in"
    inbox.mkdir()
    xml = SHARED / "extension__04.01a-INVOICE_ubl.xml"
    (inbox / xml.name).write_bytes(xml.read_bytes())
    (inbox / "not-an-invoice.xml").write_bytes(b"<?xml version='1.0'?><note>Hallo</note>")

    outcomes = run_batch(ctx, inbox)
    assert len(outcomes) == 1
    with ctx.catalog.session() as s:
        doc = s.scalars(select(Document)).one()
        assert doc.status == DocumentStatus.FILED
        assert doc.original_key.startswith("clients/KUNDE/originals/")
        assert doc.original_key.endswith(".xml")
        assert ctx.store.get(doc.original_key) == xml.read_bytes(), "the XML stays the original"
        assert ctx.store.get(doc.searchable_key)[:5] == b"%PDF-"
        assert doc.doc_type.value == "invoice" and doc.type_confidence == 1.0
        assert doc.field("invoice_number") == "12345"
        assert doc.field("gross_total") == "14918.84"
        assert {f.source for f in doc.fields if f.name == "gross_total"} == {"einvoice"}
        assert "Rechnungsnummer: 12345" in (doc.text or "")
        payable = s.scalars(select(FollowUp)).one()
        assert str(payable.amount) == "14918.84"
        reasons = [q.reason for q in s.scalars(select(QuarantineEntry))]
        assert len(reasons) == 1 and "keine lesbare E-Rechnung" in reasons[0]
