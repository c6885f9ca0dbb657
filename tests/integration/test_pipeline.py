"""A batch of scanned post goes from the inbox into each client's archive, end to end.

Runs the real stages (separator sheets, tesseract OCR, understanding, filing, follow-ups) on
generated post whose ground truth is known, against the embedded default (SQLite + folder) and
production services (PostgreSQL + S3 server).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import (
    Client,
    Document,
    DocumentStatus,
    FollowUp,
    FollowUpKind,
    Intake,
    IntakeStatus,
    Role,
)
from backoffice.pipeline import receive, run_batch, seed_clients
from backoffice.portal.access import Scope
from backoffice.portal.search import search
from backoffice.samples import DEMO_CLIENTS, generate
from backoffice.text import pdfa
from tests.sample_data import batch_truth

pytestmark = [pytest.mark.ocr, pytest.mark.slow]


@pytest.fixture(scope="module")
def post(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("post")
    generate(root, seed=5, n_documents=6, batch_size=6, n_emails=0)
    return root


def test_scanned_batch_end_to_end(any_settings: Settings, post: Path) -> None:
    truth = batch_truth(post)
    ctx = Context.from_settings(any_settings)
    seed_clients(ctx, DEMO_CLIENTS)
    outcomes = run_batch(ctx, post / "batches", source="folder")

    assert len(outcomes) == len(truth.order), "one catalog document per generated document"
    with ctx.catalog.session() as s:
        codes = {c.id: c.code for c in s.scalars(select(Client))}
        docs = list(s.scalars(select(Document).order_by(Document.intake_id, Document.first_page)))
        right_type = 0
        for doc, (doc_id, _hint) in zip(docs, truth.order, strict=True):
            expected = truth.documents[doc_id]
            assert doc.page_count == expected["pages"], doc_id
            assert doc.status == DocumentStatus.FILED, (doc_id, doc.flags)
            assert codes[doc.client_id] == expected["client_code"], doc_id
            right_type += doc.doc_type.value == expected["doc_type"]
            assert doc.original_key.startswith(f"clients/{expected['client_code']}/originals/")
            assert ctx.store.get(doc.original_key)[:5] == b"%PDF-"
            searchable = ctx.store.get(doc.searchable_key)
            assert searchable[:5] == b"%PDF-"
            if pdfa.available():
                assert b"GTS_PDFA1" in searchable, "scans become PDF/A-2b"
            assert doc.text and doc.text_source == "ocr"
            assert doc.retain_until is not None and doc.retain_until.month == 12
            if doc.doc_type.value == "invoice" and expected["doc_type"] == "invoice":
                assert doc.field("invoice_number") == expected["fields"]["invoice_number"]
                assert s.scalar(
                    select(func.count())
                    .select_from(FollowUp)
                    .where(FollowUp.document_id == doc.id, FollowUp.kind != FollowUpKind.REVIEW)
                ) == (0 if expected["fields"].get("is_credit_note") else 1)
        assert right_type >= len(docs) - 1, "document types should match the ground truth"

    # Filed documents are found by the archive search, only within their client's scope.
    with ctx.catalog.session() as s:
        invoice = next(
            d for d in docs if d.doc_type.value == "invoice" and d.field("invoice_number")
        )
        number = invoice.field("invoice_number")
        staff = Scope(0, "staff@office.example", "Staff", Role.STAFF, frozenset())
        assert invoice.id in {h.document_id for h in search(s, staff, number).hits}
        other = frozenset(c for c in codes if c != invoice.client_id)
        outsider = Scope(1, "x@example.org", "X", Role.CLIENT, other)
        assert invoice.id not in {h.document_id for h in search(s, outsider, number).hits}

    # Re-running changes nothing; re-delivering the same batch is a recorded duplicate.
    assert run_batch(ctx, None) == []
    received = receive(ctx, post / "batches", source="folder")
    assert all(r.duplicate for r in received)
    with ctx.catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == len(truth.order)
        assert s.scalar(select(func.sum(Intake.redeliveries))) == len(received)
        intakes = list(s.scalars(select(Intake)))
        assert all(i.status == IntakeStatus.SPLIT for i in intakes)
        # every batch had its separator sheets recorded, so none of them is cut again
        assert all(i.separator_pages for i in intakes if i.source == "folder")
        kinds = set(s.scalars(select(FollowUp.kind)))
        assert FollowUpKind.PAYABLE in kinds
