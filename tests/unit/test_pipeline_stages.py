"""Stage behaviour on born-digital post (no OCR): idempotency, resume, faults stay local."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice import pipeline
from backoffice.config import Settings
from backoffice.context import Context
from backoffice.intake.quarantine import open_entries, release
from backoffice.models import Document, DocumentStatus, FollowUp
from backoffice.pipeline import process_document, run_batch, seed_clients
from backoffice.samples import DEMO_CLIENTS, generate


@pytest.fixture(scope="module")
def digital_post(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digital")
    generate(root, seed=21, n_documents=5, scanned=False, n_emails=0)
    return root / "digital"


@pytest.fixture
def ctx(settings: Settings) -> Context:
    context = Context.from_settings(settings)
    seed_clients(context, DEMO_CLIENTS)
    return context


def test_born_digital_documents_use_the_text_layer(ctx: Context, digital_post: Path) -> None:
    outcomes = run_batch(ctx, digital_post)
    assert len(outcomes) == 5
    with ctx.catalog.session() as s:
        for doc in s.scalars(select(Document)):
            assert doc.text_source == "layer"
            assert doc.status in (DocumentStatus.FILED, DocumentStatus.UNASSIGNED)


def test_a_failing_document_is_quarantined_alone_and_can_be_retried(
    ctx: Context, digital_post: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.understand_document
    calls = {"n": 0}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("Modell nicht lesbar")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "understand_document", flaky)
    outcomes = run_batch(ctx, digital_post)
    assert [o.status for o in outcomes].count("quarantined") == 1
    assert sum(o.status in ("filed", "unassigned") for o in outcomes) == 4
    entry = open_entries(ctx.catalog)[0]
    assert "Modell nicht lesbar" in entry.reason

    monkeypatch.setattr(pipeline, "understand_document", real)
    release(ctx.catalog, entry.id)
    again = run_batch(ctx, None)
    assert len(again) == 1 and again[0].status in ("filed", "unassigned")


def test_stages_resume_and_do_not_repeat(ctx: Context, digital_post: Path) -> None:
    """A document stopped after the text stage continues from there; re-running is a no-op."""
    pipeline.receive(ctx, digital_post)
    pipeline.split_pending(ctx, lambda ids: [pipeline.split(ctx, i) for i in ids])
    first = pipeline.pending_documents(ctx)[0]
    assert pipeline.run_text_stage(ctx, first)  # "crash" after the text stage
    with ctx.catalog.session() as s:
        assert s.get_one(Document, first).status == DocumentStatus.TEXT
    run_batch(ctx, None)
    with ctx.catalog.session() as s:
        doc = s.get_one(Document, first)
        assert doc.attempts == 1 and doc.status in (DocumentStatus.FILED, DocumentStatus.UNASSIGNED)
        followups = s.scalar(select(func.count()).select_from(FollowUp))
    for doc_id in range(1, 6):
        process_document(ctx, doc_id)
    with ctx.catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(FollowUp)) == followups
        assert s.scalar(select(func.count()).select_from(Document)) == 5


def test_deleting_before_the_retention_period_is_refused_and_logged(
    ctx: Context, digital_post: Path
) -> None:
    from datetime import timedelta

    from backoffice.archive.retention import RetentionError, delete_document
    from backoffice.models import AuditEvent

    run_batch(ctx, digital_post)
    with ctx.catalog.session() as s:
        doc = s.scalars(select(Document).where(Document.status == DocumentStatus.FILED)).first()
        assert doc is not None and doc.retain_until is not None
        doc_id, until, key = doc.id, doc.retain_until, doc.original_key
    with pytest.raises(RetentionError, match="aufzubewahren"):
        delete_document(ctx, doc_id, actor="staff@office.example")
    assert ctx.store.exists(key)
    with ctx.catalog.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.document_id == doc_id)))
    assert "document.delete_refused" in actions
    delete_document(ctx, doc_id, actor="staff@office.example", today=until + timedelta(days=1))
    assert not ctx.store.exists(key)


@pytest.mark.ocr
def test_low_resolution_scans_are_flagged_for_a_rescan(
    ctx: Context, digital_post: Path, tmp_path: Path
) -> None:
    import pypdfium2 as pdfium

    from backoffice.text import render_page

    source = sorted(digital_post.glob("*.pdf"))[0].read_bytes()
    inbox = tmp_path / "scans"
    inbox.mkdir()
    for dpi in (100, 300):
        image = render_page(pdfium.PdfDocument(source), 0, dpi, grey=True)
        image.save(inbox / f"scan-{dpi}.pdf", "PDF", resolution=dpi)
    run_batch(ctx, inbox)
    with ctx.catalog.session() as s:
        flags = {d.intake.filename: d.flags for d in s.scalars(select(Document))}
    assert any("nur etwa 100 dpi" in f for f in flags["scan-100.pdf"])
    assert not any("dpi" in f for f in flags["scan-300.pdf"])
