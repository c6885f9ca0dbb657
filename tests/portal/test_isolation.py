"""Tenant isolation: for every route of the portal, a user of one client cannot reach another's.

The route list is taken from the application itself: a route without probes here fails
:func:`test_every_route_has_isolation_probes`, so nobody can add an endpoint and forget this.

Each probe is a request a user of client A (or A's accountant) makes to get at client B's
documents, searches, downloads, follow-ups or exports. It must be refused (403/404) or, for
lists, answered without any trace of B: no public id of B's documents, no title, no name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount

from backoffice.models import BankTransaction, Document, FollowUp, FollowUpKind, QuarantineEntry
from tests.portal.conftest import csrf_of
from tests.portal.world import World

MARKERS = {
    "ALPHA": [
        "Alpha Bäckerei",
        "Stadtwerke Nordstadt",
        "Hausverwaltung Krause",
        "RE-1001",
        "Müller Bürobedarf",
    ],
    "BETA": ["Beta Metallbau", "Zebra", "Stahlhandel", "Stahlträger", "Zebrahausen", "4711"],
}
UNASSIGNED_MARKERS = ["Kaffeemaschinen", "Brief ohne Empfänger", "unleserlich"]


@dataclass
class Probe:
    method: str
    url: str
    expect: str
    """``denied``: 403/404 only. ``filtered``: any non-5xx status, but no foreign marker."""
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    api: bool = False
    csrf: bool = True


@dataclass
class Attack:
    world: World
    user: str
    victim: str
    csrf: str = ""
    quarantine_id: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def victim_docs(self) -> list[str]:
        return [*self.world.docs_of(self.victim), "unassigned"]

    def victim_ids(self) -> list[str]:
        return [self.world.public[k] for k in self.victim_docs]


ProbeBuilder = Callable[[Attack], list[Probe]]


def each_victim_doc(method: str, template: str, expect: str = "denied", **kw: Any) -> ProbeBuilder:
    def build(a: Attack) -> list[Probe]:
        return [Probe(method, template.format(pid=pid), expect, **kw) for pid in a.victim_ids()]

    return build


def form_posts(template: str, data: dict[str, str]) -> ProbeBuilder:
    def build(a: Attack) -> list[Probe]:
        return [
            Probe("POST", template.format(pid=pid), "denied", data=dict(data))
            for pid in a.victim_ids()
        ]

    return build


def export_probes(a: Attack) -> list[Probe]:
    v = a.victim
    own = "ALPHA" if v == "BETA" else "BETA"
    return [
        Probe("GET", f"/exporte/{v}/2024-03/EXTF_{v}.csv", "denied"),
        Probe("GET", f"/exporte/{own}/..%2F..%2F{v}%2Fexports%2F2024-03%2FEXTF_{v}.csv", "denied"),
        Probe("GET", f"/exporte/{own}/../{v}/exports/2024-03/EXTF_{v}.csv", "denied"),
        Probe("GET", f"/exporte/{v}%2F..%2F{own}/2024-03/EXTF_{own}.csv", "denied"),
    ]


def unmatched_payment(world: World, code: str) -> int:
    """An unmatched debit of ``code`` (made once per world) for the bank action probes."""
    key = f"unmatched_payment:{code}"
    if key not in world.extra:
        with world.ctx.catalog.session() as s:
            tx = BankTransaction(
                client_id=world.clients[code],
                entry_key=f"probe-{code}",
                booking_date=date(2024, 3, 20),
                amount=Decimal("-8400.00") if code == "BETA" else Decimal("-119.00"),
                currency="EUR",
                remittance="Überweisung",
                status="unmatched",
            )
            s.add(tx)
            s.flush()
            world.extra[key] = tx.id
    return int(world.extra[key])


def payable_of(world: World, code: str) -> int:
    with world.ctx.catalog.session() as s:
        return (
            s.scalars(
                select(FollowUp.id).where(
                    FollowUp.client_id == world.clients[code], FollowUp.kind == FollowUpKind.PAYABLE
                )
            ).first()
            or 0
        )


def bank_assign_probes(a: Attack) -> list[Probe]:
    """The victim's payment with the victim's item, and the attacker's own payment with it."""
    own = "ALPHA" if a.victim == "BETA" else "BETA"
    item = {"posten": str(payable_of(a.world, a.victim))}
    return [
        Probe("POST", f"/bank/{unmatched_payment(a.world, a.victim)}/zuordnen", "denied", item),
        Probe("POST", f"/bank/{unmatched_payment(a.world, own)}/zuordnen", "denied", item),
    ]


