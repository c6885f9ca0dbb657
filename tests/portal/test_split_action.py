"""Staff split a document at a page ("Hier trennen: ab Seite n") from the review queue.

Two generated born-digital invoices are joined into one PDF and received without separator
sheets, then run through the real pipeline. With ``split_threshold`` above 1 the first-page
detector never cuts on its own, so the second invoice's first page is only *suspected* (the
document goes to review with an uncertain-split flag), or, with the review band closed too,
the pair is filed as one invoice. Staff then cut it through the portal; the parts are
understood and filed again by the real pipeline, running as the portal's background task.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.intake.firstpage import uncertain_pages
from backoffice.models import (
    AuditEvent,
    BookingEntry,
    BookingStatus,
    Client,
    Document,
    DocumentStatus,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Role,
)
from backoffice.pipeline import run_batch, seed_clients
from backoffice.portal.access import public_ids
from backoffice.portal.app import create_app
from backoffice.portal.users import create_user
from backoffice.samples import DEMO_CLIENTS, SampleDocument, generate
from tests.portal.conftest import csrf_of, login, portal_settings
from tests.portal.world import PASSWORD

STAFF = "sabine@buero.example"
CLIENT_USER = "kunde@klein.example"
ACCOUNTANT = "kanzlei@steuer.example"


@dataclass
class Post:
    first: SampleDocument
    """A one-page invoice to KLEIN."""
    other_client: SampleDocument
    """A one-page invoice to SCHNEIDER."""
    same_client: SampleDocument
    """Another one-page invoice to KLEIN, from another sender."""


@pytest.fixture(scope="module")
def post(tmp_path_factory: pytest.TempPathFactory) -> Post:
    generated = generate(
        tmp_path_factory.mktemp("post"), seed=5, n_documents=12, scanned=False, n_emails=0
    )
    first, other, same = (generated.document(n) for n in ("doc-0005", "doc-0006", "doc-0010"))
    assert (first.client_code, other.client_code, same.client_code) == (
        "KLEIN",
        "SCHNEIDER",
        "KLEIN",
    )
    assert all(d.doc_type == "invoice" and d.pages == 1 for d in (first, other, same))
    return Post(first, other, same)


def _join(path: Path, *documents: SampleDocument) -> Path:
    """One PDF of the documents' born-digital pages, as a scanner without separator sheets."""
    writer = PdfWriter()
    for doc in documents:
        for page in PdfReader(doc.digital_pdf).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    path.write_bytes(out.getvalue())
    return path


def _settings(settings: Settings, *, review_from: float) -> Settings:
    """Never cut by the machine (threshold above 1); pages from ``review_from`` go to review."""
    intake = settings.intake.model_copy(
        update={"split_threshold": 1.01, "split_review_threshold": review_from}
    )
    return settings.model_copy(update={"intake": intake})


@dataclass
class Office:
    ctx: Context
    app_client: TestClient
    document_id: int
    public_id: str

    def browser(self, email: str) -> TestClient:
        client = TestClient(self.app_client.app)
        client.__enter__()
        assert login(client, email).status_code == 303
        return client

    def split(self, browser: TestClient, pages: str) -> tuple[int, str]:
        token = csrf_of(browser.get("/archiv").text)
        response = browser.post(
            f"/dokumente/{self.public_id}/trennen",
            data={"seiten": pages, "csrf_token": token},
            follow_redirects=False,
        )
        return response.status_code, response.headers.get("location", "")


@contextmanager
def _office(settings: Settings, batch: Path) -> Iterator[Office]:
    ctx = Context.from_settings(settings)
    seed_clients(ctx, DEMO_CLIENTS)
    with ctx.catalog.session() as s:
        klein = s.scalar(select(Client.code).where(Client.code == "KLEIN"))
    create_user(ctx.catalog, STAFF, "Sabine", Role.STAFF, PASSWORD, [])
    create_user(ctx.catalog, CLIENT_USER, "Kunde", Role.CLIENT, PASSWORD, [str(klein)])
    create_user(ctx.catalog, ACCOUNTANT, "Kanzlei", Role.ACCOUNTANT, PASSWORD, [str(klein)])
    outcomes = run_batch(ctx, batch, source="folder")
    assert len(outcomes) == 1, [o.flags for o in outcomes]
    document_id = outcomes[0].document_id
    with ctx.catalog.session() as s:
        public = public_ids(s, [document_id])[document_id]
    app = create_app(settings, portal_settings(login_max_attempts=1000))
    with TestClient(app) as staff:
        assert login(staff, STAFF).status_code == 303
        yield Office(ctx, staff, document_id, public)


def _documents(ctx: Context) -> list[Document]:
    with ctx.catalog.session() as s:
        docs = list(s.scalars(select(Document).order_by(Document.first_page)))
        s.expunge_all()
    return docs


