"""E-invoices from the shared folder: every file must yield number, date and gross total."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.understand import (
    ClientProfile,
    parse_einvoice,
    read_einvoice,
    understand_document,
    validate,
)

SHARED = next(
    (
        p / "shared" / "einvoices"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "einvoices").is_dir()
    ),
    Path("/nonexistent"),
)
FILES = (
    sorted(p for p in SHARED.glob("*/*") if p.suffix in {".pdf", ".xml"}) if SHARED.is_dir() else []
)

needs_shared = pytest.mark.skipif(not FILES, reason="shared e-invoice folder not available")


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shared_einvoice_parses(path: Path) -> None:
    fields = parse_einvoice(path.read_bytes())
    assert fields is not None
    v = {f.name: f.value for f in fields}
    assert v["invoice_number"]
    assert len(v["issue_date"]) == 10 and v["issue_date"][4] == "-"
    Decimal(v["gross_total"])
    assert all(f.source == "einvoice" and f.confidence == 1.0 for f in fields)
    # the XML's own arithmetic holds (1 cent), so no arithmetic flag may appear
    flags = validate("invoice", fields)
    assert not [f for f in flags if "≠" in f or "passt nicht" in f], flags


@needs_shared
def test_zugferd_en16931_mapping() -> None:
    r = read_einvoice((SHARED / "zugferd-2.0" / "zugferd_2p0_EN16931_Einfach.pdf").read_bytes())
    assert r is not None
    assert r.profile == "en16931"
    v = {f.name: f.value for f in r.fields}
    assert v["invoice_number"] == "471102"
    assert v["issue_date"] == "2018-03-05"
    assert (v["net_total"], v["vat_total"], v["gross_total"]) == ("473.00", "56.87", "529.87")
    assert (v["vat_7_net"], v["vat_7_amount"]) == ("275.00", "19.25")
    assert (v["vat_19_net"], v["vat_19_amount"]) == ("198.00", "37.62")
    assert v["seller_name"] == "Lieferant GmbH"
    assert v["buyer_name"] == "Kunden AG Mitte"
    assert v["seller_tax_number"] == "201/113/40209"
    assert (v["payment_terms_days"], v["due_date"]) == ("30", "2018-04-04")
    assert (v["skonto_percent"], v["skonto_date"]) == ("3", "2018-03-15")
    assert r.buyer_address["zip"] == "69876"


@needs_shared
def test_xrechnung_profiles_and_credit_notes() -> None:
    r = read_einvoice((SHARED / "xrechnung" / "standard__01.01a-INVOICE_ubl.xml").read_bytes())
    assert r is not None and r.profile == "xrechnung" and r.flavor == "ubl-2.1-invoice"
    v = {f.name: f.value for f in r.fields}
    assert v["iban"] == "DE79000000001234567890"
    r = read_einvoice(
        (SHARED / "zugferd-2.0" / "zugferd_2p0_BASIC_Rechnungskorrektur.pdf").read_bytes()
    )
    assert r is not None
    assert {f.name: f.value for f in r.fields}["is_credit_note"] == "true"


@needs_shared
def test_minimum_profile_is_flagged_in_pipeline() -> None:
    raw = (SHARED / "zugferd-2.0" / "zugferd_2p0_MINIMUM.pdf").read_bytes()
    u = understand_document([], [], raw=raw)
    assert u.einvoice_profile == "minimum"
    assert u.flags[0] == "kein vollständiges E-Rechnungsprofil"
    assert u.needs_review


@needs_shared
def test_einvoice_routing_by_buyer_address() -> None:
    raw = (SHARED / "zugferd-2.0" / "zugferd_2p0_EN16931_Einfach.pdf").read_bytes()
    clients = [
        ClientProfile(1, "KUND", "Kunden AG Mitte", zip="69876", city="Frankfurt"),
        ClientProfile(2, "LIEF", "Lieferant GmbH", zip="80333", city="München"),
    ]
    u = understand_document([], clients, raw=raw)
    assert u.classification.label == "invoice" and u.classification.confidence == 1.0
    assert u.routing.client_id == 1
    assert u.einvoice_profile == "en16931"


def test_not_an_einvoice() -> None:
    assert parse_einvoice(b"%PDF-1.4\n%%EOF") is None
    assert parse_einvoice(b"<html><body>Hallo</body></html>") is None
    assert parse_einvoice(b"plain text") is None
    assert parse_einvoice(b"") is None
