"""Correcting a document's class or date derives its retention period again (GoBD).

Letters are kept 6 years, invoices 8, from the end of the document's year; the stored original's
lock moves with a longer period and holds a shorter one back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice.archive.retention import document_retention, rederive_retention
from backoffice.config import S3Settings, Settings
from backoffice.models import AuditEvent, Client, DocType, Document
from backoffice.pipeline import run_file_stage
from backoffice.portal.corrections import correct_client, correct_doc_type, correct_field
from tests.portal.conftest import csrf_of
from tests.portal.world import World, build_world
from tests.services import S3Server

ClientFor = Callable[..., TestClient]
RETENTION_EVENT = "document.retention_changed"


def file_with_lock(world: World, key: str) -> Document:
    """Give a world document the retention the filing stage gives it: catalog and object lock."""
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids[key])
        doc.retain_until = document_retention(doc)
        assert doc.original_key is not None
        assert world.ctx.store.extend_retention(doc.original_key, doc.retain_until)
        return doc


def stored(world: World, key: str) -> tuple[Document, date | None]:
    """The document as the catalog has it now, and its original's lock."""
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids[key])
        assert doc.original_key is not None
        return doc, world.ctx.store.retention(doc.original_key)


def retention_events(world: World, key: str) -> list[AuditEvent]:
    with world.ctx.catalog.session() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.action == RETENTION_EVENT,
                    AuditEvent.document_id == world.doc_ids[key],
                )
                .order_by(AuditEvent.id)
            )
        )


def post_form(client: TestClient, world: World, key: str, path: str, data: dict[str, str]) -> None:
    token = csrf_of(client.get("/pruefen").text)
    response = client.post(
        f"/dokumente/{world.public[key]}/{path}",
        data={**data, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_letter_corrected_to_invoice_is_kept_eight_years(
    client_for: ClientFor, world: World
) -> None:
    before = file_with_lock(world, "a_letter")  # dated 20.06.2024
    assert before.retain_until == date(2030, 12, 31)
    post_form(client_for("staff"), world, "a_letter", "klasse", {"doc_type": "invoice"})

    doc, lock = stored(world, "a_letter")
    assert doc.doc_type == DocType.INVOICE
    assert doc.retain_until == date(2032, 12, 31)
    assert lock == date(2032, 12, 31)  # the original is not released before the catalog says
    (event,) = retention_events(world, "a_letter")
    assert event.actor == f"user:{world.emails['staff']}"
    assert event.detail == {
        "old": "2030-12-31",
        "derived": "2032-12-31",
        "new": "2032-12-31",
        "locked_until": "2032-12-31",
        "lock_extended": True,
        "kept_longer": False,
    }


def test_invoice_corrected_to_letter_keeps_its_committed_lock(
    client_for: ClientFor, world: World
) -> None:
    file_with_lock(world, "a_invoice")  # dated 01.03.2024: 8 years, locked
    post_form(client_for("staff"), world, "a_invoice", "klasse", {"doc_type": "letter"})

    doc, lock = stored(world, "a_invoice")
    assert doc.doc_type == DocType.LETTER
    assert doc.retain_until == date(2032, 12, 31)  # the rule says 2030; the lock cannot shrink
    assert lock == date(2032, 12, 31)
    (event,) = retention_events(world, "a_invoice")
    assert event.detail["derived"] == "2030-12-31"
    assert event.detail["new"] == "2032-12-31"
    assert event.detail["kept_longer"] is True and event.detail["lock_extended"] is False


def test_without_a_lock_the_corrected_class_decides(world: World) -> None:
    """An original stored without retention (S3 without Object Lock) holds nothing back."""
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["a_invoice"])
        doc.retain_until = document_retention(doc)
        assert doc.original_key and world.ctx.store.retention(doc.original_key) is None
        correct_doc_type(s, doc, DocType.LETTER, "user:test", store=world.ctx.store)
        assert doc.retain_until == date(2030, 12, 31)
    (event,) = retention_events(world, "a_invoice")
    assert event.detail["kept_longer"] is False and event.detail["locked_until"] is None


def test_a_corrected_issue_date_moves_the_retention(client_for: ClientFor, world: World) -> None:
    file_with_lock(world, "a_invoice")
    staff = client_for("staff")
    post_form(staff, world, "a_invoice", "felder", {"field:issue_date": "15.01.2025"})
    doc, lock = stored(world, "a_invoice")
    assert doc.doc_date == date(2025, 1, 15)
    assert doc.retain_until == lock == date(2033, 12, 31)

    post_form(staff, world, "a_invoice", "felder", {"field:issue_date": "01.03.2024"})
    doc, lock = stored(world, "a_invoice")
    assert doc.doc_date == date(2024, 3, 1)
    assert doc.retain_until == lock == date(2033, 12, 31)  # the extended lock stays
    assert [e.detail["new"] for e in retention_events(world, "a_invoice")] == [
        "2033-12-31",
        "2033-12-31",
    ]


def test_documents_not_yet_filed_get_their_period_when_filed(world: World) -> None:
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["unassigned"])
        assert doc.retain_until is None
        correct_doc_type(s, doc, DocType.INVOICE, "user:test", store=world.ctx.store)
        correct_field(s, doc, "issue_date", "2024-05-02", "user:test", store=world.ctx.store)
        assert doc.doc_date == date(2024, 5, 2)
        assert doc.retain_until is None
        assert rederive_retention(s, world.ctx.store, doc, actor="user:test") is None
    assert retention_events(world, "unassigned") == []


