"""E-mails and archives are unpacked into child intakes; hostile ones never crash the intake.

Messages are built with the standard library (or byte by byte where they must be broken), ZIPs
with ``zipfile``, Outlook files with extract-msg's own OLE writer. Everything runs against the
embedded catalog and archive folder.
"""

from __future__ import annotations

import io
import struct
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from backoffice.config import IntakeSettings, MailRoute, Settings
from backoffice.context import Context
from backoffice.intake.mail import (
    Budget,
    UnpackError,
    find_delivered_message,
    intake_tree,
    parse_message,
    parse_outlook,
    read_archive,
    unpack_intake,
    unpack_message,
)
from backoffice.intake.quarantine import open_entries
from backoffice.intake.receive import receive_bytes
from backoffice.intake.routing_rules import MessageAddresses, plus_tag, route_message
from backoffice.models import Intake, IntakeStatus, QuarantineEntry

# --- builders ----------------------------------------------------------------------------------


def make_pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def make_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2025, 3, 1, 12, 0, 0)), data, compression)
    return buf.getvalue()


def make_mail(
    *,
    subject: str = "Rechnung 4711",
    body: str | None = "Anbei die Rechnung.",
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    message_id: str | None = "<m1@lieferant.example>",
    to: str = "post+mueller@office.example",
    extra: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Lieferant GmbH <rechnung@lieferant.example>"
    msg["To"] = to
    msg["Date"] = "Mon, 03 Mar 2025 14:05:00 +0100"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for key, value in (extra or {}).items():
        msg[key] = value
    if body is not None:
        msg.set_content(body)
    if html is not None:
        if body is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for name, data, ctype in attachments:
        if ctype == "message/rfc822":
            msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
        else:
            maintype, subtype = ctype.split("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def attach_message(outer: EmailMessage, inner: EmailMessage) -> None:
    """Attach ``inner`` as a real ``message/rfc822`` part (a forwarded e-mail)."""
    outer.add_attachment(inner)


def make_msg(subject: str, body: str, attachments: list[tuple[str, bytes]]) -> bytes:
    """A minimal Outlook .msg (OLE compound file with MAPI property streams)."""
    from extract_msg.ole_writer import OleWriter

    writer = OleWriter()

    def prop(prefix: list[str], props: list[bytes], pid: int, kind: int, data: bytes) -> None:
        tag = (pid << 16) | kind
        writer.addEntry([*prefix, f"__substg1.0_{tag:08X}"], data)
        size = len(data) + (2 if kind == 0x001F else 0)
        props.append(struct.pack("<IIII", tag, 6, size, 0))

    def text(prefix: list[str], props: list[bytes], pid: int, value: str) -> None:
        prop(prefix, props, pid, 0x001F, value.encode("utf-16-le"))

    top: list[bytes] = []
    text([], top, 0x001A, "IPM.Note")
    text([], top, 0x0037, subject)
    text([], top, 0x1000, body)
    text([], top, 0x0C1F, "rechnung@lieferant.example")
    text([], top, 0x1035, "<outlook-1@lieferant.example>")
    for index, (name, data) in enumerate(attachments):
        prefix = [f"__attach_version1.0_#{index:08X}"]
        writer.addEntry(prefix, storage=True)
        props: list[bytes] = []
        prop(prefix, props, 0x3701, 0x0102, data)
        text(prefix, props, 0x3707, name)
        props.append(struct.pack("<IIII", (0x3705 << 16) | 0x0003, 6, 1, 0))
        writer.addEntry([*prefix, "__properties_version1.0"], b"\0" * 8 + b"".join(props))
    n = len(attachments)
    header = struct.pack("<8sIIII8s", b"\0" * 8, 0, n, 0, n, b"\0" * 8)
    writer.addEntry(["__properties_version1.0"], header + b"".join(top))
    writer.addEntry(["__nameid_version1.0"], storage=True)
    for stream in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
        writer.addEntry(["__nameid_version1.0", stream], b"")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


XRECHNUNG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice '
    b'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>\n'
)

# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def ctx(settings: Settings) -> Context:
    return Context.from_settings(settings)


def receive_mail(ctx: Context, data: bytes, hint: str | None = "MUELLER") -> int:
    result = receive_bytes(
        ctx.catalog, ctx.store, data, source="email", source_ref="<x>", client_hint=hint
    )
    return result.intake_id


def tree(ctx: Context, intake_id: int) -> list[tuple[int, str | None, str | None, str | None]]:
    """(depth, filename, media type, client hint) under ``intake_id``."""
    return [
        (d, i.filename, i.media_type, i.client_hint) for d, i in intake_tree(ctx.catalog, intake_id)
    ]


def status(ctx: Context, intake_id: int) -> IntakeStatus:
    with ctx.catalog.session() as s:
        return s.get_one(Intake, intake_id).status


def counts(ctx: Context) -> tuple[int, int]:
    with ctx.catalog.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Intake)) or 0,
            s.scalar(select(func.count()).select_from(QuarantineEntry)) or 0,
        )


