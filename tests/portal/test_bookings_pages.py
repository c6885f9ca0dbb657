"""The accountant's booking pages: proposals per client, approval, correction, monthly export."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from backoffice.exports.datev import parse_extf
from backoffice.exports.ledger import propose_client
from backoffice.models import (
    BookingEntry,
    BookingExport,
    BookingStatus,
    Role,
)
from backoffice.portal.users import create_user
from tests.portal.conftest import csrf_of
from tests.portal.world import PASSWORD, World, give_vat

Clients = Callable[..., TestClient]


def _bookable(world: World) -> int:
    """Give ALPHA's March invoice its VAT (the world has only the gross) and propose."""
    give_vat(world)
    (booking_id,) = propose_client(world.ctx, "ALPHA").created
    return booking_id


def _booking(world: World, booking_id: int) -> BookingEntry:
    with world.ctx.catalog.session() as s:
        entry = s.get_one(BookingEntry, booking_id)
        s.expunge(entry)
        return entry


def test_accountant_approves_corrects_and_exports(world: World, client_for: Clients) -> None:
    booking_id = _bookable(world)
    carla = client_for("carla")
    page = carla.get("/buchungen?mandant=ALPHA")
    assert page.status_code == 200
    assert "RE-1001" in page.text and "Vorschlag" in page.text
    assert f'href="/dokumente/{world.public["a_invoice"]}"' in page.text
    token = csrf_of(page.text)

    # Without the CSRF token nothing happens.
    refused = carla.post("/buchungen/ALPHA/freigeben", data={"alle": "true"})
    assert refused.status_code == 403
    assert _booking(world, booking_id).status == BookingStatus.PROPOSED

    fixed = carla.post(
        f"/buchungen/ALPHA/{booking_id}/korrigieren",
        data={
            "konto": "70001",
            "gegenkonto": "4940",
            "bu": "9",
            "text": "Fachbuch",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    entry = _booking(world, booking_id)
    assert (entry.contra_account, entry.text, entry.source) == (4940, "Fachbuch", "accountant")

    approved = carla.post("/buchungen/ALPHA/freigeben", data={"alle": "true", "csrf_token": token})
    assert approved.status_code == 200 and "1 Buchung(en) freigegeben" in approved.text
    assert _booking(world, booking_id).approved_by == "user:carla@steuer.example"

    empty = carla.post("/buchungen/ALPHA/export", data={"monat": "2024-02", "csrf_token": token})
    assert "keine freigegebenen" in empty.text
    done = carla.post("/buchungen/ALPHA/export", data={"monat": "2024-03", "csrf_token": token})
    assert "1 Buchungen für 2024-03 exportiert" in done.text
    assert _booking(world, booking_id).status == BookingStatus.EXPORTED

    listing = carla.get("/exporte")
    names = re.findall(r'href="/exporte/ALPHA/([^"]+)"', listing.text)
    extf_name = next(n for n in names if "EXTF_Buchungsstapel" in n)
    assert any("Belege_2024-03" in n for n in names)
    download = carla.get(f"/exporte/ALPHA/{extf_name}")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=windows-1252"
    (row,) = parse_extf(download.content).bookings()
    assert (row.contra_account, row.text, row.belegfeld1) == (4940, "Fachbuch", "RE-1001")

    # Correcting the exported booking adds a reversal and a new proposal.
    again = carla.post(
        f"/buchungen/ALPHA/{booking_id}/korrigieren",
        data={
            "konto": "70001",
            "gegenkonto": "4930",
            "bu": "9",
            "text": "Büro",
            "csrf_token": token,
        },
    )
    assert "Storno und neue Buchung" in again.text
    with world.ctx.catalog.session() as s:
        sources = [e.source for e in s.scalars(select(BookingEntry).order_by(BookingEntry.id))]
    assert sources == ["accountant", "reversal", "accountant"]
    assert _booking(world, booking_id).contra_account == 4940


def test_other_clients_people_cannot_see_or_touch_alphas_books(
    world: World, client_for: Clients
) -> None:
    booking_id = _bookable(world)
    create_user(
        world.ctx.catalog, "dora@kanzlei.example", "Dora", Role.ACCOUNTANT, PASSWORD, ["BETA"]
    )
    world.emails["dora"] = "dora@kanzlei.example"
    carla = client_for("carla")
    token = csrf_of(carla.get("/buchungen").text)
    carla.post("/buchungen/ALPHA/freigeben", data={"ids": str(booking_id), "csrf_token": token})
    carla.post("/buchungen/ALPHA/export", data={"monat": "2024-03", "csrf_token": token})
    with world.ctx.catalog.session() as s:
        (export,) = s.scalars(select(BookingExport)).all()
        extf_name = export.extf_key.split("/exports/", 1)[1]

    dora = client_for("dora")
    page = dora.get("/buchungen")
    assert page.status_code == 200 and "BETA" in page.text and "RE-1001" not in page.text
    dora_token = csrf_of(page.text)
    assert dora.get("/buchungen?mandant=ALPHA").status_code == 404
    for path, data in (
        ("/buchungen/ALPHA/freigeben", {"ids": str(booking_id)}),
        (f"/buchungen/ALPHA/{booking_id}/korrigieren", {"konto": "70001", "gegenkonto": "4100"}),
        ("/buchungen/ALPHA/export", {"monat": "2024-03"}),
        # Her own client in the URL does not open ALPHA's booking either.
        (f"/buchungen/BETA/{booking_id}/korrigieren", {"konto": "70001", "gegenkonto": "4100"}),
    ):
        response = dora.post(path, data={**data, "csrf_token": dora_token})
        assert response.status_code == 404, path
    assert dora.get(f"/exporte/ALPHA/{extf_name}").status_code == 404
    assert "EXTF_Buchungsstapel_2024-03" not in dora.get("/exporte").text

    bob = client_for("bob")
    assert bob.get("/buchungen?mandant=ALPHA").status_code == 403
    alice = client_for("alice")
    alice_token = csrf_of(alice.get("/archiv").text)
    assert alice.get("/buchungen").status_code == 403
    response = alice.post(
        "/buchungen/ALPHA/freigeben", data={"alle": "true", "csrf_token": alice_token}
    )
    assert response.status_code == 403
    entry = _booking(world, booking_id)
    assert entry.status == BookingStatus.EXPORTED and entry.contra_account != 4100


def test_staff_sees_every_client(world: World, client_for: Clients) -> None:
    _bookable(world)
    staff = client_for("staff")
    page = staff.get("/buchungen?mandant=ALPHA")
    assert page.status_code == 200 and "RE-1001" in page.text
    assert staff.get("/buchungen?mandant=BETA").status_code == 200
    assert 'href="/buchungen?mandant=ALPHA"' in staff.get("/mandanten").text
