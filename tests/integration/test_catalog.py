"""Migrations and the catalog schema on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from backoffice.archive.audit import record_event, verify_chain
from backoffice.db import Catalog
from backoffice.models import AuditEvent, Client, Document, Intake

TABLES = {
    "clients",
    "users",
    "user_clients",
    "correspondents",
    "intakes",
    "documents",
    "extracted_fields",
    "followups",
    "quarantine",
    "audit_events",
    "alembic_version",
}


def test_migrations_create_schema_and_are_idempotent(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    catalog.migrate()
    catalog.migrate()
    assert set(inspect(catalog.engine).get_table_names()) >= TABLES
    catalog.dispose()


def test_intake_hash_is_unique(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    catalog.migrate()
    with catalog.session() as s:
        s.add(Intake(sha256="a" * 64, size=1, source="cli", storage_key="intake/originals/aa/x"))
    with pytest.raises(IntegrityError), catalog.session() as s:
        s.add(Intake(sha256="a" * 64, size=1, source="cli", storage_key="intake/originals/aa/x"))
    with catalog.session() as s:
        intake = s.scalars(select(Intake)).one()
        s.add(Document(intake_id=intake.id, first_page=1, page_count=1, sha256="b" * 64))
    with pytest.raises(IntegrityError), catalog.session() as s:
        s.add(Document(intake_id=intake.id, first_page=1, page_count=1, sha256="c" * 64))
    catalog.dispose()


def test_audit_chain_detects_alteration_and_removal(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    catalog.migrate()
    with catalog.session() as s:
        s.add(Client(code="KLEIN", name="Klein", aliases=[], customer_numbers=[]))
    for i in range(5):
        with catalog.session() as s:
            record_event(
                s,
                actor="staff@example.org",
                action="document.viewed",
                document_id=i,
                detail={"n": i, "ä": "ü"},
            )
    with catalog.session() as s:
        report = verify_chain(s)
        assert report.ok and report.events == 5
    with catalog.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.document_id == 2)).one()
        event.detail = {"n": 99}
    with catalog.session() as s:
        report = verify_chain(s)
        assert not report.ok and report.problem == "Eintrag wurde verändert"
    with catalog.session() as s:
        s.delete(s.scalars(select(AuditEvent).where(AuditEvent.document_id == 2)).one())
    with catalog.session() as s:
        report = verify_chain(s)
        assert not report.ok and "fehlt" in (report.problem or "")
    catalog.dispose()


def test_models_and_migrations_agree(catalog_url: str) -> None:
    """Autogenerate finds nothing to do after the migrations: schema and models are one."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backoffice.db import include_object
    from backoffice.models import Base

    catalog = Catalog(catalog_url)
    catalog.migrate()
    with catalog.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": False}
        )
        diff = compare_metadata(ctx, Base.metadata)
    catalog.dispose()
    assert diff == []