def reasons(ctx: Context) -> list[str]:
    return [e.reason for e in open_entries(ctx.catalog)]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


# --- the normal cases --------------------------------------------------------------------------


def test_pdf_and_zip_with_nested_mail_become_child_intakes(ctx: Context) -> None:
    forwarded = make_mail(
        subject="WG: Mahnung",
        body="Bitte ansehen.",
        message_id="<fw@kunde.example>",
        attachments=[("mahnung.pdf", make_pdf("Mahnung 1"), "application/pdf")],
    )
    archive = make_zip(
        {
            "belege/lieferschein.pdf": make_pdf("Lieferschein"),
            "weitergeleitet.eml": forwarded.as_bytes(),
        }
    )
    mail = make_mail(
        attachments=[
            ("rechnung.pdf", make_pdf("Rechnung 4711"), "application/pdf"),
            ("xrechnung.xml", XRECHNUNG, "application/xml"),
            ("belege.zip", archive, "application/zip"),
        ]
    )
    parent = receive_mail(ctx, mail.as_bytes())

    children = unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)

    assert len(children) == 3
    assert tree(ctx, parent) == [
        (1, "rechnung.pdf", "application/pdf", "MUELLER"),
        (1, "xrechnung.xml", "application/xml", "MUELLER"),
        (1, "belege.zip", "application/zip", "MUELLER"),
        (2, "lieferschein.pdf", "application/pdf", "MUELLER"),
        (2, "weitergeleitet.eml", "message/rfc822", "MUELLER"),
        (3, "mahnung.pdf", "application/pdf", "MUELLER"),
    ]
    with ctx.catalog.session() as s:
        by_name = {i.filename: i for i in s.scalars(select(Intake))}
    assert by_name["rechnung.pdf"].source == "email"
    assert by_name["rechnung.pdf"].source_ref == "<m1@lieferant.example>/rechnung.pdf"
    assert (by_name["lieferschein.pdf"].source_ref or "").endswith(
        "belege.zip/belege/lieferschein.pdf"
    )
    assert by_name["mahnung.pdf"].source_ref == "<fw@kunde.example>/mahnung.pdf"
    for name in ("belege.zip", "weitergeleitet.eml"):
        assert by_name[name].status == IntakeStatus.UNPACKED
    assert by_name["rechnung.pdf"].status == IntakeStatus.RECEIVED  # ready for the split stage
    assert status(ctx, parent) == IntakeStatus.UNPACKED
    # The e-invoice is received as a child of its own; whether receipt accepts XML is decided
    # there (``receive.SUPPORTED``), not by the unpacker.
    assert reasons(ctx) in ([], ["Dateityp wird nicht verarbeitet: application/xml."])


