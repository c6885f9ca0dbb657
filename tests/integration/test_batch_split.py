"""A batch scanned without separator sheets comes out as its documents, end to end.

Generated post (born-digital and scanned pages mixed in one PDF, as a multifunction printer or an
upload delivers it) runs through ``backoffice.pipeline`` with real OCR: confident first pages
cut the batch, and a page whose address window is covered (a sticky note, an Eingangsstempel)
is not cut on a guess but sent to review.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import ImageDraw
from sqlalchemy import func, select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.intake.firstpage import uncertain_pages
from backoffice.models import AuditEvent, Client, Document, DocumentStatus, Intake
from backoffice.pipeline import (
    pending_documents,
    receive,
    run_batch,
    run_text_stage,
    seed_clients,
    split,
    split_unseparated,
)
from backoffice.samples import DEMO_CLIENTS, SampleDocument, generate
from backoffice.text.render import render_page

pytestmark = [pytest.mark.ocr, pytest.mark.slow]


@dataclass
class Batch:
    path: Path
    documents: list[tuple[SampleDocument, list[int]]]
    """Each generated document with the batch pages it must come out with."""
    covered_page: int
    """The page whose address window is covered: it belongs to the document before it."""


def _glue(parts: list[bytes]) -> bytes:
    out = pdfium.PdfDocument.new()
    for body in parts:
        src = pdfium.PdfDocument(body)
        out.import_pages(src)
        src.close()
    buf = io.BytesIO()
    out.save(buf)
    out.close()
    return buf.getvalue()


def _page_count(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    count = len(document)
    document.close()
    return count


def _covered_scan(pdf: Path) -> bytes:
    """The first page as a 200 dpi scan with the address window pasted over (left, 35-100 mm)."""
    document = pdfium.PdfDocument(pdf.read_bytes())
    image = render_page(document, 0, 200, grey=True)
    document.close()
    px = 200 / 25.4
    ImageDraw.Draw(image).rectangle((0, int(35 * px), int(105 * px), int(100 * px)), fill=255)
    out = io.BytesIO()
    image.convert("L").save(out, "PDF", resolution=200)
    return out.getvalue()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("unseparated")
    long_docs = generate(root / "digital", seed=12, n_documents=40, scanned=False, n_emails=0)
    post = generate(root / "scanned", seed=31, n_documents=10, batch_size=10, n_emails=0)
    two_pages = next(d for d in long_docs.documents if d.pages == 2)
    invoice_b = post.document("doc-0002")
    invoice_c = post.document("doc-0006")  # same sender as doc-0002, another client
    assert invoice_b.sender["name"] == invoice_c.sender["name"]
    reminder, letter = post.document("doc-0003"), post.document("doc-0007")
    stuck = post.document("doc-0009")
    plan: list[tuple[SampleDocument, bytes]] = [
        (two_pages, two_pages.digital_pdf.read_bytes()),
        (invoice_b, invoice_b.scanned_pdf.read_bytes()),  # type: ignore[union-attr]
        (invoice_c, invoice_c.digital_pdf.read_bytes()),
        (reminder, reminder.scanned_pdf.read_bytes()),  # type: ignore[union-attr]
        (letter, letter.digital_pdf.read_bytes()),
    ]
    documents, page = [], 1
    for doc, _ in plan:
        documents.append((doc, list(range(page, page + doc.pages))))
        page += doc.pages
    documents[-1][1].append(page)  # the covered page stays with the letter before it
    path = root / "stapel.pdf"
    path.write_bytes(_glue([body for _, body in plan] + [_covered_scan(stuck.digital_pdf)]))
    return Batch(path, documents, covered_page=page)


def test_batch_without_separator_sheets_is_cut_into_its_documents(
    settings: Settings, batch: Batch
) -> None:
    ctx = Context.from_settings(settings)
    seed_clients(ctx, DEMO_CLIENTS)
    outcomes = run_batch(ctx, batch.path, source="folder")

    assert len(outcomes) == len(batch.documents), [o.flags for o in outcomes]
    with ctx.catalog.session() as s:
        codes = {c.id: c.code for c in s.scalars(select(Client))}
        docs = list(s.scalars(select(Document).order_by(Document.first_page)))
        assert [d.pages for d in docs] == [pages for _, pages in batch.documents]
        assert s.get_one(Intake, docs[0].intake_id).separator_pages == []  # why it was cut
        for doc, (expected, pages) in zip(docs, batch.documents, strict=True):
            assert doc.first_page == pages[0] and doc.page_count == len(pages)
            assert doc.status == DocumentStatus.FILED, (expected.id, doc.flags)
            assert doc.client_id and doc.original_key and doc.searchable_key and doc.words_key
            assert codes[doc.client_id] == expected.client_code, expected.id
            # Each part got its own original, searchable PDF, words and text from the batch.
            assert _page_count(ctx.store.get(doc.original_key)) == len(pages)
            assert _page_count(ctx.store.get(doc.searchable_key)) == len(pages)
            words = json.loads(ctx.store.get(doc.words_key))
            assert [p["page"] for p in words] == list(range(1, len(pages) + 1))
            assert doc.text is not None and doc.text.count("\f") == len(pages) - 1
            sender = expected.sender["name"].split()[0]
            assert sender in doc.text.split("\f")[0], (expected.id, sender)

        # The scans among them were OCR'd once, in the batch, and their text source kept.
        sources = [d.text_source for d in docs]
        assert sources == ["layer", "ocr", "layer", "ocr", "mixed"]

        # The covered page was not cut on a guess: its document waits for staff.
        last = docs[-1]
        assert last.needs_review
        relative = batch.covered_page - last.first_page + 1
        assert uncertain_pages(last.flags) == [relative], last.flags
        assert not any(d.needs_review and uncertain_pages(d.flags) for d in docs[:-1])

        # One audit event records the cut with the pages and why.
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "document.split"))
        assert event.detail["pages"] == [pages for _, pages in batch.documents]
        assert all(fp["p"] >= settings.intake.split_threshold for fp in event.detail["first_pages"])

    # Idempotent: running again, or the stage again on any part, changes nothing.
    assert run_batch(ctx, None) == []
    for doc in docs:
        assert split_unseparated(ctx, doc.id) == []
    with ctx.catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == len(batch.documents)


def test_page_cut_is_not_repeated_after_a_crash_before_understanding(
    settings: Settings, batch: Batch
) -> None:
    """A worker that dies after the text stage resumes at ``text``: the cut happens then."""
    ctx = Context.from_settings(settings)
    seed_clients(ctx, DEMO_CLIENTS)
    [received] = receive(ctx, batch.path, source="folder")
    [intake_doc] = split(ctx, received.intake_id)
    assert run_text_stage(ctx, intake_doc)  # … and the worker stops here
    assert pending_documents(ctx) == [intake_doc]
    outcomes = run_batch(ctx, None)
    assert len(outcomes) == len(batch.documents)
    with ctx.catalog.session() as s:
        pages = list(s.scalars(select(Document.pages).order_by(Document.first_page)))
    assert pages == [p for _, p in batch.documents]
