"""Quarantine: input the machine cannot process, kept with a reason a person understands.

Nothing is ever dropped. A quarantined intake or document keeps its stored original; staff see
the reason (``backoffice quarantine list``) and, once the cause is fixed (a password supplied,
a limit raised, a bug fixed), retry it (``backoffice quarantine retry ID``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from backoffice.archive.audit import record_event
from backoffice.db import Catalog
from backoffice.models import (
    Document,
    DocumentStatus,
    Intake,
    IntakeStatus,
    QuarantineEntry,
)


def quarantine_intake(
    catalog: Catalog, intake_id: int, reason: str, detail: str | None = None
) -> None:
    """Mark a received original as not processable, with a readable reason."""
    with catalog.session() as session:
        intake = session.get_one(Intake, intake_id)
        intake.status = IntakeStatus.QUARANTINED
        intake.error = reason
        session.add(
            QuarantineEntry(
                intake_id=intake_id, source_ref=intake.source_ref, reason=reason, detail=detail
            )
        )
        record_event(
            session,
            actor="system",
            action="intake.quarantined",
            detail={"intake_id": intake_id, "reason": reason},
        )


def quarantine_document(
    catalog: Catalog, document_id: int, reason: str, detail: str | None = None
) -> None:
    """Mark one document (not its whole batch) as not processable."""
    with catalog.session() as session:
        doc = session.get_one(Document, document_id)
        doc.status = DocumentStatus.QUARANTINED
        doc.error = reason
        session.add(
            QuarantineEntry(
                intake_id=doc.intake_id,
                document_id=document_id,
                source_ref=doc.intake.source_ref,
                reason=reason,
                detail=detail,
            )
        )
        record_event(
            session,
            actor="system",
            action="document.quarantined",
            client_id=doc.client_id,
            document_id=document_id,
            detail={"reason": reason},
        )


def open_entries(catalog: Catalog) -> list[QuarantineEntry]:
    with catalog.session() as session:
        return list(
            session.scalars(
                select(QuarantineEntry)
                .where(QuarantineEntry.resolved_at.is_(None))
                .order_by(QuarantineEntry.id)
            )
        )


def release(catalog: Catalog, entry_id: int, actor: str = "staff") -> QuarantineEntry:
    """Resolve an entry and put its intake/document back to the start of processing."""
    with catalog.session() as session:
        entry = session.get_one(QuarantineEntry, entry_id)
        entry.resolved_at = datetime.now(UTC)
        if entry.document_id is not None:
            doc = session.get_one(Document, entry.document_id)
            doc.status = DocumentStatus.NEW
            doc.error = None
        elif entry.intake_id is not None:
            intake = session.get_one(Intake, entry.intake_id)
            intake.status = IntakeStatus.RECEIVED
            intake.error = None
        record_event(session, actor=actor, action="quarantine.retry", detail={"entry_id": entry_id})
        return entry