def test_body_only_mail_becomes_a_letter_pdf(ctx: Context) -> None:
    mail = make_mail(
        subject="Kündigung des Wartungsvertrags zum 30.06.",
        body=(
            "Sehr geehrte Damen und Herren,\n\nhiermit kündigen wir fristgerecht.\n\n"
            "Mit freundlichen Grüßen"
        ),
    )
    parent = receive_mail(ctx, mail.as_bytes())
    [child] = unpack_intake(ctx.catalog, ctx.store, parent, ctx.settings) or []
    with ctx.catalog.session() as s:
        letter = s.get_one(Intake, child)
    assert letter.media_type == "application/pdf" and letter.filename == "E-Mail-Text.pdf"
    assert letter.client_hint == "MUELLER" and letter.parent_id == parent
    text = pdf_text(ctx.store.get(letter.storage_key))
    assert "Von: Lieferant GmbH <rechnung@lieferant.example>" in text
    assert "An: post+mueller@office.example" in text
    assert "Datum: 03.03.2025 14:05 +0100" in text
    assert "Betreff: Kündigung des Wartungsvertrags zum 30.06." in text
    assert "hiermit kündigen wir fristgerecht." in text and "Grüßen" in text


def test_html_only_mail_is_reduced_to_its_text(ctx: Context) -> None:
    markup = (
        "<html><head><style>p {color: red}</style><script>alert(1)</script></head><body>"
        "<p>Guten Tag,</p><p>die Zahlung über 1.234,56&nbsp;&euro; ist <b>fällig</b>.</p>"
        "<table><tr><td>Rechnung</td><td>R-77</td></tr></table></body></html>"
    )
    parent = receive_mail(ctx, make_mail(body=None, html=markup).as_bytes())
    [child] = unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    with ctx.catalog.session() as s:
        text = pdf_text(ctx.store.get(s.get_one(Intake, child).storage_key))
    assert "die Zahlung über 1.234,56 € ist fällig." in text
    assert "Rechnung R-77" in text
    assert "color" not in text and "alert" not in text and "<p>" not in text


def test_unpacking_twice_creates_nothing_new(ctx: Context) -> None:
    mail = make_mail(
        attachments=[
            ("a.pdf", make_pdf("A"), "application/pdf"),
            ("gross.pdf", make_pdf("B") + b"%" * 3000, "application/pdf"),
            ("z.zip", make_zip({"b.pdf": make_pdf("C")}), "application/zip"),
        ]
    )
    ctx.settings.intake.max_file_bytes = 2500
    parent = receive_mail(ctx, mail.as_bytes())
    first = unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    before = counts(ctx)
    assert unpack_message(ctx.catalog, ctx.store, parent, ctx.settings) == first
    assert counts(ctx) == before

    # Also after a crash between receiving the children and finishing: the intake is reset to
    # ``received`` (as if the final transaction never happened) and unpacked again.
    with ctx.catalog.session() as s:
        s.get_one(Intake, parent).status = IntakeStatus.RECEIVED
    assert unpack_message(ctx.catalog, ctx.store, parent, ctx.settings) == first
    assert counts(ctx) == before


def test_letter_pdf_is_rendered_identically_each_time(ctx: Context) -> None:
    data = make_mail(body="Nur Text.").as_bytes()
    limits = ctx.settings.intake
    from backoffice.intake.mail import render_letter

    assert render_letter(parse_message(data, limits)) == render_letter(parse_message(data, limits))


def test_non_containers_are_left_to_the_split_stage(ctx: Context) -> None:
    pdf = receive_bytes(ctx.catalog, ctx.store, make_pdf("x"), source="cli").intake_id
    assert unpack_intake(ctx.catalog, ctx.store, pdf, ctx.settings) is None
    with pytest.raises(ValueError, match="not an e-mail"):
        unpack_message(ctx.catalog, ctx.store, pdf, ctx.settings)
    assert status(ctx, pdf) == IntakeStatus.RECEIVED


def test_same_attachment_in_two_mails_is_one_intake(ctx: Context) -> None:
    invoice = make_pdf("Rechnung 99")
    first = receive_mail(
        ctx, make_mail(attachments=[("r.pdf", invoice, "application/pdf")]).as_bytes()
    )
    second = receive_mail(
        ctx,
        make_mail(
            subject="Erinnerung",
            message_id="<m2@lieferant.example>",
            attachments=[("r.pdf", invoice, "application/pdf")],
        ).as_bytes(),
    )
    [child] = unpack_message(ctx.catalog, ctx.store, first, ctx.settings)
    assert unpack_message(ctx.catalog, ctx.store, second, ctx.settings) == []
    with ctx.catalog.session() as s:
        shared = s.get_one(Intake, child)
        assert shared.parent_id == first and shared.redeliveries == 1


