"""Tenant isolation of the portal, enforced in this one module.

Every query the portal makes for documents, fields, follow-ups, downloads, clients, exports and
search goes through a helper here that applies the current user's :class:`Scope`. Routes never
filter by client themselves, so a new route cannot forget it: it can only get at client data
through these functions.

* Staff see every client and every document state (they run the review queue).
* Client users and accountants see only the clients linked to them (``user_clients``) and only
  documents that are filed; a document still in processing or unassigned is staff business.
* A document outside the scope is reported as *not found*, never as *forbidden*, so its
  existence does not leak.

Documents are addressed by an opaque random public id (:class:`DocumentHandle`) rather than the
sequential catalog id: URLs cannot be guessed or enumerated, even by a user who may see some of
them. Random ids were chosen over HMAC-signed ids because they need no key management (a key
rotation would break every bookmarked link) and can be revoked per document.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, false, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from backoffice.archive.storage import ObjectStore, StorageError, client_scope
from backoffice.models import (
    BookingEntry,
    Client,
    Document,
    DocumentHandle,
    DocumentStatus,
    FollowUp,
    Role,
    User,
    UserClient,
    utcnow,
)

PUBLIC_ID_RE = re.compile(r"[A-Za-z0-9_-]{16,32}")
EXPORT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")

_Ts = TypeVarTuple("_Ts")


class NotFoundError(Exception):
    """The object does not exist, or is outside the user's scope (indistinguishable on purpose)."""


class ForbiddenError(Exception):
    """The user's role may not do this at all (e.g. a client opening the review queue)."""


@dataclass(frozen=True)
class Scope:
    """Who is asking and which clients' data they may see."""

    user_id: int
    email: str
    name: str
    role: Role
    client_ids: frozenset[int]

    @property
    def all_clients(self) -> bool:
        return self.role == Role.STAFF

    @property
    def actor(self) -> str:
        """How the user appears in the audit log."""
        return f"user:{self.email}"

    def allows_client(self, client_id: int | None) -> bool:
        if self.all_clients:
            return True
        return client_id is not None and client_id in self.client_ids

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            raise ForbiddenError(self.role.value)


def scope_for(session: Session, user: User) -> Scope:
    """The scope of ``user``: their linked clients (all clients for staff)."""
    ids = frozenset(
        session.scalars(select(UserClient.client_id).where(UserClient.user_id == user.id))
    )
    return Scope(user.id, user.email, user.name, user.role, ids)


# --- the restrictions: every client-data query passes one of these -------------------------------


