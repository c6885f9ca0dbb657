"""Property tests over the intake's parsing entry points: whatever the bytes, the outcome is a
media type, documents or a quarantine entry with a reason, never an unhandled exception.

``test_mail.py`` already fuzzes the MIME parser and the ZIP reader on their own; here the whole
path runs with the catalog and the archive folder: :func:`sniff_media_type`, receiving and
splitting (PDFium, Pillow, active-content removal) and unpacking e-mails into child intakes.
Seeds are small valid files; mutations flip, insert, delete and truncate bytes. Each test keeps
one catalog across its examples (every example is a new original under its own hash).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select

from backoffice.config import IntakeSettings, Settings
from backoffice.context import Context
from backoffice.intake.mail import unpack_intake
from backoffice.intake.receive import receive_bytes
from backoffice.intake.sniff import SUFFIX_FOR, sniff_media_type
from backoffice.intake.split import split_intake
from backoffice.models import Document, Intake, IntakeStatus, QuarantineEntry
from tests.unit.intake.test_hostile import letter_pdf, scripted_pdf
from tests.unit.intake.test_mail import mutated

_FUZZ = hyp_settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_MEDIA_TYPES = set(SUFFIX_FOR) | {"application/octet-stream"}


@pytest.fixture(scope="module")
def ctx() -> Iterator[Context]:
    """One embedded catalog and archive for all examples of the module (hypothesis runs many
    examples per test; a fresh catalog each time would cost more than the parsing)."""
    with tempfile.TemporaryDirectory() as tmp:
        limits = IntakeSettings(
            max_file_bytes=200_000,
            max_pages=20,
            max_image_pixels=4_000_000,
            max_unpacked_bytes=2_000_000,
            max_container_members=20,
        )
        yield Context.from_settings(Settings(var_dir=Path(tmp) / "var", intake=limits))


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (120, 160), 200).save(buf, "PNG")
    return buf.getvalue()


def _tiff() -> bytes:
    buf = io.BytesIO()
    pages = [Image.new("L", (80, 100), shade) for shade in (40, 220)]
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    return buf.getvalue()


def _mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Lieferant <r@lieferant.example>"
    msg["To"] = "post+mueller@office.example"
    msg["Subject"] = "Rechnung"
    msg["Message-ID"] = "<fuzz@lieferant.example>"
    msg.set_content("Anbei die Rechnung.")
    msg.add_attachment(
        letter_pdf("Anhang"), maintype="application", subtype="pdf", filename="r.pdf"
    )
    return msg.as_bytes()


_PDF = letter_pdf("Fuzz", pages=2)
_SCRIPTED = scripted_pdf("Fuzz")
_PNG, _TIFF, _MAIL = _png(), _tiff(), _mail()


def _settled(ctx: Context, intake_id: int) -> None:
    """The intake ended in a state staff can act on: split into documents, unpacked into
    children, or quarantined with a non-empty German reason."""
    with ctx.catalog.session() as s:
        intake = s.get_one(Intake, intake_id)
        if intake.status == IntakeStatus.QUARANTINED:
            reasons = list(
                s.scalars(
                    select(QuarantineEntry.reason).where(QuarantineEntry.intake_id == intake_id)
                )
            )
            assert reasons and all(r.strip() for r in reasons)
            return
        assert intake.status in (IntakeStatus.SPLIT, IntakeStatus.UNPACKED), intake.status
        if intake.status == IntakeStatus.SPLIT:
            docs = list(s.scalars(select(Document).where(Document.intake_id == intake_id)))
            assert docs and all(
                ctx.store.get(d.original_key or "")[:5] in (b"%PDF-", b"<?xml") for d in docs
            )


def _take(ctx: Context, data: bytes) -> None:
    received = receive_bytes(ctx.catalog, ctx.store, data, source="cli", filename="fuzz")
    if received.status == IntakeStatus.RECEIVED:  # also a repeat whose split failed: replayable
        split_intake(ctx.catalog, ctx.store, received.intake_id, ctx.settings)
    _settled(ctx, received.intake_id)


@hyp_settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=5000))
@example(b"%PDF-")
@example(b"\xef\xbb\xbf\n\n<")
@example(b"From: a\nTo: b\n")
def test_sniff_names_a_known_media_type_for_any_bytes(data: bytes) -> None:
    assert sniff_media_type(data) in _MEDIA_TYPES


@_FUZZ
@given(st.one_of(mutated(_PDF), mutated(_SCRIPTED)))
def test_mutated_pdfs_become_documents_or_quarantine(ctx: Context, data: bytes) -> None:
    _take(ctx, data)


_TIFF_MISSING_DIMENSIONS = (
    b"II*\x00\x08\x00\x00\x00\t\x00\x00\x01\x04\x00\x01\x00\x00\x00P\x00\x00\x00\x01\x01"
    b"\x04\x00\x01\x00\x00\x00d\x00\x00\x00\x02\x01\x03\x00\x01\x00\x00\x00\x08\x00\x00\x00"
    b"\x03\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x06\x01\x03=\x01\x00\x00\x00\x01\x00"
    b"\x00\x00\x11\x01\x04\x00\x01\x00\x00\x00z\x00\x00\x00\x16\x01\x04\x00\x01\x00\x00\x00d"
    b"\x00\x00\x00\x17\x01\x04\x00\x01\x00\x00\x00@\x1f\x00\x00\x1c\x01\x03\x00\x01\x00\x00"
    b"\x00\x01\x00\x00\x00\xc8\x1f\x00\x00" + b"(" * 98
)
"""Found by this test: Pillow raised ``TypeError: Missing dimensions`` while counting frames."""


@_FUZZ
@given(st.one_of(mutated(_PNG), mutated(_TIFF)))
@example(_TIFF_MISSING_DIMENSIONS)
def test_mutated_images_become_documents_or_quarantine(ctx: Context, data: bytes) -> None:
    _take(ctx, data)


@_FUZZ
@given(
    st.one_of(
        mutated(_MAIL),
        st.tuples(
            st.lists(st.binary(min_size=1, max_size=60), min_size=1, max_size=6),
            st.binary(max_size=300),
        ).map(
            lambda parts: (
                b"From: a@b.example\r\nSubject: "
                + b"\r\nX-Feld: ".join(parts[0])
                + b"\r\n\r\n"
                + parts[1]
            )
        ),
    )
)
def test_mutated_mails_are_unpacked_or_quarantined(ctx: Context, data: bytes) -> None:
    received = receive_bytes(ctx.catalog, ctx.store, data, source="email", filename="fuzz.eml")
    if received.status != IntakeStatus.RECEIVED:
        return
    if unpack_intake(ctx.catalog, ctx.store, received.intake_id, ctx.settings) is None:
        split_intake(ctx.catalog, ctx.store, received.intake_id, ctx.settings)
    _settled(ctx, received.intake_id)
