"""The bank statement page: upload and reconcile per client, scope enforced, CSRF required."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from backoffice.models import BankTransaction, FollowUp, FollowUpStatus
from backoffice.samples.camt import EntrySpec, make_camt053
from tests.portal.conftest import csrf_of
from tests.portal.world import World

ACCOUNT = "DE02120300000000202051"


def statement(sid: str = "S1") -> bytes:
    return make_camt053(
        ACCOUNT,
        [
            EntrySpec(date(2025, 3, 10), Decimal("-119.00"), "Müller", None, "Rechnung RE-1001"),
            EntrySpec(date(2025, 3, 11), Decimal("-7.77"), "Kiosk Eck", None, "Zeitung"),
        ],
        statement_id=sid,
    )


def upload(client: TestClient, code: str, data: bytes, token: str | None = None) -> Response:
    token = token if token is not None else csrf_of(client.get("/bank").text)
    return client.post(
        "/bank",
        data={"client": code, "csrf_token": token},
        files={"file": ("auszug.xml", data, "application/xml")},
    )


def transactions(world: World) -> int:
    with world.ctx.catalog.session() as s:
        return s.scalar(select(func.count()).select_from(BankTransaction)) or 0


def payable(world: World) -> FollowUp:
    with world.ctx.catalog.session() as s:
        return s.scalars(select(FollowUp).where(FollowUp.reference == "RE-1001")).one()


def test_client_user_imports_for_own_firm(
    world: World, client_for: Callable[..., TestClient]
) -> None:
    alice = client_for("alice")
    response = upload(alice, "ALPHA", statement())
    assert response.status_code == 200, response.text
    page = response.text
    assert "2 neue Buchungen (1 zugeordnet" in page
    assert "Kiosk Eck" in page
    done = payable(world)
    assert (done.status, done.settled_by) == (FollowUpStatus.DONE, "bank")

    listing = alice.get("/bank?client=ALPHA")
    assert listing.status_code == 200 and "Zeitung" in listing.text


def test_scope_and_roles(world: World, client_for: Callable[..., TestClient]) -> None:
    bob = client_for("bob")
    assert upload(bob, "ALPHA", statement()).status_code == 404
    assert bob.get("/bank?client=ALPHA").status_code == 404
    assert transactions(world) == 0
    assert client_for("carla").get("/bank").status_code == 403
    assert client_for(None).get("/bank", follow_redirects=False).status_code in (302, 303)

    staff = client_for("staff")
    assert upload(staff, "ALPHA", statement(), token="falsch").status_code == 403
    assert transactions(world) == 0
    assert upload(staff, "ALPHA", statement()).status_code == 200
    # Bob sees none of ALPHA's unmatched payments, staff sees them.
    assert "Kiosk Eck" not in bob.get("/bank").text
    assert "Kiosk Eck" in staff.get("/bank").text


def test_bad_file_is_reported(world: World, client_for: Callable[..., TestClient]) -> None:
    staff = client_for("staff")
    response = upload(staff, "BETA", b"<Rechnung/>")
    assert response.status_code == 400
    assert "Nicht eingelesen" in response.text
    assert transactions(world) == 0