@pytest.mark.services
def test_s3_object_lock_is_extended_never_shortened(s3: S3Server, tmp_path: Path) -> None:
    bucket = f"locked-{os.getpid()}"
    s3.create_bucket(bucket, object_lock=True)
    world = build_world(
        Settings(
            var_dir=tmp_path / "var",
            archive_url=f"s3://{bucket}/office",
            s3=S3Settings(
                endpoint_url=s3.endpoint,
                access_key_id="test",
                secret_access_key="test",
                object_lock=True,
            ),
        ),
        with_tokens=False,
    )
    file_with_lock(world, "a_letter")
    assert stored(world, "a_letter")[1] == date(2030, 12, 31)  # the server's lock
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["a_letter"])
        correct_doc_type(s, doc, DocType.INVOICE, "user:test", store=world.ctx.store)
    assert stored(world, "a_letter")[1] == date(2032, 12, 31)
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["a_letter"])
        correct_doc_type(s, doc, DocType.LETTER, "user:test", store=world.ctx.store)
        assert doc.retain_until == date(2032, 12, 31)
    assert stored(world, "a_letter")[1] == date(2032, 12, 31)
    assert [e.detail["kept_longer"] for e in retention_events(world, "a_letter")] == [False, True]


def test_refiling_for_another_client_never_shortens_the_period(
    client_for: ClientFor, world: World
) -> None:
    file_with_lock(world, "a_invoice")  # invoice: 8 years, locked until 2032
    post_form(client_for("staff"), world, "a_invoice", "klasse", {"doc_type": "letter"})
    with world.ctx.catalog.session() as s:  # staff move it to BETA: it is filed again
        doc = s.get_one(Document, world.doc_ids["a_invoice"])
        beta = s.scalars(select(Client).where(Client.code == "BETA")).one()
        assert correct_client(s, doc, beta, "user:staff").needs_processing
    run_file_stage(world.ctx, world.doc_ids["a_invoice"])

    doc, _ = stored(world, "a_invoice")
    assert doc.original_key is not None and doc.original_key.startswith("clients/BETA/")
    assert doc.retain_until == date(2032, 12, 31)  # the letter rule alone would give 2030
    assert world.ctx.store.retention(doc.original_key) == date(2032, 12, 31)