def test_outlook_msg_is_unpacked_like_an_email(ctx: Context) -> None:
    data = make_msg("Rechnung März", "Anbei.", [("rechnung.pdf", make_pdf("Outlook"))])
    parent = receive_mail(ctx, data, hint="SCHNEIDER")
    with ctx.catalog.session() as s:
        assert s.get_one(Intake, parent).media_type == "application/vnd.ms-outlook"
    unpack_intake(ctx.catalog, ctx.store, parent, ctx.settings)
    assert tree(ctx, parent) == [(1, "rechnung.pdf", "application/pdf", "SCHNEIDER")]
    with ctx.catalog.session() as s:
        child = s.scalars(select(Intake).where(Intake.parent_id == parent)).one()
        assert child.source_ref == "<outlook-1@lieferant.example>/rechnung.pdf"

    letter_only = receive_mail(ctx, make_msg("Terminbestätigung", "Wir bestätigen den Termin.", []))
    [letter] = unpack_intake(ctx.catalog, ctx.store, letter_only, ctx.settings) or []
    with ctx.catalog.session() as s:
        text = pdf_text(ctx.store.get(s.get_one(Intake, letter).storage_key))
    assert "Betreff: Terminbestätigung" in text and "Wir bestätigen den Termin." in text


def test_signatures_and_logos_are_not_documents(ctx: Context) -> None:
    mail = make_mail(
        html='<p>Rechnung anbei</p><img src="cid:logo@firma">',
        attachments=[
            ("rechnung.pdf", make_pdf("R"), "application/pdf"),
            ("smime.p7s", b"0\x82signature", "application/pkcs7-signature"),
        ],
    )
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    html_part.add_related(b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "image", "png", cid="<logo@firma>")
    parsed = parse_message(mail.as_bytes(), ctx.settings.intake)
    assert [p.name for p in parsed.attachments] == ["rechnung.pdf"]
    assert any("S/MIME" in s for s in parsed.skipped) and any("Logo" in s for s in parsed.skipped)


@pytest.mark.parametrize("encoding", ["7bit", "base64"])
def test_attached_mail_with_unusual_first_header_is_still_unpacked(
    ctx: Context, encoding: str
) -> None:
    """Receipt does not know ``DKIM-Signature`` as a first line of a mail; the enclosing
    ``message/rfc822`` part says what it is. Exchange also sends such parts base64-encoded."""
    outer = make_mail(body="siehe Anhang")
    if encoding == "7bit":
        inner = EmailMessage()
        inner["DKIM-Signature"] = "v=1; a=rsa-sha256; d=lieferant.example"
        inner["From"] = "a@lieferant.example"
        inner["Subject"] = "Innen"
        inner["Message-ID"] = "<inner@x>"
        inner.set_content("Innerer Text")
        outer.add_attachment(inner)
    else:
        raw = (
            b"DKIM-Signature: v=1; a=rsa-sha256; d=lieferant.example\r\nFrom: a@lieferant.example"
            b"\r\nSubject: Innen\r\nMessage-ID: <inner@x>\r\n\r\nInnerer Text\r\n"
        )
        part = EmailMessage()
        part.set_content(raw, maintype="message", subtype="rfc822")
        outer.make_mixed()
        outer.attach(part)
    parent = receive_mail(ctx, outer.as_bytes())
    unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    kinds = [(d, m) for d, _n, m, _h in tree(ctx, parent)]
    assert kinds == [(1, "message/rfc822"), (2, "application/pdf")]
    assert reasons(ctx) == []
    with ctx.catalog.session() as s:
        letter = s.scalars(select(Intake).where(Intake.filename == "E-Mail-Text.pdf")).one()
    assert "Innerer Text" in pdf_text(ctx.store.get(letter.storage_key))


# --- headers, ids, routing ---------------------------------------------------------------------


