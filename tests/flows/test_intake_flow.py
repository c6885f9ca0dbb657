"""The Prefect intake flow on the embedded defaults (ephemeral Prefect, SQLite, folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.models import Document, DocumentStatus, QuarantineEntry
from backoffice.pipeline import seed_clients
from backoffice.samples import DEMO_CLIENTS, generate
from flows.intake import run_intake
from tests.sample_data import batch_truth

pytestmark = [pytest.mark.flow, pytest.mark.ocr, pytest.mark.slow]


def test_intake_flow_files_a_batch_and_quarantines_bad_files(tmp_path: Path) -> None:
    post = tmp_path / "post"
    generate(post, seed=11, n_documents=4, batch_size=4, n_emails=0)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for batch in (post / "batches").glob("*.pdf"):
        (inbox / batch.name).write_bytes(batch.read_bytes())
    (inbox / "truncated.pdf").write_bytes(
        (post / "batches").joinpath("batch-001.pdf").read_bytes()[:2000]
    )
    (inbox / "empty.pdf").write_bytes(b"")

    settings = Settings(var_dir=tmp_path / "var")
    ctx = Context.from_settings(settings)
    seed_clients(ctx, DEMO_CLIENTS)
    outcomes = run_intake(inbox, settings)

    truth = batch_truth(post)
    assert len(outcomes) == len(truth.order)
    assert all(o["status"] == "filed" for o in outcomes), outcomes
    assert sorted(o["client"] for o in outcomes) == sorted(
        truth.documents[d]["client_code"] for d, _ in truth.order
    )
    with ctx.catalog.session() as s:
        reasons = [q.reason for q in s.scalars(select(QuarantineEntry))]
        assert len(reasons) == 2 and any("leer" in r for r in reasons)
        assert any("beschädigt" in r or "nicht gelesen" in r for r in reasons)

    # A second run over the same inbox finds only duplicates and leaves one document each.
    assert run_intake(inbox, settings) == []
    with ctx.catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == len(truth.order)
        assert s.scalar(
            select(func.count())
            .select_from(Document)
            .where(Document.status == DocumentStatus.FILED)
        ) == len(truth.order)