def _codes(ctx: Context) -> dict[int, str]:
    with ctx.catalog.session() as s:
        return {c.id: c.code for c in s.scalars(select(Client))}


def test_staff_split_an_uncertain_batch_into_two_filed_documents(
    settings: Settings, post: Post, tmp_path: Path
) -> None:
    batch = _join(tmp_path / "stapel.pdf", post.first, post.other_client)
    with _office(_settings(settings, review_from=0.35), batch) as office:
        ctx = office.ctx
        [doc] = _documents(ctx)
        assert doc.page_count == 2 and doc.needs_review
        assert uncertain_pages(doc.flags) == [2], doc.flags
        whole_original = doc.original_key
        assert whole_original is not None

        # The review queue offers the cut at the page the flag names.
        queue = office.app_client.get("/pruefen").text
        assert f'action="/dokumente/{office.public_id}/trennen"' in queue
        assert 'name="seiten" value="2"' in queue
        page = office.app_client.get(f"/dokumente/{office.public_id}").text
        assert "Hier trennen: ab Seite" in page and 'value="2"' in page

        status, location = office.split(office.app_client, "2")
        assert status == 303 and location.endswith(
            f"/dokumente/{office.public_id}?hinweis=getrennt"
        )

        head, part = _documents(ctx)
        codes = _codes(ctx)
        assert head.id == doc.id
        assert [head.pages, part.pages] == [[1], [2]]
        assert head.intake_id == part.intake_id == doc.intake_id
        for filed, expected in ((head, post.first), (part, post.other_client)):
            assert filed.status == DocumentStatus.FILED, filed.flags
            assert filed.client_id is not None
            assert codes[filed.client_id] == expected.client_code
            assert filed.text is not None and "\f" not in filed.text
            assert expected.sender["name"].split()[0] in filed.text
            assert filed.original_key and filed.original_key.startswith(
                f"clients/{expected.client_code}/"
            )
            assert len(PdfReader(io.BytesIO(ctx.store.get(filed.original_key))).pages) == 1
            # the uncertain-split flag is settled: neither part carries it
            assert uncertain_pages(filed.flags) == []
        assert post.other_client.sender["name"].split()[0] not in (head.text or "")

        # The whole document's original is still in the archive, unchanged and not re-used.
        assert whole_original not in (head.original_key, part.original_key)
        assert len(PdfReader(io.BytesIO(ctx.store.get(whole_original))).pages) == 2

        with ctx.catalog.session() as s:
            [event] = s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "document.split", AuditEvent.document_id == doc.id
                )
            )
            assert event.actor == f"user:{STAFF}"
            assert event.detail["reason"] == "von Hand getrennt"
            assert event.detail["pages"] == [[1], [2]]
            assert event.detail["documents"] == [head.id, part.id]
            # each part was filed again by the pipeline
            refiled = set(
                s.scalars(
                    select(AuditEvent.document_id).where(
                        AuditEvent.action == "document.filed", AuditEvent.id > event.id
                    )
                )
            )
            assert {head.id, part.id} <= refiled


def test_splitting_a_filed_invoice_replaces_its_follow_ups_and_proposals(
    settings: Settings, post: Post, tmp_path: Path
) -> None:
    batch = _join(tmp_path / "zwei.pdf", post.first, post.same_client)
    with _office(_settings(settings, review_from=1.01), batch) as office:
        ctx = office.ctx
        [doc] = _documents(ctx)
        assert doc.status == DocumentStatus.FILED and doc.client_id is not None, doc.flags
        with ctx.catalog.session() as s:
            [payable] = s.scalars(select(FollowUp).where(FollowUp.document_id == doc.id))
            assert payable.kind == FollowUpKind.PAYABLE
            assert payable.status == FollowUpStatus.OPEN
            payable_id = payable.id
            proposal = BookingEntry(
                client_id=doc.client_id,
                document_id=doc.id,
                status=BookingStatus.PROPOSED,
                amount=Decimal("383.14"),
                debit_credit="S",
                account=4930,
                contra_account=70000,
                document_date=date(2026, 3, 2),
                belegfeld1="AR-26-0765",
            )
            s.add(proposal)
            s.flush()
            proposal_id = proposal.id

        status, location = office.split(office.app_client, "2")
        assert status == 303 and location.endswith("hinweis=getrennt")

        head, part = _documents(ctx)
        assert [head.pages, part.pages] == [[1], [2]]
        assert head.status == part.status == DocumentStatus.FILED
        assert head.client_id == part.client_id == doc.client_id
        with ctx.catalog.session() as s:
            # the pair's payable is the first invoice's again (same row: links to it hold)
            again = s.get_one(FollowUp, payable_id)
            assert again.document_id == head.id and again.status == FollowUpStatus.OPEN
            assert again.reference == post.first.fields["invoice_number"]
            assert again.amount == Decimal(str(post.first.fields["gross_total"]))
            # the second invoice, now a document of its own, is to be paid on its own
            [new] = s.scalars(select(FollowUp).where(FollowUp.document_id == part.id))
            assert new.kind == FollowUpKind.PAYABLE and new.status == FollowUpStatus.OPEN
            assert new.reference == post.same_client.fields["invoice_number"]
            assert new.amount == Decimal(str(post.same_client.fields["gross_total"]))
            # the proposal for the pair is gone: each part is proposed afresh
            assert s.get(BookingEntry, proposal_id) is None
            [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "document.split"))
            assert event.detail["cancelled_followups"] == [payable_id]
            assert event.detail["removed_bookings"] == [proposal_id]
            assert event.detail["was"]["status"] == "filed"