def test_latin1_headers_and_encoded_names_are_decoded() -> None:
    raw = (
        b"From: =?iso-8859-1?q?J=FCrgen_M=FCller?= <jm@example.de>\r\n"
        b"To: post+schneider@office.example\r\n"
        b"Subject: Rechnung f\xfcr M\xe4rz\r\n"
        b"Message-ID: <latin@example.de>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=x-unbekannt\r\n\r\nGr\xfc\xdfe\r\n"
        b"--XX\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=iso-8859-1''Rechnung_M%E4rz.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b'--XX\r\nContent-Type: application/pdf; name="=?utf-8?B?R3V0c2NocmlmdF/DpC5wZGY=?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b"--XX\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="Beleg_\xfc.pdf"\r\n\r\n%PDF-1.4\r\n'
        b"--XX--\r\n"
    )
    parsed = parse_message(raw, IntakeSettings())
    assert parsed.sender == "Jürgen Müller <jm@example.de>"
    assert parsed.subject == "Rechnung für März"
    assert parsed.body_text == "Grüße"
    assert [p.name for p in parsed.attachments] == [
        "Rechnung_März.pdf",
        "Gutschrift_ä.pdf",
        "Beleg_ü.pdf",
    ]
    assert parsed.addresses.recipients == ("post+schneider@office.example",)


def test_missing_message_id_is_replaced_by_a_content_hash() -> None:
    limits = IntakeSettings()
    a = parse_message(make_mail(message_id=None).as_bytes(), limits)
    again = make_mail(message_id=None, extra={"Received": "from mx2 by mx1"}).as_bytes()
    other = parse_message(make_mail(message_id=None, body="Anderer Text").as_bytes(), limits)
    assert not a.has_message_id
    assert a.message_id.startswith("<sha256-") and a.message_id.endswith("@backoffice.invalid>")
    assert parse_message(again, limits).message_id == a.message_id  # blind to transport headers
    assert other.message_id != a.message_id


def test_redelivery_with_other_transport_headers_is_found(ctx: Context) -> None:
    mail = make_mail(attachments=[("r.pdf", make_pdf("R"), "application/pdf")])
    parent = receive_mail(ctx, mail.as_bytes())
    with ctx.catalog.session() as s:
        s.get_one(Intake, parent).source_ref = "<m1@lieferant.example>"
    again = make_mail(
        attachments=[("r.pdf", make_pdf("R"), "application/pdf")], extra={"Received": "from b"}
    )
    limits = ctx.settings.intake
    assert (
        find_delivered_message(
            ctx.catalog, ctx.store, parse_message(again.as_bytes(), limits), limits
        )
        == parent
    )
    clash = make_mail(body="Ganz andere Nachricht, gleiche ID")
    assert (
        find_delivered_message(
            ctx.catalog, ctx.store, parse_message(clash.as_bytes(), limits), limits
        )
        is None
    )


@pytest.mark.parametrize(
    ("recipients", "senders", "expected"),
    [
        (("post+mueller@office.example",), (), "MUELLER"),
        (("Post+Schneider@Office.Example",), (), "SCHNEIDER"),
        (("mueller+post@office.example",), (), "MUELLER"),
        (("info@office.example",), ("buchhaltung@schneider-baeckerei.de",), "SCHNEIDER"),
        (("post+mueller@office.example", "post+schneider@office.example"), (), None),
        (("post+../etc@office.example",), (), None),
        (("post@office.example",), (), None),
    ],
)
def test_routing_rules(
    recipients: tuple[str, ...], senders: tuple[str, ...], expected: str | None
) -> None:
    routes = [
        MailRoute(address_pattern="mueller+post@office.example", client_code="MUELLER"),
        MailRoute(address_pattern="post+*@office.example"),
        MailRoute(
            address_pattern="*@schneider-baeckerei.de", client_code="SCHNEIDER", match="sender"
        ),
    ]
    decision = route_message(MessageAddresses(recipients, senders), routes)
    assert decision.client_code == expected, decision.reason
    assert (
        route_message(MessageAddresses(recipients, senders), routes, mailbox_code="X").client_code
        == "X"
    )
    assert plus_tag("a+b@c") == "b" and plus_tag("a@c") is None


