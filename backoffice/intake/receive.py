"""Receiving originals: store the bytes, record the intake, before anything else happens.

This is the durability promise of the product. :func:`receive_bytes` first writes the original
to the archive under its sha256 (write-once, idempotent), then records an :class:`Intake` row.
A crash between the two leaves an object without a row, which the next delivery of the same
file completes; a crash after both leaves a ``received`` intake that the next flow run picks up.
Re-delivering the same bytes never makes a second intake: it counts as a redelivery.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backoffice.archive.audit import record_event
from backoffice.archive.storage import INTAKE_SCOPE, ObjectStore, content_key, sha256_hex
from backoffice.db import Catalog
from backoffice.intake.quarantine import quarantine_intake
from backoffice.intake.sniff import SUFFIX_FOR, sniff_media_type
from backoffice.models import Intake, IntakeStatus

log = logging.getLogger(__name__)

SUPPORTED = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "message/rfc822",
    "application/vnd.ms-outlook",
    "application/zip",
    "application/xml",
}


@dataclass(frozen=True)
class Received:
    """What happened to one delivered file."""

    intake_id: int
    filename: str | None
    duplicate: bool
    status: IntakeStatus


def receive_bytes(
    catalog: Catalog,
    store: ObjectStore,
    data: bytes,
    *,
    source: str,
    source_ref: str | None = None,
    filename: str | None = None,
    client_hint: str | None = None,
    max_bytes: int | None = None,
) -> Received:
    """Store ``data`` as an original and record it; idempotent by content hash."""
    digest = sha256_hex(data)
    with catalog.session() as session:
        existing = session.scalar(select(Intake).where(Intake.sha256 == digest))
        if existing is not None:
            existing.redeliveries += 1
            record_event(
                session,
                actor="system",
                action="intake.duplicate",
                detail={"intake_id": existing.id, "source_ref": source_ref},
            )
            return Received(existing.id, filename, duplicate=True, status=existing.status)

    media_type = sniff_media_type(data)
    key = content_key(INTAKE_SCOPE, "originals", digest, SUFFIX_FOR.get(media_type, ".bin"))
    store.put(key, data, content_type=media_type)
    intake = Intake(
        sha256=digest,
        size=len(data),
        source=source,
        source_ref=source_ref,
        filename=filename,
        media_type=media_type,
        storage_key=key,
        client_hint=client_hint,
    )
    try:
        with catalog.session() as session:
            session.add(intake)
            session.flush()
            record_event(
                session,
                actor="system",
                action="intake.received",
                detail={"intake_id": intake.id, "sha256": digest, "source_ref": source_ref},
            )
    except IntegrityError:
        # Another worker recorded the same bytes between our check and insert.
        with catalog.session() as session:
            intake_id = session.scalars(select(Intake.id).where(Intake.sha256 == digest)).one()
        return Received(intake_id, filename, duplicate=True, status=IntakeStatus.RECEIVED)

    reason = _reject_reason(data, media_type, max_bytes)
    if reason:
        quarantine_intake(catalog, intake.id, reason)
        return Received(intake.id, filename, duplicate=False, status=IntakeStatus.QUARANTINED)
    return Received(intake.id, filename, duplicate=False, status=IntakeStatus.RECEIVED)


def _reject_reason(data: bytes, media_type: str, max_bytes: int | None) -> str | None:
    if not data:
        return "Die Datei ist leer (0 Byte)."
    if max_bytes is not None and len(data) > max_bytes:
        return f"Die Datei ist mit {len(data):,} Byte größer als erlaubt ({max_bytes:,} Byte)."
    if media_type not in SUPPORTED:
        return f"Dateityp wird nicht verarbeitet: {media_type}."
    return None


def iter_files(path: Path) -> Iterator[Path]:
    """The files under ``path`` in a stable order, skipping hidden and partial files."""
    if path.is_file():
        yield path
        return
    for child in sorted(path.rglob("*")):
        if child.is_file() and not any(part.startswith(".") for part in child.parts[-1:]):
            yield child


def receive_path(
    catalog: Catalog,
    store: ObjectStore,
    path: Path,
    *,
    source: str = "cli",
    client_hint: str | None = None,
    max_bytes: int | None = None,
) -> list[Received]:
    """Receive a file, or every file under a folder."""
    results = []
    for file in iter_files(path):
        results.append(
            receive_bytes(
                catalog,
                store,
                file.read_bytes(),
                source=source,
                source_ref=str(file),
                filename=file.name,
                client_hint=client_hint,
                max_bytes=max_bytes,
            )
        )
    return results
