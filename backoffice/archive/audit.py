"""The append-only, hash-chained audit log.

Each event's hash covers the previous event's hash and the event's own content, so removing,
reordering or altering any entry is detected by :func:`verify_chain`. Appends are serialised:
on PostgreSQL with a transaction-scoped advisory lock, on SQLite by its single writer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backoffice.models import AuditEvent, utcnow

GENESIS = "0" * 64


def _canon(at: datetime) -> str:
    """One spelling of a timestamp whatever the backend returns (naive on SQLite, aware on PG)."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat()


_LOCK_ID = 0x0BAC0FF1CE


def _digest(
    prev: str,
    at: str,
    actor: str,
    action: str,
    client_id: int | None,
    document_id: int | None,
    detail: dict[str, Any],
) -> str:
    payload = json.dumps(
        [prev, at, actor, action, client_id, document_id, detail],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record_event(
    session: Session,
    *,
    actor: str,
    action: str,
    client_id: int | None = None,
    document_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    else:
        # Take SQLite's write lock now, so reading the chain head and appending are atomic.
        session.execute(text("UPDATE audit_events SET id = id WHERE 0"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev = prev or GENESIS
    at = utcnow().replace(microsecond=0)
    detail = json.loads(json.dumps(detail or {}, default=str))
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        client_id=client_id,
        document_id=document_id,
        detail=detail,
        prev_hash=prev,
        hash=_digest(prev, _canon(at), actor, action, client_id, document_id, detail),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole log and check every link and every hash."""
    prev = GENESIS
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        if event.prev_hash != prev:
            return ChainReport(False, count, event.id, "Verkettung unterbrochen (Eintrag fehlt)")
        expected = _digest(
            prev,
            _canon(event.at),
            event.actor,
            event.action,
            event.client_id,
            event.document_id,
            event.detail,
        )
        if expected != event.hash:
            return ChainReport(False, count, event.id, "Eintrag wurde verändert")
        prev = event.hash
    return ChainReport(True, count)
