"""The dunning run on a real catalog (SQLite) and archive (folder): stages, amounts, stops."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.followups.dunning import (
    approve,
    dispatch,
    list_notices,
    propose_notices,
    proposed_ids,
    run_proposals,
)
from backoffice.models import (
    AuditEvent,
    DocType,
    Document,
    DocumentStatus,
    DunningNotice,
    DunningStatus,
    FollowUp,
    FollowUpStatus,
    Intake,
    Role,
)
from backoffice.portal.access import Scope
from backoffice.portal.search import search
from tests.services import SmtpSink
from tests.unit.followups.receivables import Debtor, add_client, add_receivable

STAFF = "user:sabine@buero.example"


@pytest.fixture
def ctx(settings: Settings) -> Context:
    return Context.from_settings(settings)


def _notices(ctx: Context, followup_id: int) -> list[DunningNotice]:
    with ctx.catalog.session() as s:
        rows = s.scalars(
            select(DunningNotice)
            .where(DunningNotice.followup_id == followup_id)
            .order_by(DunningNotice.stage)
        )
        found = list(rows)
        s.expunge_all()
        return found


def _propose(ctx: Context, today: date) -> list[int]:
    return run_proposals(ctx, today).proposed


def _approve(ctx: Context, ids: list[int], today: date) -> list[int]:
    with ctx.catalog.session() as s:
        result = approve(s, ids, STAFF, today)
    assert not result.refused, result.refused
    return result.approved


def test_stages_progress_by_the_configured_intervals_with_interest_and_fees(ctx: Context) -> None:
    client = add_client(ctx)
    fu = add_receivable(ctx, client, debtor=Debtor(email=None))  # due 15.09.2026, 1.190,00 €

    assert _propose(ctx, date(2026, 9, 21)) == []  # due + 7 not reached
    (first,) = _propose(ctx, date(2026, 9, 22))
    assert _propose(ctx, date(2026, 9, 22)) == []  # a stage is proposed once
    (n1,) = _notices(ctx, fu)
    assert (n1.stage, n1.status, n1.principal, n1.interest, n1.fees) == (
        1,
        DunningStatus.PROPOSED,
        Decimal("1190.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert n1.deadline == date(2026, 10, 2)

    _approve(ctx, [first], date(2026, 9, 22))
    assert _propose(ctx, date(2026, 10, 30)) == []  # approved, not yet dispatched: wait
    assert dispatch(ctx, date(2026, 9, 22)).printed == [first]  # no e-mail: print queue

    assert _propose(ctx, date(2026, 10, 5)) == []  # approved 22.09. + 14 days = 06.10.
    (second,) = _propose(ctx, date(2026, 10, 6))
    n2 = _notices(ctx, fu)[1]
    # Verzug with the first notice's deadline 02.10. (before due + 30 = 15.10.), interest from
    # 03.10. to 06.10.: 1190 × 10.27 % × 4/365 = 1.3393 → 1.34; fees 40 Pauschale + 2.50 letter.
    assert (n2.stage, n2.interest, n2.fees) == (2, Decimal("1.34"), Decimal("42.50"))
    assert n2.total == Decimal("1233.84")

    _approve(ctx, [second], date(2026, 10, 8))
    assert dispatch(ctx, date(2026, 10, 8)).printed == [second]
    n2 = _notices(ctx, fu)[1]
    # Dated on dispatch: 03.10.–08.10. = 6 days → 2.01; new deadline 18.10.
    assert (n2.interest, n2.interest_until, n2.deadline) == (
        Decimal("2.01"),
        date(2026, 10, 8),
        date(2026, 10, 18),
    )

    assert _propose(ctx, date(2026, 10, 21)) == []
    (third,) = _propose(ctx, date(2026, 10, 22))
    n3 = _notices(ctx, fu)[2]
    # 03.10.–22.10. = 20 days: 1190 × 10.27 % × 20/365 = 6.6966 → 6.70; fees 40 + 2 × 2.50.
    assert (n3.stage, n3.interest, n3.fees) == (3, Decimal("6.70"), Decimal("45.00"))
    _approve(ctx, [third], date(2026, 10, 22))
    dispatch(ctx, date(2026, 10, 22))
    (fourth,) = _propose(ctx, date(2026, 11, 5))
    n4 = _notices(ctx, fu)[3]
    assert (n4.stage, n4.fees) == (4, Decimal("47.50"))
    _approve(ctx, [fourth], date(2026, 11, 5))
    dispatch(ctx, date(2026, 11, 5))
    # After the last Mahnung the dunning run stops (court is a staff decision).
    assert _propose(ctx, date(2027, 3, 1)) == []
    assert [n.stage for n in _notices(ctx, fu)] == [1, 2, 3, 4]
    with ctx.catalog.session() as s:
        actions = list(s.scalars(select(AuditEvent.action)))
    assert actions.count("dunning.run") == 10
    assert actions.count("dunning.approved") == 4
    assert actions.count("dunning.print_queued") == 4


def test_consumer_gets_five_points_and_no_flat_fee(ctx: Context) -> None:
    client = add_client(ctx)
    fu = add_receivable(ctx, client, debtor=Debtor(name="Erika Muster", email=None, consumer=True))
    (first,) = _propose(ctx, date(2026, 9, 22))
    _approve(ctx, [first], date(2026, 9, 22))
    dispatch(ctx, date(2026, 9, 22))
    _propose(ctx, date(2026, 10, 6))
    n2 = _notices(ctx, fu)[1]
    # Consumer: Verzug only through the notice (deadline 02.10.); 1190 × 6.27 % × 4/365 = 0.82;
    # no 40 € Pauschale, only the letter fee.
    assert (n2.interest, n2.fees) == (Decimal("0.82"), Decimal("2.50"))


def test_disputed_invoice_is_never_dunned_and_its_proposal_is_cancelled(ctx: Context) -> None:
    client = add_client(ctx)
    fu = add_receivable(ctx, client)
    with ctx.catalog.session() as s:
        s.get_one(FollowUp, fu).disputed = True
    assert _propose(ctx, date(2027, 6, 1)) == []
    assert _notices(ctx, fu) == []

    with ctx.catalog.session() as s:
        s.get_one(FollowUp, fu).disputed = False
    (notice,) = _propose(ctx, date(2026, 10, 1))
    with ctx.catalog.session() as s:
        s.get_one(FollowUp, fu).disputed = True
    run = run_proposals(ctx, date(2026, 10, 2))
    assert run.cancelled == [notice] and run.proposed == []
    assert _notices(ctx, fu)[0].status == DunningStatus.CANCELLED
    # Dispute withdrawn: the same stage comes back (still one row per stage).
    with ctx.catalog.session() as s:
        s.get_one(FollowUp, fu).disputed = False
    assert _propose(ctx, date(2026, 10, 3)) == [notice]
    assert _notices(ctx, fu)[0].status == DunningStatus.PROPOSED


def test_settled_invoice_stops_dunning_and_approval_is_refused(ctx: Context) -> None:
    client = add_client(ctx)
    paid_fu = add_receivable(ctx, client, number="RE-1")
    credit_fu = add_receivable(ctx, client, number="RE-2")
    ids = _propose(ctx, date(2026, 9, 30))
    assert len(ids) == 2
    with ctx.catalog.session() as s:
        paid = s.get_one(FollowUp, paid_fu)
        paid.paid_amount = paid.amount or Decimal(0)
        paid.paid_on = date(2026, 9, 29)
        paid.status = FollowUpStatus.DONE
        paid.settled_by = "bank"
        credit = s.get_one(FollowUp, credit_fu)
        credit.status = FollowUpStatus.DONE
        credit.settled_by = "credit_note"
    # Approving before the next run: refused with the reason, and cancelled.
    with ctx.catalog.session() as s:
        result = approve(s, [ids[0]], STAFF, date(2026, 9, 30))
    assert result.approved == [] and "erledigt (bank)" in result.refused[ids[0]]
    run = run_proposals(ctx, date(2026, 10, 1))
    assert run.cancelled == [ids[1]] and run.proposed == []
    assert {n.status for n in _notices(ctx, paid_fu) + _notices(ctx, credit_fu)} == {
        DunningStatus.CANCELLED
    }
    assert _propose(ctx, date(2027, 1, 1)) == []


def test_partial_payment_reduces_the_principal_and_full_payment_ends_it(ctx: Context) -> None:
    client = add_client(ctx)
    part = add_receivable(ctx, client, number="RE-3")
    full = add_receivable(ctx, client, number="RE-4")
    with ctx.catalog.session() as s:
        s.get_one(FollowUp, part).paid_amount = Decimal("190.00")
        s.get_one(FollowUp, full).paid_amount = Decimal("1190.00")  # still open, but nothing owed
    _propose(ctx, date(2026, 9, 30))
    (n,) = _notices(ctx, part)
    assert n.principal == Decimal("1000.00")
    assert _notices(ctx, full) == []


def test_bulk_approval_by_client_and_listing(ctx: Context) -> None:
    klein = add_client(ctx, "KLEIN")
    gross = add_client(ctx, "GROSS")
    add_receivable(ctx, klein, number="K-1")
    add_receivable(ctx, klein, number="K-2")
    add_receivable(ctx, gross, number="G-1")
    with ctx.catalog.session() as s:
        propose_notices(s, ctx.settings, date(2026, 9, 30))
        ids = proposed_ids(s, "KLEIN")
        assert len(ids) == 2
        assert approve(s, ids, STAFF, date(2026, 9, 30)).approved == ids
        again = approve(s, ids, STAFF, date(2026, 9, 30))
        assert set(again.refused) == set(ids)  # already approved: not twice
        views = list_notices(s, [DunningStatus.PROPOSED])
    assert [(v.client_code, v.reference, v.subject) for v in views] == [
        ("GROSS", "G-1", "Zahlungserinnerung")
    ]


def test_dispatch_files_the_letter_in_the_client_archive_and_queues_print(ctx: Context) -> None:
    client = add_client(ctx)
    fu = add_receivable(ctx, client, debtor=Debtor(email=None))
    ids = _propose(ctx, date(2026, 9, 22))
    _approve(ctx, ids, date(2026, 9, 23))
    result = dispatch(ctx, date(2026, 9, 23))
    assert result.printed == ids and result.sent == []
    (notice,) = _notices(ctx, fu)
    assert notice.status == DunningStatus.PRINT and notice.letter_document_id is not None
    with ctx.catalog.session() as s:
        doc = s.get_one(Document, notice.letter_document_id)
        assert (doc.status, doc.doc_type, doc.subtype, doc.client_id) == (
            DocumentStatus.FILED,
            DocType.LETTER,
            "mahnung",
            client,
        )
        assert doc.original_key == notice.letter_key
        assert (doc.original_key or "").startswith("clients/KLEIN/originals/")
        assert doc.retain_until == date(2032, 12, 31)  # Geschäftsbrief: 6 years
        assert s.get_one(Intake, doc.intake_id).source == "dunning"
        assert "Zahlungserinnerung" in (doc.text or "")
        invoice_doc = s.get_one(FollowUp, fu).document_id
        assert doc.correspondent_id == s.get_one(Document, invoice_doc).correspondent_id
        assert doc.field("referenced_invoice_numbers") == "RE-2026-0417"
        scope = Scope(1, "a@b", "A", Role.CLIENT, frozenset({client}))
        hits = search(s, scope, "Zahlungserinnerung RE-2026-0417").hits
        assert [h.document_id for h in hits] == [doc.id]
    assert ctx.store.get(notice.letter_key or "").startswith(b"%PDF")
    # Dispatch again: nothing approved any more, nothing filed twice.
    assert dispatch(ctx, date(2026, 9, 24)).printed == []


def test_approved_letter_is_mailed_to_the_debtor_with_the_pdf(
    settings: Settings, smtp: SmtpSink
) -> None:
    settings.smtp.host, settings.smtp.port = smtp.host, smtp.port
    settings.smtp.sender = "Büroservice <post@buero.example>"
    ctx = Context.from_settings(settings)
    client = add_client(ctx)
    fu = add_receivable(ctx, client)
    ids = _propose(ctx, date(2026, 9, 22))
    _approve(ctx, ids, date(2026, 9, 22))
    assert dispatch(ctx, date(2026, 9, 22)).sent == ids
    (msg,) = smtp.messages
    assert msg["X-Envelope-To"] == "rechnung@sommer-bau.example"
    assert msg["Subject"] == "Zahlungserinnerung – Rechnung RE-2026-0417"
    assert msg["Reply-To"] == "buchhaltung@klein-haustechnik.example"
    body = msg.get_body(("plain",))
    assert body is not None and "1.190,00 €" in body.get_content()
    (part,) = list(msg.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    (notice,) = _notices(ctx, fu)
    assert notice.status == DunningStatus.SENT and notice.sent_at is not None
    assert part.get_content() == ctx.store.get(notice.letter_key or "")


def test_failed_mail_keeps_the_notice_approved_and_resends_the_same_letter(
    settings: Settings, smtp: SmtpSink
) -> None:
    from tests.services import free_port

    settings.smtp.host, settings.smtp.port = "127.0.0.1", free_port()
    settings.smtp.timeout_seconds = 2
    ctx = Context.from_settings(settings)
    client = add_client(ctx)
    fu = add_receivable(ctx, client)
    ids = _propose(ctx, date(2026, 9, 22))
    _approve(ctx, ids, date(2026, 9, 22))
    failed = dispatch(ctx, date(2026, 9, 22))
    assert list(failed.failed) == ids and failed.sent == []
    (notice,) = _notices(ctx, fu)
    assert notice.status == DunningStatus.APPROVED and notice.letter_document_id is not None
    settings.smtp.host, settings.smtp.port = smtp.host, smtp.port
    assert dispatch(Context.from_settings(settings), date(2026, 9, 25)).sent == ids
    (again,) = _notices(ctx, fu)
    assert again.letter_document_id == notice.letter_document_id
    assert again.deadline == date(2026, 10, 2)  # the filed letter's date, not re-dated