def restrict_documents(stmt: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    """Limit a query over :class:`Document` to what ``scope`` may see."""
    if scope.all_clients:
        return stmt
    if not scope.client_ids:
        return stmt.where(false())
    return stmt.where(
        Document.client_id.in_(sorted(scope.client_ids)),
        Document.status == DocumentStatus.FILED,
    )


def restrict_followups(stmt: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    """Limit a query over :class:`FollowUp` to filed documents of the scope's clients."""
    if scope.all_clients:
        return stmt
    if not scope.client_ids:
        return stmt.where(false())
    visible = restrict_documents(select(Document.id), scope)
    return stmt.where(
        FollowUp.client_id.in_(sorted(scope.client_ids)), FollowUp.document_id.in_(visible)
    )


def restrict_clients(stmt: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    """Limit a query over :class:`Client` to the scope's clients."""
    if scope.all_clients:
        return stmt
    if not scope.client_ids:
        return stmt.where(false())
    return stmt.where(Client.id.in_(sorted(scope.client_ids)))


def restrict_bookings(stmt: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    """Limit a query over :class:`BookingEntry` to the scope's clients."""
    if scope.all_clients:
        return stmt
    if not scope.client_ids:
        return stmt.where(false())
    return stmt.where(BookingEntry.client_id.in_(sorted(scope.client_ids)))


def get_booking(session: Session, scope: Scope, client: Client, booking_id: int) -> BookingEntry:
    """One booking of ``client`` if ``scope`` may see it, else not found."""
    stmt = select(BookingEntry).where(
        BookingEntry.id == booking_id, BookingEntry.client_id == client.id
    )
    booking = session.scalar(restrict_bookings(stmt, scope))
    if booking is None:
        raise NotFoundError(str(booking_id))
    return booking


# --- clients -------------------------------------------------------------------------------------


def visible_clients(session: Session, scope: Scope) -> list[Client]:
    return list(session.scalars(restrict_clients(select(Client), scope).order_by(Client.code)))


def get_client_by_code(session: Session, scope: Scope, code: str) -> Client:
    client = session.scalar(restrict_clients(select(Client), scope).where(Client.code == code))
    if client is None:
        raise NotFoundError(code)
    return client


# --- documents -----------------------------------------------------------------------------------


def public_ids(session: Session, document_ids: Iterable[int]) -> dict[int, str]:
    """The public ids of documents, creating the missing ones.

    Normally :func:`backoffice.portal.search.index_document` creates the id when a document is
    filed; this fills the gap for documents that were never indexed.
    """
    wanted = sorted(set(document_ids))
    if not wanted:
        return {}
    known = dict(
        session.execute(
            select(DocumentHandle.document_id, DocumentHandle.public_id).where(
                DocumentHandle.document_id.in_(wanted)
            )
        )
        .tuples()
        .all()
    )
    fresh = {doc_id: secrets.token_urlsafe(16) for doc_id in wanted if doc_id not in known}
    if not fresh:
        return known
    try:
        with session.begin_nested():
            session.execute(
                insert(DocumentHandle),
                [
                    {"document_id": d, "public_id": p, "created_at": utcnow()}
                    for d, p in fresh.items()
                ],
            )
        known.update(fresh)
    except IntegrityError:
        # Someone created some of them at the same time: one by one, keeping theirs.
        for doc_id, candidate in fresh.items():
            try:
                with session.begin_nested():
                    session.add(DocumentHandle(document_id=doc_id, public_id=candidate))
                known[doc_id] = candidate
            except IntegrityError:
                known[doc_id] = session.scalars(
                    select(DocumentHandle.public_id).where(DocumentHandle.document_id == doc_id)
                ).one()
    return known


def public_id(session: Session, document_id: int) -> str:
    return public_ids(session, [document_id])[document_id]


def get_document(session: Session, scope: Scope, public: str) -> Document:
    """The document with public id ``public`` if ``scope`` may see it, else not found."""
    if not PUBLIC_ID_RE.fullmatch(public):
        raise NotFoundError(public)
    stmt = (
        select(Document)
        .join(DocumentHandle, DocumentHandle.document_id == Document.id)
        .where(DocumentHandle.public_id == public)
        .options(
            selectinload(Document.fields),
            selectinload(Document.client),
            selectinload(Document.correspondent),
        )
    )
    doc = session.scalar(restrict_documents(stmt, scope))
    if doc is None:
        raise NotFoundError(public)
    return doc


def document_followups(session: Session, scope: Scope, document: Document) -> list[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.document_id == document.id).order_by(FollowUp.id)
    return list(session.scalars(restrict_followups(stmt, scope)))


def followups(
    session: Session,
    scope: Scope,
    *,
    kinds: Sequence[Any] | None = None,
    statuses: Sequence[Any] | None = None,
    client_id: int | None = None,
) -> list[FollowUp]:
    """Follow-ups in scope, soonest due first (undated last)."""
    stmt = select(FollowUp).options(
        selectinload(FollowUp.document).selectinload(Document.client),
        selectinload(FollowUp.document).selectinload(Document.correspondent),
    )
    if kinds:
        stmt = stmt.where(FollowUp.kind.in_(list(kinds)))
    if statuses:
        stmt = stmt.where(FollowUp.status.in_(list(statuses)))
    if client_id is not None:
        stmt = stmt.where(FollowUp.client_id == client_id)
    stmt = stmt.order_by(FollowUp.due_date.asc().nulls_last(), FollowUp.id)
    return list(session.scalars(restrict_followups(stmt, scope)))


# --- exports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    client_code: str
    name: str
    """Path below ``clients/<CODE>/exports/`` (may contain sub-folders)."""
    key: str


def export_files(
    session: Session, store: ObjectStore, scope: Scope, client_code: str | None = None
) -> list[ExportFile]:
    """Export files in the archive of the scope's clients (optionally one client)."""
    clients = visible_clients(session, scope)
    if client_code is not None:
        clients = [c for c in clients if c.code == client_code]
    files: list[ExportFile] = []
    for client in clients:
        try:
            prefix = f"{client_scope(client.code)}/exports/"
        except StorageError:
            continue
        for key in store.list(prefix):
            files.append(ExportFile(client.code, key[len(prefix) :], key))
    return files


def get_export(
    session: Session, store: ObjectStore, scope: Scope, client_code: str, name: str
) -> ExportFile:
    """One export file, only if it is listed for a client in scope (no path games possible)."""
    parts = name.split("/")
    if not all(EXPORT_NAME_RE.fullmatch(p) for p in parts) or ".." in parts:
        raise NotFoundError(name)
    get_client_by_code(session, scope, client_code)
    for item in export_files(session, store, scope, client_code):
        if item.name == name:
            return item
    raise NotFoundError(name)
