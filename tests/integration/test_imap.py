"""Post fetched from a real IMAP server (dovecot) is taken in once, and acknowledged only after
it is stored: a failure or a crash leaves the message unseen for the next run."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest
from sqlalchemy import func, select

from backoffice.archive.storage import ObjectStore, PutResult, StorageError, sha256_hex
from backoffice.config import MailRoute, Settings
from backoffice.context import Context
from backoffice.intake.imap import FetchReport, MailboxError, fetch_all, fetch_mailbox, imap_utf7
from backoffice.intake.mail import intake_tree
from backoffice.intake.quarantine import open_entries
from backoffice.models import Intake, IntakeStatus
from tests.imap_server import ImapServer
from tests.unit.intake.test_mail import make_mail, make_pdf, make_zip

pytestmark = pytest.mark.services


@pytest.fixture
def ctx(settings: Settings) -> Context:
    settings.intake.mail.routes = [
        MailRoute(address_pattern="post+*@office.example"),
        MailRoute(
            address_pattern="*@baeckerei-schneider.de", client_code="SCHNEIDER", match="sender"
        ),
    ]
    return Context.from_settings(settings)


def fetch(ctx: Context, imap: ImapServer, folder: str, **overrides: Any) -> FetchReport:
    return fetch_mailbox(ctx, imap.mailbox(folder, **overrides))


def parents(ctx: Context) -> list[Intake]:
    with ctx.catalog.session() as s:
        return list(s.scalars(select(Intake).where(Intake.parent_id.is_(None)).order_by(Intake.id)))


def intake_count(ctx: Context) -> int:
    with ctx.catalog.session() as s:
        return s.scalar(select(func.count()).select_from(Intake)) or 0


def test_attachments_become_child_intakes_with_client_hints(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    forwarded = make_mail(
        subject="WG: Mahnung",
        message_id="<fw@kunde.example>",
        attachments=[("mahnung.pdf", make_pdf("Mahnung"), "application/pdf")],
    )
    archive = make_zip(
        {"lieferschein.pdf": make_pdf("Lieferschein"), "fw.eml": forwarded.as_bytes()}
    )
    mail = make_mail(
        to="Müller Haustechnik <post+mueller@office.example>",
        attachments=[
            ("rechnung.pdf", make_pdf("Rechnung"), "application/pdf"),
            ("belege.zip", archive, "application/zip"),
        ],
    )
    imap.append(imap_folder, mail.as_bytes())

    report = fetch(ctx, imap, imap_folder)

    assert report.found == 1 and len(report.received) == 1 and not report.failed
    [parent] = parents(ctx)
    assert parent.source == "email" and parent.source_ref == "<m1@lieferant.example>"
    assert parent.client_hint == "MUELLER" and parent.status == IntakeStatus.UNPACKED
    assert parent.filename == "Rechnung 4711.eml"
    got = [(d, i.filename, i.client_hint) for d, i in intake_tree(ctx.catalog, parent.id)]
    assert got == [
        (1, "rechnung.pdf", "MUELLER"),
        (1, "belege.zip", "MUELLER"),
        (2, "lieferschein.pdf", "MUELLER"),
        (2, "fw.eml", "MUELLER"),
        (3, "mahnung.pdf", "MUELLER"),
    ]
    assert imap.unseen(imap_folder) == []
    assert fetch(ctx, imap, imap_folder).found == 0


def test_body_only_message_becomes_a_letter(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    mail = make_mail(
        subject="Lieferung verschoben",
        body="Die Lieferung kommt erst am Freitag.",
        to="info@office.example",
    )
    mail.replace_header("From", "Bäckerei Schneider <buero@baeckerei-schneider.de>")
    imap.append(imap_folder, mail.as_bytes())
    fetch(ctx, imap, imap_folder)
    [parent] = parents(ctx)
    [(depth, letter)] = intake_tree(ctx.catalog, parent.id)
    assert (
        depth == 1
        and letter.filename == "E-Mail-Text.pdf"
        and letter.media_type == "application/pdf"
    )
    assert letter.client_hint == "SCHNEIDER"  # routed by the sender rule


class FailingStore:
    """The archive fails (or the process dies) while storing particular bytes."""

    def __init__(self, inner: ObjectStore, fail_on: set[str], error: BaseException) -> None:
        self.inner, self.fail_on, self.error = inner, fail_on, error
        self.url = inner.url

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        retain_until: date | None = None,
    ) -> PutResult:
        if sha256_hex(data) in self.fail_on:
            raise self.error
        return self.inner.put(key, data, content_type=content_type, retain_until=retain_until)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


class SimulatedCrash(BaseException):
    """Stands for the process being killed: nothing catches it."""


def _three_messages(imap: ImapServer, folder: str) -> bytes:
    """Append three messages; returns the attachment of the second one."""
    second = make_pdf("Zweite Nachricht")
    for n, pdf in ((1, make_pdf("Erste")), (2, second), (3, make_pdf("Dritte"))):
        mail = make_mail(
            subject=f"Nachricht {n}",
            message_id=f"<n{n}@lieferant.example>",
            attachments=[(f"beleg-{n}.pdf", pdf, "application/pdf")],
        )
        imap.append(folder, mail.as_bytes())
    return second


def _check_all_taken_once(ctx: Context) -> None:
    by_ref = {p.source_ref or "": p for p in parents(ctx)}
    assert sorted(by_ref) == [f"<n{n}@lieferant.example>" for n in (1, 2, 3)]
    for ref, parent in by_ref.items():
        assert parent.status == IntakeStatus.UNPACKED
        number = ref[2]  # "<n2@…>"
        assert [i.filename for _d, i in intake_tree(ctx.catalog, parent.id)] == [
            f"beleg-{number}.pdf"
        ]
    assert intake_count(ctx) == 6


def test_a_message_is_marked_seen_only_after_its_parts_are_stored(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    second = _three_messages(imap, imap_folder)
    failing = FailingStore(ctx.store, {sha256_hex(second)}, StorageError("Archiv nicht erreichbar"))
    broken = Context(ctx.settings, ctx.catalog, cast(ObjectStore, failing))

    report = fetch(broken, imap, imap_folder)

    assert list(report.failed) == ["2"] and len(report.received) == 2
    assert imap.unseen(imap_folder) == [2]
    # The message itself was stored and recorded before its attachment failed.
    assert {p.source_ref: p.status for p in parents(ctx)}[
        "<n2@lieferant.example>"
    ] == IntakeStatus.RECEIVED

    again = fetch(ctx, imap, imap_folder)
    assert again.found == 1 and not again.failed
    assert imap.unseen(imap_folder) == []
    _check_all_taken_once(ctx)
    with ctx.catalog.session() as s:  # finishing an interrupted run is not a re-delivery
        assert s.scalar(select(func.sum(Intake.redeliveries))) == 0


def test_a_crash_leaves_the_message_and_all_after_it_unseen(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    second = _three_messages(imap, imap_folder)
    dying = FailingStore(ctx.store, {sha256_hex(second)}, SimulatedCrash())
    crashing = Context(ctx.settings, ctx.catalog, cast(ObjectStore, dying))
    with pytest.raises(SimulatedCrash):
        fetch(crashing, imap, imap_folder)
    assert imap.unseen(imap_folder) == [2, 3]

    report = fetch(ctx, imap, imap_folder)
    assert report.found == 2 and not report.failed
    assert imap.unseen(imap_folder) == []
    _check_all_taken_once(ctx)


def test_redelivery_of_the_same_message_creates_no_second_document(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    mail = make_mail(attachments=[("rechnung.pdf", make_pdf("Rechnung"), "application/pdf")])
    imap.append(imap_folder, mail.as_bytes())
    [first] = fetch(ctx, imap, imap_folder).received
    before = intake_count(ctx)

    # The same message again, through another relay: other bytes, same Message-ID and content.
    redelivered = (
        b"Received: from mx2.example by mx1.example; Tue, 4 Mar 2025 08:00:00 +0100\r\n"
        + mail.as_bytes()
    )
    imap.append(imap_folder, redelivered)
    imap.append(imap_folder, mail.as_bytes())  # and byte for byte the same once more
    report = fetch(ctx, imap, imap_folder)

    assert report.redelivered == [first, first] and report.received == []
    assert intake_count(ctx) == before
    with ctx.catalog.session() as s:
        assert s.get_one(Intake, first).redeliveries == 2
    assert imap.unseen(imap_folder) == []


@pytest.mark.parametrize("tls", ["imaps", "starttls"])
def test_tls_with_the_servers_certificate_as_ca(
    ctx: Context, imap: ImapServer, imap_folder: str, tls: str
) -> None:
    imap.append(imap_folder, make_mail(body="über TLS").as_bytes())
    report = fetch(ctx, imap, imap_folder, tls=tls)
    assert len(report.received) == 1


def test_untrusted_certificate_and_wrong_password_are_refused(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    with pytest.raises(MailboxError, match="keine \\(sichere\\) Verbindung"):
        fetch(
            ctx, imap, imap_folder, tls="imaps", ca_file=None
        )  # self-signed, not in the system store
    with pytest.raises(MailboxError, match="Anmeldung als kunde fehlgeschlagen"):
        fetch(ctx, imap, imap_folder, password="falsch")
    ctx.settings.intake.mail.mailboxes = [
        imap.mailbox(imap_folder, password="falsch"),
        imap.mailbox(imap_folder),
    ]
    broken, fine = fetch_all(ctx)
    assert broken.error and fine.error is None


def test_handled_messages_move_to_the_processed_folder(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    done = f"{imap_folder}-Geprüft"
    imap.append(imap_folder, make_mail(body="verschieben").as_bytes())
    fetch(ctx, imap, imap_folder, processed_folder=done)
    assert imap.flags(imap_folder) == {}
    assert [("\\Seen" in f) for f in imap.flags(imap_utf7(done)).values()] == [True]


def test_hostile_messages_are_quarantined_and_never_stop_the_fetch(
    ctx: Context, imap: ImapServer, imap_folder: str
) -> None:
    ctx.settings.intake.max_file_bytes = 30_000
    ctx.settings.intake.max_unpacked_bytes = 1_000_000
    hostile = [
        # broken MIME: no closing boundary, invalid base64, 8-bit Latin-1 header
        b"From: a@b.example\r\nSubject: Gr\xfc\xdfe\r\nMessage-ID: <h1@x>\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n",
        # starts with a header receipt does not know as the first line of a mail
        b"ARC-Seal: i=1; a=rsa-sha256\r\nFrom: a@b.example\r\nMessage-ID: <h2@x>\r\n"
        b"\r\nnur Text\r\n",
        make_mail(
            message_id="<h3@x>",
            attachments=[("riesig.pdf", b"%PDF-1.4" + b"0" * 60_000, "application/pdf")],
        ).as_bytes(),
        make_mail(
            message_id="<h4@x>",
            attachments=[
                (
                    "bombe.zip",
                    make_zip({f"{i}.pdf": b"\0" * 600_000 for i in range(3)}),
                    "application/zip",
                )
            ],
        ).as_bytes(),
        make_mail(
            message_id="<h5@x>",
            attachments=[("pfad.zip", make_zip({"../../x.pdf": make_pdf("x")}), "application/zip")],
        ).as_bytes(),
        b"\x00\x01 not a mail at all",
    ]
    for raw in hostile:
        imap.append(imap_folder, raw)
    report = fetch(ctx, imap, imap_folder)
    assert report.found == len(hostile) and not report.failed
    assert imap.unseen(imap_folder) == []
    reasons = " | ".join(e.reason for e in open_entries(ctx.catalog))
    assert (
        "größer als erlaubt" in reasons
        and "ZIP-Bombe" in reasons
        and "unzulässigen Pfad" in reasons
    )
    assert "keine lesbare E-Mail" in reasons
    by_ref = {p.source_ref: p for p in parents(ctx)}
    assert (
        by_ref["<h2@x>"].media_type == "message/rfc822"
        and by_ref["<h2@x>"].status == IntakeStatus.UNPACKED
    )