# --- hostile input -----------------------------------------------------------------------------


def test_malformed_mime_is_read_as_far_as_it_goes(ctx: Context) -> None:
    raw = (
        b"From: a@b.example\r\nTo: post+mueller@office.example\r\nSubject: kaputt\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nText\r\n"
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=r.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0x!!LjQKJSVFT0YK###\r\n"
        b"--B\r\nContent-Type: ; ; =\r\nContent-Disposition: attachment; filename=\r\n\r\n\x00\x01"
    )  # no closing boundary, broken base64, broken header parameters
    parent = receive_mail(ctx, raw)
    unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    assert status(ctx, parent) == IntakeStatus.UNPACKED
    names = [n for _d, n, _m, _h in tree(ctx, parent)]
    assert names == ["r.pdf", "anhang-2.txt"]
    parsed = parse_message(raw, ctx.settings.intake)
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


def test_mail_without_text_or_attachments_is_quarantined(ctx: Context) -> None:
    parent = receive_mail(ctx, b"From: a@b.example\r\nTo: c@d.example\r\n\r\n")
    assert unpack_message(ctx.catalog, ctx.store, parent, ctx.settings) == []
    assert status(ctx, parent) == IntakeStatus.QUARANTINED
    assert reasons(ctx) == ["Die E-Mail enthält weder Text noch Anhänge."]


def test_attachment_over_the_limit_is_quarantined_and_the_rest_kept(ctx: Context) -> None:
    ctx.settings.intake.max_file_bytes = 20_000
    mail = make_mail(
        attachments=[
            ("klein.pdf", make_pdf("klein"), "application/pdf"),
            ("riesig.pdf", make_pdf("gross") + b"%" * 50_000, "application/pdf"),
        ]
    )
    parent = receive_mail(ctx, mail.as_bytes())
    unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    assert [n for _d, n, _m, _h in tree(ctx, parent)] == ["klein.pdf"]
    assert status(ctx, parent) == IntakeStatus.UNPACKED
    [entry] = open_entries(ctx.catalog)
    assert entry.intake_id == parent
    assert entry.source_ref == "<m1@lieferant.example>/riesig.pdf"
    assert "„riesig.pdf“ ist mit" in entry.reason and "größer als erlaubt" in entry.reason


def test_zip_bomb_is_refused_before_decompressing(ctx: Context) -> None:
    ctx.settings.intake.max_unpacked_bytes = 5_000_000
    bomb = make_zip({f"null-{i}.pdf": b"\0" * 2_000_000 for i in range(4)})
    assert len(bomb) < 40_000
    parent = receive_mail(
        ctx, make_mail(attachments=[("bombe.zip", bomb, "application/zip")]).as_bytes()
    )
    unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    [(_, name, _, _)] = tree(ctx, parent)
    assert name == "bombe.zip"
    [reason] = reasons(ctx)
    assert "ZIP-Bombe" in reason and "nichts wurde entpackt" in reason
    with ctx.catalog.session() as s:
        zip_intake = s.scalars(select(Intake).where(Intake.filename == "bombe.zip")).one()
        assert zip_intake.status == IntakeStatus.QUARANTINED


def test_budget_is_shared_across_nested_archives() -> None:
    limits = IntakeSettings(max_unpacked_bytes=300_000)
    inner = make_zip({"a.pdf": b"%PDF" + b"a" * 200_000})
    budget = Budget(limits.max_unpacked_bytes)
    outer = read_archive(
        make_zip({"inner.zip": inner, "b.pdf": b"%PDF" + b"b" * 150_000}), limits, budget
    )
    assert {p.name for p in outer.parts} == {"inner.zip", "b.pdf"}
    assert read_archive(inner, limits).parts  # alone it would fit
    with pytest.raises(UnpackError, match="ZIP-Bombe"):
        read_archive(inner, limits, budget)


