"""The monthly export flow on the embedded defaults (ephemeral Prefect, SQLite, folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.exports.ledger import approve, pending_ids
from backoffice.models import BookingEntry, BookingExport, BookingStatus
from flows.exports import monthly_exports
from tests.portal.world import build_world, give_vat

pytestmark = [pytest.mark.flow]


def test_monthly_flow_proposes_then_exports_only_what_was_approved(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    world = build_world(settings, with_tokens=False)
    overrides = settings.model_dump(mode="json")
    give_vat(world)

    first = monthly_exports("2024-03", overrides)
    # ALPHA's March invoice (RE-1001) is proposed, nothing is approved yet: no export.
    assert first["clients"]["ALPHA"]["proposed"]["bookings"] == 1
    # The April invoice has only a gross total: reported, not guessed.
    assert str(world.doc_ids["a_invoice_paid"]) in first["clients"]["ALPHA"]["proposed"]["failed"]
    assert first["clients"]["ALPHA"]["exported"] is None
    assert first["clients"]["BETA"]["exported"] is None
    with world.ctx.catalog.session() as s:
        assert s.scalars(select(BookingExport)).all() == []
        approve(s, pending_ids(s, world.clients["ALPHA"]), "user:carla@steuer.example")

    second = monthly_exports("2024-03", overrides)
    assert second["clients"]["ALPHA"]["proposed"]["bookings"] == 0
    exported = second["clients"]["ALPHA"]["exported"]
    assert exported["bookings"] == 1 and exported["documents"] == 1
    for key in exported["files"]:
        assert key.startswith("clients/ALPHA/exports/2024-03/")
        assert world.ctx.store.exists(key)
    with world.ctx.catalog.session() as s:
        (entry,) = s.scalars(
            select(BookingEntry).where(BookingEntry.client_id == world.clients["ALPHA"])
        ).all()
        assert entry.status == BookingStatus.EXPORTED

    # A third run exports nothing again.
    assert monthly_exports("2024-03", overrides)["clients"]["ALPHA"]["exported"] is None
