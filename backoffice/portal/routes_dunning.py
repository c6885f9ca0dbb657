"""Staff pages of the dunning run (Mahnwesen): proposals, approval, letters, print queue.

Only staff see these pages: a Mahnung goes out in a client's name, so the office service
decides, and clients see the filed letters in their archive like any other post. Approval is a
plain form post (single or bulk via checkboxes) that redirects back (post/redirect/get);
letters can be looked at as PDF before approval (rendered on the fly) and after dispatch (the
filed letter, byte for byte what the debtor got).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from backoffice.followups import dunning
from backoffice.models import DunningNotice, DunningStatus
from backoffice.portal.access import NotFoundError
from backoffice.portal.auth import require_csrf
from backoffice.portal.routes_staff import StaffScope, form_data
from backoffice.portal.state import PortalDep, SessionDep
from backoffice.portal.web import content_disposition, render

router = APIRouter(include_in_schema=False)
forms = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])
RECENT = 50


@router.get("/mahnwesen")
def overview(request: Request, session: SessionDep, scope: StaffScope) -> Response:
    """Proposals to decide on, approved letters waiting for dispatch, the print queue."""
    sent = dunning.list_notices(session, [DunningStatus.SENT])
    params = request.query_params
    return render(
        request,
        "dunning.html",
        {
            "proposed": dunning.list_notices(session, [DunningStatus.PROPOSED]),
            "approved": dunning.list_notices(session, [DunningStatus.APPROVED]),
            "print_queue": dunning.list_notices(session, [DunningStatus.PRINT]),
            "sent": sent[-RECENT:],
            "approved_count": params.get("freigegeben"),
            "refused_count": params.get("abgelehnt"),
            "dispatched": params.get("versendet"),
        },
    )


@forms.post("/mahnwesen/freigeben")
def approve(
    session: SessionDep,
    scope: StaffScope,
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Approve the checked notices (or the one whose button was pressed)."""
    ids = [int(v) for v in form.getlist("notice_id") if isinstance(v, str) and v.isdigit()]
    result = dunning.approve(session, ids, scope.actor)
    return RedirectResponse(
        f"/mahnwesen?freigegeben={len(result.approved)}&abgelehnt={len(result.refused)}",
        status_code=303,
    )


@forms.post("/mahnwesen/versenden")
def send_now(session: SessionDep, portal: PortalDep, scope: StaffScope) -> Response:
    """Dispatch the approved letters now instead of waiting for the daily flow."""
    session.rollback()  # dispatch runs its own transactions
    result = dunning.dispatch(portal.ctx)
    counts = f"{len(result.sent)}-{len(result.printed)}-{len(result.failed)}"
    return RedirectResponse(f"/mahnwesen?versendet={counts}", status_code=303)


@router.get("/mahnwesen/{notice_id}/brief.pdf")
def letter_pdf(
    session: SessionDep, portal: PortalDep, scope: StaffScope, notice_id: int
) -> Response:
    """The filed letter once dispatched, else a preview of what would be sent."""
    notice = session.get(DunningNotice, notice_id)
    if notice is None:
        raise NotFoundError(str(notice_id))
    if notice.letter_key:
        body = portal.ctx.store.get(notice.letter_key)
    else:
        body = dunning.preview_pdf(session, portal.ctx.settings, notice_id)
    name = f"mahnung-{notice_id}-stufe-{notice.stage}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition("inline", name)},
    )


router.include_router(forms)
"""One router for the app to include: the form posts (CSRF-checked) ride along."""