def test_deeply_nested_archives_stop_at_the_limit(ctx: Context) -> None:
    ctx.settings.intake.max_nesting_depth = 3
    data = make_zip({"ebene-4.pdf": make_pdf("4")})
    for level in (3, 2, 1):
        data = make_zip(
            {f"ebene-{level}.pdf": make_pdf(str(level)), f"ebene-{level + 1}.zip": data}
        )
    parent = receive_mail(
        ctx, make_mail(attachments=[("ebene-1.zip", data, "application/zip")]).as_bytes()
    )
    unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    assert [(d, n) for d, n, _m, _h in tree(ctx, parent)] == [
        (1, "ebene-1.zip"),
        (2, "ebene-1.pdf"),
        (2, "ebene-2.zip"),
        (3, "ebene-2.pdf"),
        (3, "ebene-3.zip"),
    ]
    [reason] = reasons(ctx)
    assert "3 Ebenen tief" in reason and "intake.max_nesting_depth" in reason


def test_path_traversal_names_are_refused_and_touch_nothing(ctx: Context, tmp_path: Path) -> None:
    evil = make_zip(
        {
            "../../pwned.pdf": make_pdf("1"),
            "/etc/cron.d/pwned.pdf": make_pdf("2"),
            "C:\\Windows\\pwned.pdf": make_pdf("3"),
            "ordner/gut.pdf": make_pdf("4"),
            "__MACOSX/ordner/._gut.pdf": b"\0\5\26\7",
        }
    )
    zip_id = receive_bytes(
        ctx.catalog, ctx.store, evil, source="folder", source_ref=str(tmp_path / "in.zip")
    ).intake_id
    unpack_intake(ctx.catalog, ctx.store, zip_id, ctx.settings)
    assert [n for _d, n, _m, _h in tree(ctx, zip_id)] == ["gut.pdf"]
    found = reasons(ctx)
    assert len(found) == 3 and all("unzulässigen Pfad" in r for r in found)
    assert not list(tmp_path.rglob("pwned*")) and not list(tmp_path.parent.parent.glob("pwned*"))


def test_too_many_members_encrypted_and_corrupt_archives(ctx: Context) -> None:
    ctx.settings.intake.max_container_members = 3
    many = make_zip({f"{i}.pdf": make_pdf(str(i)) for i in range(4)})
    # The stdlib cannot write ZipCrypto: set the "encrypted" flag of the first member by hand,
    # in its local header and its central directory entry.
    secret = bytearray(make_zip({"geheim.pdf": b"x" * 100, "offen.pdf": make_pdf("offen")}))
    secret[6] |= 0x1
    secret[secret.index(b"PK\x01\x02") + 8] |= 0x1
    broken = make_zip({"a.pdf": make_pdf("a")})[:-30]
    results = {}
    for name, data in (("viele.zip", many), ("geheim.zip", bytes(secret)), ("kaputt.zip", broken)):
        intake = receive_bytes(
            ctx.catalog, ctx.store, data, source="folder", filename=name
        ).intake_id
        unpack_intake(ctx.catalog, ctx.store, intake, ctx.settings)
        with ctx.catalog.session() as s:
            entries = s.scalars(
                select(QuarantineEntry.reason).where(QuarantineEntry.intake_id == intake)
            )
            results[name] = (
                status(ctx, intake),
                list(entries),
                [n for _d, n, _m, _h in tree(ctx, intake)],
            )
    assert results["viele.zip"][0] == IntakeStatus.QUARANTINED
    assert "höchstens 3" in results["viele.zip"][1][0]
    assert results["geheim.zip"][0] == IntakeStatus.UNPACKED
    assert (
        results["geheim.zip"][2] == ["offen.pdf"]
        and "passwortgeschützt" in results["geheim.zip"][1][0]
    )
    assert results["kaputt.zip"][0] == IntakeStatus.QUARANTINED
    assert "beschädigt" in results["kaputt.zip"][1][0]


