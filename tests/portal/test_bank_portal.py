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


# --------------------------------------------------------------------------- unmatched payments


def unmatched_payment(world: World, client: TestClient, code: str, amount: str, text: str) -> int:
    """Import one payment that quotes no invoice number for ``code``; returns its id."""
    data = make_camt053(
        ACCOUNT,
        [EntrySpec(date(2025, 3, 12), Decimal(amount), "Unbekannt", None, text)],
        statement_id=f"U-{code}-{text}",
    )
    assert upload(client, code, data).status_code == 200
    with world.ctx.catalog.session() as s:
        tx = s.scalars(select(BankTransaction).where(BankTransaction.remittance == text)).one()
        assert tx.status == "unmatched"
        return tx.id


def act(client: TestClient, url: str, data: dict[str, str], token: str | None = None) -> Response:
    token = token if token is not None else csrf_of(client.get("/bank").text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def test_staff_assign_a_payment_by_hand(
    world: World, client_for: Callable[..., TestClient]
) -> None:
    staff = client_for("staff")
    tx = unmatched_payment(world, staff, "ALPHA", "-119.00", "Überweisung März")
    too_much = unmatched_payment(world, staff, "ALPHA", "-500.00", "Sammelbetrag")
    item = payable(world)
    paid_filter = "/archiv?status=paid&mandant=ALPHA"
    assert world.public["a_invoice"] not in staff.get(paid_filter).text

    page = staff.get("/bank?client=ALPHA").text
    assert f'action="/bank/{tx}/zuordnen"' in page
    assert "Müller Bürobedarf GmbH · RE-1001 · offen 119,00 €" in page
    assert "Zuordnen" in page and "Ignorieren" in page

    refused = act(staff, f"/bank/{too_much}/zuordnen", {"posten": str(item.id)})
    assert refused.status_code == 400
    assert "Nicht gebucht" in refused.text and "höher als der offene Betrag" in refused.text
    assert act(staff, f"/bank/{tx}/zuordnen", {"posten": "1"}, token="falsch").status_code == 403
    assert payable(world).status == FollowUpStatus.OPEN

    response = act(staff, f"/bank/{tx}/zuordnen", {"posten": str(item.id)})
    assert response.status_code == 303
    assert response.headers["location"] == "/bank?client=ALPHA&hinweis=zugeordnet"
    after = staff.get(response.headers["location"]).text
    assert "Zahlung zugeordnet, die Posten sind bezahlt." in after
    assert "Überweisung März" not in after and "Sammelbetrag" in after

    done = payable(world)
    assert (done.status, done.settled_by, done.paid_on) == (
        FollowUpStatus.DONE,
        "staff",
        date(2025, 3, 12),
    )
    assert world.public["a_invoice"] in staff.get(paid_filter).text

    again = act(staff, f"/bank/{tx}/zuordnen", {"posten": str(item.id)})
    assert again.status_code == 400 and "schon bearbeitet" in again.text


def test_only_the_own_firms_payments_and_items(
    world: World, client_for: Callable[..., TestClient]
) -> None:
    staff = client_for("staff")
    fee = unmatched_payment(world, staff, "ALPHA", "-4.90", "Kontoführung")
    alphas = unmatched_payment(world, staff, "ALPHA", "-119.00", "Dauerauftrag")
    alice, bob = client_for("alice"), client_for("bob")
    item = payable(world)
    with world.ctx.catalog.session() as s:
        beta_item = s.scalars(select(FollowUp).where(FollowUp.reference == "4711")).one().id

    # Bob (BETA) gets 404 for ALPHA's payment, with ALPHA's item or his own.
    assert act(bob, f"/bank/{alphas}/zuordnen", {"posten": str(item.id)}).status_code == 404
    assert act(bob, f"/bank/{alphas}/zuordnen", {"posten": str(beta_item)}).status_code == 404
    assert act(bob, f"/bank/{fee}/ignorieren", {"grund": "weg"}).status_code == 404
    # Alice's own payment with BETA's item: that item does not exist for her.
    assert act(alice, f"/bank/{alphas}/zuordnen", {"posten": str(beta_item)}).status_code == 404
    # Accountants do not book payments.
    assert act(client_for("carla"), f"/bank/{fee}/ignorieren", {}).status_code == 403
    assert "Kontoführung" not in bob.get("/bank").text

    response = act(alice, f"/bank/{fee}/ignorieren", {"grund": "Bankgebühr"})
    assert response.status_code == 303
    assert "Zahlung ohne Posten abgelegt." in alice.get(response.headers["location"]).text
    with world.ctx.catalog.session() as s:
        assert s.get_one(BankTransaction, fee).status == "ignored"
        assert s.get_one(BankTransaction, alphas).status == "unmatched"
    assert payable(world).status == FollowUpStatus.OPEN
