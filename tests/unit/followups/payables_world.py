"""Small catalog builders for the follow-up tests: clients, correspondents and filed documents
with the extracted fields the understanding stage would have written."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date

from sqlalchemy.orm import Session

from backoffice.followups.queue import queue_followups
from backoffice.models import (
    Client,
    Correspondent,
    DocType,
    Document,
    DocumentStatus,
    ExtractedField,
    FollowUp,
    Intake,
)

_n = itertools.count(1)


def add_client(session: Session, code: str, name: str, email: str | None = None) -> Client:
    client = Client(code=code, name=name, email=email, aliases=[], customer_numbers=[])
    session.add(client)
    session.flush()
    return client


def add_correspondent(
    session: Session,
    client: Client,
    name: str,
    *,
    vat_id: str | None = None,
    iban: str | None = None,
) -> Correspondent:
    corr = Correspondent(client_id=client.id, name=name, vat_id=vat_id, iban=iban)
    session.add(corr)
    session.flush()
    return corr


def file_document(
    session: Session,
    client: Client,
    doc_type: DocType,
    fields: dict[str, str],
    *,
    correspondent: Correspondent | None = None,
    text: str = "",
    title: str | None = None,
) -> Document:
    """A filed document with ``fields``; its follow-ups are queued as the filing stage does."""
    n = next(_n)
    sha = hashlib.sha256(f"doc-{n}".encode()).hexdigest()
    intake = Intake(sha256=sha, size=1, source="test", storage_key=f"intake/{sha}.pdf")
    session.add(intake)
    session.flush()
    issue = fields.get("issue_date")
    doc = Document(
        intake_id=intake.id,
        client_id=client.id,
        correspondent_id=correspondent.id if correspondent else None,
        first_page=1,
        page_count=1,
        pages=[1],
        sha256=sha,
        status=DocumentStatus.FILED,
        doc_type=doc_type,
        title=title or f"{doc_type.value} {n}",
        doc_date=date.fromisoformat(issue) if issue else None,
        text=text,
    )
    session.add(doc)
    session.flush()
    for name, value in fields.items():
        session.add(
            ExtractedField(
                document_id=doc.id, name=name, value=value, confidence=0.9, source="text"
            )
        )
    session.flush()
    session.refresh(doc)
    queue_followups(session, doc)
    return doc


def followup_of(session: Session, doc: Document) -> FollowUp:
    (followup,) = doc_followups(session, doc)
    return followup


def doc_followups(session: Session, doc: Document) -> list[FollowUp]:
    from sqlalchemy import select

    return list(session.scalars(select(FollowUp).where(FollowUp.document_id == doc.id)))