def test_encrypted_mail_part_and_non_mail_ole_file(ctx: Context) -> None:
    raw = (
        b"From: a@b.example\r\nSubject: vertraulich\r\n"
        b"Content-Type: multipart/mixed; boundary=Q\r\n\r\n"
        b"--Q\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; "
        b"name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n--Q--\r\n"
    )
    parent = receive_mail(ctx, raw)
    unpack_message(ctx.catalog, ctx.store, parent, ctx.settings)
    assert status(ctx, parent) == IntakeStatus.UNPACKED and tree(ctx, parent) == []
    assert any("verschlüsselt" in r for r in reasons(ctx))

    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600  # an OLE header, but no Outlook message
    other = receive_mail(ctx, ole)
    assert unpack_intake(ctx.catalog, ctx.store, other, ctx.settings) == []
    assert status(ctx, other) == IntakeStatus.QUARANTINED
    with pytest.raises(UnpackError, match="Outlook"):
        parse_outlook(ole, IntakeSettings())


def test_multipart_without_boundary_is_rejected_with_a_reason() -> None:
    raw = b"From: a@b\r\nSubject: x\r\nContent-Type: multipart/mixed\r\n\r\n--?\r\nirgendwas\r\n"
    parsed = parse_message(raw, IntakeSettings())
    assert parsed.attachments == [] and "boundary" in parsed.rejected[0].reason


def test_deep_mime_nesting_and_too_many_parts_are_handled_errors() -> None:
    deep = b"From: a@b\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for i in range(1, 200):
        deep += b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i - 1, i)
    with pytest.raises(UnpackError, match="verschachtelt"):
        parse_message(deep, IntakeSettings())
    many = make_mail(
        attachments=[(f"{i}.pdf", b"%PDF-" + bytes([i]), "application/pdf") for i in range(6)]
    )
    with pytest.raises(UnpackError, match="mehr als 5 Teile"):
        parse_message(many.as_bytes(), IntakeSettings(max_container_members=5))


# --- properties --------------------------------------------------------------------------------

_SEED = make_mail(
    html="<p>Hallo</p>",
    attachments=[
        ("r.pdf", b"%PDF-1.4 rechnung %%EOF", "application/pdf"),
        ("z.zip", make_zip({"a.pdf": b"%PDF-1.4 a", "../b.pdf": b"%PDF b"}), "application/zip"),
    ],
).as_bytes()
_SEED_ZIP = make_zip({"a.pdf": b"%PDF-1.4 " + b"a" * 300, "sub/b.eml": b"From: x\r\n\r\nhi"})
_LIMITS = IntakeSettings(
    max_file_bytes=100_000, max_unpacked_bytes=400_000, max_container_members=50
)


def _clean(value: str) -> None:
    assert "\x00" not in value
    value.encode("utf-8")  # no lone surrogates: safe for the catalog and PDFs


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 200))]
        else:
            del data[pos:]
    return bytes(data)


def _check_message(data: bytes) -> None:
    try:
        parsed = parse_message(data, _LIMITS)
    except UnpackError as exc:
        assert exc.reason
        return
    for text in (parsed.message_id, parsed.subject, parsed.sender, parsed.to, parsed.body_text):
        _clean(text)
    for part in parsed.attachments:
        _clean(part.name)
        assert part.data and len(part.data) <= _LIMITS.max_file_bytes
    for rejected in parsed.rejected:
        _clean(rejected.reason)


_FAST = hyp_settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_FAST
@given(st.binary(max_size=3000))
def test_parser_never_fails_on_arbitrary_bytes(data: bytes) -> None:
    _check_message(data)


@_FAST
@given(
    st.binary(max_size=400).map(
        lambda tail: b"From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" + tail
    )
)
def test_parser_never_fails_on_arbitrary_multipart_bodies(data: bytes) -> None:
    _check_message(data)


@_FAST
@given(mutated(_SEED))
def test_parser_never_fails_on_mutated_messages(data: bytes) -> None:
    _check_message(data)


@_FAST
@given(st.one_of(mutated(_SEED_ZIP), st.binary(max_size=2000)))
def test_archive_reader_never_fails_on_mutated_archives(data: bytes) -> None:
    try:
        contents = read_archive(data, _LIMITS)
    except UnpackError as exc:
        assert exc.reason
        return
    for part in contents.parts:
        _clean(part.name)
        assert ".." not in part.name.split("/")