PROBES: dict[tuple[str, str], ProbeBuilder] = {
    ("GET", "/api/openapi.json"): lambda a: [Probe("GET", "/api/openapi.json", "filtered")],
    ("GET", "/"): lambda a: [Probe("GET", "/", "filtered")],
    ("GET", "/login"): lambda a: [Probe("GET", "/login?next=/archiv", "filtered")],
    ("POST", "/login"): lambda a: [
        Probe(
            "POST",
            "/login",
            "filtered",
            data={"email": a.world.emails[a.user], "password": "falsch-falsch-falsch"},
        )
    ],
    ("POST", "/logout"): lambda a: [Probe("POST", "/logout", "denied", data={}, csrf=False)],
    ("GET", "/archiv"): lambda a: [
        Probe("GET", "/archiv", "filtered"),
        Probe("GET", "/archiv?q=Zebra", "filtered"),
        Probe("GET", "/archiv?q=M%C3%BCller+B%C3%BCrobedarf", "filtered"),
        Probe("GET", "/archiv?q=Rechnung&typ=invoice", "filtered"),
        Probe("GET", "/archiv?absender=Zebra", "filtered"),
        Probe("GET", "/archiv?absender=Stadtwerke", "filtered"),
        Probe("GET", "/archiv?status=to_pay", "filtered"),
        Probe("GET", "/archiv?q=Kaffeemaschinen", "filtered"),
        Probe("GET", f"/archiv?mandant={a.victim}", "denied"),
    ],
    ("GET", "/dokumente/{public_id}"): each_victim_doc("GET", "/dokumente/{pid}"),
    ("GET", "/dokumente/{public_id}/original"): each_victim_doc("GET", "/dokumente/{pid}/original"),
    ("GET", "/dokumente/{public_id}/pdf"): each_victim_doc("GET", "/dokumente/{pid}/pdf"),
    ("GET", "/faellig"): lambda a: [Probe("GET", "/faellig", "filtered")],
    ("GET", "/pruefen"): lambda a: [Probe("GET", "/pruefen", "denied")],
    ("GET", "/quarantaene"): lambda a: [Probe("GET", "/quarantaene", "denied")],
    ("GET", "/hochladen"): lambda a: [Probe("GET", "/hochladen", "denied")],
    ("POST", "/dokumente/{public_id}/klasse"): form_posts(
        "/dokumente/{pid}/klasse", {"doc_type": "other"}
    ),
    ("POST", "/dokumente/{public_id}/mandant"): lambda a: form_posts(
        "/dokumente/{pid}/mandant", {"client": "ALPHA" if a.victim == "BETA" else "BETA"}
    )(a),
    ("POST", "/dokumente/{public_id}/felder"): form_posts(
        "/dokumente/{pid}/felder", {"field:gross_total": "1.00"}
    ),
    ("POST", "/dokumente/{public_id}/geprueft"): form_posts("/dokumente/{pid}/geprueft", {}),
    ("POST", "/dokumente/{public_id}/neu-verarbeiten"): form_posts(
        "/dokumente/{pid}/neu-verarbeiten", {}
    ),
    ("POST", "/dokumente/{public_id}/trennen"): form_posts(
        "/dokumente/{pid}/trennen", {"seiten": "2"}
    ),
    ("POST", "/dokumente/{public_id}/bezahlt"): form_posts("/dokumente/{pid}/bezahlt", {}),
    ("POST", "/dokumente/{public_id}/strittig"): form_posts(
        "/dokumente/{pid}/strittig", {"strittig": "1"}
    ),
    ("POST", "/quarantaene/{entry_id}/freigeben"): lambda a: [
        Probe("POST", f"/quarantaene/{a.quarantine_id}/freigeben", "denied", data={})
    ],
    ("POST", "/hochladen"): lambda a: [
        Probe(
            "POST",
            "/hochladen",
            "denied",
            data={"client": a.victim},
            files={"files": ("x.pdf", b"%PDF-1.4 attack", "application/pdf")},
        )
    ],
    ("GET", "/bank"): lambda a: [
        Probe("GET", "/bank", "filtered"),
        Probe("GET", f"/bank?client={a.victim}", "denied"),
    ],
    ("POST", "/bank"): lambda a: [
        Probe(
            "POST",
            "/bank",
            "denied",
            data={"client": a.victim},
            files={"file": ("auszug.xml", b"<Document/>", "application/xml")},
        )
    ],
    ("POST", "/bank/{transaction_id}/zuordnen"): bank_assign_probes,
    ("POST", "/bank/{transaction_id}/ignorieren"): lambda a: [
        Probe(
            "POST",
            f"/bank/{unmatched_payment(a.world, a.victim)}/ignorieren",
            "denied",
            data={"grund": "Angriff"},
        )
    ],
    ("GET", "/mandanten"): lambda a: [Probe("GET", "/mandanten", "filtered")],
    ("GET", "/exporte"): lambda a: [Probe("GET", "/exporte", "filtered")],
    ("GET", "/exporte/{client_code}/{name:path}"): export_probes,
    ("GET", "/buchungen"): lambda a: [
        Probe("GET", "/buchungen", "filtered"),
        Probe("GET", f"/buchungen?mandant={a.victim}", "denied"),
    ],
    ("POST", "/buchungen/{client_code}/freigeben"): lambda a: [
        Probe("POST", f"/buchungen/{a.victim}/freigeben", "denied", data={"alle": "true"})
    ],
    ("POST", "/buchungen/{client_code}/{booking_id}/korrigieren"): lambda a: [
        Probe(
            "POST",
            f"/buchungen/{a.victim}/1/korrigieren",
            "denied",
            data={"konto": "70001", "gegenkonto": "4930"},
        )
    ],
    ("POST", "/buchungen/{client_code}/export"): lambda a: [
        Probe("POST", f"/buchungen/{a.victim}/export", "denied", data={"monat": "2024-03"})
    ],
    # dunning is the office's work: staff only, whatever the client
    ("GET", "/mahnwesen"): lambda a: [Probe("GET", "/mahnwesen", "denied")],
    ("POST", "/mahnwesen/freigeben"): lambda a: [
        Probe("POST", "/mahnwesen/freigeben", "denied", data={"notice_id": "1"})
    ],
    ("POST", "/mahnwesen/versenden"): lambda a: [
        Probe("POST", "/mahnwesen/versenden", "denied", data={})
    ],
    ("GET", "/mahnwesen/{notice_id}/brief.pdf"): lambda a: [
        Probe("GET", "/mahnwesen/1/brief.pdf", "denied")
    ],
    ("GET", "/api/clients"): lambda a: [Probe("GET", "/api/clients", "filtered", api=True)],
    ("GET", "/api/documents"): lambda a: [
        Probe("GET", "/api/documents", "filtered", api=True),
        Probe("GET", "/api/documents?q=Zebra", "filtered", api=True),
        Probe("GET", "/api/documents?q=Stadtwerke", "filtered", api=True),
        Probe("GET", "/api/documents?sender=Krause", "filtered", api=True),
        Probe("GET", "/api/documents?status=attention", "filtered", api=True),
        Probe("GET", f"/api/documents?client={a.victim}", "denied", api=True),
    ],
    ("GET", "/api/documents/{document_id}"): each_victim_doc(
        "GET", "/api/documents/{pid}", api=True
    ),
    ("GET", "/api/documents/{document_id}/original"): each_victim_doc(
        "GET", "/api/documents/{pid}/original", api=True
    ),
    ("GET", "/api/documents/{document_id}/searchable"): each_victim_doc(
        "GET", "/api/documents/{pid}/searchable", api=True
    ),
    ("GET", "/api/followups"): lambda a: [
        Probe("GET", "/api/followups", "filtered", api=True),
        Probe("GET", "/api/followups?status=done", "filtered", api=True),
        Probe("GET", f"/api/followups?client={a.victim}", "denied", api=True),
    ],
    ("POST", "/api/uploads"): lambda a: [
        Probe(
            "POST",
            "/api/uploads",
            "denied",
            api=True,
            data={"client": a.victim},
            files={"file": ("x.pdf", b"%PDF-1.4 attack", "application/pdf")},
        )
    ],
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    routes = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            continue  # static files: CSS and JS only
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                routes.add((method, str(context.path)))
    return routes


def test_every_route_has_isolation_probes(shared_app: FastAPI) -> None:
    routes = app_routes(shared_app)
    missing = routes - set(PROBES)
    assert not missing, f"routes without isolation probes: {sorted(missing)}"
    stale = set(PROBES) - routes
    assert not stale, f"probes for routes that no longer exist: {sorted(stale)}"


def _foreign_markers(world: World, victim: str) -> list[str]:
    ids = [world.public[k] for k in world.docs_of(victim)] + [world.public["unassigned"]]
    return [*ids, *MARKERS[victim], *UNASSIGNED_MARKERS]


def _send(client: TestClient, attack: Attack, probe: Probe) -> Any:
    headers = {}
    if probe.api:
        headers["Authorization"] = f"Bearer {attack.world.tokens[attack.user]}"
    data = dict(probe.data or {}) if probe.method == "POST" else None
    if data is not None and probe.csrf and not probe.api:
        data["csrf_token"] = attack.csrf
    return client.request(
        probe.method,
        probe.url,
        data=data,
        files=probe.files,
        headers=headers,
        follow_redirects=False,
    )


@pytest.mark.parametrize(
    ("user", "victim"), [("alice", "BETA"), ("bob", "ALPHA"), ("carla", "BETA")]
)
def test_no_route_reaches_another_clients_data(
    shared_world: World, clients: dict[str, TestClient], user: str, victim: str
) -> None:
    client = clients[user]
    attack = Attack(shared_world, user, victim, csrf=csrf_of(client.get("/archiv").text))
    with shared_world.ctx.catalog.session() as s:
        entry = QuarantineEntry(reason="test", source_ref="x")
        s.add(entry)
        s.flush()
        attack.quarantine_id = entry.id
        before = {d.id: (d.doc_type, d.client_id, d.status) for d in s.scalars(select(Document))}
    markers = _foreign_markers(shared_world, victim)
    failures = []
    probes = 0
    for (method, _path), build in sorted(PROBES.items()):
        for probe in build(attack):
            probes += 1
            response = _send(client, attack, probe)
            body = response.text + response.headers.get("location", "")
            # What the attacker typed is echoed back (search box); it is not a leak.
            sent = unquote_plus(probe.url) + " ".join(map(str, (probe.data or {}).values()))
            leaked = [m for m in markers if m in body and m not in sent]
            if response.status_code >= 500:
                failures.append(f"{method} {probe.url}: {response.status_code}")
            elif probe.expect == "denied" and response.status_code not in (403, 404):
                failures.append(f"{method} {probe.url}: {response.status_code}, expected 403/404")
            if leaked:
                failures.append(f"{method} {probe.url}: leaks {leaked}")
    assert probes > 40
    assert not failures, "\n".join(failures)
    with shared_world.ctx.catalog.session() as s:
        after = {d.id: (d.doc_type, d.client_id, d.status) for d in s.scalars(select(Document))}
        entry_after = s.get_one(QuarantineEntry, attack.quarantine_id)
        assert entry_after.resolved_at is None
    assert after == before, "an attack changed documents"


def test_positive_control_users_do_see_their_own(
    shared_world: World, clients: dict[str, TestClient]
) -> None:
    """The isolation test would pass on an empty portal; this shows the data is there."""
    alice = clients["alice"].get("/archiv").text
    assert all(shared_world.public[k] in alice for k in shared_world.docs_of("ALPHA"))
    bob = (
        clients["bob"]
        .get("/api/documents", headers={"Authorization": f"Bearer {shared_world.tokens['bob']}"})
        .json()
    )
    assert {d["id"] for d in bob["items"]} == {
        shared_world.public[k] for k in shared_world.docs_of("BETA")
    }
    carla = clients["carla"].get("/exporte").text
    assert "EXTF_ALPHA.csv" in carla and "EXTF_BETA" not in carla
    staff = clients["staff"].get("/archiv").text
    assert all(shared_world.public[k] in staff for k in shared_world.doc_ids)
    assert clients["carla"].get("/exporte/ALPHA/2024-03/EXTF_ALPHA.csv").status_code == 200


def test_anonymous_gets_nothing(shared_world: World, clients: dict[str, TestClient]) -> None:
    anon = clients["anon"]
    attack = Attack(shared_world, "alice", "ALPHA", csrf="x")
    for (method, path), build in sorted(PROBES.items()):
        if path in {"/login", "/api/openapi.json"}:
            continue
        for probe in build(attack):
            probe.api = False
            response = _send(anon, attack, probe)
            assert response.status_code in (303, 401, 403, 404), (method, probe.url)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login")
            sent = unquote_plus(probe.url)
            for marker in _foreign_markers(shared_world, "ALPHA"):
                assert marker not in response.text or marker in sent
