"""A client's own paper (e.g. an outgoing invoice) is filed for the client that issued it."""

from __future__ import annotations

from backoffice.understand import route_client

from .test_routing import CLIENTS

OUTGOING = """Schreinerei Holzwurm e.K.
Meisterbetrieb für Möbel und Innenausbau

Schreinerei Holzwurm e.K. · Domstr. 5 · 50667 Köln
Hotel Sonnenhof GmbH
Bahnhofstraße 5
70178 Stuttgart

Rechnung Nr. AR-2026-0101
Rechnungsdatum: 02.03.2026
Für Schreinerarbeiten berechnen wir 1.190,00 €.
"""


def test_outgoing_invoice_goes_to_its_issuer() -> None:
    r = route_client(OUTGOING, CLIENTS)
    assert r.client_id == 3
    assert "eigenes Schreiben" in r.reason


def test_recipient_client_wins_over_issuer_client() -> None:
    to_client = OUTGOING.replace(
        "Hotel Sonnenhof GmbH\nBahnhofstraße 5\n70178 Stuttgart",
        "Elektro Blitz GmbH\nLindenallee 4\n04109 Leipzig",
    )
    r = route_client(to_client, CLIENTS)
    assert r.client_id == 5


def test_name_without_address_in_the_letterhead_is_not_enough() -> None:
    no_address = """Schreinerei Holzwurm e.K.

Hotel Sonnenhof GmbH
Bahnhofstraße 5
70178 Stuttgart

Rechnung Nr. AR-2026-0101
"""
    r = route_client(no_address, CLIENTS)
    assert r.client_id is None
