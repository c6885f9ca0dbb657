"""Pages for accountants (and staff): the clients they serve and their export files.

Exports are whatever lies under ``clients/<CODE>/exports/`` in the archive; the export feature
writes there. Listing and downloading go through :func:`access.export_files` /
:func:`access.get_export`, so only files of clients in scope can be named at all.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from backoffice.archive.audit import record_event
from backoffice.archive.storage import ObjectMissingError, StorageError
from backoffice.models import Document, FollowUp, FollowUpKind, FollowUpStatus, Role
from backoffice.portal import access
from backoffice.portal.access import NotFoundError, Scope
from backoffice.portal.auth import page_scope
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import content_disposition, media_type_for, render


def accountant_scope(scope: Annotated[Scope, Depends(page_scope)]) -> Scope:
    scope.require_role(Role.ACCOUNTANT, Role.STAFF)
    return scope


AccountantScope = Annotated[Scope, Depends(accountant_scope)]
router = APIRouter(include_in_schema=False)


@router.get("/mandanten")
def clients(request: Request, session: SessionDep, scope: AccountantScope) -> Response:
    """The clients in scope with their filed documents and open payables."""
    visible = access.visible_clients(session, scope)
    doc_counts = dict(
        session.execute(
            access.restrict_documents(
                select(Document.client_id, func.count()).group_by(Document.client_id), scope
            )
        )
        .tuples()
        .all()
    )
    open_payables = dict(
        session.execute(
            access.restrict_followups(
                select(FollowUp.client_id, func.count())
                .where(
                    FollowUp.kind == FollowUpKind.PAYABLE,
                    FollowUp.status == FollowUpStatus.OPEN,
                )
                .group_by(FollowUp.client_id),
                scope,
            )
        )
        .tuples()
        .all()
    )
    rows = [
        {"client": c, "documents": doc_counts.get(c.id, 0), "payables": open_payables.get(c.id, 0)}
        for c in visible
    ]
    return render(request, "clients.html", {"rows": rows})


@router.get("/exporte")
def exports(
    request: Request, session: SessionDep, portal: PortalDep, scope: AccountantScope
) -> Response:
    files = access.export_files(session, portal.ctx.store, scope)
    return render(request, "exports.html", {"files": files})


@router.get("/exporte/{client_code}/{name:path}")
def export_download(
    session: SessionDep,
    portal: PortalDep,
    scope: AccountantScope,
    client_code: str,
    name: str,
) -> Response:
    item = access.get_export(session, portal.ctx.store, scope, client_code, name)
    try:
        body = portal.ctx.store.get(item.key)
    except (ObjectMissingError, StorageError) as exc:
        raise NotFoundError(name) from exc
    client = access.get_client_by_code(session, scope, client_code)
    record_event(
        session,
        actor=scope.actor,
        action="export.downloaded",
        client_id=client.id,
        detail={"key": item.key},
    )
    filename = f"{client_code}_{item.name.replace('/', '_')}"
    return Response(
        body,
        media_type=media_type_for(item.key),
        headers={
            "Content-Disposition": content_disposition("attachment", filename),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