@pytest.mark.parametrize("acted", ["booked", "paid"])
def test_split_is_refused_when_a_booking_is_approved_or_a_payment_applied(
    settings: Settings, post: Post, tmp_path: Path, acted: str
) -> None:
    batch = _join(tmp_path / "gebucht.pdf", post.first, post.same_client)
    with _office(_settings(settings, review_from=1.01), batch) as office:
        ctx = office.ctx
        [doc] = _documents(ctx)
        assert doc.status == DocumentStatus.FILED and doc.client_id is not None
        with ctx.catalog.session() as s:
            if acted == "paid":
                [item] = s.scalars(select(FollowUp).where(FollowUp.document_id == doc.id))
                item.paid_amount = Decimal("100.00")
            else:
                s.add(
                    BookingEntry(
                        client_id=doc.client_id,
                        document_id=doc.id,
                        status=BookingStatus.APPROVED,
                        amount=Decimal("383.14"),
                        debit_credit="S",
                        account=4930,
                        contra_account=70000,
                        document_date=date(2026, 3, 2),
                        belegfeld1="AR-26-0765",
                        approved_by=f"user:{ACCOUNTANT}",
                    )
                )

        status, location = office.split(office.app_client, "2")
        assert status == 303 and location.endswith("hinweis=trennen-gebucht")
        page = office.app_client.get(location).text
        assert "Nicht getrennt: das Dokument ist schon gebucht, bezahlt oder gemahnt" in page

        [same] = _documents(ctx)
        assert same.pages == [1, 2] and same.original_key == doc.original_key
        with ctx.catalog.session() as s:
            [payable] = s.scalars(select(FollowUp).where(FollowUp.document_id == doc.id))
            assert payable.status == FollowUpStatus.OPEN
            assert not list(
                s.scalars(select(AuditEvent).where(AuditEvent.action == "document.split"))
            )


def test_pages_outside_the_document_are_refused(
    settings: Settings, post: Post, tmp_path: Path
) -> None:
    batch = _join(tmp_path / "seiten.pdf", post.first, post.other_client)
    with _office(_settings(settings, review_from=0.35), batch) as office:
        for pages in ("1", "3", "zwei"):
            status, location = office.split(office.app_client, pages)
            assert status == 303 and location.endswith("hinweis=trennen-seiten"), pages
        assert [d.pages for d in _documents(office.ctx)] == [[1, 2]]


def test_clients_and_accountants_cannot_split(
    settings: Settings, post: Post, tmp_path: Path
) -> None:
    batch = _join(tmp_path / "fremd.pdf", post.first, post.same_client)
    with _office(_settings(settings, review_from=1.01), batch) as office:
        [doc] = _documents(office.ctx)
        assert doc.status == DocumentStatus.FILED  # a KLEIN document these users may see
        for email in (CLIENT_USER, ACCOUNTANT):
            browser = office.browser(email)
            try:
                assert browser.get(f"/dokumente/{office.public_id}").status_code == 200
                status, _ = office.split(browser, "2")
                assert status in (403, 404), email
            finally:
                browser.__exit__(None, None, None)
        [same] = _documents(office.ctx)
        assert same.pages == [1, 2] and same.status == DocumentStatus.FILED


def test_flags_follow_their_pages_and_a_settled_uncertain_page_loses_its_flag() -> None:
    from backoffice.intake.firstpage import PageVerdict, uncertain_flag
    from backoffice.pipeline import _assign_flags, _Part

    parts = [_Part([1, 2]), _Part([3, 4, 5, 6])]
    flags = [
        "Seite 4: Texterkennung fehlgeschlagen",
        uncertain_flag(PageVerdict(3, 0.62, {"heading": 1.5})),
        uncertain_flag(PageVerdict(5, 0.5, {"new_sender": 2.0})),
        "Mandant nicht eindeutig: kein Treffer",
    ]
    _assign_flags(parts, flags)
    assert parts[0].flags == []
    assert parts[1].flags[0] == "Seite 2: Texterkennung fehlgeschlagen"
    assert uncertain_pages(parts[1].flags) == [3]  # page 5 of the whole is page 3 of the part
    assert len(parts[1].flags) == 2
