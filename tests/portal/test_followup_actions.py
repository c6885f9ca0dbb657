"""The "Fällig" page and the staff actions on it: payments by hand, the dispute flag, and that
nobody but staff can act (a client never on another client's items)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice.models import AuditEvent, DocType, FollowUp, FollowUpKind, FollowUpStatus
from backoffice.portal.access import public_ids
from backoffice.portal.search import index_document
from tests.portal.conftest import csrf_of
from tests.portal.world import TODAY, DocSpec, World, add_document

ClientFor = Callable[..., TestClient]


@pytest.fixture
def receivable(world: World) -> str:
    """ALPHA's own outgoing invoice (a receivable), added to the world; its public id."""
    spec = DocSpec(
        "a_outgoing",
        "ALPHA",
        DocType.INVOICE,
        "Rechnung A-2026-17 – Alpha Bäckerei GmbH",
        "Alpha Bäckerei GmbH\nRechnung A-2026-17\nHochzeitstorte\nGesamtbetrag 480,00 EUR",
        doc_date=TODAY - timedelta(days=20),
        fields={"invoice_number": "A-2026-17", "gross_total": "480.00"},
        followup=(
            FollowUpKind.RECEIVABLE,
            FollowUpStatus.OPEN,
            TODAY - timedelta(days=6),
            Decimal("480.00"),
        ),
    )
    doc_id = add_document(world.ctx, spec, 100, world.clients)
    with world.ctx.catalog.session() as s:
        public = public_ids(s, [doc_id])[doc_id]
        index_document(s, doc_id)
    world.doc_ids[spec.key] = doc_id
    world.public[spec.key] = public
    return public


def item_of(world: World, key: str) -> FollowUp:
    with world.ctx.catalog.session() as s:
        return s.scalars(
            select(FollowUp).where(
                FollowUp.document_id == world.doc_ids[key],
                FollowUp.kind.in_([FollowUpKind.PAYABLE, FollowUpKind.RECEIVABLE]),
            )
        ).one()


def post(client: TestClient, url: str, data: dict[str, str]) -> tuple[int, str]:
    token = csrf_of(client.get("/faellig").text)
    response = client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
    return response.status_code, response.headers.get("location", "")


def audit(world: World, action: str) -> list[AuditEvent]:
    with world.ctx.catalog.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_due_page_summarises_and_shows_actions_to_staff_only(
    client_for: ClientFor, world: World, receivable: str
) -> None:
    staff = client_for("staff").get("/faellig").text
    assert "Überfällig:</strong> 1 (8.400,00 €)" in staff
    assert "bald fällig" not in staff  # RE-1001 is due in 10 days, outside the 7-day window
    assert f'action="/dokumente/{world.public["a_invoice"]}/bezahlt"' in staff
    assert f'action="/dokumente/{receivable}/strittig"' in staff
    assert "Offene eigene Rechnungen" in staff and "A-2026-17" in staff
    alice = client_for("alice").get("/faellig").text
    assert world.public["a_invoice"] in alice and "119,00 €" in alice
    assert "/bezahlt" not in alice and "/strittig" not in alice
    assert world.public["b_invoice"] not in alice and "8.400,00 €" not in alice


def test_staff_records_a_partial_then_the_full_payment(client_for: ClientFor, world: World) -> None:
    staff = client_for("staff")
    url = f"/dokumente/{world.public['a_invoice']}/bezahlt"
    assert post(staff, url, {"betrag": "19,00", "datum": "01.12.2026"}) == (
        303,
        "/faellig?hinweis=teilzahlung",
    )
    item = item_of(world, "a_invoice")
    assert item.status == FollowUpStatus.OPEN and item.outstanding == Decimal("100.00")
    page = staff.get("/faellig?hinweis=teilzahlung").text
    assert "Teilzahlung erfasst" in page and "100,00 €" in page
    assert post(staff, url, {"betrag": ""}) == (303, "/faellig?hinweis=bezahlt")
    item = item_of(world, "a_invoice")
    assert item.status == FollowUpStatus.DONE and item.settled_by == "staff"
    assert item.paid_amount == Decimal("119.00")
    events = audit(world, "followup.paid")
    assert [e.actor for e in events] == ["user:sabine@buero.example"] * 2
    assert world.public["a_invoice"] not in client_for("alice").get("/faellig").text
    assert post(staff, url, {}) == (303, "/faellig?hinweis=nicht-moeglich")
    assert post(staff, "/dokumente/AAAAAAAAAAAAAAAAAAAAAA/bezahlt", {"betrag": "1"})[0] == 404
    assert post(staff, f"/dokumente/{world.public['b_invoice']}/bezahlt", {"betrag": "viel"}) == (
        303,
        "/faellig?hinweis=eingabe-ungueltig",
    )


def test_staff_flags_and_clears_a_dispute(
    client_for: ClientFor, world: World, receivable: str
) -> None:
    staff = client_for("staff")
    url = f"/dokumente/{receivable}/strittig"
    assert post(staff, url, {"strittig": "1"}) == (303, "/faellig?hinweis=strittig")
    assert item_of(world, "a_outgoing").disputed
    page = client_for("alice").get("/faellig").text
    assert "strittig – wird nicht gemahnt" in page
    assert post(staff, url, {"strittig": "0"}) == (303, "/faellig?hinweis=nicht-strittig")
    assert not item_of(world, "a_outgoing").disputed
    assert [e.action for e in audit(world, "followup.disputed")] == ["followup.disputed"]
    assert len(audit(world, "followup.undisputed")) == 1


def test_only_staff_act_and_never_across_clients(
    client_for: ClientFor, world: World, receivable: str
) -> None:
    alice, bob = client_for("alice"), client_for("bob")
    for user, key in ((alice, "a_invoice"), (alice, "b_invoice"), (bob, "a_outgoing")):
        status, _ = post(user, f"/dokumente/{world.public[key]}/bezahlt", {"betrag": "1,00"})
        assert status in (403, 404)
        status, _ = post(user, f"/dokumente/{world.public[key]}/strittig", {"strittig": "1"})
        assert status in (403, 404)
    assert item_of(world, "a_invoice").paid_amount == Decimal(0)
    assert item_of(world, "b_invoice").status == FollowUpStatus.OPEN
    assert not item_of(world, "a_outgoing").disputed
    assert audit(world, "followup.paid") == [] and audit(world, "followup.disputed") == []

    staff = client_for("staff")
    assert post(staff, f"/dokumente/{world.public['a_letter']}/bezahlt", {})[0] == 404
    no_token = staff.post(
        f"/dokumente/{world.public['a_invoice']}/bezahlt", data={}, follow_redirects=False
    )
    assert no_token.status_code == 403
