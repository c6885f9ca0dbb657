"""The portal's pages and API at work: viewing, downloading, correcting, uploading, auditing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from backoffice.archive.audit import verify_chain
from backoffice.models import (
    AuditEvent,
    Correction,
    DocType,
    Document,
    DocumentStatus,
    ExtractedField,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Intake,
    QuarantineEntry,
    SearchEntry,
)
from backoffice.portal.access import public_id
from backoffice.portal.corrections import training_examples
from backoffice.portal.search import index_document, stale_documents
from tests.portal.conftest import csrf_of, login, make_app
from tests.portal.world import FakePipeline, World

ClientFor = Callable[..., TestClient]


def events(world: World, action: str) -> list[AuditEvent]:
    with world.ctx.catalog.session() as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )


def pipeline_of(client: TestClient) -> FakePipeline:
    app = client.app
    fake: FakePipeline = app.state.fake_pipeline  # type: ignore[attr-defined]
    return fake


def post_form(client: TestClient, url: str, data: dict[str, str], page: str = "/archiv") -> str:
    token = csrf_of(client.get(page).text)
    response = client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_views_and_downloads_are_audited(client_for: ClientFor, world: World) -> None:
    alice = client_for("alice")
    pid = world.public["a_invoice"]
    doc_id = world.doc_ids["a_invoice"]
    page = alice.get(f"/dokumente/{pid}")
    assert page.status_code == 200
    assert "Rechnung RE-1001 – Müller Bürobedarf GmbH" in page.text
    assert f'<iframe class="pdf-frame" src="/dokumente/{pid}/pdf"' in page.text
    assert "Rechnungsnummer" in page.text and "119,00 €" in page.text
    preview = alice.get(f"/dokumente/{pid}/pdf")
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-disposition"].startswith("inline;")
    assert preview.content.startswith(b"%PDF-")
    attachment = alice.get(f"/dokumente/{pid}/pdf?download=1")
    assert attachment.headers["content-disposition"].startswith("attachment;")
    original = alice.get(f"/dokumente/{pid}/original")
    assert original.headers["content-disposition"] == (
        'attachment; filename="2024-03-01_Rechnung_RE_1001_Muller_Burobedarf_GmbH.pdf"; '
        "filename*=UTF-8''2024-03-01_Rechnung_RE_1001_Muller_Burobedarf_GmbH.pdf"
    )
    auth = {"Authorization": f"Bearer {world.tokens['alice']}"}
    assert alice.get(f"/api/documents/{pid}", headers=auth).status_code == 200
    assert alice.get(f"/api/documents/{pid}/searchable", headers=auth).status_code == 200

    viewed = events(world, "document.viewed")
    assert [(e.detail["via"], e.document_id, e.client_id, e.actor) for e in viewed] == [
        ("portal", doc_id, world.clients["ALPHA"], "user:alice@alpha.example"),
        ("api", doc_id, world.clients["ALPHA"], "user:alice@alpha.example"),
    ]
    downloaded = events(world, "document.downloaded")
    assert [(e.detail["kind"], e.detail["via"], e.detail["inline"]) for e in downloaded] == [
        ("searchable", "portal", True),
        ("searchable", "portal", False),
        ("original", "portal", False),
        ("searchable", "api", False),
    ]
    alice.get(f"/dokumente/{world.public['b_invoice']}")  # refused: no event
    assert len(events(world, "document.viewed")) == 2
    with world.ctx.catalog.session() as s:
        assert verify_chain(s).ok


def test_download_names_cannot_carry_paths_or_headers(client_for: ClientFor, world: World) -> None:
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["a_letter"])
        doc.title = '../../etc/passwd"; x=1\r\nSet-Cookie: a=b <Ä>'
    response = client_for("alice").get(f"/dokumente/{world.public['a_letter']}/original")
    disposition = response.headers["content-disposition"]
    name = re.search(r'filename="([^"]*)"', disposition)
    assert name is not None
    assert name.group(1) == "2024-06-20_etc_passwd_x_1_Set_Cookie_a_b_A.pdf"
    assert "\r" not in disposition and "\n" not in disposition and "/" not in name.group(1)


def test_path_traversal_and_guessing_find_nothing(client_for: ClientFor, world: World) -> None:
    alice = client_for("alice")
    staff = client_for("staff")
    auth = {"Authorization": f"Bearer {world.tokens['staff']}"}
    attempts = [
        "/dokumente/..%2F..%2Fcatalog.sqlite",
        "/dokumente/%2e%2e%2f%2e%2e%2fetc%2fpasswd/original",
        "/dokumente/../../etc/passwd",
        f"/dokumente/{world.doc_ids['a_invoice']}",  # the catalog id is no address
        "/dokumente/" + "A" * 22,
        "/dokumente/clients%2FALPHA%2Foriginals/original",
        "/exporte/ALPHA/..%2F..%2F..%2Fcatalog.sqlite",
        "/exporte/ALPHA/2024-03/..%2F..%2Foriginals",
        "/exporte/..%2Fintake/x.pdf",
        "/exporte/ALPHA/%2Fetc%2Fpasswd",
        "/static/..%2F..%2Faccess.py",
    ]
    for user in (alice, staff):
        for url in attempts:
            response = user.get(url, follow_redirects=False)
            assert response.status_code in (403, 404), (url, response.status_code)
    for url in ("/api/documents/..%2F..%2Fcatalog.sqlite/original", "/api/documents/1"):
        assert staff.get(url, headers=auth).status_code == 404


def test_due_page_shows_open_payables_and_reminders(client_for: ClientFor, world: World) -> None:
    page = client_for("alice").get("/faellig").text
    assert world.public["a_invoice"] in page and world.public["a_reminder"] in page
    assert world.public["a_invoice_paid"] not in page  # paid
    assert "119,00 €" in page
    bob = client_for("bob").get("/faellig").text
    assert "überfällig" in bob and "8.400,00 €" in bob
    assert world.public["b_letter"] in bob  # a reply is due


def test_archive_page_searches_filters_and_pages(client_for: ClientFor, world: World) -> None:
    alice = client_for("alice")
    found = alice.get("/archiv", params={"q": "Rechnungen"}).text
    assert "<mark>Rechnung</mark>" in found and "Treffer für „rechnungen“" in found
    reminders = alice.get("/archiv", params={"typ": "reminder"}).text
    assert world.public["a_reminder"] in reminders and world.public["a_invoice"] not in reminders
    wrong = alice.get("/archiv", params={"von": "gestern", "betrag_min": "viel"}).text
    assert "Datum von: „gestern“ wurde nicht verstanden" in wrong
    german = alice.get("/archiv", params={"betrag_min": "1.000,00", "von": "01.04.2024"}).text
    assert world.public["a_invoice_paid"] in german and world.public["a_invoice"] not in german


def test_staff_corrects_a_class_from_the_review_queue(client_for: ClientFor, world: World) -> None:
    staff = client_for("staff")
    queue = staff.get("/pruefen").text
    pid = world.public["unassigned"]
    assert pid in queue and "Brief 55 %" in queue and "Sonstiges 40 %" in queue
    assert "Mandant nicht eindeutig" in queue
    post_form(staff, f"/dokumente/{pid}/klasse", {"doc_type": "other"}, page="/pruefen")
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["unassigned"])
        assert doc.doc_type == DocType.OTHER
        assert not any("Dokumentart unsicher" in f for f in doc.flags)
        correction = s.scalars(select(Correction)).one()
        assert (correction.field, correction.old_value, correction.new_value) == (
            "doc_type",
            "letter",
            "other",
        )
        assert training_examples(s) == [(doc.text, "other")]
    corrected = events(world, "document.corrected")
    assert corrected[-1].detail == {"field": "doc_type", "old": "letter", "new": "other"}
    assert corrected[-1].actor == "user:sabine@buero.example"


def test_class_correction_shows_for_the_client(client_for: ClientFor, world: World) -> None:
    staff, alice = client_for("staff"), client_for("alice")
    pid = world.public["a_invoice"]
    assert "badge-invoice" in alice.get(f"/dokumente/{pid}").text
    post_form(staff, f"/dokumente/{pid}/klasse", {"doc_type": "letter"})
    page = alice.get(f"/dokumente/{pid}").text
    assert '<span class="badge badge-letter">Brief</span>' in page
    with world.ctx.catalog.session() as s:
        payable = s.scalars(
            select(FollowUp).where(FollowUp.document_id == world.doc_ids["a_invoice"])
        ).one()
        assert payable.status == FollowUpStatus.CANCELLED  # a letter is not paid
    assert pid not in alice.get("/faellig").text
    post_form(staff, f"/dokumente/{pid}/klasse", {"doc_type": "invoice"})
    with world.ctx.catalog.session() as s:
        assert training_examples(s)[0][1] == "invoice"  # the last word counts


def test_staff_assigns_a_client_and_the_document_is_filed(
    client_for: ClientFor, world: World
) -> None:
    staff, alice = client_for("staff"), client_for("alice")
    pid = world.public["unassigned"]
    assert alice.get(f"/dokumente/{pid}").status_code == 404
    post_form(staff, f"/dokumente/{pid}/mandant", {"client": "ALPHA"})
    assert pipeline_of(staff).calls == [world.doc_ids["unassigned"]]
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["unassigned"])
        assert doc.client_id == world.clients["ALPHA"] and doc.status == DocumentStatus.FILED
    assert alice.get(f"/dokumente/{pid}").status_code == 200
    assert pid in alice.get("/archiv", params={"q": "Kaffeemaschine"}).text
    assert events(world, "document.corrected")[-1].detail == {
        "field": "client",
        "old": None,
        "new": "ALPHA",
    }
    location = post_form(staff, f"/dokumente/{pid}/mandant", {"client": "NOPE"})
    assert location.endswith("hinweis=mandant-unbekannt")


def test_staff_corrects_fields_with_german_input(client_for: ClientFor, world: World) -> None:
    staff = client_for("staff")
    pid = world.public["a_invoice"]
    post_form(
        staff,
        f"/dokumente/{pid}/felder",
        {
            "field:gross_total": "130,50",
            "field:invoice_number": "RE-1001",  # unchanged: no correction
            "new_name": "due_date",
            "new_value": "01.12.2030",
        },
    )
    with world.ctx.catalog.session() as s:
        staff_fields = {
            f.name: f.value
            for f in s.scalars(select(ExtractedField).where(ExtractedField.source == "staff"))
        }
        assert staff_fields == {"gross_total": "130.50", "due_date": "2030-12-01"}
        payable = s.scalars(
            select(FollowUp).where(
                FollowUp.document_id == world.doc_ids["a_invoice"],
                FollowUp.kind == FollowUpKind.PAYABLE,
            )
        ).one()
        assert payable.amount == Decimal("130.50") and payable.due_date == date(2030, 12, 1)
    assert len(events(world, "document.corrected")) == 2
    assert "130,50 €" in client_for("alice").get(f"/dokumente/{pid}").text


def test_mark_reviewed_and_reprocess(client_for: ClientFor, world: World) -> None:
    staff = client_for("staff")
    pid = world.public["unassigned"]
    post_form(staff, f"/dokumente/{pid}/neu-verarbeiten", {})
    assert pipeline_of(staff).calls == [world.doc_ids["unassigned"]]
    assert events(world, "document.reprocess")[-1].detail == {"from": "text"}
    with world.ctx.catalog.session() as s:
        s.get_one(Document, world.doc_ids["a_letter"]).needs_review = True
    letter = world.public["a_letter"]
    assert letter in staff.get("/pruefen").text
    assert post_form(staff, f"/dokumente/{letter}/geprueft", {}) == "/pruefen"
    assert letter not in staff.get("/pruefen").text
    assert events(world, "document.reviewed")[-1].document_id == world.doc_ids["a_letter"]


def test_quarantine_list_and_retry(client_for: ClientFor, world: World) -> None:
    with world.ctx.catalog.session() as s:
        doc = s.get_one(Document, world.doc_ids["a_letter"])
        doc.status = DocumentStatus.QUARANTINED
        entry = QuarantineEntry(
            document_id=doc.id, intake_id=doc.intake_id, reason="Seite 1 unlesbar"
        )
        s.add(entry)
        s.flush()
        entry_id = entry.id
    staff = client_for("staff")
    assert "Seite 1 unlesbar" in staff.get("/quarantaene").text
    post_form(staff, f"/quarantaene/{entry_id}/freigeben", {}, page="/quarantaene")
    with world.ctx.catalog.session() as s:
        assert s.get_one(QuarantineEntry, entry_id).resolved_at is not None
    assert pipeline_of(staff).calls == [world.doc_ids["a_letter"]]
    assert "Seite 1 unlesbar" not in staff.get("/quarantaene").text
    assert events(world, "quarantine.retry")[-1].actor == "user:sabine@buero.example"


def test_upload_page_and_api_receive_files(client_for: ClientFor, world: World) -> None:
    staff = client_for("staff")
    token = csrf_of(staff.get("/hochladen").text)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = staff.post(
        "/hochladen",
        data={"client": "ALPHA", "csrf_token": token},
        files=[("files", ("../../scan 1.pdf", pdf, "application/pdf"))],
    )
    assert response.status_code == 200 and "empfangen – wird verarbeitet" in response.text
    again = staff.post(
        "/hochladen",
        data={"client": "ALPHA", "csrf_token": token},
        files=[("files", ("scan 1.pdf", pdf, "application/pdf"))],
    )
    assert "Duplikat" in again.text
    with world.ctx.catalog.session() as s:
        intake = s.scalars(select(Intake).where(Intake.source == "upload")).one()
        assert (intake.filename, intake.client_hint) == ("scan 1.pdf", "ALPHA")

    api = client_for()
    files = {"file": ("brief.pdf", pdf + b"2", "application/pdf")}
    alice = {"Authorization": f"Bearer {world.tokens['alice']}"}
    created = api.post("/api/uploads", headers=alice, files=files)
    assert created.status_code == 201 and created.json()["status"] == "received"
    assert (
        api.post("/api/uploads", headers=alice, files=files, data={"client": "BETA"}).status_code
        == 403
    )
    carla = {"Authorization": f"Bearer {world.tokens['carla']}"}
    assert api.post("/api/uploads", headers=carla, files=files).status_code == 403
    with world.ctx.catalog.session() as s:
        hints = set(s.scalars(select(Intake.client_hint).where(Intake.source == "upload")))
        assert hints == {"ALPHA"}
    assert len(events(world, "upload.received")) == 3


def test_accountant_sees_clients_and_downloads_exports(client_for: ClientFor, world: World) -> None:
    carla = client_for("carla")
    clients_page = carla.get("/mandanten").text
    assert "Alpha Bäckerei GmbH" in clients_page and "Beta" not in clients_page
    assert '<td class="num">4</td>' in clients_page  # ALPHA's filed documents
    exports = carla.get("/exporte").text
    assert "2024-03/EXTF_ALPHA.csv" in exports
    response = carla.get("/exporte/ALPHA/2024-03/EXTF_ALPHA.csv")
    assert response.status_code == 200 and response.text == "Konto;Betrag\n4400;ALPHA\n"
    assert 'filename="ALPHA_2024-03_EXTF_ALPHA.csv"' in response.headers["content-disposition"]
    event = events(world, "export.downloaded")[-1]
    assert event.client_id == world.clients["ALPHA"] and event.actor == "user:carla@steuer.example"
    assert client_for("alice").get("/exporte").status_code == 403


def test_api_documents_followups_and_openapi(client_for: ClientFor, world: World) -> None:
    api = client_for()
    auth = {"Authorization": f"Bearer {world.tokens['alice']}"}
    page = api.get(
        "/api/documents", params={"q": "Rechnungen", "doc_type": "invoice"}, headers=auth
    )
    body = page.json()
    assert body["total"] == 2 and {d["client_code"] for d in body["items"]} == {"ALPHA"}
    assert all("<mark>" in (d["snippet"] or "") for d in body["items"])
    detail = api.get(f"/api/documents/{world.public['a_invoice']}", headers=auth).json()
    assert detail["amount"] == "119.00" and detail["doc_type_label"] == "Rechnung"
    assert {f["name"] for f in detail["fields"]} >= {"invoice_number", "gross_total"}
    assert detail["original_url"] == f"/api/documents/{world.public['a_invoice']}/original"
    followups = api.get("/api/followups", headers=auth).json()
    assert {(f["document_id"], f["kind"]) for f in followups} == {
        (world.public["a_invoice"], "payable"),
        (world.public["a_reminder"], "reminder"),
    }
    schema = api.get("/api/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert set(schema["paths"]) == {
        "/api/clients",
        "/api/documents",
        "/api/documents/{document_id}",
        "/api/documents/{document_id}/original",
        "/api/documents/{document_id}/searchable",
        "/api/followups",
        "/api/uploads",
    }


PAGES = {
    "alice": ["/archiv", "/archiv?q=Rechnung", "/faellig", "/dokumente/{a_invoice}"],
    "staff": [
        "/pruefen",
        "/quarantaene",
        "/hochladen",
        "/mandanten",
        "/exporte",
        "/dokumente/{unassigned}",
    ],
    "carla": ["/mandanten", "/exporte"],
    None: ["/login"],
}


def test_pages_are_german_labelled_and_landmarked(client_for: ClientFor, world: World) -> None:
    for user, urls in PAGES.items():
        client = client_for(user)
        for template in urls:
            html = client.get(template.format(**world.public)).text
            assert '<html lang="de">' in html
            assert '<main id="inhalt"' in html and 'class="skip-link"' in html
            assert 'name="viewport"' in html
            if user:
                assert 'aria-label="Hauptnavigation"' in html
            tokens = set(re.findall(r'name="csrf_token" value="([^"]*)"', html))
            assert len(tokens) == 1 and "" not in tokens, (template, tokens)  # every form
            labelled = set(re.findall(r'<label for="([^"]+)"', html))
            for tag in re.findall(r"<(?:input|select)\b[^>]*>", html):
                if 'type="hidden"' in tag or "aria-label=" in tag:
                    continue
                ident = re.search(r'id="([^"]+)"', tag)
                assert ident and ident.group(1) in labelled, (template, tag)


def test_index_entry_keeps_public_id_stable(world: World) -> None:
    with world.ctx.catalog.session() as s:
        index_document(s, world.doc_ids["a_letter"])
    with world.ctx.catalog.session() as s:
        index_document(s, world.doc_ids["a_letter"])
    with world.ctx.catalog.session() as s:
        assert public_id(s, world.doc_ids["a_letter"]) == world.public["a_letter"]


def test_portal_start_indexes_what_was_missed(world: World) -> None:
    """Documents changed without ``index_document`` are caught up when the portal starts."""
    with world.ctx.catalog.session() as s:
        s.get_one(Document, world.doc_ids["a_letter"]).title = "Brief Nachtrag Lagerhalle"
        s.execute(delete(SearchEntry).where(SearchEntry.document_id == world.doc_ids["a_invoice"]))
    app = make_app(world, reindex_on_start=True)
    with TestClient(app) as client:
        assert login(client, world.emails["alice"]).status_code == 303
        page = client.get("/archiv", params={"q": "Lagerhalle"}).text
        assert world.public["a_letter"] in page
        found = client.get("/archiv", params={"q": "Toner"}).text
        assert world.public["a_invoice"] in found
    with world.ctx.catalog.session() as s:
        assert stale_documents(s) == []
