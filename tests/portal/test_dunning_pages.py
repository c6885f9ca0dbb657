"""Portal pages of the dunning run: staff approve (single and bulk), clients may not."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pdfplumber
from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice.followups.dunning import run_proposals
from backoffice.models import AuditEvent, DunningNotice, DunningStatus
from tests.portal.conftest import csrf_of
from tests.portal.world import World
from tests.unit.followups.receivables import add_receivable


def _propose(world: World) -> list[int]:
    alpha = world.clients["ALPHA"]
    add_receivable(world.ctx, alpha, number="AL-1")
    add_receivable(world.ctx, alpha, number="AL-2")
    add_receivable(world.ctx, alpha, number="AL-3")
    return run_proposals(world.ctx, date(2026, 10, 1)).proposed


def _statuses(world: World, ids: list[int]) -> list[DunningStatus]:
    with world.ctx.catalog.session() as s:
        return [s.get_one(DunningNotice, i).status for i in ids]


def test_staff_approve_single_and_bulk(world: World, client_for: Callable[..., TestClient]) -> None:
    ids = _propose(world)
    staff = client_for("staff")
    page = staff.get("/mahnwesen")
    assert page.status_code == 200
    assert "AL-1" in page.text and "Zahlungserinnerung" in page.text and "1.190,00 €" in page.text
    assert 'href="/mahnwesen"' in page.text  # in the staff navigation
    token = csrf_of(page.text)

    # Without the CSRF token nothing happens.
    refused = staff.post("/mahnwesen/freigeben", data={"notice_id": str(ids[0])})
    assert refused.status_code == 403
    assert _statuses(world, ids) == [DunningStatus.PROPOSED] * 3

    single = staff.post(
        "/mahnwesen/freigeben",
        data={"notice_id": str(ids[0]), "csrf_token": token},
        follow_redirects=False,
    )
    assert single.status_code == 303 and "freigegeben=1" in single.headers["location"]
    assert _statuses(world, ids)[0] == DunningStatus.APPROVED

    bulk = staff.post(
        "/mahnwesen/freigeben",
        data={"notice_id": [str(ids[1]), str(ids[2])], "csrf_token": token},
    )
    assert "2 Mahnung(en) freigegeben" in bulk.text
    assert _statuses(world, ids) == [DunningStatus.APPROVED] * 3
    with world.ctx.catalog.session() as s:
        actors = set(
            s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "dunning.approved"))
        )
    assert actors == {"user:sabine@buero.example"}

    preview = staff.get(f"/mahnwesen/{ids[0]}/brief.pdf")
    assert preview.headers["content-type"] == "application/pdf"
    with pdfplumber.open(io.BytesIO(preview.content)) as pdf:
        text = pdf.pages[0].extract_text() or ""
    assert "Zahlungserinnerung" in text and "AL-1" in text


def test_client_and_accountant_cannot_see_or_approve(
    world: World, client_for: Callable[..., TestClient]
) -> None:
    ids = _propose(world)
    for user in ("alice", "carla"):
        browser = client_for(user)
        assert browser.get("/mahnwesen").status_code == 403
        assert browser.get(f"/mahnwesen/{ids[0]}/brief.pdf").status_code == 403
        token = csrf_of(browser.get("/archiv").text)
        post = browser.post(
            "/mahnwesen/freigeben", data={"notice_id": str(ids[0]), "csrf_token": token}
        )
        assert post.status_code == 403
        assert 'href="/mahnwesen"' not in browser.get("/archiv").text
    assert _statuses(world, ids) == [DunningStatus.PROPOSED] * 3
    assert client_for().get("/mahnwesen", follow_redirects=False).status_code == 303
