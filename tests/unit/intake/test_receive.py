"""Receiving originals: stored before anything else, once, with bad input quarantined."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from reportlab.pdfgen import canvas
from sqlalchemy import select

from backoffice.config import Settings
from backoffice.context import Context
from backoffice.intake.quarantine import open_entries
from backoffice.intake.receive import receive_bytes, receive_path
from backoffice.intake.sniff import sniff_media_type
from backoffice.models import Intake, IntakeStatus


def make_pdf(text: str = "Rechnung") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def make_png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (50, 50), 255).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def ctx(settings: Settings) -> Context:
    return Context.from_settings(settings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nxxxx", "image/png"),
        (b"II*\x00abc", "image/tiff"),
        (b"MZ\x90\x00 this is an exe", "application/x-msdownload"),
        (b"PK\x03\x04zip", "application/zip"),
        (b'<?xml version="1.0"?><rsm:CrossIndustryInvoice/>', "application/xml"),
        (b"From: a@b.de\nTo: c@d.de\nSubject: x\n\nbody", "message/rfc822"),
        (b"just some text", "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_sniff_trusts_content_not_names(data: bytes, expected: str) -> None:
    assert sniff_media_type(data) == expected


def test_original_stored_before_row_and_redelivery_is_duplicate(ctx: Context) -> None:
    pdf = make_pdf()
    first = receive_bytes(ctx.catalog, ctx.store, pdf, source="cli", filename="a.pdf")
    assert not first.duplicate and first.status == IntakeStatus.RECEIVED
    with ctx.catalog.session() as s:
        intake = s.get_one(Intake, first.intake_id)
        assert ctx.store.get(intake.storage_key) == pdf
        assert intake.storage_key.startswith("intake/originals/")
    second = receive_bytes(ctx.catalog, ctx.store, pdf, source="email", filename="copy.pdf")
    assert second.duplicate and second.intake_id == first.intake_id
    with ctx.catalog.session() as s:
        assert s.scalar(select(Intake.redeliveries)) == 1
        assert len(s.scalars(select(Intake)).all()) == 1


def test_bad_input_is_quarantined_with_reason_and_kept(ctx: Context, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "program.pdf").write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    (folder / "photo.pdf").write_bytes(make_png())  # wrong extension, but an image we can process
    (folder / "ok.pdf").write_bytes(make_pdf())
    (folder / ".partial").write_bytes(b"still being written")
    results = receive_path(ctx.catalog, ctx.store, folder)
    by_name = {r.filename: r for r in results}
    assert set(by_name) == {"empty.pdf", "program.pdf", "photo.pdf", "ok.pdf"}
    assert by_name["empty.pdf"].status == IntakeStatus.QUARANTINED
    assert by_name["program.pdf"].status == IntakeStatus.QUARANTINED
    assert by_name["photo.pdf"].status == IntakeStatus.RECEIVED
    assert by_name["ok.pdf"].status == IntakeStatus.RECEIVED
    reasons = {
        e.source_ref.rsplit("/", 1)[-1]: e.reason for e in open_entries(ctx.catalog) if e.source_ref
    }
    assert "leer" in reasons["empty.pdf"]
    assert "x-msdownload" in reasons["program.pdf"]
    with ctx.catalog.session() as s:  # nothing lost: every original is in the archive
        for intake in s.scalars(select(Intake)):
            assert ctx.store.exists(intake.storage_key)


def test_size_limit(ctx: Context) -> None:
    r = receive_bytes(
        ctx.catalog, ctx.store, make_pdf() + b" " * 5000, source="cli", max_bytes=1000
    )
    assert r.status == IntakeStatus.QUARANTINED
    assert "größer als erlaubt" in open_entries(ctx.catalog)[0].reason


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04\x14\x00stored.pdf%PDF-1.7 ...", "application/zip"),
        (
            b"DKIM-Signature: v=1; a=rsa-sha256;\n\tb=abc\nFrom: a@b.de\nSubject: x\n\nbody",
            "message/rfc822",
        ),
        (b"X-Mailer: foo\r\nARC-Seal: i=1\r\nTo: x@y.de\r\n\r\n", "message/rfc822"),
        (b"garbage %PDF-1.4 later", "application/pdf"),
        (b"Note: this is just a line\nand text", "application/octet-stream"),
    ],
)
def test_sniff_containers_and_mail_headers(data: bytes, expected: str) -> None:
    assert sniff_media_type(data) == expected
